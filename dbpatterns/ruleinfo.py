"""A lint rule as the JSON contract has it (``dbpatterns rules --format json``, the MCP rule tools):
records that :func:`dbpatterns.lint.docs.rule_json` fills and :mod:`dbpatterns.contracts` derives its
models from. Apart from :mod:`dbpatterns.findings`, which a lint loads: making these classes costs more
than a one-file lint should pay for shapes it never writes."""

from __future__ import annotations

from dataclasses import dataclass

from .findings import Severity
from .shapes import described


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A rule as the JSON contract's rule object (``dbpatterns rules --format json``, MCP list_rules)."""

    id: str
    aliases: tuple[str, ...] = described("squawk's names for the same check")
    severity: Severity
    summary: str
    default: bool = described("in the default set (false: opt-in)")
    category: str


@dataclass(frozen=True, slots=True)
class RuleDoc(RuleInfo):
    """A rule with its documentation (``dbpatterns rules ID --format json``, MCP explain_rule)."""

    doc: str = described("what it does, why it is bad, example, what to use instead (markdown)")
    fix: str
