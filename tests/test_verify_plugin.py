"""The pytest plugin: verify's checks as items of a project's own suite, inert until configured.

The run that verifies is a subprocess: in process, pytester would unload the SQLAlchemy modules it imports.
"""

from __future__ import annotations

from tests.alembic_builder import linear, write_project

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
    result.assert_outcomes(passed=4, failed=2, skipped=1)
    out = result.stdout.str()
    assert "dbpatterns verify: downgrade_no_trace" in out and "dbpatterns verify: stairway" in out
    assert "index public.ix_t_x left behind" in out and "[r2]" in out


def test_inert_unless_configured(pytester):
    pytester.makepyfile(test_app="def test_app():\n    pass\n")
    result = pytester.runpytest("-p", "no:pytest_alembic", "--collect-only", "-q")
    assert "dbpatterns-verify" not in result.stdout.str()
    assert result.ret == 0
