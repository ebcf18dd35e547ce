"""verify on histories as production meets them: tables with rows, data hooks, policies, the right blame.

Each case is a small project written into a temporary folder (tests/alembic_builder.py); the same cases
run through the pytest plugin in tests/test_verify_plugin.py.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from dbpatterns.cli import main
from dbpatterns.verify import verify_empty_database
from tests.alembic_builder import linear, write_project

TABLE = (
    'op.create_table("t", sa.Column("id", sa.Integer, primary_key=True), sa.Column("x", sa.Text))',
    'op.drop_table("t")',
)
NOT_NULL = ('op.add_column("t", sa.Column("y", sa.Integer, nullable=False))', 'op.drop_column("t", "y")')
BAR_LEFT = ('op.create_table("bar", sa.Column("id", sa.Integer, primary_key=True))', "pass")
ADD_Z = ('op.add_column("t", sa.Column("z", sa.Text))', 'op.drop_column("t", "z")')
CLEARS_X = (
    'op.add_column("t", sa.Column("z", sa.Text))',
    'op.drop_column("t", "z")\nop.execute("UPDATE t SET x = NULL")',
)
NOT_IMPLEMENTED = ('op.add_column("t", sa.Column("w", sa.Text))', 'raise NotImplementedError("irreversible")')
CODE = (
    'op.add_column("t", sa.Column("code", sa.Text))\n'
    'op.execute("UPDATE t SET code = upper(x)")\n'
    'op.alter_column("t", "code", nullable=False)',
    'op.drop_column("t", "code")',
)

#: env.py as pytest-alembic's examples write it: config.attributes["connection"] is an Engine
ENGINE_ENV = """
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
target_metadata = TARGET


def run_migrations_online() -> None:
    connectable = context.config.attributes.get("connection", None)
    if connectable is None:
        connectable = engine_from_config(
            config.get_section(config.config_ini_section), prefix="sqlalchemy.", poolclass=pool.NullPool
        )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
