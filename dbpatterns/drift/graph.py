"""The revision graph drift needs, read once through Alembic's ScriptDirectory and kept in the cache with
the history's schema (so a warm run does not import Alembic and every revision again)."""

from __future__ import annotations

from dataclasses import dataclass

from ..alembic.graph import closure


@dataclass
class Graph:
    heads: list[str]  # sorted
    order: list[str]  # every revision, base first
    parents: dict[str, list[str]]  # revision -> its down revisions and dependencies
    paths: dict[str, str]  # revision -> its file

    @classmethod
    def from_script(cls, script) -> Graph:
        revisions = list(reversed(list(script.walk_revisions())))
        return cls(
            sorted(script.get_heads()),
            [r.revision for r in revisions],
            {r.revision: list(r._all_down_revisions) for r in revisions},
            {r.revision: str(r.path) for r in revisions if getattr(r, "path", None)},
        )

    def to_json(self) -> dict:
        return {"heads": self.heads, "order": self.order, "parents": self.parents, "paths": self.paths}

    @classmethod
    def from_json(cls, data: dict) -> Graph:
        return cls(data["heads"], data["order"], data["parents"], data["paths"])

    def known(self, revision: str) -> bool:
        return revision in self.parents

    def ancestors(self, revisions) -> set[str]:
        """The revisions and everything below them."""
        parents = self.parents
        return closure(revisions, lambda rev: parents.get(rev, ()))

    def pending(self, current) -> list[str]:
        """The revisions an upgrade from ``current`` to the heads runs, base first."""
        missing = self.ancestors(self.heads) - self.ancestors(current)
        return [r for r in self.order if r in missing]
