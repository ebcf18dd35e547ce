"""The pytest plugin: verify's checks as items of a project's own suite, inert until configured.

The run that verifies is a subprocess: in process, pytester would unload the SQLAlchemy modules it imports.
"""

from __future__ import annotations

import pytest

from tests.alembic_builder import linear, write_project
from tests.test_verify_data import make_case

pytest_plugins = ["pytester"]

TABLE = (
    'op.create_table("t", sa.Column("id", sa.Integer, primary_key=True), sa.Column("x", sa.Text))',
    'op.drop_table("t")',
)
INDEX_KEPT = ('op.create_index("ix_t_x", "t", ["x"])', "pass")


def test_one_item_per_check(pytester, pg_server):
    write_project(pytester.path / "db", linear(TABLE, INDEX_KEPT))
    pytester.makeini(
        f"[pytest]\ndbpatterns_verify = true\ndbpatterns_project = db\ndbpatterns_db = {pg_server.url()}\n"
    )
    pytester.makepyfile(test_app="def test_app():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:pytest_alembic", "-rs")
    result.assert_outcomes(passed=6, failed=1, skipped=1)
    out = result.stdout.str()
    assert "dbpatterns verify: downgrade_no_trace" in out
    assert "index public.ix_t_x left behind" in out and "[r2]" in out


def test_rows_option(pytester, pg_server):
    make_case("not_null_on_rows", pytester.path / "db")
    pytester.makeini(
        f"[pytest]\ndbpatterns_verify = true\ndbpatterns_project = db\ndbpatterns_db = {pg_server.url()}\n"
        "dbpatterns_rows = 0\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:pytest_alembic")
    result.assert_outcomes(passed=6, skipped=1)


def test_inert_unless_configured(pytester):
    pytester.makepyfile(test_app="def test_app():\n    pass\n")
    result = pytester.runpytest("-p", "no:pytest_alembic", "--collect-only", "-q")
    assert "dbpatterns-verify" not in result.stdout.str()
    assert result.ret == 0


@pytest.mark.parametrize(
    ("case", "failed", "text"),
    [
        ("not_null_on_rows", ["upgrade", "stairway"], 'column "y" of relation "t" contains null values'),
        ("downgrade_loses_data", ["downgrade_keeps_data"], "column t.x: its values differ"),
        ("seeded_data_migration", [], ""),
        ("leaky_downgrade", ["downgrade", "downgrade_no_trace"], "[r2]: the downgrade of r2"),
        ("not_implemented_stop", [], ""),
        ("declared_heads", ["downgrade", "downgrade_no_trace"], "[bbb222]"),
        ("engine_env", [], ""),
    ],
)
def test_the_cases_as_test_items(pytester, pg_server, case, failed, text):
    make_case(case, pytester.path / "db")
    pytester.makeini(
        f"[pytest]\ndbpatterns_verify = true\ndbpatterns_project = db\ndbpatterns_db = {pg_server.url()}\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:pytest_alembic", "-rA")
    out = result.stdout.str()
    failing = sorted(line.split("::")[2].split()[0] for line in out.splitlines() if line.startswith("FAILED"))
    assert failing == sorted(failed), out
    assert text in out
