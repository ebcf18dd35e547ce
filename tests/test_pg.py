"""The throwaway PostgreSQL (dbpatterns.pg): a real server, no mocks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import pytest

from dbpatterns.errors import InputError
from dbpatterns.pg import PgError, cluster, start
from dbpatterns.pg.binaries import run_as
from dbpatterns.pg.locks import mode_name, observe

ROOT = Path(__file__).resolve().parents[1]


def _scalar(url: str, query: str):
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchone()[0]


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# --- the server --------------------------------------------------------------------------------------


def test_server_answers_on_a_socket_with_throwaway_settings(pg_server):
    url = pg_server.url()
    assert url.startswith("postgresql://postgres@/postgres?host=")
    assert _scalar(url, "SHOW server_version_num") == str(pg_server.version)
    assert pg_server.version >= 140000
    assert _scalar(url, "SHOW fsync") == "off"
    assert _scalar(url, "SHOW listen_addresses") == ""  # no TCP
    assert pg_server.running and pg_server.data_dir.is_dir()


def test_scratch_databases_are_isolated(pg_server):
    with pg_server.scratch_database() as first, pg_server.scratch_database() as second:
        assert first != second
        with psycopg.connect(first, autocommit=True) as conn:
            conn.execute("CREATE TABLE only_here (id int)")
        assert _scalar(first, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_here'") == 1
        assert _scalar(second, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_here'") == 0
        name = first.split("?")[0].rsplit("/", 1)[1]
    assert _scalar(pg_server.url(), f"SELECT count(*) FROM pg_database WHERE datname = '{name}'") == 0


def test_pg_url_is_a_fresh_empty_database(pg_url):
    assert _scalar(pg_url, "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace") == 0


def test_drop_database_closes_open_connections(pg_server):
    url = pg_server.create_database("drop_me")
    conn = psycopg.connect(url)
    try:
        pg_server.drop_database("drop_me")
    finally:
        conn.close()
    with pytest.raises(PgError, match='database "drop_me" does not exist'):
        pg_server.connect("drop_me")


def test_urls_work_with_sqlalchemy(pg_server, pg_url):
    import sqlalchemy

    name = pg_url.split("?")[0].rsplit("/", 1)[1]
    engine = sqlalchemy.create_engine(pg_server.url(name, driver="psycopg"))
    try:
        with engine.connect() as conn:
            assert conn.execute(sqlalchemy.text("SELECT current_database()")).scalar() == name
    finally:
        engine.dispose()


@pytest.fixture
def empty_cache(monkeypatch):
    """An empty cache directory beside the servers (often a tmpfs: publishing is then a rename)."""
    path = Path(tempfile.mkdtemp(prefix="dbpatterns-test-cache-", dir=cluster.run_root()))
    monkeypatch.setenv("DBPATTERNS_CACHE_DIR", str(path))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_cold_starts_race_safely_and_fill_the_cache(empty_cache):
    tmp_path = empty_cache
    servers, errors = [], []

    def go():
        try:
            servers.append(start())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert not errors
        assert [s.from_cache for s in servers] == [False, False]
        cluster.wait_for_cache()
        assert [p.name for p in tmp_path.iterdir()] == [p.name for p in tmp_path.glob("pgcluster-*")]
        assert len(list(tmp_path.iterdir())) == 1
        with start() as cached:
            assert cached.from_cache
            assert _scalar(cached.url(), "SELECT 1") == 1
    finally:
        for server in servers:
            server.stop()


def test_stop_removes_everything():
    server = start()
    assert server.from_cache
    server.stop()
    assert server.process.poll() is not None
    assert not server.run_dir.exists()
    server.stop()  # idempotent


def test_servers_left_running_are_stopped_at_exit():
    code = "import dbpatterns.pg as pg; s = pg.start(); print(s.run_dir, s.pid, flush=True)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    run_dir, pid = out.stdout.split()
    assert not Path(run_dir).exists()
    assert not cluster._alive(int(pid))


# --- errors ------------------------------------------------------------------------------------------


def _our_run_dirs() -> set[Path]:
    return {
        p
        for p in cluster.run_root().glob(cluster.RUN_PREFIX + "*")
        if cluster._owner_pid(p / "owner") == os.getpid()
    }


def test_a_server_that_cannot_start_raises_one_clean_line():
    before = _our_run_dirs()
    with pytest.raises(PgError) as caught:
        start({"shared_buffers": "lots"})
    message = str(caught.value)
    assert isinstance(caught.value, InputError)
    assert "\n" not in message
    assert "exited with code" in message and 'invalid value for parameter "shared_buffers"' in message
    assert _our_run_dirs() == before


def test_a_stopped_server_refuses_new_databases():
    server = start()
    server.stop()
    with pytest.raises(PgError, match="not running"):
        server.create_database()


def test_directories_of_crashed_runs_are_removed_and_their_servers_stopped():
    # a process that starts a server and dies without cleaning up
    code = "import os, dbpatterns.pg as pg; s = pg.start(); print(s.run_dir, s.pid, flush=True); os._exit(9)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    run_dir, pid = out.stdout.split()
    orphan = int(pid)
    assert Path(run_dir).is_dir()
    os.kill(orphan, 0)  # still running
    stale = Path(cluster.make_run_dir(run_as()))  # and an empty directory of a dead process
    (stale / "owner").write_text(f"{_dead_pid()}\n")

    cluster._reaped = False
    cluster.reap_stale()
    assert not Path(run_dir).exists() and not stale.exists()
    assert not cluster._alive(orphan)


# --- locks -------------------------------------------------------------------------------------------

SETUP = "CREATE TABLE t (id int PRIMARY KEY, v varchar(100)); INSERT INTO t VALUES (1, 'a'), (2, 'b');"


def test_mode_names():
    assert mode_name("AccessExclusiveLock") == "ACCESS EXCLUSIVE"
    assert mode_name("ShareRowExclusiveLock") == "SHARE ROW EXCLUSIVE"
    assert mode_name("ShareLock") == "SHARE"


def test_int_to_bigint_rewrites_under_access_exclusive(pg_url):
    seen = observe(pg_url, SETUP, "ALTER TABLE t ALTER COLUMN id TYPE bigint")
    assert ("t", "ACCESS EXCLUSIVE") in seen.locks
    assert seen.mode("t") == "ACCESS EXCLUSIVE"
    assert "t" in seen.rewritten
    assert seen.in_transaction
    # rolled back: the column is still an int
    assert (
        _scalar(
            pg_url,
            "SELECT atttypid::regtype::text FROM pg_attribute WHERE attrelid = 't'::regclass "
            "AND attname = 'id'",
        )
        == "integer"
    )


def test_widening_a_varchar_does_not_rewrite(pg_url):
    seen = observe(
        pg_url,
        SETUP + "ALTER TABLE t ALTER COLUMN v TYPE varchar(100);",
        "ALTER TABLE t ALTER COLUMN v TYPE varchar(200)",
    )
    assert seen.mode("t") == "ACCESS EXCLUSIVE"
    assert seen.rewritten == set()


def test_create_index_takes_share(pg_url):
    seen = observe(pg_url, SETUP, "CREATE INDEX ON t (v)")
    assert ("t", "SHARE") in seen.locks
    assert seen.rewritten == set()


def _observe_while_blocked(url: str, statement: str, hold: str):
    """observe() with another transaction holding a lock, so that the statement waits and is sampled
    deterministically; released once the statement is seen waiting."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SETUP)
    result = {}
    with psycopg.connect(url) as blocker, psycopg.connect(url, autocommit=True) as probe:
        blocker.execute(hold)
        thread = threading.Thread(target=lambda: result.update(seen=observe(url, None, statement)))
        thread.start()
        for _ in range(2000):
            if probe.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()[0]:
                time.sleep(0.3)  # many sampling intervals, even on a loaded machine
                break
            time.sleep(0.005)
        blocker.rollback()
        thread.join()
    return result["seen"]


