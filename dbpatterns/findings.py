"""The one result type every check returns."""

from __future__ import annotations

from dataclasses import dataclass, field

SEVERITIES = ("error", "warning", "info")


@dataclass(slots=True)
class Finding:
    """One problem at one place.

    ``lock`` is the PostgreSQL lock mode the statement takes on ``table`` (e.g. ``ACCESS EXCLUSIVE``) or
    None; ``rewrites`` is True when the statement rewrites the table; ``fix`` is the safe recipe as text;
    ``source`` is the offending source line, for text output; ``hedged``: the rule could not see enough to
    be sure of its lock or rewrite ("may rewrite"), a trace settles it. Equality ignores the last two.
    """

    rule: str
    severity: str
    path: str
    line: int
    column: int
    message: str
    lock: str | None = None
    table: str | None = None
    rewrites: bool = False
    fix: str = ""
    source: str = field(default="", compare=False)
    hedged: bool = field(default=False, compare=False)

    def to_dict(self) -> dict:
        """The JSON contract's finding object (DESIGN.md)."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "lock": self.lock,
            "table": self.table,
            "rewrites": self.rewrites,
            "fix": self.fix,
        }