"""


def project(root: Path, revisions, tool: str = "", **kw) -> Path:
    """A project with ``tool`` as its [tool.dbpatterns] table (TOML lines)."""
    write_project(root, revisions, **kw)
    if tool:
        (root / "pyproject.toml").write_text("[tool.dbpatterns]\n" + tool)
    return root


def _checks(report) -> dict[str, list]:
    out: dict[str, list] = {}
    for check in report.checks:
        out.setdefault(check.name, []).append(check)
    return out


def _failed(report) -> list[tuple[str, str | None]]:
    return [(c.name, c.revision) for c in report.checks if not c.ok]


# -- the cases (shared with the plugin's test) -----------------------------------------------------------

HOOKS = """
[tool.dbpatterns.verify_hooks]
r2 = {{ before = "INSERT INTO t (id, x) VALUES (100, 'abc')", after = "{after}" }}
"""
CHECK_CODE = (
    "DO $$ BEGIN IF (SELECT code FROM t WHERE id = 100) IS DISTINCT FROM '{want}' THEN "
    "RAISE EXCEPTION 'code is %', (SELECT code FROM t WHERE id = 100); END IF; END $$"
)


def make_case(case: str, root: Path) -> Path:
    """Write the project of ``case``; tests/test_verify_plugin.py uses the same ones."""
    if case == "not_null_on_rows":
        return project(root, linear(TABLE, NOT_NULL))
    if case == "downgrade_loses_data":
        return project(root, linear(TABLE, CLEARS_X))
    if case == "seeded_data_migration":
        return project(root, linear(TABLE, CODE), HOOKS.format(after=CHECK_CODE.format(want="ABC")))
    if case == "seeded_data_migration_wrong":
        return project(root, linear(TABLE, CODE), HOOKS.format(after=CHECK_CODE.format(want="abc")))
    if case == "leaky_downgrade":
        return project(root, linear(TABLE, BAR_LEFT, ADD_Z))
    if case == "not_implemented_stop":
        return project(root, linear(TABLE, NOT_IMPLEMENTED, ADD_Z), 'verify_not_implemented = "stop"\n')
    if case == "declared_heads":
        revisions = [("base1", None, *TABLE), ("aaa111", "base1", *ADD_Z), ("bbb222", "base1", *BAR_LEFT)]
        return project(root, revisions, 'verify_heads = ["aaa111", "bbb222"]\n')
    if case == "engine_env":
        return project(root, linear(TABLE, ADD_Z), env_text=ENGINE_ENV)
    raise AssertionError(case)


def test_not_null_without_default_fails_on_rows_naming_the_revision(tmp_path, pg_url):
    report = verify_empty_database(make_case("not_null_on_rows", tmp_path / "p"), pg_url)
    checks = _checks(report)
    (upgrade,) = checks["upgrade"]
    assert not upgrade.ok and upgrade.revision == "r2"
    assert 'column "y" of relation "t" contains null values' in upgrade.detail
    assert "ALTER TABLE t ADD COLUMN y INTEGER NOT NULL" in upgrade.detail
    (stair,) = checks["stairway"]
    assert not stair.ok and stair.revision == "r2"
    assert report.skipped["models_match"] == "the upgrade to head failed"


def test_rows_zero_turns_them_off(tmp_path, pg_server, capsys):
    root = make_case("not_null_on_rows", tmp_path / "p")
    with pg_server.scratch_database() as url:
        assert verify_empty_database(root, url, rows=0).ok
    code = main(
        ["verify", "--project", str(root), "--db", pg_server.url(), "--rows", "0", "--format", "json"]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["ok"] is True
    (root / "pyproject.toml").write_text("[tool.dbpatterns]\nverify_rows = { default = 3, r2 = 0 }\n")
    with pg_server.scratch_database() as url:
        assert verify_empty_database(root, url).ok


def test_unique_over_duplicates_and_a_failing_cast_name_the_row(tmp_path, pg_url):
    unique = (
        'op.create_unique_constraint("uq_t_flag", "t", ["flag"])',
        'op.drop_constraint("uq_t_flag", "t")',
    )
    flag = (
        'op.add_column("t", sa.Column("flag", sa.Boolean, server_default="true"))',
        'op.drop_column("t", "flag")',
    )
    root = project(tmp_path / "p", linear(TABLE, flag, unique))
    (upgrade,) = _checks(verify_empty_database(root, pg_url))["upgrade"]
    assert not upgrade.ok and upgrade.revision == "r3"
    assert (
        "could not create unique index" in upgrade.detail and "Key (flag)=(t) is duplicated" in upgrade.detail
    )


def test_a_cast_that_fails_on_values_names_the_value(tmp_path, pg_url):
    word = ("op.execute(\"UPDATE t SET x = 'word' || x\")", "pass")
    cast = (
        'op.alter_column("t", "x", type_=sa.Integer, postgresql_using="x::integer")',
        'op.alter_column("t", "x", type_=sa.Text)',
    )
    root = project(tmp_path / "p", linear(TABLE, word, cast))
    (upgrade,) = _checks(verify_empty_database(root, pg_url))["upgrade"]
    assert not upgrade.ok and upgrade.revision == "r3"
    assert 'invalid input syntax for type integer: "word1"' in upgrade.detail


def test_downgrade_that_drops_data_names_the_table_and_revision(tmp_path, pg_url):
    report = verify_empty_database(make_case("downgrade_loses_data", tmp_path / "p"), pg_url)
    assert _failed(report) == [("downgrade_keeps_data", "r2")]
    (lost,) = _checks(report)["downgrade_keeps_data"]
    assert "column public.t.x" in lost.detail or "column t.x" in lost.detail


def test_a_backfill_or_cleanup_the_downgrade_cannot_undo_is_not_a_loss(tmp_path, pg_url):
    backfill = ("op.execute(\"UPDATE t SET x = upper(x) || '!'\")", "pass")
    cleanup = ('op.execute("DELETE FROM t WHERE id > 1")', "pass")
    report = verify_empty_database(
        project(tmp_path / "p", linear(TABLE, backfill, cleanup, CLEARS_X)), pg_url
    )
    assert _failed(report) == [("downgrade_keeps_data", "r4")]  # only the downgrade that clears x


def test_seeded_data_migration_passes_and_a_wrong_expectation_fails(tmp_path, pg_server):
    with pg_server.scratch_database() as url:
        report = verify_empty_database(make_case("seeded_data_migration", tmp_path / "ok"), url)
    assert report.ok, report.to_dict()
    with pg_server.scratch_database() as url:
        report = verify_empty_database(make_case("seeded_data_migration_wrong", tmp_path / "bad"), url)
    (upgrade,) = _checks(report)["upgrade"]
    assert not upgrade.ok and upgrade.revision == "r2"
    assert "the after hook of r2" in upgrade.detail and "code is ABC" in upgrade.detail


def test_a_python_hook(tmp_path, pg_url):
    root = project(
        tmp_path / "p",
        linear(TABLE, CODE),
        '[tool.dbpatterns.verify_hooks]\nr2 = { before = "seed_hooks:seed" }\n',
    )
    (root / "seed_hooks.py").write_text(
        'def seed(connection):\n    connection.exec_driver_sql("INSERT INTO t (id, x) VALUES (7, NULL)")\n'
    )
    (upgrade,) = _checks(verify_empty_database(root, pg_url))["upgrade"]
    assert not upgrade.ok and upgrade.revision == "r2" and 'column "code" of relation "t"' in upgrade.detail


def test_leaky_downgrade_names_the_leftover_and_its_revision_not_the_next(tmp_path, pg_url):
    report = verify_empty_database(make_case("leaky_downgrade", tmp_path / "p"), pg_url)
    checks = _checks(report)
    (down,) = checks["downgrade"]
    assert not down.ok and down.revision == "r2" and "table public.bar left behind" in down.detail
    assert "column public.bar.id" not in down.detail  # the table is named once, not its parts
    (trace,) = checks["downgrade_no_trace"]
    assert not trace.ok and trace.revision == "r2" and "public.bar left behind" in trace.detail
    assert all(c.ok for c in checks["stairway"])  # r3 is checked on a rebuilt database
    assert "already exists" not in json.dumps(report.to_dict())


def test_not_implemented_downgrade_is_an_intended_stop(tmp_path, pg_server):
    root = make_case("not_implemented_stop", tmp_path / "p")
    with pg_server.scratch_database() as url:
        report = verify_empty_database(root, url)
    assert report.ok, report.to_dict()
    (down,) = _checks(report)["downgrade"]
    assert down.detail.startswith("head to r2") and "NotImplementedError" in down.detail
    (stair,) = _checks(report)["stairway"]
    assert "intended stops (NotImplementedError): r2" in stair.detail and "2 round trips" in stair.detail
    # the same history without the policy: r2 fails, r3 is still checked (its leak found)
    revisions = linear(
        TABLE, NOT_IMPLEMENTED, ("op.create_table('foo', sa.Column('id', sa.Integer))", "pass")
    )
    project(tmp_path / "q", revisions)
    with pg_server.scratch_database() as url:
        report = verify_empty_database(tmp_path / "q", url)
    failed = _failed(report)
    assert ("downgrade", "r3") not in failed and ("stairway", "r2") in failed
    assert ("downgrade_no_trace", "r3") in failed


def test_lowest_revision_to_downgrade_to(tmp_path, pg_url):
    broken = ('op.create_table("u", sa.Column("id", sa.Integer))', 'raise RuntimeError("no way back")')
    root = project(tmp_path / "p", linear(TABLE, broken, ADD_Z), 'verify_downgrade_to = "r2"\n')
    report = verify_empty_database(root, pg_url)
    assert report.ok, report.to_dict()
    (down,) = _checks(report)["downgrade"]
    assert down.detail == "head to r2 (verify_downgrade_to)"


def test_declared_heads_are_each_checked(tmp_path, pg_server):
    root = make_case("declared_heads", tmp_path / "p")
    with pg_server.scratch_database() as url:
        report = verify_empty_database(root, url)
    checks = _checks(report)
    (head,) = checks["single_head"]
    assert head.ok and "as declared" in head.detail
    assert checks["upgrade"][0].ok
    (trace,) = checks["downgrade_no_trace"]
    assert not trace.ok and trace.revision == "bbb222"  # the second head's lineage is verified
    (root / "pyproject.toml").write_text('[tool.dbpatterns]\nverify_heads = ["aaa111"]\n')
    with pg_server.scratch_database() as url:
        report = verify_empty_database(root, url)
    (head,) = _checks(report)["single_head"]
    assert not head.ok and head.revision == "bbb222" and "undeclared" in head.detail
    assert not _checks(report)["downgrade_no_trace"][0].ok  # still checked


ASYNC_ENGINE_ENV = """
import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import async_engine_from_config

