"""``python -m dbpatterns.mcp`` (and ``dbpatterns mcp``): serve over stdio (default) or streamable HTTP on a
loopback address."""

from __future__ import annotations

import argparse
import os
import signal
import sys

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The transport options, for this module's parser and the ``dbpatterns mcp`` subcommand alike."""
    parser.add_argument("--transport", choices=("stdio", "http"), default="stdio", help="default: stdio")
    parser.add_argument("--host", default="127.0.0.1", help="with --transport http: a loopback address")
    parser.add_argument("--port", type=int, default=8765, help="with --transport http (default 8765)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="dbpatterns mcp", description="Serve the dbpatterns MCP tools.")
    add_arguments(parser)
    return parser.parse_args(argv)


def serve(args: argparse.Namespace) -> int:
    if args.transport == "http" and args.host not in LOOPBACK:
        print(f"dbpatterns mcp: --host must be a loopback address ({', '.join(LOOPBACK)})", file=sys.stderr)
        return 2
    from .server import build_server

    # a client may stop a stdio server with SIGTERM: stop the embedded PostgreSQL this process started
    # first (a thread blocked on stdin would keep a normal shutdown waiting)
    signal.signal(signal.SIGTERM, _terminate)
    server = build_server()
    try:
        if args.transport == "http":
            server.run("streamable-http", host=args.host, port=args.port)
        else:
            server.run()
    except KeyboardInterrupt:
        pass
    return 0


def _terminate(signum, frame):
    from .safety import stop_scratch_server

    stop_scratch_server()
    os._exit(0)


def main(argv: list[str] | None = None) -> int:
    return serve(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
