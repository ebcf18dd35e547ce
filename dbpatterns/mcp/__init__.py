"""The database-patterns MCP server: thin adapters from MCP tools, resources and prompts to the
`dbpatterns` core. Start it with ``python -m dbpatterns.mcp`` or ``dbpatterns mcp``; build it in process with
:func:`dbpatterns.mcp.server.build_server`."""
