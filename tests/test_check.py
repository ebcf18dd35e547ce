"""dbpatterns check: the CI bundle (lint, sum check, verify, detect) with one summary and the worst exit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dbpatterns.check import run_check
from dbpatterns.checksums import write_sums
from dbpatterns.cli import main
from dbpatterns.detect import at_head, detect_changes
from dbpatterns.errors import InputError
from dbpatterns.verify import verify_project
from tests.alembic_builder import linear, write_project
from tests.detect_projects import MODELS, PRODUCT, make_project

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "project"


def test_bundled_example_passes(pg_server, capsys):
    assert main(["check", "--project", str(EXAMPLE), "--db", pg_server.url(), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["exit_code"] == 0
    assert {"lint", "verify", "detect", "sums"} <= set(data)
    assert data["lint"]["files"] >= 1 and data["lint"]["findings"] == []
    assert all(check["ok"] for check in data["verify"]["checks"])
    assert all(part["skipped"] is False for part in (data[k] for k in ("lint", "sums", "verify", "detect")))
    assert data["verify"]["skipped_checks"] == []  # the example has models: models_match runs


def _project(tmp_path, *bodies):
    return write_project(tmp_path / "p", linear(*bodies))


SAFE = ("op.execute('CREATE TABLE t (id int)')", "op.execute('DROP TABLE t')")


def test_exit_code_is_the_worst_part(tmp_path, pg_server):
    project = _project(tmp_path, SAFE)
    write_sums(project)
    report = run_check(project, db=pg_server.url())
    assert report.ok, report.to_dict()
    parts = {p.name: p for p in report.parts}
    assert parts["sums"].exit_code == 0 and not parts["sums"].skipped
    # an edited revision: the sum check fails, and the lint (checksum-mismatch) with it
    revision = project / "migrations" / "versions" / "r1.py"
    revision.write_text(revision.read_text().replace("(id int)", "(id bigint)"))
    report = run_check(project, db=pg_server.url())
    parts = {p.name: p for p in report.parts}
    assert report.exit_code == 1
    assert parts["sums"].exit_code == 1 and parts["lint"].exit_code == 1
    assert parts["verify"].exit_code == 1  # its checksums check
    assert [f.rule for f in parts["lint"].findings] == ["checksum-mismatch"]


def test_failed_upgrade_fails_verify_only(tmp_path, pg_server, capsys):
    project = _project(
        tmp_path, SAFE, ("op.execute('CREATE TABLE t (id int)')", "op.execute('DROP TABLE t')")
    )
    assert main(["check", "--project", str(project), "--db", pg_server.url()]) == 1
    out = capsys.readouterr().out
    assert "FAIL verify" in out and "ok   lint" in out and "check failed (exit 1)" in out
    # verify stopped before the head: detect runs the history itself and says what it says alone
    with pytest.raises(InputError) as alone:
        detect_changes(project, db=pg_server.url())
    assert f"skip detect: skipped: {alone.value}" in out


def test_detect_compares_on_verify_s_database(tmp_path, pg_server):
    """check runs the history once: detect compares the models where verify's upgrade left the scratch
    database, and reports what its own run reports."""
    root, _ = make_project(tmp_path / "p", MODELS + PRODUCT)  # a model no migration creates
    shared = at_head()
    assert verify_project(root, db=pg_server.url(), at_head=shared).ok is False  # models_match fails
    assert shared.report is not None and shared.report.changes
    alone = detect_changes(root, db=pg_server.url())
    assert detect_changes(root, db=pg_server.url(), shared=shared).to_dict() == alone.to_dict()
    parts = {p.name: p for p in run_check(root, db=pg_server.url()).parts}
    assert parts["detect"].exit_code == 1
    assert [c.to_dict() for c in parts["detect"].changes] == [c.to_dict() for c in alone.changes]
    assert [c.kind for c in parts["detect"].changes] == ["add_table"]


def test_lint_findings_fail_the_check(tmp_path, pg_server):
    project = _project(
        tmp_path, SAFE, ("op.execute('CREATE INDEX ix_t_id ON t (id)')", "op.execute('DROP INDEX ix_t_id')")
    )
    report = run_check(project, db=pg_server.url())
    parts = {p.name: p for p in report.parts}
    assert parts["lint"].exit_code == 1 and parts["verify"].exit_code == 0 and report.exit_code == 1


def test_not_a_project(tmp_path, capsys):
    assert main(["check", "--project", str(tmp_path)]) == 2
    assert "no Alembic project" in capsys.readouterr().err


def test_example_copy_with_a_sum_file(tmp_path, pg_server):
    copy = shutil.copytree(EXAMPLE, tmp_path / "example", ignore=shutil.ignore_patterns("__pycache__"))
    write_sums(copy)
    report = run_check(copy, db=pg_server.url())
    parts = {p.name: p for p in report.parts}
    assert report.ok and not parts["sums"].skipped


def test_no_models_found_at_verify_s_head(tmp_path, pg_server):
    """No models anywhere: verify's run at the head already tells detect so, without a second history run."""
    project = _project(tmp_path, SAFE)
    shared = at_head()
    verify_project(project, db=pg_server.url(), at_head=shared)
    with pytest.raises(InputError) as alone:
        detect_changes(project, db=pg_server.url())
    with pytest.raises(InputError) as from_verify:
        detect_changes(project, db=pg_server.url(), shared=shared)
    assert str(from_verify.value) == str(alone.value) and "no models to compare" in str(alone.value)
    assert shared.no_models and shared.report is None
    parts = {p.name: p for p in run_check(project, db=pg_server.url()).parts}
    assert parts["detect"].skipped and parts["detect"].summary == f"skipped: {alone.value}"


