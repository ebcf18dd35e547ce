"""Benchmark the MCP server: an in-process lint call and the time to tools/list from a process start, each
against an anchor measured in the same run.

    python bench/mcp_bench.py [--calls N] [--starts N] [--json]

1. In-process lint call of a typical migration (examples/unsafe/002_index_and_not_null.sql, 7 lines, and
   an Alembic revision of examples/project): median of N calls of ``MCPServer.call_tool`` (argument
   validation, the tool, the contract model, the size cap, the structured result) and of the same call
   through the SDK's in-process ``Client`` (2026 protocol, no JSON-RPC framing; the client also checks
   the structured result against the tool's output schema with jsonschema). Anchor: the core's own
   ``lint_text`` on the same text. Target: median < 10 ms.
2. Time from starting ``python -m dbpatterns.mcp`` to the answer of ``tools/list`` over stdio (initialize,
   initialized, tools/list written at once), median of N starts. Anchors: the same for a one-tool
   MCPServer (the SDK's own floor) and for ``python -c pass``. Target: < 1 s.

Prints the figures and the ratios; exits 0 either way (a benchmark, not a test).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TYPICAL_SQL = REPO / "examples/unsafe/002_index_and_not_null.sql"
TYPICAL_REVISION = next((REPO / "examples/project/migrations/versions").glob("*_add_orders_status.py"))

MINIMAL_SERVER = """
from mcp.server.mcpserver import MCPServer
server = MCPServer("anchor")
@server.tool()
def echo(text: str) -> str:
    return text
server.run()
"""


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def in_process(calls: int) -> dict:
    import anyio
    from mcp import Client

    from dbpatterns.lint import lint_text, load_settings
    from dbpatterns.mcp.server import build_server

    os.environ["CLAUDE_PROJECT_DIR"] = str(REPO)
    server = build_server()
    settings = load_settings(REPO)
    out = {}
    for label, path in (("sql", TYPICAL_SQL), ("revision", TYPICAL_REVISION)):
        text = path.read_text()
        name = "<revision>.py" if path.suffix == ".py" else "<sql>"
        args = {"sql": text}

        async def measure(args=args):
            result = await server.call_tool("lint_migration", args)  # warm: imports, caches
            assert not result.is_error, result
            direct = []
            for _ in range(calls):
                start = time.perf_counter()
                await server.call_tool("lint_migration", args)
                direct.append((time.perf_counter() - start) * 1000)
            via_client = []
            async with Client(server) as client:
                await client.call_tool("lint_migration", args)
                for _ in range(calls):
                    start = time.perf_counter()
                    await client.call_tool("lint_migration", args)
                    via_client.append((time.perf_counter() - start) * 1000)
            return statistics.median(direct), statistics.median(via_client)

        core = median_ms(lambda text=text, name=name: lint_text(text, name, settings), calls)
        direct, via_client = anyio.run(measure)
        out[label] = {
            "core_ms": core,
            "call_tool_ms": direct,
            "client_ms": via_client,
            "lines": text.count("\n"),
        }
    return out


def time_to_tools_list(command: list[str], cwd: Path) -> float:
    """Seconds from Popen to the tools/list answer."""
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "bench", "version": "1"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO), "CLAUDE_PROJECT_DIR": str(cwd)}
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    process.stdin.write("".join(json.dumps(m) + "\n" for m in messages).encode())
    process.stdin.flush()
    while True:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"{command} exited before answering tools/list")
        if json.loads(line).get("id") == 2:
            elapsed = time.perf_counter() - start
            break
    process.stdin.close()
    process.wait(timeout=30)
    return elapsed


def process_start(starts: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        anchor = Path(tmp, "anchor_server.py")
        anchor.write_text(MINIMAL_SERVER)
        ours, floor, bare = [], [], []
        for _ in range(starts):  # alternate, so that machine load hits all three alike
            ours.append(time_to_tools_list([sys.executable, "-m", "dbpatterns.mcp"], REPO))
            floor.append(time_to_tools_list([sys.executable, str(anchor)], REPO))
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], check=True)
            bare.append(time.perf_counter() - start)
    return {
        "ours_s": statistics.median(ours),
        "sdk_floor_s": statistics.median(floor),
        "python_s": statistics.median(bare),
        "ours_min_s": min(ours),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    calls = in_process(args.calls)
    starts = process_start(args.starts)
    if args.json:
        print(json.dumps({"in_process": calls, "start": starts}, indent=2))
        return 0
    print(f"in-process lint_migration, median of {args.calls} calls (target < 10 ms):")
    for label, row in calls.items():
        ratio = row["call_tool_ms"] / row["core_ms"]
        print(
            f"  {label:<8} ({row['lines']} lines): core lint_text {row['core_ms']:.2f} ms | "
            f"MCPServer.call_tool {row['call_tool_ms']:.2f} ms ({ratio:.2f}x core) | "
            f"Client(server) {row['client_ms']:.2f} ms | "
            f"{'met' if row['client_ms'] < 10 else 'NOT met'}"
        )
    floor = starts["sdk_floor_s"]
    print(f"time to tools/list from process start, median of {args.starts} (target < 1 s):")
    print(
        f"  python -m dbpatterns.mcp {starts['ours_s']:.3f} s (best {starts['ours_min_s']:.3f} s) | "
        f"one-tool MCPServer (SDK floor) {floor:.3f} s | python -c pass {starts['python_s']:.3f} s | "
        f"ours/floor {starts['ours_s'] / floor:.2f}x | {'met' if starts['ours_s'] < 1 else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
