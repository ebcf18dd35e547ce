"""The database-patterns MCP server: thin adapters from MCP tools, resources and prompts to the
`dbpatterns` core. Start it with ``python -m mcp_server`` or ``dbpatterns mcp``; build it in process with
:func:`mcp_server.server.build_server`."""
