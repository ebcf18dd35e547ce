"""Property tests (issue 18): arbitrary bytes and generated nested SQL through ``lint -``, ``lint FILE``,
the lint core and the MCP lint tool. Every outcome is findings or a named input error: exit code 0, 1 or 2,
no traceback, no catch-all message."""

from __future__ import annotations

import subprocess
import sys

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CATCH_ALL = ("Traceback", "internal error", "failed unexpectedly", "unexpected error")


@st.composite
def nested_sql(draw) -> str:
    depth = draw(st.integers(1, 1500))
    shape = draw(
        st.sampled_from(["subquery", "concat", "parens", "json", "array", "case", "not", "coalesce"])
    )
    inner = {
        "subquery": lambda n: "SELECT " + "(SELECT " * n + "1" + ")" * n,
        "concat": lambda n: "SELECT " + " || ".join(["'a'"] * (n + 1)),
        "parens": lambda n: "SELECT " + "(" * n + "1" + ")" * n,
        "json": lambda n: "SELECT '" + '{"a":' * n + "1" + "}" * n + "'::jsonb",
        "array": lambda n: "SELECT ARRAY" + "[ARRAY" * n + "[1]" + "]" * n,
        "case": lambda n: "SELECT " + "CASE WHEN true THEN " * n + "1" + " END" * n,
        "not": lambda n: "SELECT " + "NOT " * n + "true",
        "coalesce": lambda n: "SELECT " + "coalesce(" * n + "1" + ")" * n,
    }[shape](depth)
    around = draw(
        st.sampled_from(["{}", "ALTER TABLE t ADD COLUMN c int DEFAULT ({});", "{}; DROP TABLE t;"])
    )
    return around.format(inner.removeprefix("SELECT ") if "DEFAULT" in around else inner)


def _cli(args: list[str], data: bytes | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dbpatterns.cli", *args], input=data, capture_output=True, timeout=120, cwd=cwd
    )


def _fine(done: subprocess.CompletedProcess) -> None:
    err = done.stderr.decode(errors="replace")
    out = done.stdout.decode(errors="replace")
    assert done.returncode in (0, 1, 2), (done.returncode, err[-2000:])
    assert not any(bad in err + out for bad in CATCH_ALL), err[-2000:]
    if done.returncode == 2:
        assert len(err.strip().splitlines()) == 1 and err.startswith("dbpatterns: "), err


CLI = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@CLI
@given(data=st.binary(max_size=4000))
def test_any_bytes_on_stdin_and_in_a_file(data, tmp_path):
    _fine(_cli(["lint", "-"], data))
    path = tmp_path / "x.sql"
    path.write_bytes(data)
    _fine(_cli(["lint", str(path), "--format", "sarif"]))


@CLI
@given(sql=nested_sql())
def test_nested_sql_through_the_cli(sql, tmp_path):
    _fine(_cli(["lint", "-"], sql.encode()))
    path = tmp_path / "deep.sql"
    path.write_text(sql)
    for fmt in ("text", "sarif"):
        _fine(_cli(["lint", str(path), "--format", fmt]))


CORE = settings(max_examples=200, deadline=None)


@CORE
@given(data=st.binary(max_size=4000) | nested_sql().map(str.encode))
def test_the_lint_core_gives_findings(data):
    from dbpatterns.lint import lint_text, load_settings

    text = data.decode("utf-8", errors="surrogateescape")
    for name in ("<sql>", "<revision>.py"):
        for finding in lint_text(text, name, load_settings()):
            assert finding.rule and finding.message and finding.line >= 1
            assert not any(bad in finding.message for bad in CATCH_ALL)


MCP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@MCP
@given(data=st.binary(max_size=3000) | nested_sql().map(str.encode))
def test_the_mcp_lint_tool_gives_findings_or_a_named_error(data, tmp_path, monkeypatch):
    from mcp import Client

    from dbpatterns.mcp.server import build_server

    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(tmp_path))
    (tmp_path / "x.sql").write_bytes(data)
    text = data.decode("utf-8", errors="replace")

    async def main():
        async with Client(build_server()) as client:
            return [
                await client.call_tool("lint_migration", {"sql": text}),
                await client.call_tool("lint_migration", {"path": "x.sql"}),
            ]

    for result in anyio.run(main):
        body = " ".join(getattr(c, "text", "") for c in result.content)
        assert not any(bad in body for bad in CATCH_ALL), body[:500]
        if not result.is_error:
            for finding in result.structured_content["findings"]:
                assert finding["rule"] and finding["message"]
