"""Alembic projects as users have them: alembic.ini or [tool.alembic], several version folders, --offline."""

from __future__ import annotations

import json
import subprocess
import sys
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
    code, static = lint_json([str(path)], capsys)  # the table is not known: the hazard is
    assert [(f["rule"], f["table"]) for f in static] == [("create-index-non-concurrently", "?")]
    code, offline = lint_json(["--offline", str(path)], capsys)
    assert sorted((f["rule"], f["line"], f["lock"], f["table"]) for f in offline) == [
        ("create-index-non-concurrently", 13, "SHARE", "?"),
        ("create-index-non-concurrently", 13, "SHARE", "invoices"),
        ("create-index-non-concurrently", 13, "SHARE", "orders"),
    ]


def test_offline_reports_a_revision_that_cannot_render_and_keeps_its_static_findings(tmp_path, capsys):
    path = write_revision(tmp_path / "versions", "e5", 'import no_such_module_here\nop.drop_table("x")')
    code, static = lint_json([str(path)], capsys)
    code, findings = lint_json(["--offline", str(path)], capsys)
    assert code == 1
    failed = [f for f in findings if f["rule"] == "offline-render-failed"]
    assert len(failed) == 1 and "no_such_module_here" in failed[0]["message"]
    assert static and [f for f in findings if f["rule"] != "offline-render-failed"] == static


def test_offline_adds_to_the_static_findings_without_repeating_them(tmp_path, capsys):
    body = 'op.drop_column("orders", "note")\nfor t in ("a", "b"):\n    op.create_index(f"ix_{t}", t, ["x"])'
    path = write_revision(tmp_path / "versions", "e6", body)
    code, static = lint_json([str(path)], capsys)
    code, offline = lint_json(["--offline", str(path)], capsys)
    keys = [(f["rule"], f["line"], f["table"]) for f in offline]
    assert len(keys) == len(set(keys))  # nothing twice
    assert all(f in offline for f in static)  # nothing removed
    assert {("create-index-non-concurrently", t) for t in "ab"} <= {(f["rule"], f["table"]) for f in offline}


@pytest.mark.parametrize("offline", [False, True])
def test_a_suppression_comment_counts_on_both_paths(tmp_path, capsys, offline):
    body = 'op.drop_column("orders", "note")  # dbpatterns: ignore[drop-column] unused since v2'
    path = write_revision(tmp_path / "versions", "e7", body)
    code, findings = lint_json([*(["--offline"] if offline else []), str(path)], capsys)
    assert "drop-column" not in {f["rule"] for f in findings}
    bare = write_revision(tmp_path / "other", "e8", 'op.drop_column("orders", "note")')
    code, findings = lint_json([*(["--offline"] if offline else []), str(bare)], capsys)
    assert "drop-column" in {f["rule"] for f in findings}


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_a_revision_that_prints_leaves_the_report_valid(tmp_path, fmt):
    """print() in a revision, and bytes written to file descriptor 1, go to stderr under --offline."""
    body = 'print("hello from the revision")\nimport os\nos.write(1, b"raw bytes\\n")\nop.drop_table("x")'
    path = write_revision(tmp_path / "versions", "e9", body)
    done = subprocess.run(
        [sys.executable, "-m", "dbpatterns.cli", "lint", "--offline", "--format", fmt, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    json.loads(done.stdout)
    assert "hello from the revision" in done.stderr and "raw bytes" in done.stderr


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
    from dbpatterns.alembic.offline import revision_sql

    path = write_revision(
        tmp_path / "versions",
        "a7",
        "op.execute(\"UPDATE t SET a = id % 2 WHERE b LIKE 'x%'\")\n"
        'op.add_column("t", sa.Column("c", sa.Text, server_default=sa.text("\'50%\'")))',
    )
    sql = [e.sql.strip() for e in revision_sql(path)[0]]
    assert sql[1:3] == [
        "UPDATE t SET a = id % 2 WHERE b LIKE 'x%';",
        "ALTER TABLE t ADD COLUMN c TEXT DEFAULT '50%';",
    ]


def test_a_baseline_holds_when_the_project_is_linted_from_another_folder(tmp_path, capsys, monkeypatch):
    """`dbpatterns baseline` writes start_after to the pyproject.toml nearest the project: a lint of the
    project's folder reads it from there, whatever the working directory (not only from inside)."""
    project = tmp_path / "service"
    (project / "db").mkdir(parents=True)
    (project / "alembic.ini").write_text("[alembic]\nscript_location = db\n")
    (project / "db" / "env.py").write_text("from alembic import context\n")
    write_revision(project / "db" / "versions", "a1", 'op.drop_column("orders", "note")')
    write_revision(project / "db" / "versions", "b2", 'op.rename_table("orders", "buys")', down="a1")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["baseline", "--project", str(project)]) == 0
    capsys.readouterr()
    assert (project / "pyproject.toml").is_file()
    code, findings = lint_json([str(project)], capsys)
    assert (code, findings) == (0, [])
    write_revision(project / "db" / "versions", "c3", 'op.drop_table("buys")', down="b2")
    code, findings = lint_json([str(project)], capsys)
    assert code == 1 and {Path(f["path"]).name for f in findings} == {"c3_change.py"}