config = context.config
target_metadata = TARGET


def do_run_migrations(connection):
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def main():
    connectable = config.attributes.get("connection") or async_engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy."
    )
    async with connectable.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await connectable.dispose()


asyncio.run(main())
"""


def test_async_env_py_that_takes_an_async_engine(tmp_path, pg_url):
    pytest.importorskip("greenlet")
    root = project(tmp_path / "p", linear(TABLE, ADD_Z), env_text=ASYNC_ENGINE_ENV)
    report = verify_empty_database(root, pg_url)
    assert report.ok, report.to_dict()
    assert report.generated_rows > 0  # the rows went in through the async connection too


def test_a_bare_raise_in_a_revision_is_its_own_error(tmp_path, pg_url):
    """The retry with an Engine happens outside the first attempt's except block."""
    root = project(tmp_path / "p", linear(TABLE, ("raise", "pass")), env_text=ENGINE_ENV)
    (upgrade,) = _checks(verify_empty_database(root, pg_url))["upgrade"]
    assert upgrade.detail == "upgrade of r2 failed: RuntimeError: No active exception to reraise"


def test_env_py_that_takes_an_engine(tmp_path, pg_url):
    report = verify_empty_database(make_case("engine_env", tmp_path / "p"), pg_url)
    assert report.ok, report.to_dict()
    assert len(_checks(report)["stairway"]) == 1