def test_the_command_writes_the_whole_report(pg_server):
    """As a process (the command skips the cycle collection at exit): the whole JSON report, exit 0."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "dbpatterns.cli", "check", "--project", str(EXAMPLE), "--db", pg_server.url()]
        + ["--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ok"] is True and done.stderr == ""


def test_check_after_baseline_passes_then_fails_on_the_next_unsafe_revision(tmp_path, pg_server, monkeypatch):
    """Adoption (issue 16): an unsafe revision deployed long ago fails the check until `baseline` records
    the head; then the check passes, lint skipping it, and fails again on the next unsafe revision."""
    from dbpatterns.baseline import record_baseline

    monkeypatch.setenv("DBPATTERNS_CACHE_DIR", str(tmp_path / "cache"))
    unsafe = (
        'op.execute("CREATE INDEX ix_t_n ON t (n)")',
        'op.execute("DROP INDEX ix_t_n")',
    )
    project = _project(
        tmp_path,
        ('op.execute("CREATE TABLE t (id int PRIMARY KEY, n int)")', 'op.execute("DROP TABLE t")'),
        unsafe,
    )
    before = {p.name: p for p in run_check(project, db=pg_server.url()).parts}
    assert before["lint"].exit_code == 1 and before["verify"].exit_code == 0
    assert record_baseline(project).start_after == ["r2"]
    adopted = run_check(project, db=pg_server.url())
    parts = {p.name: p for p in adopted.parts}
    assert adopted.ok and parts["lint"].findings == [] and parts["lint"].skipped_migrations == 2
    assert all(c.ok for c in parts["verify"].checks)
    (project / "migrations" / "versions" / "r3.py").write_text(
        (project / "migrations" / "versions" / "r2.py")
        .read_text()
        .replace("revision = 'r2'", "revision = 'r3'")
        .replace("down_revision = 'r1'", "down_revision = 'r2'")
        .replace("ix_t_n", "ix_t_n2")
    )
    after = {p.name: p for p in run_check(project, db=pg_server.url()).parts}
    assert after["lint"].exit_code == 1
    assert {f.path.rsplit("/", 1)[-1] for f in after["lint"].findings} == {"r3.py"}
