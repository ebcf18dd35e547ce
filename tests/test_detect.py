"""dbpatterns detect on real PostgreSQL: one model edit per kind of change, with its risk and template."""

from __future__ import annotations

import json
import subprocess

import pytest

from dbpatterns.cli import main
from dbpatterns.detect import detect_changes
from dbpatterns.errors import InputError
from tests.detect_projects import MODELS, PRODUCT, edit, extra, make_project


def _detect(tmp_path, pg_server, models: str = MODELS, **kw):
    root, spec = make_project(tmp_path / "p", models, **kw)
    return detect_changes(root, models=spec, db=pg_server.url())


def _summary(report) -> list[tuple]:
    return [(c.kind, c.table, c.column or c.name, c.risk, c.template) for c in report.changes]


def test_models_that_match_the_history_report_nothing(tmp_path, pg_server, capsys):
    root, spec = make_project(tmp_path / "p")
    code = main(["detect", "--project", str(root), "--models", spec, "--db", pg_server.url()])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "no model changes" in out


# (edited models, expected (kind, table, column or object name, risk, template))
CASES = {
    "add_table": (
        MODELS + PRODUCT,
        ("add_table", "products", None, "safe", "create-table"),
    ),
    "drop_table": (
        edit(('    __tablename__ = "legacy"', '    __tablename__ = "legacy"\n    __abstract__ = True')),
        ("drop_table", "legacy", None, "destroys-data", None),
    ),
    "add_nullable_column": (
        extra("extra = mapped_column(sa.Text, nullable=True)"),
        ("add_column", "orders", "extra", "safe", "add-column"),
    ),
    "add_not_null_column": (
        extra("extra = mapped_column(sa.Integer, nullable=False)"),
        ("add_column", "orders", "extra", "breaks-running-code", "add-not-null-column"),
    ),
    "add_column_constant_default": (
        extra("extra = mapped_column(sa.Integer, nullable=False, server_default='0')"),
        ("add_column", "orders", "extra", "safe", "add-column-default"),
    ),
    "add_column_volatile_default": (
        extra("extra = mapped_column(sa.Float, nullable=True, server_default=sa.text('random()'))"),
        ("add_column", "orders", "extra", "rewrites", "add-column-default"),
    ),
    "add_identity_column": (
        extra("extra = mapped_column(sa.BigInteger, sa.Identity(), nullable=False)"),
        ("add_column", "orders", "extra", "rewrites", "add-column"),
    ),
    "drop_column": (
        edit(("    note = mapped_column(sa.Text, nullable=True)\n", "")),
        ("drop_column", "orders", "note", "destroys-data", "drop-column"),
    ),
    "type_that_rewrites": (
        edit(("qty = mapped_column(sa.Integer,", "qty = mapped_column(sa.BigInteger,")),
        ("change_type", "orders", "qty", "rewrites", "change-column-type"),
    ),
    "binary_coercible_type": (
        edit(("sa.String(10)", "sa.String(20)")),
        ("change_type", "orders", "code", "safe", "change-column-type"),
    ),
    "set_not_null": (
        edit(("sa.String(10), nullable=True", "sa.String(10), nullable=False")),
        ("set_not_null", "orders", "code", "breaks-running-code", "add-check-constraint"),
    ),
    "drop_not_null": (
        edit(("sa.Integer, nullable=False)", "sa.Integer, nullable=True)")),
        ("drop_not_null", "orders", "qty", "safe", None),
    ),
    "server_default": (
        edit(('server_default="new"', 'server_default="open"')),
        ("change_default", "orders", "status", "safe", None),
    ),
    "add_index": (
        edit(("note = mapped_column(sa.Text, nullable=True)", "note = mapped_column(sa.Text, index=True)")),
        ("add_index", "orders", "ix_orders_note", "locks", "add-index"),
    ),
    "drop_index": (
        edit(('"fk_orders_customer"), index=True', '"fk_orders_customer")')),
        ("drop_index", "orders", "ix_orders_customer_id", "locks", "drop-index"),
    ),
    "add_unique": (
        edit(("sa.String(10), nullable=True", "sa.String(10), nullable=True, unique=True")),
        ("add_unique", "orders", None, "locks", "add-unique-constraint"),
    ),
    "add_foreign_key": (
        edit(
            (
                "buyer_id = mapped_column(sa.Integer,",
                'buyer_id = mapped_column(sa.ForeignKey("customers.id"),',
            )
        ),
        ("add_foreign_key", "orders", None, "locks", "add-foreign-key"),
    ),
    "drop_foreign_key": (
        edit(('sa.ForeignKey("customers.id", name="fk_orders_customer"), ', "")),
        ("drop_foreign_key", "orders", "fk_orders_customer", "safe", None),
    ),
    "add_check": (
        edit(('name="ck_orders_qty"),', 'name="ck_orders_qty"), sa.CheckConstraint("qty < 1000"),')),
        ("add_check", "orders", None, "locks", "add-check-constraint"),
    ),
    "change_check": (
        edit(('"qty >= 0", name=', '"qty > 0", name=')),
        ("change_check", "orders", "ck_orders_qty", "locks", "add-check-constraint"),
    ),
    "drop_check": (
        edit(('    __table_args__ = (sa.CheckConstraint("qty >= 0", name="ck_orders_qty"),)\n', "")),
        ("drop_check", "orders", "ck_orders_qty", "safe", None),
    ),
    "column_comment": (
        edit(
            ("note = mapped_column(sa.Text, nullable=True)", "note = mapped_column(sa.Text, comment='free')")
        ),
        ("change_comment", "orders", "note", "safe", None),
    ),
    "table_comment": (
        edit(('name="ck_orders_qty"),)', 'name="ck_orders_qty"), {"comment": "orders"})')),
        ("change_table_comment", "orders", None, "safe", None),
    ),
    "drop_enum_column": (
        edit(('    m = mapped_column(sa.Enum("sad", "ok", name="mood"), nullable=True)\n', "")),
        ("drop_column", "orders", "m", "destroys-data", "drop-column"),  # the type goes with its column
    ),
    "add_enum_value": (
        edit(('sa.Enum("sad", "ok", name="mood")', 'sa.Enum("sad", "ok", "happy", name="mood")')),
        ("add_enum_value", "orders", "m", "safe", "add-enum-value"),
    ),
    "drop_enum_value": (
        edit(('sa.Enum("sad", "ok", name="mood")', 'sa.Enum("ok", name="mood")')),
        ("drop_enum_value", "orders", "m", "breaks-running-code", None),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_kind_of_change_with_its_risk_and_template(tmp_path, pg_server, case):
    models, expected = CASES[case]
    assert _summary(_detect(tmp_path, pg_server, models)) == [expected]


# The same change as SQL on a table with rows: PostgreSQL rewrites it iff detect says "rewrites".
AS_SQL = {
    "add_nullable_column": "ALTER TABLE orders ADD COLUMN extra text",
    "add_column_constant_default": "ALTER TABLE orders ADD COLUMN extra integer NOT NULL DEFAULT 0",
    "add_column_volatile_default": "ALTER TABLE orders ADD COLUMN extra float8 DEFAULT random()",
    "add_identity_column": "ALTER TABLE orders ADD COLUMN extra bigint GENERATED BY DEFAULT AS IDENTITY",
    "type_that_rewrites": "ALTER TABLE orders ALTER COLUMN qty TYPE bigint",
    "binary_coercible_type": "ALTER TABLE orders ALTER COLUMN code TYPE varchar(20)",
}


@pytest.mark.parametrize("case", list(AS_SQL))
def test_rewrite_risks_match_what_postgres_does(tmp_path, pg_server, pg_url, case):
    import psycopg

    from dbpatterns.pg.locks import relfilenodes, rewritten

    (change,) = _detect(tmp_path, pg_server, CASES[case][0]).changes
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, qty int NOT NULL, code varchar(10))")
        conn.execute("INSERT INTO orders SELECT i, i, 'c' || i FROM generate_series(1, 1000) i")
        before = relfilenodes(conn)
        conn.execute(AS_SQL[case])
        did_rewrite = "orders" in rewritten(before, relfilenodes(conn))
    assert ("rewrites" in change.risks) == did_rewrite, change.detail


def test_the_bundled_example_matches_its_models(pg_server, capsys):
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "examples" / "project"
    code = main(["detect", "--project", str(example), "--db", pg_server.url()])
    assert code == 0, capsys.readouterr().out


def test_a_project_without_models_is_exit_2(tmp_path, capsys):
    from tests.alembic_builder import linear, write_project
    from tests.detect_projects import HISTORY

    root = write_project(tmp_path / "p", linear(HISTORY))
    assert main(["detect", "--project", str(root)]) == 2
    assert "no models to compare" in capsys.readouterr().err


def test_risks_carry_every_fact_not_only_the_worst(tmp_path, pg_server):
    report = _detect(tmp_path, pg_server, extra("extra = mapped_column(sa.Integer, nullable=False)"))
    (change,) = report.changes
    assert change.risks == ("locks", "breaks-running-code")
    assert "fails on a table with rows" in change.detail


def test_a_dropped_and_an_added_column_of_one_type_are_a_probable_rename(tmp_path, pg_server):
    models = edit(("note = mapped_column(sa.Text", "remark = mapped_column(sa.Text"))
    report = _detect(tmp_path, pg_server, models)
    (change,) = report.changes
    assert (change.kind, change.column, change.extra["old_column"]) == ("rename_column", "remark", "note")
    assert (change.risk, change.template) == ("breaks-running-code", "rename-column")
    assert "expand-contract" in change.detail.lower()


def test_a_dropped_and_an_added_column_of_different_types_are_not_a_rename(tmp_path, pg_server):
    models = edit(("note = mapped_column(sa.Text", "remark = mapped_column(sa.Integer"))
    kinds = sorted(c.kind for c in _detect(tmp_path, pg_server, models).changes)
    assert kinds == ["add_column", "drop_column"]


def test_enum_values_come_from_pg_enum_with_their_position(tmp_path, pg_server):
    models = edit(('sa.Enum("sad", "ok", name="mood")', 'sa.Enum("sad", "meh", "ok", "happy", name="mood")'))
    report = _detect(tmp_path, pg_server, models)
    added = [(c.extra["value"], c.extra["after"]) for c in report.changes]
    assert added == [("meh", "sad"), ("happy", "ok")]
    assert all(c.kind == "add_enum_value" for c in report.changes)


def test_an_enum_type_no_model_and_no_column_uses(tmp_path, pg_server):
    from tests.detect_projects import HISTORY

    color = ("op.execute(\"CREATE TYPE color AS ENUM ('red')\")", 'op.execute("DROP TYPE color")')
    root, spec = make_project(tmp_path / "p", history=(HISTORY, color))
    report = detect_changes(root, models=spec, db=pg_server.url())
    assert _summary(report) == [("drop_enum", None, "color", "safe", None)]


def test_an_unnamed_check_is_matched_by_how_postgres_prints_it(tmp_path, pg_server):
    """The history writes ``qty >= 0``; models spelling it ``(qty >= (0))`` are the same constraint."""
    models = edit(('name="ck_orders_qty"),', 'name="ck_orders_qty"), sa.CheckConstraint("(qty <= (5000))"),'))
    from tests.detect_projects import HISTORY

    second = ('op.execute("ALTER TABLE orders ADD CHECK (qty <= 5000)")', 'op.execute("SELECT 1")')
    root, spec = make_project(tmp_path / "p", models, history=(HISTORY, second))
    assert detect_changes(root, models=spec, db=pg_server.url()).changes == []


def test_an_async_env_py_project(tmp_path, pg_server):
    report = _detect(tmp_path, pg_server, extra("extra = mapped_column(sa.Text, nullable=True)"), env="async")
    assert _summary(report) == [("add_column", "orders", "extra", "safe", "add-column")]


def test_models_from_env_py_target_metadata_and_model_names(tmp_path, pg_server):
    root, _ = make_project(tmp_path / "p", extra("extra = mapped_column(sa.Text, nullable=True)"))
    report = detect_changes(root, db=pg_server.url())  # no --models: env.py's target_metadata
    (change,) = report.changes
    assert (change.kind, change.model) == ("add_column", "Order")


def test_since_names_the_model_classes_changed_in_git(tmp_path, pg_server):
    root, spec = make_project(tmp_path / "p")
    module = root / f"{spec.split(':')[0]}.py"
    git = ["git", "-C", str(root), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], check=True)
    text = module.read_text()
    text = text.replace("    # EXTRA", "    extra = mapped_column(sa.Text, nullable=True)")
    text = text.replace(
        'class Legacy(Base):\n    __tablename__ = "legacy"',
        'class Legacy(Base):  # same\n    __tablename__ = "legacy"',
    )
    text += PRODUCT
    module.write_text(text)
    report = detect_changes(root, models=spec, db=pg_server.url(), since="HEAD")
    edits = sorted((e.name, e.status, e.table) for e in report.since.models)
    assert edits == [
        ("Order", "changed", "orders"),
        ("Product", "added", "products"),
    ]  # a comment is no change
    assert report.to_dict()["since"]["models"][0]["path"] == module.name
    with pytest.raises(InputError, match="unknown git ref"):
        detect_changes(root, models=spec, db=pg_server.url(), since="no-such-ref")


