"""scripts/*.py as an agent runs them from the bundle: `python scripts/NAME.py`, JSON by default, --help,
the bundle's own package found without an install, a clear message when dependencies are missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig

import pytest

from dbpatterns import contracts
from tests.test_mcp_support import ROOT, SECRET, make_project

SCRIPTS = {
    "lint": "lint",
    "trace": "trace",
    "verify": "verify",
    "new": "new",
    "detect": "detect",
    "drift": "drift",
}


def script(name: str, *args: str, cwd=None, env=None, python=(sys.executable,), stdin: str | None = None):
    return subprocess.run(
        [*python, str(ROOT / "scripts" / f"{name}.py"), *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBPATTERNS_", "CLAUDE_"))}
    return {**env, **extra}


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "proj", "script_models")


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_help(name):
    run = script(name, "--help")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"usage: dbpatterns {SCRIPTS[name]}")


def test_lint_json_by_default_and_text_on_request(project):
    run = script("lint", "m.sql", cwd=project, env=clean_env())
    assert run.returncode == 1, run.stderr
    result = contracts.LintResult.model_validate_json(run.stdout)
    assert {f.rule for f in result.findings} >= {"add-column-volatile-default"}
    text = script("lint", "--format", "text", "m.sql", cwd=project, env=clean_env())
    assert "m.sql:1:1: add-column-volatile-default" in text.stdout
    stdin = script("lint", "-", cwd=project, env=clean_env(), stdin="ALTER TABLE t ADD COLUMN;")
    assert [f.rule for f in contracts.LintResult.model_validate_json(stdin.stdout).findings] == [
        "syntax-error"
    ]


def test_bad_input_is_one_line_and_exit_2(project):
    run = script("trace", "missing.sql", cwd=project, env=clean_env())
    assert run.returncode == 2
    assert run.stderr.strip() == "dbpatterns: trace: no such file: missing.sql"
    # scripts speak JSON by default: the error is a JSON object on stdout too (DESIGN.md's contract)
    assert json.loads(run.stdout) == {
        "error": {"kind": "input", "message": "trace: no such file: missing.sql"}
    }


def test_runs_from_a_checkout_without_install(project):
    """Without site (no editable install on sys.path) the script finds the bundle's package itself."""
    libraries = sysconfig.get_paths()["purelib"]
    env = clean_env(PYTHONPATH=libraries)
    run = script("lint", "m.sql", cwd=project, env=env, python=(sys.executable, "-S"))
    assert run.returncode == 1, run.stderr
    assert contracts.LintResult.model_validate_json(run.stdout).findings
    where = subprocess.run(
        [sys.executable, "-S", "-c", "import dbpatterns"], env=env, cwd=project, capture_output=True
    )
    assert where.returncode != 0  # so it was the script that found the package


def test_missing_dependencies_say_how_to_get_them(project, tmp_path):
    env = clean_env(CLAUDE_PLUGIN_DATA=str(tmp_path / "no-venv-here"))
    run = script("lint", "m.sql", cwd=project, env=env, python=(sys.executable, "-S"))
    assert run.returncode == 2
    assert "mcp_server/launch.py --prepare" in run.stderr and "Traceback" not in run.stderr


def test_trace_verify_detect(project):
    trace = script("trace", "m.sql", "--setup", "setup.sql", cwd=project, env=clean_env())
    assert trace.returncode == 0, trace.stderr
    assert "t" in contracts.TraceResult.model_validate_json(trace.stdout).statements[0].rewritten
    verify = script("verify", cwd=project, env=clean_env())
    assert verify.returncode == 1, verify.stderr  # the models are one column ahead of the history
    checks = contracts.VerifyResult.model_validate_json(verify.stdout).checks
    assert [c.name for c in checks if not c.ok] == ["models_match"]
    detect = script("detect", cwd=project, env=clean_env())
    assert detect.returncode == 1, detect.stderr
    assert [c.column for c in contracts.DetectResult.model_validate_json(detect.stdout).changes] == ["y"]


def test_new(project):
    listed = script("new", "--list", cwd=project, env=clean_env())
    assert "add-index" in {
        p.name for p in contracts.PatternsResult.model_validate_json(listed.stdout).patterns
    }
    before = sorted((project / "migrations/versions").glob("*.py"))
    shown = script(
        "new", "add-index", "--table", "t", "--column", "x", "--print", cwd=project, env=clean_env()
    )
    assert shown.returncode == 0, shown.stderr
    assert contracts.NewResult.model_validate_json(shown.stdout).text
    assert sorted((project / "migrations/versions").glob("*.py")) == before
    made = script("new", "add-index", "--table", "t", "--column", "x", cwd=project, env=clean_env())
    written = contracts.NewResult.model_validate_json(made.stdout)
    assert (project / written.path).is_file() or os.path.isfile(written.path)


def test_drift_reads_the_database_from_the_environment(project, pg_url):
    env = clean_env(DBPATTERNS_DATABASE_URL=pg_url.replace("postgres@", f"postgres:{SECRET}@"))
    run = script("drift", cwd=project, env=env)
    assert run.returncode == 1, run.stderr
    assert contracts.DriftResult.model_validate_json(run.stdout).revision.status == "unversioned"
    assert SECRET not in run.stdout + run.stderr
    none = script("drift", cwd=project, env=clean_env())
    assert none.returncode == 2 and "--db" in none.stderr


def test_scripts_are_thin():
    """A few lines each: they parse nothing themselves and call the command line's own parser."""
    for name in SCRIPTS:
        code = [
            line
            for line in (ROOT / "scripts" / f"{name}.py").read_text().splitlines()
            if line.strip() and not line.startswith(("#", " ", '"', "import", "from"))
        ]
        assert len(code) <= 3, (name, code)
    assert {p.stem for p in (ROOT / "scripts").glob("[!_]*.py")} == set(SCRIPTS)
