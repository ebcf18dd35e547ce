"""The JSON of ``dbpatterns new`` (and of the revisions ``detect --write`` writes): the records the
contracts derive from (:mod:`dbpatterns.shapes`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..shapes import Record, described


@dataclass(slots=True)
class Written(Record):
    """A revision file written (or, for `new --print`, rendered)."""

    path: str | Path
    revision: str
    down_revision: str | tuple[str, ...] | None


@dataclass(slots=True)
class NewReport(Written):
    """The first revision's keys at the top (most patterns write one), every revision in ``revisions``."""

    revisions: list[Written] = described("every revision: expand then contract for two-step patterns")
    text: list[str] | None = described(
        "each revision's source (`new --print`; MCP: always)", optional=True, default=None
    )

    @classmethod
    def of(cls, made: list, *, text: bool = False) -> NewReport:
        """The report of the revisions ``generate`` made (with their source when ``text``)."""
        first = made[0]
        sources = [g.text for g in made] if text else None
        return cls(first.path, first.revision, first.down_revision, list(made), sources)