def test_a_table_the_filler_cannot_fill_stays_empty_with_a_note(tmp_path, pg_url):
    weird = (
        'op.execute("CREATE TABLE w (id int PRIMARY KEY, b boolean NOT NULL UNIQUE)")',
        'op.execute("DROP TABLE w")',
    )
    report = verify_empty_database(project(tmp_path / "p", linear(TABLE, weird, ADD_Z)), pg_url)
    assert report.ok, report.to_dict()
    assert any("table w was left empty" in n for n in report.notes)


def test_small_things(tmp_path, pg_server):
    models = """
        import sqlalchemy as sa
        from sqlalchemy.orm import DeclarativeBase

        class Base(DeclarativeBase):
            pass

        class T(Base):
            __tablename__ = "t"
            id = sa.Column(sa.Integer, primary_key=True)
    """
    root = write_project(
        tmp_path / "empty", [], models="empty_models:Base", models_code=models, module="empty_models"
    )
    with pg_server.scratch_database() as url:
        report = verify_empty_database(root, url)
    checks = _checks(report)
    assert checks["single_head"][0].detail == "no revisions"
    assert (
        not checks["models_match"][0].ok and "table t only in the models" in checks["models_match"][0].detail
    )
    one = write_project(tmp_path / "one", linear(('assert 1 == 2, ""', "pass")))
    with pg_server.scratch_database() as url:
        report = verify_empty_database(one, url)
    checks = _checks(report)
    assert checks["single_head"][0].detail == "1 revision, one head"
    assert checks["upgrade"][0].detail == "upgrade of r1 failed: AssertionError"


