"""What every script does first: run this bundle's own `dbpatterns` (the checkout or plugin folder the
script lives in), in the plugin's virtualenv when this Python lacks the dependencies, and print JSON unless
told otherwise."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPENDENCIES = ("pglast", "sqlalchemy", "alembic", "jinja2", "psycopg")


def run(command: str, argv: list[str] | None = None) -> int:
    """``dbpatterns COMMAND ARGV... --format json`` (``--format`` given in ARGV wins)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    sys.path.insert(0, str(ROOT))
    if any(importlib.util.find_spec(name) is None for name in DEPENDENCIES):
        _in_plugin_venv()
    from dbpatterns.cli import main

    if not any(a == "--format" or a.startswith("--format=") for a in argv):
        argv += ["--format", "json"]
    return main([command, *argv])


def _in_plugin_venv() -> None:
    """Re-run this script with the plugin's virtualenv (mcp_server/launch.py makes it), or say how."""
    from mcp_server.launch import venv_python

    python = venv_python()
    if python.exists() and Path(sys.prefix).resolve() != python.parent.parent.resolve():
        os.execv(str(python), [str(python), *sys.argv])
    print(
        "dbpatterns: this Python lacks the dependencies; run `python3 mcp_server/launch.py --prepare` "
        "in the bundle once (or `pip install database-patterns`)",
        file=sys.stderr,
    )
    raise SystemExit(2)
