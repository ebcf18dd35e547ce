"""The one result type every check returns, and the lint's operation counts: both JSON shapes
(:mod:`dbpatterns.shapes`), their contracts derived from these dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal, get_args

from .shapes import described, flat_to_dict, internal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[str, ...] = get_args(Severity)


@dataclass(slots=True)
class Finding:
    """One problem at one place.

    ``lock`` is the PostgreSQL lock mode the statement takes on ``table`` (e.g. ``ACCESS EXCLUSIVE``) or
    None; ``rewrites`` is True when the statement rewrites the table; ``fix`` is the safe recipe as text;
    ``source`` is the offending source line, for text output; ``hedged``: the rule could not see enough to
    be sure of its lock or rewrite ("may rewrite"), a trace settles it. Equality ignores the last two.
    The lint pickles findings as tuples of these fields, in this order (``__slots__``).
    """

    rule: str
    severity: Severity
    path: str
    line: int
    column: int
    message: str
    lock: str | None = described(
        "the PostgreSQL lock mode the statement takes, e.g. ACCESS EXCLUSIVE", default=None
    )
    table: str | None = described(absent=None, default=None)
    rewrites: bool = described("whether the statement rewrites the table", default=False)
    fix: str = described("the safe recipe", default="")
    source: str = internal(default="", compare=False)
    hedged: bool = internal(default=False, compare=False)


# the JSON contract's finding object, written out as a dict display: findings are made by the thousand
Finding.to_dict = flat_to_dict(Finding)


@dataclass(slots=True)
class LintStats:
    """What the lint read: every operation (an Alembic op call, a statement of a SQL file) is counted,
    so nothing it could not check goes without a number. analysed + skipped + unanalysed == seen."""

    # the lint counts in a dict of these keys (STAT_KEYS)

    seen: int = described("operations seen: Alembic op calls (upgrade and downgrade), SQL statements")
    analysed: int = described("operations whose SQL was known and linted")
    partial: int = described(
        "of the analysed, those with a name, column or type known only as ?, and ORM data calls (their SQL "
        "is made at run time)"
    )
    skipped: int = described("operations under a guard that is false on PostgreSQL: not linted")
    unanalysed: int = described(
        "operations that could not be read statically (opaque-operation) or SQL that does not parse "
        "(syntax-error)"
    )


STAT_KEYS: tuple[str, ...] = tuple(item.name for item in fields(LintStats))
