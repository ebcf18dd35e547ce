"""Pydantic models of the JSON contracts in DESIGN.md: what `--format json` prints and what the MCP tools
return as structured output. The core builds plain dicts (``to_dict()``); these models validate them.

Every model forbids unknown keys, so a key added on one face and not here fails the contract test.
``truncated`` (the number of list items left out of a size-capped MCP result) is 0 on the command line.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Truncatable(Contract):
    truncated: int = Field(0, description="list items left out of this result to keep it small")


# ---- lint and rules


class Finding(Contract):
    rule: str
    severity: Literal["error", "warning", "info"]
    path: str
    line: int
    column: int
    message: str
    lock: str | None = Field(
        description="the PostgreSQL lock mode the statement takes, e.g. ACCESS EXCLUSIVE"
    )
    table: str | None = None
    rewrites: bool = Field(description="whether the statement rewrites the table")
    fix: str = Field(description="the safe recipe")


class LintResult(Truncatable):
    findings: list[Finding]


class Rule(Contract):
    id: str
    aliases: list[str] = Field(description="squawk's names for the same check")
    severity: Literal["error", "warning", "info"]
    summary: str
    default: bool = Field(description="in the default set (false: opt-in)")
    category: str


class RuleDoc(Rule):
    doc: str = Field(description="what it does, why it is bad, example, what to use instead (markdown)")
    fix: str


class RulesResult(Truncatable):
    rules: list[Rule]


# ---- trace


class Lock(Contract):
    relation: str
    mode: str


class Blocked(Contract):
    relation: str
    reads: bool
    writes: bool
    mode: str


class StatementTrace(Contract):
    sql: str
    line: int
    locks: list[Lock] = Field(description="locks held once the statement has run")
    rewritten: list[str] = Field(description="tables and indexes whose storage was rewritten")
    duration_ms: float
    acquired: list[Lock] = Field(description="locks this statement added")
    blocks: list[Blocked]
    in_transaction: bool


class TraceResult(Truncatable):
    statements: list[StatementTrace]


# ---- verify


class Check(Contract):
    name: str
    ok: bool
    revision: str | None = None
    detail: str = ""


class Skipped(Contract):
    name: str
    detail: str


class VerifyResult(Truncatable):
    ok: bool
    checks: list[Check]
    skipped: list[Skipped] = []
