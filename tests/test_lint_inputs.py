"""Inputs the lint must survive and say something clear about: FIFOs in a folder, oversized files,
standard input holding random bytes or a revision, and env.py settings that count for every revision."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dbpatterns.cli import main

REVISION = """revision = "a1"
down_revision = None
from alembic import op


def upgrade():
    op.drop_column("orders", "note")


def downgrade():
    pass
"""


def lint(args, capsys, stdin=None, monkeypatch=None):
    code = main(["lint", "--format", "json", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out)["findings"] if out else [], err


def test_a_fifo_in_a_folder_is_named_not_opened(tmp_path, capsys):
    (tmp_path / "ok.sql").write_text("SELECT 1;\n")
    os.mkfifo(tmp_path / "pipe.sql")
    code, findings, _ = lint([str(tmp_path)], capsys)
    (note,) = [f for f in findings if f["path"].endswith("pipe.sql")]
    assert "not a regular file" in note["message"]


def test_a_file_over_the_size_limit_is_a_finding_not_a_read(tmp_path, capsys, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[tool.dbpatterns]\nmax_file_mb = 0.01\n")
    (tmp_path / "big.sql").write_text("SELECT 1;\n" * 2000)
    monkeypatch.chdir(tmp_path)
    code, findings, _ = lint(["big.sql"], capsys)
    assert code == 1 and "larger than 0.01 MB" in findings[0]["message"]


def test_dev_zero_is_cut_at_the_limit():
    done = subprocess.run(
        [sys.executable, "-m", "dbpatterns.cli", "lint", "--format", "json", "/dev/zero"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1 and "larger than 10 MB" in done.stdout, done.stderr


def test_random_bytes_on_stdin_are_a_finding_like_a_file():
    data = bytes(range(256)) * 8
    done = subprocess.run(
        [sys.executable, "-m", "dbpatterns.cli", "lint", "--format", "json", "-"],
        input=data,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1 and b"Traceback" not in done.stderr
    assert "not UTF-8" in json.loads(done.stdout)["findings"][0]["message"]


def test_a_revision_on_stdin_is_linted_as_a_revision():
    done = subprocess.run(
        [sys.executable, "-m", "dbpatterns.cli", "lint", "--format", "json", "-"],
        input=REVISION,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    rules = {f["rule"] for f in json.loads(done.stdout)["findings"]}
    assert "drop-column" in rules and "syntax-error" not in rules


def test_lock_timeout_set_in_env_py_counts_for_every_revision(tmp_path, capsys):
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    body = REVISION.replace(
        'op.drop_column("orders", "note")', 'op.add_column("orders", sa.Column("n", sa.Text()))'
    )
    (versions / "a1_add.py").write_text("import sqlalchemy as sa\n" + body)
    env = tmp_path / "migrations" / "env.py"
    env.write_text("from alembic import context\n")
    code, before, _ = lint([str(tmp_path)], capsys)
    assert "missing-lock-timeout" in {f["rule"] for f in before}
    env.write_text(
        "from alembic import context\n\n"
        "def run_migrations_online(connection):\n"
        "    connection.exec_driver_sql(\"SET lock_timeout = '3s'\")\n"
        "    context.configure(connection=connection)\n"
    )
    code, after, _ = lint([str(tmp_path)], capsys)
    assert "missing-lock-timeout" not in {f["rule"] for f in after}


def test_a_revision_that_is_not_valid_python_says_so(tmp_path, capsys):
    bad = tmp_path / "a1_broken.py"
    bad.write_text('revision = "a1"\ndown_revision = None\n\ndef upgrade(:\n    pass\n')
    code, findings, _ = lint([str(bad)], capsys)
    (finding,) = findings
    assert code == 1 and finding["line"] == 4 and finding["message"].startswith("not valid Python")
    assert "PostgreSQL" not in finding["fix"] and "Python" in finding["fix"]


EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "project"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["lint", "--project", "/nonexistent", "x.sql"], "/nonexistent is not a folder"),
        (["verify", "--project", "/nonexistent"], "/nonexistent is not a folder"),
        (["detect", "--project", "/nonexistent"], "/nonexistent is not a folder"),
        (["verify", "--project", str(EXAMPLE), "--rows", "-5"], "--rows must be 0 or more"),
        (["trace", "--rows", "-5", "x.sql"], "--rows must be 0 or more"),
        (["lint", "--jobs", "0", "x.sql"], "--jobs must be at least 1"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(tmp_path, capsys, monkeypatch, args, said):
    """Checked before anything is read or started (issue 18: --project /nonexistent, --rows -5)."""
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert said in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
