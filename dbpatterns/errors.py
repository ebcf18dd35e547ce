"""Typed errors: what went wrong, with its data. Each face maps them once: the CLI to one line on stderr
and exit code 2 (with ``--format json``, ``{"error": {"kind", "message"}}`` too), the MCP server to a tool
error carrying the same message."""

from __future__ import annotations

import difflib
from pathlib import Path


class InputError(Exception):
    """A usage or input error: bad arguments, a file or project that cannot be read, an unreachable server."""

    kind = "input"

    @property
    def message(self) -> str:
        return str(self)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message}


class ProjectNotFound(InputError):
    """No Alembic project (alembic.ini or ``[tool.alembic]``) where one was expected."""

    kind = "project-not-found"

    def __init__(self, folder: Path, why: str = "") -> None:
        self.folder = Path(folder)
        self.why = why or "no alembic.ini, no [tool.alembic] in pyproject.toml, no env.py beside versions/"
        super().__init__(f"no Alembic project in {self.folder} ({self.why})")


class UnknownRule(InputError):
    """A rule id (or squawk alias) that no rule has; ``suggestions``: the closest known ids."""

    kind = "unknown-rule"

    def __init__(self, rule_id: str, known: list[str], where: str = "") -> None:
        self.rule_id = rule_id
        self.suggestions = difflib.get_close_matches(rule_id, known, n=3) if len(rule_id) < 200 else []
        self.shown = rule_id if len(rule_id) <= 80 else rule_id[:77] + "..."
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}unknown rule id {self.shown!r} (see `dbpatterns rules`){hint}")


class RevisionNotFound(InputError):
    """A revision id (or prefix) that the project's history does not have."""

    kind = "revision-not-found"

    def __init__(self, revision: str, where: str = "", why: str = "") -> None:
        self.revision = revision
        text = f"unknown revision {revision!r}" + (f" in {where}" if where else "")
        super().__init__(text + (f": {why}" if why else ""))


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (of the driver's error under SQLAlchemy's), or its type."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
