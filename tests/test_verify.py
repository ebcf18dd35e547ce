"""dbpatterns verify on real PostgreSQL: the bundled example, small projects of each kind, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dbpatterns.cli import main
from dbpatterns.verify import verify_empty_database
from tests.alembic_builder import SYNC_ENV, linear, write_project

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "project"

TABLE = (
    'op.create_table("t", sa.Column("id", sa.Integer, primary_key=True), sa.Column("x", sa.Text))',
    'op.drop_table("t")',
)
INDEX = ('op.create_index("ix_t_x", "t", ["x"])', 'op.drop_index("ix_t_x", table_name="t")')
ENUM = (
    "op.execute(\"CREATE TYPE mood AS ENUM ('sad', 'ok')\")\n"
    'op.add_column("t", sa.Column("m", sa.Enum(name="mood", create_type=False)))',
    'op.drop_column("t", "m")\nop.execute("DROP TYPE mood")',
)

MODELS = """
    import sqlalchemy as sa
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    class Base(DeclarativeBase):
        pass

    class T(Base):
        __tablename__ = "t"
        id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
        x: Mapped[str | None] = mapped_column(sa.Text)
        y: Mapped[int | None] = mapped_column(sa.Integer)
"""


def _by_name(report) -> dict[str, list]:
    out: dict[str, list] = {}
    for check in report.checks:
        out.setdefault(check.name, []).append(check)
    return out


def _databases(server) -> set[str]:
    with server.connect() as conn:
        return {r[0] for r in conn.execute("SELECT datname FROM pg_database")}


def test_bundled_example_verifies(pg_url):
    report = verify_empty_database(EXAMPLE, pg_url)
    assert report.ok, report.to_dict()
    names = [c.name for c in report.checks]
    assert names == [
        "single_head",
        "upgrade",
        "models_match",
        "downgrade",
        "stairway",
        "downgrade_no_trace",
        "downgrade_keeps_data",
        "checksums",  # examples/project/migrations/dbpatterns.sum
    ]
    assert not report.skipped  # examples/project/pyproject.toml names its models


def test_cli_json_on_a_server_leaves_no_database(pg_server, capsys):
    before = _databases(pg_server)
    code = main(["verify", "--project", str(EXAMPLE), "--db", pg_server.url(), "--format", "json"])
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert code == 0 and out["ok"] is True
    assert "Running upgrade" not in captured.err  # env.py's logging stays out of our output
    assert all(set(c) >= {"name", "ok", "revision", "detail"} for c in out["checks"])
    assert _databases(pg_server) == before


def test_downgrade_that_forgets_an_index_names_it_and_the_revision(tmp_path, pg_url):
    index_kept = (INDEX[0], "pass")
    project = write_project(tmp_path / "p", linear(TABLE, index_kept, ENUM))
    report = verify_empty_database(project, pg_url)
    checks = _by_name(report)
    assert not report.ok
    (trace,) = checks["downgrade_no_trace"]
    assert not trace.ok and trace.revision == "r2"
    assert "index public.ix_t_x left behind" in trace.detail
    (stair,) = checks["stairway"]
    assert stair.ok  # r3 runs on a rebuilt database: the leftover index is not blamed on another step


def test_enum_values_and_constraint_validity_are_compared(tmp_path, pg_url):
    add_value = ("op.execute(\"ALTER TYPE mood ADD VALUE IF NOT EXISTS 'glad'\")", "pass")
    not_valid = (
        "op.execute(\"ALTER TABLE t ADD CONSTRAINT ck_x CHECK (x <> '') NOT VALID\")",
        'op.execute("ALTER TABLE t DROP CONSTRAINT ck_x")',
    )
    validate = ('op.execute("ALTER TABLE t VALIDATE CONSTRAINT ck_x")', "pass")
    project = write_project(tmp_path / "p", linear(TABLE, ENUM, add_value, not_valid, validate))
    report = verify_empty_database(project, pg_url)
    traces = {c.revision: c.detail for c in _by_name(report)["downgrade_no_trace"]}
    assert "enum public.mood changed" in traces["r3"] and "'glad'" in traces["r3"]
    assert "r4" not in traces
    assert "constraint public.t.ck_x changed" in traces["r5"] and "NOT VALID" in traces["r5"]


def test_branches_and_a_merge_pass_the_stairway(tmp_path, pg_url):
    other = ('op.create_table("u", sa.Column("id", sa.Integer, primary_key=True))', 'op.drop_table("u")')
    revisions = [
        ("base1", None, *TABLE),
        ("aaa111", "base1", *INDEX),
        ("bbb222", "base1", *other),
        ("ccc333", ("aaa111", "bbb222"), "", ""),
        ("ddd444", "ccc333", 'op.add_column("u", sa.Column("y", sa.Text))', 'op.drop_column("u", "y")'),
    ]
    report = verify_empty_database(write_project(tmp_path / "p", revisions), pg_url)
    assert report.ok, report.to_dict()
    assert [c.name for c in report.checks][-3:] == ["stairway", "downgrade_no_trace", "downgrade_keeps_data"]


def test_two_heads_are_named(tmp_path, pg_url):
    revisions = [("base1", None, *TABLE), ("aaa111", "base1", "", ""), ("bbb222", "base1", "", "")]
    project = write_project(tmp_path / "p", revisions)
    report = verify_empty_database(project, pg_url)
    head = report.checks[0]
    assert head.name == "single_head" and not head.ok
    assert "aaa111" in head.detail and "bbb222" in head.detail and "merge" in head.detail
    assert [c.name for c in report.checks if not c.ok] == ["single_head"]  # both lineages still verified


def test_async_env_with_tool_alembic(tmp_path, pg_url):
    pytest.importorskip("greenlet")
    project = write_project(tmp_path / "p", linear(TABLE, INDEX, ENUM), env="async", toml=True)
    report = verify_empty_database(project, pg_url)
    assert report.ok, report.to_dict()
    assert len(report.checks) == 6


def test_models_mismatch_is_reported(tmp_path, pg_url):
    revisions = linear(TABLE, INDEX)
    project = write_project(tmp_path / "p", revisions, models="app_models:Base", models_code=MODELS)
    report = verify_empty_database(project, pg_url)
    (models,) = _by_name(report)["models_match"]
    assert not models.ok
    assert "column t.y only in the models" in models.detail
    assert "index ix_t_x on t only in the database" in models.detail


def test_models_from_env_target_metadata_match(tmp_path, pg_url):
    matching = MODELS.replace("y: Mapped[int | None] = mapped_column(sa.Integer)", "")
    matching = matching.replace("sa.Text)", "sa.Text, index=True)")
    project = write_project(tmp_path / "p", linear(TABLE, INDEX), models_code=matching, module="models_ok")
    report = verify_empty_database(project, pg_url)
    (models,) = _by_name(report)["models_match"]
    assert models.ok, models.detail


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("not_a_project", "no Alembic project"),
        ("broken_env", "ModuleNotFoundError"),
        ("unknown_models", "cannot import no_such_module"),
        ("models_attribute", "has no attribute 'Nope'"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, pg_server, capsys, case, message):
    root = tmp_path / "p"
    if case == "not_a_project":
        root.mkdir()
    elif case == "broken_env":
        write_project(root, linear(TABLE), env_text="import no_such_module_here\n" + SYNC_ENV)
    elif case == "unknown_models":
        write_project(root, linear(TABLE), models="no_such_module:Base")
    else:
        write_project(root, linear(TABLE), models="models_bad:Nope", models_code=MODELS, module="models_bad")
    before = _databases(pg_server)
    code = main(["verify", "--project", str(root), "--db", pg_server.url()])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert message in err
    assert _databases(pg_server) == before
