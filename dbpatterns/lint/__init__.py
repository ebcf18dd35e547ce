"""Migration lint: the rule registry, the engine, and entry points for text, files and folders."""

from ..settings import Settings, load_settings
from .run import lint_paths, lint_revision, lint_sql, lint_text

__all__ = ["Settings", "lint_paths", "lint_revision", "lint_sql", "lint_text", "load_settings"]
