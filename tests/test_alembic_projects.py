"""Alembic projects as users have them: alembic.ini or [tool.alembic], several version folders, --offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dbpatterns.alembic.project import find_project
from dbpatterns.cli import main
from dbpatterns.errors import InputError

REVISION = '''"""{message}"""
from alembic import op
import sqlalchemy as sa

revision = "{rev}"
down_revision = {down!r}
TABLE = "orders"


def upgrade() -> None:
{body}


def downgrade() -> None:
    op.execute("SELECT 1")
'''


def write_revision(folder: Path, rev: str, body: str, down=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{rev}_change.py"
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    path.write_text(REVISION.format(message="change", rev=rev, down=down, body=indented))
    return path


def lint_json(args, capsys) -> tuple[int, list[dict]]:
    code = main(["lint", "--format", "json", *args])
    out, err = capsys.readouterr()
    assert err == "" or code == 2, err
    return code, json.loads(out)["findings"] if out else []


def test_ini_project_lints_only_its_version_locations(tmp_path, capsys):
    (tmp_path / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s/db\n"
        "version_locations = %(here)s/db/versions %(here)s/db/extra\n"
    )
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "env.py").write_text("from alembic import context\n")
    write_revision(tmp_path / "db" / "versions", "a1", 'op.drop_column("orders", "note")')
    write_revision(tmp_path / "db" / "extra", "b2", 'op.rename_table("orders", "purchases")', down="a1")
    (tmp_path / "scratch").mkdir()
    (tmp_path / "scratch" / "junk.sql").write_text("DROP TABLE everything;\n")
    project = find_project(tmp_path)
    assert [p.name for p in project.version_locations] == ["versions", "extra"]
    code, findings = lint_json([str(tmp_path)], capsys)
    assert code == 1
    assert {(Path(f["path"]).name, f["rule"]) for f in findings} >= {
        ("a1_change.py", "drop-column"),
        ("b2_change.py", "rename-table"),
    }
    assert not [f for f in findings if "junk.sql" in f["path"]], (
        "files outside the version folders are skipped"
    )


def test_pyproject_tool_alembic_project(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.alembic]\nscript_location = "%(here)s/migrations"\n\n[tool.dbpatterns]\npg_version = 16\n'
    )
    write_revision(tmp_path / "migrations" / "versions", "c3", 'op.create_index("ix", "orders", ["a"])')
    code, findings = lint_json([str(tmp_path)], capsys)
    assert [f["rule"] for f in findings if f["rule"] != "missing-lock-timeout"] == [
        "create-index-non-concurrently"
    ]


def test_unreadable_project_is_a_clean_error(tmp_path, capsys):
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = nowhere\n")
    code = main(["lint", str(tmp_path)])
    _, err = capsys.readouterr()
    assert code == 2 and "script_location 'nowhere' is not a folder" in err
    (tmp_path / "alembic.ini").write_text("not an ini file\n")
    with pytest.raises(InputError):
        find_project(tmp_path)


def test_offline_mode_sees_computed_arguments(tmp_path, capsys):
    """Static reading cannot know TABLE; Alembic's offline rendering can, and lines map back to the op."""
    path = write_revision(
        tmp_path / "versions",
        "d4",
        'op.execute("SET lock_timeout = \'1s\'")\nfor table in sorted({"orders", "invoices"}):\n'
        '    op.create_index(f"ix_{table}", table, ["customer_id"])',
    )
    code, static = lint_json(["--extend-select", "opaque-operation", str(path)], capsys)
    assert [f["rule"] for f in static] == ["opaque-operation"]
    code, offline = lint_json(["--offline", str(path)], capsys)
    assert [(f["rule"], f["line"], f["lock"], f["table"]) for f in offline] == [
        ("create-index-non-concurrently", 13, "SHARE", "invoices"),
        ("create-index-non-concurrently", 13, "SHARE", "orders"),
    ]


def test_offline_reports_a_revision_that_cannot_render(tmp_path, capsys):
    path = write_revision(tmp_path / "versions", "e5", 'import no_such_module_here\nop.drop_table("x")')
    code, findings = lint_json(["--offline", str(path)], capsys)
    assert code == 1
    assert findings[0]["rule"] == "offline-render-failed"
    assert "no_such_module_here" in findings[0]["message"]


def test_offline_autocommit_block_is_outside_the_transaction(tmp_path, capsys):
    body = (
        "op.execute(\"SET lock_timeout = '1s'\")\n"
        "with op.get_context().autocommit_block():\n"
        '    op.create_index("ix", "orders", ["a"], postgresql_concurrently=True)\n'
        'op.create_index("iy", "orders", ["b"], postgresql_concurrently=True)'
    )
    path = write_revision(tmp_path / "versions", "f6", body)
    code, findings = lint_json(["--offline", str(path)], capsys)
    assert [(f["rule"], f["line"]) for f in findings] == [("concurrently-in-transaction", 14)]
    code, static = lint_json([str(path)], capsys)
    assert [(f["rule"], f["line"]) for f in static] == [("concurrently-in-transaction", 14)]


def test_offline_rendering_keeps_percent_signs(tmp_path):
    """The SQL linted is the SQL that runs: '%' is not doubled for a pyformat driver's escaping."""
    from dbpatterns.alembic.offline import render

    path = write_revision(
        tmp_path / "versions",
        "a7",
        "op.execute(\"UPDATE t SET a = id % 2 WHERE b LIKE 'x%'\")\n"
        'op.add_column("t", sa.Column("c", sa.Text, server_default=sa.text("\'50%\'")))',
    )
    sql = [e.sql.strip() for e in render(path)]
    assert sql[1:3] == [
        "UPDATE t SET a = id % 2 WHERE b LIKE 'x%';",
        "ALTER TABLE t ADD COLUMN c TEXT DEFAULT '50%';",
    ]
