"""Signals and the cached server: SIGTERM tears a run down like Ctrl-C; what a SIGKILLed run leaves is
removed by the next command (never a live run's); a damaged cached cluster is rebuilt once, said on stderr.

Every test has its own cache and run folders (DBPATTERNS_CACHE_DIR, DBPATTERNS_PG_TMPDIR under tmp_path),
so no other test's (or engineer's) server is ever looked at.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from dbpatterns.pg import cluster, start
from dbpatterns.pg.owner import alive, my_mark, owner_alive, parse_mark, start_time
from tests.alembic_builder import linear, write_project

SLEEPY = (
    'op.execute("CREATE TABLE t (id int)")\nop.execute("SELECT pg_sleep(120)")',
    'op.execute("DROP TABLE t")',
)
COMMAND = [sys.executable, "-c", "from dbpatterns.cli import run; run()"]


@pytest.fixture
def private(tmp_path, monkeypatch, pg_server):
    """This test's own cache and run folders, for this process and the commands it starts. The cache
    starts as a copy of the session's (no initdb); the run folder is not under tmp_path: as root the server
    runs as another user, who must reach it."""
    import shutil
    import tempfile

    cluster.wait_for_cache()  # the session server's start published it
    (tmp_path / "cache").mkdir()
    for cached in cluster.cache_root().glob("pgcluster-*"):
        cluster.copy_tree(cached, tmp_path / "cache" / cached.name)
    runs = Path(tempfile.mkdtemp(prefix="dbpatterns-test-runs-"))
    runs.chmod(0o755)
    env = {"DBPATTERNS_CACHE_DIR": str(tmp_path / "cache"), "DBPATTERNS_PG_TMPDIR": str(runs)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield os.environ | env
    shutil.rmtree(runs, ignore_errors=True)


def _runs(env) -> list[Path]:
    return sorted(Path(env["DBPATTERNS_PG_TMPDIR"]).glob(cluster.RUN_PREFIX + "*"))


def _text(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _sleeping_server(proc: subprocess.Popen, env) -> tuple[Path, int]:
    """Wait until the command's migration sleeps inside its server; its run folder and postgres pid."""
    deadline = time.monotonic() + 120  # a guard against hanging, not a measurement
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        for run in _runs(env):
            lines = _text(run / "data" / "postmaster.pid").splitlines()
            mine = _text(run / "owner").split()[:1] == [str(proc.pid)]
            if not mine or len(lines) < 8 or lines[7].strip() != "ready":
                continue
            url = f"postgresql://postgres@/postgres?host={run}&port={lines[3].strip()}"
            with psycopg.connect(url, autocommit=True) as conn:
                busy = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE state = 'active' AND query LIKE 'SELECT pg_sleep(120)%'"
                ).fetchone()
            if busy == (1,):
                return run, int(lines[0])
        time.sleep(0.05)
    raise AssertionError("the migration never started sleeping")


def _next_command(tmp_path: Path, env) -> None:
    """Any command that uses a server: a trace of one statement."""
    change = tmp_path / "next.sql"
    change.write_text("CREATE TABLE n (id int);\n")
    done = subprocess.run(
        [*COMMAND, "trace", str(change)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr


def test_sigterm_during_verify_tears_everything_down(tmp_path, private):
    project = write_project(tmp_path / "p", linear(SLEEPY))
    proc = subprocess.Popen(
        [*COMMAND, "verify", "--project", str(project)],
        env=private,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        run, postgres = _sleeping_server(proc, private)
        _next_command(tmp_path, private)  # a command started meanwhile leaves the live run alone
        assert run.exists() and alive(postgres)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM
    assert err.strip() == "dbpatterns: terminated by SIGTERM", err
    assert not alive(postgres)
    assert _runs(private) == []


def test_what_a_sigkilled_verify_leaves_goes_at_the_next_command(tmp_path, private):
    project = write_project(tmp_path / "p", linear(SLEEPY))
    proc = subprocess.Popen(
        [*COMMAND, "verify", "--project", str(project)],
        env=private,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        run, postgres = _sleeping_server(proc, private)
    finally:
        proc.kill()
        proc.wait()
    assert run.exists() and alive(postgres)  # nobody was left to stop them
    _next_command(tmp_path, private)
    assert not alive(postgres)
    assert _runs(private) == []


def test_owner_marks_tell_a_reused_pid_from_the_owner():
    pid = os.getpid()
    assert parse_mark(my_mark()) == (pid, start_time(pid))
    assert parse_mark("123") == (123, None) and parse_mark("x y") is None
    assert owner_alive(my_mark()) is True
    assert owner_alive(f"{pid}") is True  # an old mark: the pid alone decides
    assert owner_alive(f"{pid} {int(start_time(pid)) + 1}") is False  # same pid, another process
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    assert owner_alive(f"{done.stdout.strip()} 1") is False
    assert owner_alive("not a mark") is None


def test_run_folders_of_gone_owners_are_removed_and_live_ones_kept(private, monkeypatch):
    runs = Path(private["DBPATTERNS_PG_TMPDIR"])
    pid = os.getpid()
    marks = {"gone": f"{pid} {int(start_time(pid)) + 1}", "mine": my_mark()}
    for name, mark in marks.items():
        (runs / f"{cluster.RUN_PREFIX}{name}" / "data").mkdir(parents=True)
        (runs / f"{cluster.RUN_PREFIX}{name}" / "owner").write_text(mark + "\n")
    monkeypatch.setattr(cluster, "_reaped", False)
    cluster.reap_stale()
    assert [p.name for p in _runs(private)] == [f"{cluster.RUN_PREFIX}mine"]


def _damage_pg_control(data: Path) -> None:
    with open(data / "global" / "pg_control", "r+b") as f:
        f.truncate(10)


def _damage_base(data: Path) -> None:
    import shutil

    shutil.rmtree(data / "base")


def _damage_conf(data: Path) -> None:
    with open(data / "postgresql.conf", "a") as f:
        f.write("shared_buffers = = nonsense\n")


@pytest.mark.parametrize("damage", [_damage_pg_control, _damage_base, _damage_conf])
def test_a_damaged_cache_is_rebuilt_once_and_said(private, capsys, damage):
    (cached,) = Path(private["DBPATTERNS_CACHE_DIR"]).glob("pgcluster-*")
    damage(cached)
    capsys.readouterr()
    server = start()
    with server, server.connect() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    said = capsys.readouterr().err.splitlines()
    assert len(said) == 1 and str(cached) in said[0] and "damaged" in said[0]
    cluster.wait_for_cache()
    again = start()
    again.stop()
    assert again.from_cache and capsys.readouterr().err == ""


def test_a_server_that_fails_for_its_settings_keeps_the_cache(private, capsys):
    from dbpatterns.pg import PgError

    capsys.readouterr()
    with pytest.raises(PgError, match="shared_buffers"):
        start({"shared_buffers": "lots"})
    assert capsys.readouterr().err == ""
    server = start()
    server.stop()
    assert server.from_cache
    assert _runs(private) == []
