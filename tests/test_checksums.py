"""dbpatterns sum: normalized revision hashes, the sum file, and the checks that read it (sum --check,
lint's checksum-mismatch, verify's checksums check)."""

from __future__ import annotations

import json
import subprocess

import pytest

from dbpatterns.checksums import SUM_FILE, check_sums, revision_checksum, write_sums
from dbpatterns.cli import main
from dbpatterns.errors import InputError
from tests.alembic_builder import linear, write_project

REVISION = '''"""Add t.

Revision ID: a1
"""
from alembic import op

revision = "a1"
down_revision = None


def upgrade():
    """Create the table."""
    op.execute("CREATE TABLE t (id int)")  # the table


def downgrade():
    op.execute("DROP TABLE t")
'''

SAME_CODE = {
    "comment added": REVISION.replace("# the table", "# the table, with a longer comment\n    # and another"),
    "blank lines": REVISION.replace("\n\ndef downgrade", "\n\n\n\ndef downgrade"),
    "docstrings edited": REVISION.replace("Add t.", "Add the t table.").replace(
        "Create the table.", "Make t."
    ),
    "quote style": REVISION.replace('"CREATE TABLE t (id int)"', "'CREATE TABLE t (id int)'"),
}
OTHER_CODE = {
    "SQL text": REVISION.replace("(id int)", "(id bigint)"),
    "SQL whitespace": REVISION.replace("(id int)", "(id  int)"),
    "a statement added": REVISION.replace(
        '    op.execute("DROP', '    op.execute("SELECT 1")\n    op.execute("DROP'
    ),
    "down_revision": REVISION.replace("down_revision = None", 'down_revision = "a0"'),
}


@pytest.mark.parametrize("name", list(SAME_CODE))
def test_formatting_comments_and_docstrings_do_not_count(name):
    assert revision_checksum(SAME_CODE[name]) == revision_checksum(REVISION)


@pytest.mark.parametrize("name", list(OTHER_CODE))
def test_any_code_change_counts(name):
    assert revision_checksum(OTHER_CODE[name]) != revision_checksum(REVISION)


def test_a_file_that_does_not_parse_is_hashed_byte_for_byte():
    broken = "def upgrade(:\n"
    assert revision_checksum(broken) != revision_checksum(broken + " ")
    assert revision_checksum(broken).startswith("h1:")


def _project(tmp_path, count=2):
    bodies = [
        (f'op.execute("CREATE TABLE t{i} (id int)")', f'op.execute("DROP TABLE t{i}")') for i in range(count)
    ]
    return write_project(tmp_path / "proj", linear(*bodies))


def test_sum_file_layout(tmp_path):
    project = _project(tmp_path)
    path = write_sums(project)
    assert path == project / "migrations" / SUM_FILE
    lines = path.read_text().splitlines()
    assert lines[0].startswith("h1:")
    assert [line.split(" ")[0] for line in lines[1:]] == ["versions/r1.py", "versions/r2.py"]
    report = check_sums(project)
    assert report.ok and report.exists and report.revisions == 2


def test_check_finds_edited_added_removed_and_a_bad_total(tmp_path):
    project = _project(tmp_path, 3)
    write_sums(project)
    versions = project / "migrations" / "versions"
    (versions / "r1.py").write_text((versions / "r1.py").read_text().replace("(id int)", "(id bigint)"))
    (versions / "r3.py").unlink()
    (versions / "r4.py").write_text((versions / "r2.py").read_text().replace("'r2'", "'r4'"))
    changes = {(p.path, p.change) for p in check_sums(project).problems}
    assert changes == {
        ("versions/r1.py", "edited"),
        ("versions/r3.py", "removed"),
        ("versions/r4.py", "added"),
    }
    sum_file = project / "migrations" / SUM_FILE
    lines = sum_file.read_text().splitlines()
    sum_file.write_text("\n".join(["h1:" + "A" * 44, *lines[1:]]) + "\n")
    assert ("dbpatterns.sum", "total") in {(p.path, p.change) for p in check_sums(project).problems}