def test_create_index_concurrently_runs_in_autocommit_and_is_sampled(pg_url):
    # CIC waits for the open writer while it holds SHARE UPDATE EXCLUSIVE on t
    seen = _observe_while_blocked(
        pg_url, "CREATE INDEX CONCURRENTLY t_v_idx ON t (v)", "INSERT INTO t VALUES (3)"
    )
    assert not seen.in_transaction
    assert seen.mode("t") == "SHARE UPDATE EXCLUSIVE"
    assert _scalar(pg_url, "SELECT count(*) FROM pg_indexes WHERE indexname = 't_v_idx'") == 1  # it stays
    with pytest.raises(PgError, match="cannot run inside a transaction block"):
        observe(pg_url, None, "CREATE INDEX CONCURRENTLY ON t (id)", autocommit=False)


def test_vacuum_full_is_sampled_in_autocommit(pg_url):
    # VACUUM FULL waits for ACCESS EXCLUSIVE behind the open reader: the waiting request is sampled
    seen = _observe_while_blocked(pg_url, "VACUUM FULL t", "SELECT * FROM t")
    assert not seen.in_transaction
    assert seen.mode("t") == "ACCESS EXCLUSIVE"
    assert "t" in seen.rewritten


def test_a_failing_statement_raises_pgerror(pg_url):
    with pytest.raises(PgError, match='statement failed: column "nope" of relation "t" does not exist'):
        observe(pg_url, SETUP, "ALTER TABLE t DROP COLUMN nope")
    with pytest.raises(PgError, match="setup failed"):
        observe(pg_url, "CREATE TABLE", "SELECT 1")
