"""What the tracer saw one statement do."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..sql.locks import ACCESS_EXCLUSIVE, LOCK_STRENGTH, SHARE


def blocks_reads(mode: str) -> bool:
    """Whether ``mode`` conflicts with ACCESS SHARE (plain SELECT)."""
    return mode == ACCESS_EXCLUSIVE


def blocks_writes(mode: str) -> bool:
    """Whether ``mode`` conflicts with ROW EXCLUSIVE (INSERT, UPDATE, DELETE)."""
    return LOCK_STRENGTH.get(mode, 0) >= LOCK_STRENGTH[SHARE]


def strongest(modes) -> str | None:
    return max(modes, key=lambda m: LOCK_STRENGTH.get(m, 0), default=None)


@dataclass(slots=True)
class StatementTrace:
    """One statement of the change and what it did.

    ``locks``: (relation, mode) pairs the migration's backend holds once the statement has run (in a
    transaction, this includes the locks of the statements before it). ``acquired``: the pairs this
    statement added. ``rewritten``: tables and indexes whose relfilenode changed. ``in_transaction`` is
    False for a statement that had to run in autocommit (CONCURRENTLY, VACUUM): its locks were sampled
    from a second connection while it ran (best effort: a lock held for less than a millisecond can be
    missed).
    """

    sql: str
    line: int
    end_line: int
    locks: list[tuple[str, str]] = field(default_factory=list)
    acquired: list[tuple[str, str]] = field(default_factory=list)
    rewritten: list[str] = field(default_factory=list)
    duration_ms: float = 0.0
    in_transaction: bool = True

    def mode(self, relation: str, *, acquired_only: bool = False) -> str | None:
        """The strongest mode held (or, with ``acquired_only``, newly taken) on ``relation``."""
        pairs = self.acquired if acquired_only else self.locks
        return strongest(mode for rel, mode in pairs if rel == relation)

    def blocks(self) -> list[dict]:
        """Per locked relation, whether the held lock blocks reads and/or writes of it."""
        out = []
        for rel in dict.fromkeys(rel for rel, _ in self.locks):
            mode = self.mode(rel)
            if blocks_writes(mode):
                out.append({"relation": rel, "reads": blocks_reads(mode), "writes": True, "mode": mode})
        return out

    def to_dict(self) -> dict:
        """The JSON contract's statement object (DESIGN.md), plus ``acquired``, ``blocks`` and more."""
        return {
            "sql": self.sql,
            "line": self.line,
            "locks": [{"relation": rel, "mode": mode} for rel, mode in self.locks],
            "rewritten": list(self.rewritten),
            "duration_ms": round(self.duration_ms, 3),
            "acquired": [{"relation": rel, "mode": mode} for rel, mode in self.acquired],
            "blocks": self.blocks(),
            "in_transaction": self.in_transaction,
        }