def test_no_sum_file_is_not_a_failure(tmp_path):
    report = check_sums(_project(tmp_path))
    assert report.ok and not report.exists


def test_malformed_sum_file_is_an_input_error(tmp_path):
    project = _project(tmp_path)
    (project / "migrations" / SUM_FILE).write_text("not a sum file\n")
    with pytest.raises(InputError, match="not a dbpatterns sum file"):
        check_sums(project)


def test_two_branches_that_each_add_a_revision_conflict_in_git(tmp_path):
    project = _project(tmp_path)
    write_sums(project)

    def git(*args):
        return subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=False)

    git("init", "-q", "-b", "main")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "empty")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base")
    versions = project / "migrations" / "versions"
    base_text = (versions / "r2.py").read_text()
    for branch, rev in (("one", "r3a"), ("two", "r3b")):
        git("checkout", "-q", "-b", branch, "main")
        text = base_text.replace("'r2'", repr(rev)).replace("'r1'", "'r2'").replace("t1", rev)
        (versions / f"{rev}.py").write_text(text)
        write_sums(project)
        git("add", ".")
        git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", rev)
    git("checkout", "-q", "one")
    merged = git("-c", "user.name=t", "-c", "user.email=t@t", "merge", "two", "-m", "merge")
    assert merged.returncode != 0
    assert "CONFLICT" in merged.stdout and SUM_FILE in merged.stdout


def test_lint_reports_checksum_mismatch_on_the_revision(tmp_path, capsys):
    project = _project(tmp_path)
    write_sums(project)
    assert main(["lint", str(project)]) == 0
    capsys.readouterr()
    revision = project / "migrations" / "versions" / "r2.py"
    revision.write_text(revision.read_text().replace("(id int)", "(id bigint)"))
    assert main(["lint", str(project), "--format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["rule"], f["path"]) for f in findings] == [("checksum-mismatch", str(revision))]
    assert main(["lint", str(project), "--ignore", "checksum-mismatch"]) == 0


def test_sum_cli(tmp_path, capsys):
    project = _project(tmp_path)
    assert main(["sum", "--project", str(project), "--check"]) == 0
    assert "no sum file" in capsys.readouterr().out
    assert main(["sum", "--project", str(project)]) == 0
    assert "wrote" in capsys.readouterr().out
    revision = project / "migrations" / "versions" / "r1.py"
    revision.write_text(revision.read_text().replace("(id int)", "(id bigint)"))
    assert main(["sum", "--project", str(project), "--check", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["problems"][0]["change"] == "edited"


def test_sum_cli_bad_project(tmp_path, capsys):
    assert main(["sum", "--project", str(tmp_path)]) == 2
    assert "no Alembic project" in capsys.readouterr().err


def test_verify_fails_on_an_edited_revision(tmp_path, pg_server):
    from dbpatterns.verify import verify_project

    project = _project(tmp_path)
    write_sums(project)
    report = verify_project(project, db=pg_server.url())
    assert report.ok and [c.name for c in report.checks][-1] == "checksums"
    revision = project / "migrations" / "versions" / "r1.py"
    revision.write_text(revision.read_text().replace("(id int)", "(id bigint)"))
    report = verify_project(project, db=pg_server.url())
    (failed,) = [c for c in report.checks if not c.ok]
    assert failed.name == "checksums" and "versions/r1.py: edited" in failed.detail


def test_replace_file_is_whole_and_leaves_nothing_behind(tmp_path, monkeypatch):
    from dbpatterns import files

    target = tmp_path / "cache" / "x.json"
    files.replace_file(target, b"one")
    files.replace_file(target, b"two")
    assert target.read_bytes() == b"two" and [p.name for p in target.parent.iterdir()] == ["x.json"]

    def broken(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", broken)
    with pytest.raises(OSError):
        files.replace_file(target, b"three")
    assert target.read_bytes() == b"two" and [p.name for p in target.parent.iterdir()] == ["x.json"]