def test_cli_json_contract_and_exit_code(tmp_path, pg_server, capsys):
    root, spec = make_project(tmp_path / "p", extra("extra = mapped_column(sa.Integer, nullable=False)"))
    code = main(
        ["detect", "--project", str(root), "--models", spec, "--db", pg_server.url(), "--format", "json"]
    )
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    (change,) = data["changes"]
    assert set(change) >= {"kind", "table", "column", "risk", "template", "detail"}
    assert (change["kind"], change["column"], change["template"]) == (
        "add_column",
        "extra",
        "add-not-null-column",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--models", "no_such_module:Base"], "cannot import no_such_module"),
        (["--db", "postgresql://u:s3cret@127.0.0.1:1/postgres"], "cannot connect"),
    ],
)
def test_bad_input_is_one_line_exit_2_without_the_password(tmp_path, capsys, args, message):
    root, spec = make_project(tmp_path / "p")
    argv = ["detect", "--project", str(root), *args]
    if "--models" not in args:
        argv += ["--models", spec]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "s3cret" not in err and err.count("\n") == 1


def test_a_folder_without_an_alembic_project_is_exit_2(tmp_path, capsys):
    assert main(["detect", "--project", str(tmp_path)]) == 2
    assert "no Alembic project" in capsys.readouterr().err


def test_several_heads_are_an_input_error(tmp_path, pg_server):
    from tests.alembic_builder import write_project
    from tests.detect_projects import HISTORY

    branch = ('op.execute("SELECT 1")', 'op.execute("SELECT 1")')
    revisions = [("r1", None, *HISTORY), ("r2", "r1", *branch), ("r3", "r1", *branch)]
    root = write_project(tmp_path / "p", revisions, models_code=MODELS, module="detect_models_heads")
    with pytest.raises(InputError, match="2 heads"):
        detect_changes(root, models="detect_models_heads:Base", db=pg_server.url())
