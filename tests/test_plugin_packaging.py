"""The Claude Code plugin: manifest, .mcp.json, the database-engineer subagent, validated and loaded by the
real Claude Code CLI (npm, cached outside the repo), and the launcher that gives the server its Python
dependencies when the plugin is installed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from tests.test_mcp_support import ROOT, UNSAFE_SQL, make_project, npm_tool, structured

CLAUDE_CODE = "@anthropic-ai/claude-code"
CLAUDE_CODE_VERSION = "2.1.197"
#: The launcher's virtualenv for these tests, kept between runs (creating it pip-installs the dependencies).
PLUGIN_DATA = Path(
    os.environ.get("DBPATTERNS_PLUGIN_TEST_DATA", Path.home() / ".cache" / "dbpatterns-plugin-test")
)

MANIFEST = json.loads((ROOT / ".claude-plugin/plugin.json").read_text())
MCP_CONFIG = json.loads((ROOT / ".mcp.json").read_text())


def frontmatter(path: Path) -> dict[str, str]:
    text = path.read_text()
    assert text.startswith("---\n")
    head = text[4 : text.index("\n---\n", 4)]
    return dict(line.split(": ", 1) for line in head.splitlines() if ": " in line)


def test_manifest_and_mcp_config():
    from dbpatterns.mcp.safety import DATABASE_URL_ENV

    assert MANIFEST["name"] == "database-patterns"
    option = MANIFEST["userConfig"]["database_url"]
    assert option["sensitive"] is True and option["type"] == "string" and option["required"] is False
    ((name, server),) = MCP_CONFIG["mcpServers"].items()
    assert name == "dbpatterns"
    assert server["env"] == {DATABASE_URL_ENV: "${user_config.database_url}"}
    # the repository is the plugin root too: one .mcp.json for both modes. A plugin's server gets
    # CLAUDE_PLUGIN_ROOT in its environment; a project's server runs in the project folder. No placeholder
    # in the command (opened as a project, Claude Code warns of an unset ${CLAUDE_PLUGIN_ROOT})
    assert server["command"] == "python3" and server["args"][0] == "-c" and len(server["args"]) == 2
    assert "CLAUDE_PLUGIN_ROOT" in server["args"][1] and "${" not in server["args"][1]
    skills = ROOT / MANIFEST["skills"] / "SKILL.md"
    assert frontmatter(skills)["name"] == MANIFEST["name"]


def test_the_subagent_may_use_every_mcp_tool_and_the_scripts():
    from dbpatterns.mcp.tools import TOOLS

    meta = frontmatter(ROOT / "agents/database-engineer.md")
    assert meta["name"] == "database-engineer"
    (server,) = MCP_CONFIG["mcpServers"]
    prefix = f"mcp__plugin_{MANIFEST['name']}_{server}__"
    tools = [t.strip() for t in meta["tools"].split(",")]
    assert {t.removeprefix(prefix) for t in tools if t.startswith(prefix)} == {
        fn.__name__ for fn, _, _ in TOOLS
    }
    assert {"Bash", "Read", "ReadMcpResourceTool"} <= set(tools)  # Bash runs scripts/*.py
    assert not {"Write", "Edit"} & set(tools)  # files change through generate_migration / scripts/new.py
    body = (ROOT / "agents/database-engineer.md").read_text()
    for script in re.findall(r"`(\w+)\.py`", body):
        assert (ROOT / "scripts" / f"{script}.py").is_file(), script


def claude(*args: str, cwd: Path, env: dict[str, str], timeout: int = 180) -> subprocess.CompletedProcess:
    binary = npm_tool(CLAUDE_CODE, CLAUDE_CODE_VERSION, "claude")
    return subprocess.run(
        [str(binary), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def claude_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBPATTERNS_", "CLAUDE_"))}
    quiet = {"DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
    return {**env, "CLAUDE_CONFIG_DIR": str(tmp_path / "claude-config"), **quiet, **extra}


def test_claude_plugin_validate(tmp_path):
    for strict in ((), ("--strict",)):
        run = claude("plugin", "validate", *strict, ".", cwd=ROOT, env=claude_env(tmp_path))
        assert run.returncode == 0, run.stdout + run.stderr
        assert "Validation passed" in run.stdout and "error" not in run.stdout.lower()


def test_claude_loads_the_plugin_and_connects_to_the_server(tmp_path):
    project = make_project(tmp_path / "proj")
    env = claude_env(tmp_path, DBPATTERNS_PYTHON=sys.executable)  # the launcher skips its virtualenv
    details = claude("--plugin-dir", str(ROOT), "plugin", "details", MANIFEST["name"], cwd=project, env=env)
    assert details.returncode == 0, details.stderr
    inventory = dict(re.findall(r"(?m)^\s+([A-Z][A-Za-z ]+?) \(\d+\)\s+(.*)$", details.stdout))
    assert "database-patterns" in inventory["Skills"] and "database-engineer" in inventory["Agents"]
    assert "dbpatterns" in inventory["MCP servers"]
    listed = claude("--plugin-dir", str(ROOT), "mcp", "list", cwd=project, env=env)
    assert f"plugin:{MANIFEST['name']}:dbpatterns" in listed.stdout
    assert "Connected" in listed.stdout, listed.stdout + listed.stderr


def test_claude_starts_the_server_with_the_repository_opened_as_a_plain_project(tmp_path):
    """Opened as a project (no --plugin-dir), CLAUDE_PLUGIN_ROOT is not defined: the launcher path falls
    back to the project folder, and the unexpanded ${user_config.database_url} counts as no database."""
    project = make_project(tmp_path / "proj")
    shutil.copy(ROOT / ".mcp.json", project / ".mcp.json")
    (project / "mcp_server").mkdir()
    shutil.copy(ROOT / "mcp_server" / "launch.py", project / "mcp_server" / "launch.py")
    env = claude_env(tmp_path, DBPATTERNS_PYTHON=sys.executable)
    config = Path(env["CLAUDE_CONFIG_DIR"])
    config.mkdir(parents=True)
    (config / "settings.json").write_text('{"enabledMcpjsonServers": ["dbpatterns"]}')  # the user's approval
    listed = claude("mcp", "list", cwd=project, env=env)
    assert "dbpatterns" in listed.stdout and "Connected" in listed.stdout, listed.stdout + listed.stderr
    assert "Missing environment variables" not in listed.stdout + listed.stderr


def test_an_unexpanded_user_config_placeholder_is_no_database(monkeypatch):
    from dbpatterns.mcp.safety import DATABASE_URL_ENV, configured_database_url

    monkeypatch.setenv(DATABASE_URL_ENV, "${user_config.database_url}")
    assert configured_database_url() == ""
    monkeypatch.setenv(DATABASE_URL_ENV, "postgresql://u@h/db")
    assert configured_database_url() == "postgresql://u@h/db"


# ---- the launcher: a virtualenv under CLAUDE_PLUGIN_DATA with the bundle's dependencies


def launcher_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBPATTERNS_", "CLAUDE_", "PYTHON"))}
    return {**env, "CLAUDE_PLUGIN_DATA": str(PLUGIN_DATA), "CLAUDE_PLUGIN_ROOT": str(ROOT), **extra}


def system_python() -> str:
    python = shutil.which("python3")
    if python is None:
        pytest.skip("no python3 on PATH: the plugin's .mcp.json starts the launcher with it")
    return python


def test_launcher_prepares_a_virtualenv_and_serves(tmp_path):
    python = system_python()
    launcher = str(ROOT / "mcp_server/launch.py")
    prepared = subprocess.run(
        [python, launcher, "--prepare"], env=launcher_env(), capture_output=True, text=True, timeout=900
    )
    assert prepared.returncode == 0, prepared.stderr
    assert prepared.stdout == ""  # stdout is the MCP channel: the launcher never prints there
    where = subprocess.run([python, launcher, "--where"], env=launcher_env(), capture_output=True, text=True)
    venv_python = Path(where.stdout.strip())
    assert venv_python.is_file() and venv_python.is_relative_to(PLUGIN_DATA)
    again = subprocess.run(
        [python, launcher, "--prepare"], env=launcher_env(), capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0 and "preparing" not in again.stderr  # reused while the dependencies match
    assert (PLUGIN_DATA / "venv.stamp").read_text().strip()

    project = make_project(tmp_path / "proj")
    params = StdioServerParameters(
        command=python, args=[launcher], cwd=str(project), env=launcher_env(CLAUDE_PROJECT_DIR=str(project))
    )

    async def main():
        async with Client(params) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            return names, await client.call_tool("lint_migration", {"sql": UNSAFE_SQL})

    names, result = anyio.run(main)
    assert "check_drift" in names
    assert structured(result, "lint_migration").findings

    # a script run by a Python without the dependencies moves into that virtualenv
    run = subprocess.run(
        [sys.executable, "-S", str(ROOT / "scripts/lint.py"), "m.sql"],
        cwd=project,
        env=launcher_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stderr
    assert json.loads(run.stdout)["findings"]


def test_launcher_refuses_an_old_python():
    code = (
        "import runpy, sys; sys.version_info = (3, 9, 0, 'final', 0); "
        "runpy.run_path(sys.argv[1], run_name='__main__')"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "mcp_server/launch.py")],
        env=launcher_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1 and "needs Python 3.11+" in run.stderr and run.stdout == ""
