"""The MCP server as a separate process: a real stdio session (``python -m dbpatterns.mcp`` and
``dbpatterns mcp``), streamable HTTP on loopback, and the official MCP Inspector CLI as an external client."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from tests.test_mcp_support import (
    ROOT,
    SECRET,
    SETUP_SQL,
    UNSAFE_SQL,
    error_text,
    make_project,
    npm_tool,
    structured,
)

INSPECTOR = "@modelcontextprotocol/inspector"
INSPECTOR_VERSION = "2.12.0"


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "proj", "app_models")


def server_env(project: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBPATTERNS_", "CLAUDE_"))}
    env.update(PYTHONPATH=str(ROOT), CLAUDE_PROJECT_DIR=str(project), **extra)
    return env


def test_stdio_session_calls_every_tool(project, pg_url):
    with (project / "pyproject.toml").open("a") as config:  # a database nothing listens for
        config.write(f'targets = {{ down = "postgresql://app:{SECRET}@127.0.0.1:1/app" }}\n')
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "dbpatterns.mcp"],
        cwd=str(project),
        env=server_env(project, DBPATTERNS_DATABASE_URL=pg_url.replace("postgres@", f"postgres:{SECRET}@")),
    )

    async def main():
        async with Client(params, mode="legacy") as client:
            schemas = {t.name: t.output_schema for t in (await client.list_tools()).tools}
            good = {
                "lint_migration": {"path": "m.sql"},
                "explain_rule": {"rule": "set-not-null"},
                "list_rules": {},
                "trace_locks": {"sql": UNSAFE_SQL, "setup_sql": SETUP_SQL},
                "verify_history": {},
                "show_heads": {},
                "detect_changes": {},
                "check_drift": {},
                "generate_migration": {"pattern": "add-index", "options": {"table": "t", "column": ["x"]}},
            }
            bad = {
                "lint_migration": {"path": "../outside.sql"},
                "explain_rule": {"rule": "no-such-rule"},
                "list_rules": {"include_opt_in": "sometimes"},
                "trace_locks": {"path": "broken.sql"},
                "verify_history": {"project": "missing"},
                "show_heads": {"project": "/"},
                "detect_changes": {"project": "missing"},
                "check_drift": {"target": "nowhere"},
                "generate_migration": {"pattern": "add-index", "options": {"table": "t"}},
            }
            assert set(good) == set(schemas) == set(bad)
            results = {name: await client.call_tool(name, args) for name, args in good.items()}
            errors = {name: await client.call_tool(name, args) for name, args in bad.items()}
            errors["unreachable"] = await client.call_tool("check_drift", {"target": "down"})
            errors["missing_file"] = await client.call_tool("lint_migration", {"path": "missing.sql"})
            return schemas, results, errors

    schemas, results, errors = anyio.run(main)
    for name, result in results.items():
        structured(result, name, schemas[name])
    assert [c["column"] for c in results["detect_changes"].structured_content["changes"]] == ["y"]
    assert "ACCESS EXCLUSIVE" in results["lint_migration"].content[0].text
    assert SECRET not in results["check_drift"].content[0].text
    messages = {name: error_text(result, one_line=name != "list_rules") for name, result in errors.items()}
    assert "outside the project root" in messages["lint_migration"]
    assert "Unknown lint rule" in messages["explain_rule"]
    assert "syntax error" in messages["trace_locks"].lower()
    assert "no such file" in messages["verify_history"] and "no such file" in messages["detect_changes"]
    assert "outside the project root" in messages["show_heads"]
    assert "Unknown database target 'nowhere'" in messages["check_drift"]
    assert "--column is required" in messages["generate_migration"]
    assert "connect" in messages["unreachable"].lower()
    assert "no such file" in messages["missing_file"]


def test_dbpatterns_mcp_command_serves_stdio(project):
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "dbpatterns.cli", "mcp"],
        cwd=str(project),
        env=server_env(project),
    )

    async def main():
        async with Client(params) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            result = await client.call_tool("lint_migration", {"sql": UNSAFE_SQL})
            return names, result

    names, result = anyio.run(main)
    assert "lint_migration" in names and "generate_migration" in names
    assert structured(result, "lint_migration").findings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_streamable_http_on_loopback(project):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "dbpatterns.mcp", "--transport", "http", "--port", str(port)],
        cwd=project,
        env=server_env(project),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline, "the HTTP server did not start"
                time.sleep(0.1)

        async def main():
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                names = {t.name for t in (await client.list_tools()).tools}
                return names, await client.call_tool("lint_migration", {"path": "m.sql"})

        names, result = anyio.run(main)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert "trace_locks" in names
    assert structured(result, "lint_migration").findings[0].path == "m.sql"


def test_http_refuses_a_non_loopback_host(project):
    run = subprocess.run(
        [sys.executable, "-m", "dbpatterns.mcp", "--transport", "http", "--host", "0.0.0.0"],
        cwd=project,
        env=server_env(project),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and "loopback" in run.stderr and "Traceback" not in run.stderr


# ---- the MCP Inspector (npm) as an external client


def inspector(project: Path, *args: str) -> dict:
    binary = npm_tool(INSPECTOR, INSPECTOR_VERSION, "mcp-inspector")
    run = subprocess.run(
        [str(binary), "--cli", *args, "--", sys.executable, "-m", "dbpatterns.mcp"],
        cwd=project,
        env=server_env(project),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr + run.stdout
    return json.loads(run.stdout)


def test_inspector_lists_tools_and_calls_one(project):
    listed = inspector(project, "--method", "tools/list")
    tools = {t["name"]: t for t in listed["tools"]}
    assert tools["lint_migration"]["annotations"]["readOnlyHint"] is True
    assert tools["generate_migration"]["annotations"]["readOnlyHint"] is False
    called = inspector(
        project, "--method", "tools/call", "--tool-name", "lint_migration", "--tool-arg", "path=m.sql"
    )
    assert called.get("isError") is not True
    findings = called["structuredContent"]["findings"]
    assert {f["rule"] for f in findings} >= {"add-column-volatile-default"}
    assert all(f["path"] == "m.sql" for f in findings)


# ---- the embedded PostgreSQL the server starts does not outlive it


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("stop", ["close stdin", "SIGTERM"])
def test_the_scratch_server_stops_with_the_mcp_server(project, stop):
    process = subprocess.Popen(
        [sys.executable, "-m", "dbpatterns.mcp"],
        cwd=project,
        env=server_env(project),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    init = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    call = {"name": "trace_locks", "arguments": {"sql": UNSAFE_SQL, "setup_sql": SETUP_SQL}}
    for message in (
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call},
    ):
        process.stdin.write((json.dumps(message) + "\n").encode())
    process.stdin.flush()
    while json.loads(process.stdout.readline()).get("id") != 2:
        pass
    (postgres,) = [
        pid for pid in _children(process.pid) if "postgres" in Path(f"/proc/{pid}/comm").read_text()
    ]
    if stop == "SIGTERM":
        process.terminate()
    else:
        process.stdin.close()
    assert process.wait(timeout=60) == 0
    deadline = time.monotonic() + 20
    while _alive(postgres) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(postgres)
