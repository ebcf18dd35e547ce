"""What the tracer saw one statement do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from ..shapes import Record, computed, described, internal
from ..sql.locks import ACCESS_EXCLUSIVE, LOCK_STRENGTH, SHARE

if TYPE_CHECKING:
    from ..pg.sandbox import Access


class Lock(NamedTuple):
    relation: str
    mode: str


class Blocked(NamedTuple):
    """A relation whose held lock blocks writes of it (and reads, with ``reads``)."""

    relation: str
    reads: bool
    writes: bool
    mode: str


def blocks_reads(mode: str) -> bool:
    """Whether ``mode`` conflicts with ACCESS SHARE (plain SELECT)."""
    return mode == ACCESS_EXCLUSIVE


def blocks_writes(mode: str) -> bool:
    """Whether ``mode`` conflicts with ROW EXCLUSIVE (INSERT, UPDATE, DELETE)."""
    return LOCK_STRENGTH.get(mode, 0) >= LOCK_STRENGTH[SHARE]


def strongest(modes) -> str | None:
    return max(modes, key=lambda m: LOCK_STRENGTH.get(m, 0), default=None)


@dataclass(slots=True)
class StatementTrace(Record):
    """One statement of the change and what it did (the JSON contract's statement object, DESIGN.md).

    ``locks``: (relation, mode) pairs the migration's backend holds once the statement has run (in a
    transaction, this includes the locks of the statements before it). ``acquired``: the pairs this
    statement added. ``rewritten``: tables and indexes whose relfilenode changed. ``in_transaction`` is
    False for a statement that had to run in autocommit (CONCURRENTLY, VACUUM): its locks were sampled
    from a second connection while it ran (best effort: a lock held for less than a millisecond can be
    missed). ``duration_ms`` is rounded to the microsecond.
    """

    JSON_COMPUTED: ClassVar[dict] = {"blocks": computed(list[Blocked], after="acquired")}

    sql: str
    line: int
    end_line: int = internal()
    locks: list[Lock] = described("locks held once the statement has run", default_factory=list)
    rewritten: list[str] = described("tables and indexes whose storage was rewritten", default_factory=list)
    duration_ms: float = 0.0
    acquired: list[Lock] = described("locks this statement added", default_factory=list)
    in_transaction: bool = True

    def mode(self, relation: str, *, acquired_only: bool = False) -> str | None:
        """The strongest mode held (or, with ``acquired_only``, newly taken) on ``relation``."""
        pairs = self.acquired if acquired_only else self.locks
        return strongest(mode for rel, mode in pairs if rel == relation)

    def blocks(self) -> list[Blocked]:
        """Per locked relation, whether the held lock blocks reads and/or writes of it."""
        out = []
        for rel in dict.fromkeys(rel for rel, _ in self.locks):
            mode = self.mode(rel)
            if blocks_writes(mode):
                out.append(Blocked(rel, blocks_reads(mode), True, mode))
        return out


@dataclass(slots=True)
class TraceReport(Record):
    """The JSON document of a trace (DESIGN.md): its statements, and whom the SQL ran as when known."""

    statements: list[StatementTrace]
    run_as: Access | None = described(optional=True, default=None)
