"""``python -m mcp_server``: serve over stdio (default) or streamable HTTP on a loopback address."""

from __future__ import annotations

import argparse
import sys

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="dbpatterns mcp", description="Serve the dbpatterns MCP tools.")
    add_arguments(parser)
    return parser.parse_args(argv)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--transport", choices=("stdio", "http"), default="stdio", help="default: stdio")
    parser.add_argument("--host", default="127.0.0.1", help="with --transport http: a loopback address")
    parser.add_argument("--port", type=int, default=8765, help="with --transport http (default 8765)")


def serve(args: argparse.Namespace) -> int:
    if args.transport == "http" and args.host not in LOOPBACK:
        print(f"dbpatterns mcp: --host must be a loopback address ({', '.join(LOOPBACK)})", file=sys.stderr)
        return 2
    from .server import build_server

    server = build_server()
    if args.transport == "http":
        server.run("streamable-http", host=args.host, port=args.port)
    else:
        server.run()
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        return serve(parse_args(argv))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
