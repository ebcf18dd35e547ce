"""The example application whose schema examples/project's migrations build."""
