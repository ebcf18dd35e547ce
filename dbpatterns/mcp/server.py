"""Build the MCP server: tools, resources and prompts on the SDK's MCPServer."""

from __future__ import annotations

import inspect

from mcp.server.mcpserver import MCPServer

from dbpatterns import __version__

INSTRUCTIONS = (
    "Safe PostgreSQL schema changes with Alembic. lint_migration finds migrations that lock or rewrite "
    "big tables, break running code or cannot roll back; trace_locks confirms locks on a throwaway "
    "PostgreSQL; verify_history runs the whole Alembic history; generate_migration writes safe revisions "
    "from templates. Database URLs come only from the DBPATTERNS_DATABASE_URL environment variable or "
    "named targets in [tool.dbpatterns] targets; paths must be under the project root."
)


def build_server() -> MCPServer:
    from .content import register_prompts, register_resources
    from .tools import TOOLS

    server = MCPServer(
        "dbpatterns",
        title="database-patterns",
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level="WARNING",
    )
    for fn, title, hints in TOOLS:
        description = inspect.cleandoc(fn.__doc__ or "")
        server.add_tool(fn, title=title, description=description, annotations=hints, structured_output=True)
    register_resources(server)
    register_prompts(server)
    return server
