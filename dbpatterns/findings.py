"""The one result type every check returns."""

from __future__ import annotations

from .records import Record

SEVERITIES = ("error", "warning", "info")


class Finding(Record):
    """One problem at one place.

    ``lock`` is the PostgreSQL lock mode the statement takes on ``table`` (e.g. ``ACCESS EXCLUSIVE``) or
    None; ``rewrites`` is True when the statement rewrites the table; ``fix`` is the safe recipe as text;
    ``source`` is the offending source line, for text output; ``hedged``: the rule could not see enough to
    be sure of its lock or rewrite ("may rewrite"), a trace settles it. Equality ignores the last two.
    """

    __slots__ = (
        "rule", "severity", "path", "line", "column", "message", "lock", "table", "rewrites", "fix", "source",
        "hedged",
    )  # fmt: skip
    _uncompared = frozenset({"source", "hedged"})

    def __init__(
        self,
        rule: str,
        severity: str,
        path: str,
        line: int,
        column: int,
        message: str,
        lock: str | None = None,
        table: str | None = None,
        rewrites: bool = False,
        fix: str = "",
        source: str = "",
        hedged: bool = False,
    ) -> None:
        self.rule = rule
        self.severity = severity
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        self.lock = lock
        self.table = table
        self.rewrites = rewrites
        self.fix = fix
        self.source = source
        self.hedged = hedged

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


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (of the driver's error under SQLAlchemy's), or its type."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class InputError(Exception):
    """A usage or input error: the CLI prints it on one line and exits 2."""
