"""A TypeDecorator imported from another module of the project (``from app.db.types import JSONish``)
is read statically from that module: json-column fires when its impl is json on PostgreSQL, not when it
is jsonb."""

from __future__ import annotations

import textwrap

import pytest
from alembic_builder import write_project

from dbpatterns.lint import Settings
from dbpatterns.lint.run import lint_report

TYPES = """
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator


class JSONish(TypeDecorator):
    impl = {impl}
    cache_ok = True


class Short(sa.types.TypeDecorator):
    impl = sa.String

Alias = {impl}
"""


def _project(root, impl: str, *, where: str = "app/db/types.py", module: str = "app.db.types", ini=""):
    write_project(
        root,
        [
            (
                "r1",
                None,
                'op.add_column("events", sa.Column("payload", JSONish()))\n'
                'op.add_column("events", sa.Column("other", Alias()))\n'
                'op.add_column("events", sa.Column("code", Short(20)))',
                "pass",
            )
        ],
    )
    revision = root / "migrations" / "versions" / "r1.py"  # the import at the top, as revisions have it
    text = revision.read_text().replace(
        "import sqlalchemy as sa\n",
        f"import sqlalchemy as sa\nfrom {module} import JSONish, Short, Alias\n",
        1,
    )
    revision.write_text(text)
    module_file = root / where
    module_file.parent.mkdir(parents=True, exist_ok=True)
    module_file.write_text(textwrap.dedent(TYPES).replace("{impl}", impl))
    if ini:
        config = root / "alembic.ini"
        config.write_text(config.read_text() + ini)
    return root


def _findings(root):
    return lint_report([str(root)], Settings(lock_timeout_in_env=True), jobs=1).findings


@pytest.mark.parametrize(
    ("impl", "fires"),
    [("JSONB", False), ("postgresql.JSONB", False), ("sa.JSON", True), ("postgresql.JSON", True)],
)
def test_json_column_reads_the_impl_of_an_imported_type_decorator(tmp_path, impl, fires):
    found = _findings(_project(tmp_path / "p", impl))
    json = [f for f in found if f.rule == "json-column"]
    assert len(json) == (2 if fires else 0)  # JSONish() and Alias()
    assert all("payload" in f.message or "other" in f.message for f in json)


def test_the_impl_gets_the_call_arguments(tmp_path, capsys):
    """Short(20) is sa.String(20) on PostgreSQL: varchar(20), a type the history then knows."""
    from dbpatterns.alembic.static import read_revision
    from dbpatterns.alembic.types import reading_revision

    root = _project(tmp_path / "p", "JSONB")
    revision = root / "migrations" / "versions" / "r1.py"
    with reading_revision(str(revision)):
        source = read_revision(revision.read_text(), str(revision))
    assert [s.sql for s in source.upgrade] == [
        "ALTER TABLE events ADD COLUMN payload JSONB",
        "ALTER TABLE events ADD COLUMN other JSONB",
        "ALTER TABLE events ADD COLUMN code VARCHAR(20)",
    ]


def test_module_under_prepend_sys_path(tmp_path):
    root = _project(tmp_path / "p", "sa.JSON", where="src/app/db/types.py", ini="prepend_sys_path = src\n")
    assert len([f for f in _findings(root) if f.rule == "json-column"]) == 2


def test_module_not_found_is_a_placeholder(tmp_path):
    root = _project(tmp_path / "p", "sa.JSON", where="elsewhere/types.py")
    found = _findings(root)
    assert not [f for f in found if f.rule in ("json-column", "opaque-operation", "syntax-error")]


def test_relative_import_from_the_revision_folder(tmp_path):
    root = _project(
        tmp_path / "p", "postgresql.JSON", where="migrations/versions/shared.py", module=".shared"
    )
    assert len([f for f in _findings(root) if f.rule == "json-column"]) == 2


def test_a_changed_module_is_read_again(tmp_path):
    root = _project(tmp_path / "p", "JSONB")
    assert not [f for f in _findings(root) if f.rule == "json-column"]
    (root / "app/db/types.py").write_text(textwrap.dedent(TYPES).replace("{impl}", "sa.JSON"))
    assert len([f for f in _findings(root) if f.rule == "json-column"]) == 2


def test_sql_constant_imported_from_the_package_the_migrations_live_in(tmp_path):
    """indico's layout: the migrations inside the application's package (``app/migrations``), whose SQL
    constants come from ``app.sql`` (the installed package at run time, its source above the project)."""
    root = write_project(
        tmp_path / "repo" / "app" / "migrations",
        [("r1", None, "op.execute(CREATE_FUNCTION)\nop.execute(INDEX_SQL)", "pass")],
    )
    revision = root / "migrations" / "versions" / "r1.py"
    revision.write_text(
        revision.read_text().replace(
            "import sqlalchemy as sa\n",
            "import sqlalchemy as sa\nfrom app.sql import CREATE_FUNCTION, INDEX_SQL\n",
            1,
        )
    )
    (tmp_path / "repo" / "app" / "sql.py").write_text(
        'CREATE_FUNCTION = """\n    CREATE FUNCTION app.one() RETURNS int\n'
        '    AS $$ SELECT 1 $$ LANGUAGE sql;\n"""\n'
        'INDEX_SQL = "CREATE INDEX ix_events_at ON events (at)"\n'
    )
    found = lint_report([str(root)], Settings(extend_select=frozenset({"opaque-operation"})), jobs=1)
    rules = [f.rule for f in found.findings]
    assert "opaque-operation" not in rules and "create-index-non-concurrently" in rules
    assert found.stats["unanalysed"] == 0 and found.stats["analysed"] == 2