@pytest.mark.parametrize("bad", ["verify_rows = -1", 'verify_not_implemented = "skip"', "verify_heads = 3"])
def test_bad_policies_exit_2(tmp_path, pg_server, capsys, bad):
    root = project(tmp_path / "p", linear(TABLE), bad + "\n")
    assert main(["verify", "--project", str(root), "--db", pg_server.url()]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and bad.split(" ")[0] in err


MODELS_T = """
    import sqlalchemy as sa
    from sqlalchemy.orm import DeclarativeBase

    class Base(DeclarativeBase):
        pass

    class T(Base):
        __tablename__ = "t"
        id = sa.Column(sa.Integer, primary_key=True)
        x = sa.Column(sa.Text)
        z = sa.Column(sa.Text)
"""


def test_engine_env_serves_detect_drift_and_trace(tmp_path, pg_server, capsys):
    """The runner is shared: an env.py that calls .connect() on config.attributes["connection"] works for
    every command that runs the history."""
    root = write_project(
        tmp_path / "p",
        linear(TABLE, ADD_Z),
        env_text=ENGINE_ENV,
        models="engine_models:Base",
        models_code=MODELS_T,
        module="engine_models",
    )
    base = ["--project", str(root), "--format", "json"]
    assert main(["detect", *base, "--db", pg_server.url()]) == 0
    assert json.loads(capsys.readouterr().out)["changes"] == []
    assert main(["trace", "--revision", "r2", *base, "--db", pg_server.url()]) == 0
    statements = json.loads(capsys.readouterr().out)["statements"]
    assert any("ADD COLUMN z" in s["sql"] for s in statements)
    with pg_server.scratch_database() as url:
        assert verify_empty_database(root, url, rows=0).ok  # the stairway ends at head
        code = main(["drift", *base, "--db", url, "--no-cache"])
        out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["in_sync"] is True, out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_only(tmp_path, pg_server, monkeypatch, capsys):
    root = project(tmp_path / "p", linear(TABLE, ADD_Z))
    assert main(["verify", "--project", str(root), "--db", pg_server.url()]) == 0
    assert capsys.readouterr().err == ""  # piped: nothing extra
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(["verify", "--project", str(root), "--db", pg_server.url()]) == 0
    shown = terminal.getvalue()
    assert "upgrade: revision 2 of 2 (r2)" in shown and "stairway: revision 1 of 2 (r1)" in shown
    assert main(["verify", "--project", str(root), "--db", pg_server.url(), "--format", "json"]) == 0
    assert terminal.getvalue() == shown  # JSON: nothing extra either


def test_fill_empty_fills_empty_tables_once_under_savepoints(pg_url):
    import psycopg

    from dbpatterns.trace.fill import fill_empty

    with psycopg.connect(pg_url) as conn:  # one transaction, as a migration's
        conn.execute(
            "CREATE TYPE mood AS ENUM ('sad', 'ok');"
            "CREATE TABLE parent (id serial PRIMARY KEY, code text NOT NULL UNIQUE, m mood NOT NULL);"
            "CREATE TABLE child (id serial PRIMARY KEY, parent_id int NOT NULL REFERENCES parent,"
            " n int NOT NULL CHECK (n > 1), status text CHECK (status IN ('new', 'done')));"
            "CREATE TABLE seeded (id int PRIMARY KEY); INSERT INTO seeded VALUES (42);"
            "CREATE TABLE refused (id int PRIMARY KEY, b boolean NOT NULL UNIQUE)"
        )
        known: dict[int, bool] = {}
        with conn.cursor() as cur:
            first = fill_empty(cur, 3, known)
            second = fill_empty(cur, 3, known)
        assert first.rows == {"parent": 3, "child": 3}
        assert set(first.failed) == {"refused"} and "duplicate key" in first.failed["refused"]
        assert second.rows == {} and second.failed == {}
        assert conn.execute("SELECT count(*) FROM seeded").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM child WHERE n > 1").fetchone()[0] == 3


def test_check_shows_verify_progress_on_a_terminal_only(tmp_path, pg_server, monkeypatch, capsys):
    root = project(tmp_path / "p", linear(TABLE, ADD_Z))
    main(["check", "--project", str(root), "--db", pg_server.url()])
    assert "revision 1 of 2" not in capsys.readouterr().err  # piped: nothing extra
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    main(["check", "--project", str(root), "--db", pg_server.url()])
    assert "upgrade: revision 2 of 2 (r2)" in terminal.getvalue()
