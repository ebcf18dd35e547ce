"""Hostile MCP calls (issue 18), through the in-process client: a call its client gives up on ends its
run and frees the run lock; attacks through trace_locks are refused with the privilege named and leave the
server usable; oversized and out-of-root inputs are refused before any work."""

from __future__ import annotations

import time

import anyio
import pytest
from mcp import Client

from tests.test_mcp_support import MODES, error_text, served_project


@pytest.fixture
def project(tmp_path, monkeypatch):
    return served_project(tmp_path, monkeypatch)


def _sleeping_backends() -> list:
    from dbpatterns.mcp.safety import scratch_server

    with scratch_server().connect(autocommit=True) as conn:
        return conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep(200)%' AND pid <> pg_backend_pid()"
        ).fetchall()


def _until(predicate, seconds: float = 30.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.mark.parametrize("mode", MODES)
def test_a_call_its_client_gives_up_on_ends_and_frees_the_run_lock(project, mode):
    from dbpatterns.mcp.safety import RUN_LOCK
    from dbpatterns.mcp.server import build_server

    async def main():
        async with Client(build_server(), mode=mode) as client:
            started = time.monotonic()
            with anyio.move_on_after(1.5) as scope:  # the client cancels (notifications/cancelled)
                await client.call_tool("trace_locks", {"sql": "SELECT pg_sleep(200)"})
            assert scope.cancelled_caught
            assert time.monotonic() - started < 30  # the cancel reached the client: not the 60 s limit
            # the sleeping backend is ended and the lock freed without waiting for pg_sleep or the limit
            assert await anyio.to_thread.run_sync(lambda: _until(lambda: not _sleeping_backends()))
            assert await anyio.to_thread.run_sync(lambda: _until(lambda: not RUN_LOCK.locked()))
            second = await client.call_tool("trace_locks", {"sql": "CREATE TABLE after (id int)"})
            assert not second.is_error, second.content
            assert second.structured_content["statements"][0]["locks"]
            return time.monotonic() - started

    assert anyio.run(main) < 100  # far below the 200 s the first call asked for


def test_a_client_that_goes_away_ends_its_run(project):
    from dbpatterns.mcp.safety import RUN_LOCK
    from dbpatterns.mcp.server import build_server

    async def main():
        async with Client(build_server(), mode="legacy") as client, anyio.create_task_group() as group:
            group.start_soon(client.call_tool, "trace_locks", {"sql": "SELECT pg_sleep(200)"})
            await anyio.sleep(1.5)
            group.cancel_scope.cancel()  # the client leaves with the call under way

    anyio.run(main)
    assert _until(lambda: not _sleeping_backends()) and _until(lambda: not RUN_LOCK.locked())


ATTACKS = [
    ("SELECT CAST(pg_read_file('/etc/passwd') AS int)", "pg_read_file"),
    ("SELECT pg_ls_dir('/')", "pg_ls_dir"),
    ("SELECT pg_stat_file('/etc/passwd')", "pg_stat_file"),
    ("SELECT lo_import('/etc/passwd')", "lo_import"),
    ("COPY (SELECT 1) TO PROGRAM 'id'", "pg_execute_server_program"),
    ("CREATE TABLE x (a text); COPY x FROM PROGRAM 'id'", "pg_execute_server_program"),
    ("COPY (SELECT 1) TO '/tmp/dbpatterns-hostile-out'", "pg_write_server_files"),
    ("SET ROLE postgres", 'set role "postgres"'),
    ("SET SESSION AUTHORIZATION postgres", "session authorization"),
    ("ALTER SYSTEM SET work_mem = '64MB'", "work_mem"),
    ("ALTER ROLE postgres SET default_transaction_read_only = on", "SUPERUSER"),
    ("ALTER ROLE ALL SET default_transaction_read_only = on", "SUPERUSER"),
    ("ALTER DATABASE postgres SET default_transaction_read_only = on", "owner of database postgres"),
    ("DO $$BEGIN PERFORM pg_read_file('/etc/passwd'); END$$", "pg_read_file"),
    ("DO $$BEGIN EXECUTE 'ALTER SYSTEM SET work_mem = ''1GB'''; END$$", "ALTER SYSTEM"),
    ("CREATE ROLE intruder SUPERUSER", "CREATEROLE"),
    ("GRANT pg_read_server_files TO CURRENT_USER", "pg_read_server_files"),
    ("CREATE EXTENSION plpython3u", "plpython3u"),
    ("LOAD 'auto_explain'", "auto_explain"),
    ("SELECT pg_reload_conf()", "pg_reload_conf"),
    ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity", "terminate"),
    ("CREATE TABLESPACE x LOCATION '/tmp'", "tablespace"),
]


@pytest.mark.parametrize(("sql", "named"), ATTACKS, ids=[a[0][:40] for a in ATTACKS])
def test_attacks_through_trace_locks_are_refused_and_the_server_stays_usable(project, sql, named):
    from pathlib import Path

    from dbpatterns.mcp.server import build_server

    async def main():
        async with Client(build_server()) as client:
            refused = await client.call_tool("trace_locks", {"sql": sql})
            after = await client.call_tool("trace_locks", {"sql": "CREATE TABLE after (id int)"})
            return refused, after

    refused, after = anyio.run(main)
    message = error_text(refused)
    assert named in message and "root:" not in message and "--superuser" not in message
    assert not after.is_error, after.content
    assert not Path("/tmp/dbpatterns-hostile-out").exists()
    from dbpatterns.mcp.safety import scratch_server

    with scratch_server().connect(autocommit=True) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("off",)
        assert conn.execute("SELECT count(*) FROM pg_file_settings WHERE name = 'work_mem'").fetchone() == (
            0,
        )
        assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'intruder'").fetchone() == (0,)


def test_the_time_limit_cannot_be_lifted_through_mcp(project, monkeypatch):
    from dbpatterns.mcp import tools
    from dbpatterns.mcp.server import build_server

    monkeypatch.setattr(tools, "MCP_STATEMENT_SECONDS", 1)

    async def main():
        async with Client(build_server()) as client:
            return await client.call_tool(
                "trace_locks", {"sql": "SET statement_timeout = 0; SELECT pg_sleep(200)"}
            )

    assert "time limit" in error_text(anyio.run(main))


def _call(tool: str, args: dict):
    from dbpatterns.mcp.server import build_server

    async def main():
        async with Client(build_server()) as client:
            with anyio.fail_after(60):  # a FIFO opened for reading would block here forever
                return await client.call_tool(tool, args)

    return anyio.run(main)


@pytest.mark.parametrize("tool", ["lint_migration", "trace_locks"])
def test_a_fifo_or_device_named_by_path_is_never_opened(project, tool):
    import os

    os.mkfifo(project / "pipe.sql")
    (project / "zero.sql").symlink_to("/dev/zero")
    message = error_text(_call(tool, {"path": "pipe.sql"}))
    assert "not a regular file" in message and "pipe.sql" in message
    assert "outside the project root" in error_text(_call(tool, {"path": "zero.sql"}))


def test_a_folder_with_a_fifo_is_linted_without_it(project):
    import os

    (project / "sqls").mkdir()
    (project / "sqls" / "m.sql").write_text((project / "m.sql").read_text())
    os.mkfifo(project / "sqls" / "pipe.sql")
    result = _call("lint_migration", {"path": "sqls"})
    assert not result.is_error
    paths = {f["path"] for f in result.structured_content["findings"]}
    assert "sqls/m.sql" in paths


def test_a_big_file_by_path_is_capped_before_it_is_read(project):
    (project / "big.sql").write_text("SELECT 1;\n" * 1_200_000)  # 12 MB
    lint = _call("lint_migration", {"path": "big.sql"})
    assert not lint.is_error and "max_file_mb" in lint.structured_content["findings"][0]["message"]
    assert "the limit is" in error_text(_call("trace_locks", {"path": "big.sql"}))


SECRET_VALUE = "Sx9@:/%#?pwd1"  # pieces of 3 characters or more: a driver may quote one alone


@pytest.mark.parametrize(
    "target",
    [
        "postgresql://app@127.0.0.1:1/prod?password=${DBP_SECRET}",
        "postgresql://app:${DBP_SECRET}@127.0.0.1:1/prod",
        "host=127.0.0.1 port=1 password=${DBP_SECRET}",
        "postgresql://app@127.0.0.1:1/prod?sslpassword=${DBP_SECRET}&sslmode=require",
    ],
    ids=["query", "userinfo", "libpq", "sslpassword"],
)
def test_a_target_s_variables_are_read_and_never_shown(project, monkeypatch, target):
    (project / "pyproject.toml").write_text(f"[tool.dbpatterns]\ntargets = {{ prod = {target!r} }}\n")
    monkeypatch.setenv("DBP_SECRET", SECRET_VALUE)
    monkeypatch.setenv("OTHER_SECRET", "zz-other-zz")
    message = error_text(_call("check_drift", {"target": "prod"}))
    assert "Sx9" not in message and "pwd1" not in message, message
    other = error_text(_call("check_drift", {"target": "${OTHER_SECRET}"}))
    assert "zz-other-zz" not in other and "Unknown database target" in other
