"""Pydantic models of the JSON contracts in DESIGN.md: what `--format json` prints and what the MCP tools
return as structured output. The core builds plain dicts (``to_dict()``); these models validate them.
A shape the core defines as a dataclass (see :mod:`dbpatterns.shapes`) is :func:`derived` from it, not
written again here.

Every model forbids unknown keys, so a key added on one face and not here fails the contract test.
``truncated`` (the number of list items left out of a size-capped MCP result) is 0 on the command line.
"""

from __future__ import annotations

import operator
from functools import reduce
from pathlib import PurePath
from types import UnionType
from typing import Literal, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model

from . import findings, heads
from .drift import model as drift
from .pg import sandbox
from .shapes import COMPUTED, NO_DEFAULT, OPTIONAL, SPREAD, json_keys
from .trace import model as trace
from .verify import model as verify


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Truncatable(Contract):
    truncated: int = Field(0, description="list items left out of this result to keep it small")


def derived(
    record: type,
    *nested: type[Contract],
    base: type[Contract] = Contract,
    name: str = "",
    doc: str | None = None,
) -> type:
    """The contract of a core record (a dataclass, or a NamedTuple): the keys of its JSON
    (:func:`dbpatterns.shapes.json_keys`) in order, each described by its declaration; required unless
    left out while None (``optional``) or given a value for a missing key (``absent``); a spread field's
    keys allowed. Tuples become lists, paths strings,
    and the records in ``nested`` (earlier derived contracts) their models. ``doc``: the model's
    description in the schema."""
    models = {model.__record__: model for model in nested}
    hints = get_type_hints(record, localns={r.__name__: r for r in models})
    spec: dict = {}
    for key in json_keys(record):
        if key.how == SPREAD:
            base = _open(base)
            continue
        annotation = key.type if key.how == COMPUTED else hints[key.attribute]
        if key.items is not None:
            annotation = list[key.items]
        info: dict = {"description": key.description}
        if key.absent is not NO_DEFAULT:
            info["default"] = key.absent
        elif key.how == OPTIONAL:
            annotation, info["default"] = annotation | None, None
        if key.name != key.attribute:
            info["alias"] = key.name
        spec[key.attribute] = (_annotation(annotation, models), Field(**info))
    model = create_model(name or record.__name__, __base__=base, __doc__=doc, **spec)
    model.__record__ = record
    return model


def _open(base: type[Contract]) -> type[Contract]:
    """``base`` allowing keys it does not name."""
    return type(base.__name__, (base,), {"model_config": ConfigDict(extra="allow"), "__module__": __name__})


def _annotation(annotation, models: dict):
    if annotation in models:
        return models[annotation]
    if isinstance(annotation, type) and issubclass(annotation, PurePath):
        return str
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis or origin is list:
        return list[_annotation(args[0], models)]
    if origin in (Union, UnionType):
        return reduce(operator.or_, (_annotation(a, models) for a in args))
    return annotation


# ---- lint and rules


Finding = derived(findings.Finding)
LintStats = derived(findings.LintStats, doc=findings.LintStats.__doc__)


class LintResult(Truncatable):
    findings: list[Finding]
    skipped: int | None = Field(
        None, description="migrations at or before start_after: linted for the schema, their findings skipped"
    )
    stats: LintStats | None = Field(
        None, description="operation counts, summed over the migrations linted (not those skipped)"
    )


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


Lock = derived(trace.Lock)
Blocked = derived(trace.Blocked)
RunAs = derived(sandbox.Access, name="RunAs")
StatementTrace = derived(trace.StatementTrace, Lock, Blocked)
TraceResult = derived(trace.TraceReport, StatementTrace, RunAs, base=Truncatable, name="TraceResult")


# ---- verify


Check = derived(verify.Check)
Skipped = derived(verify.Skipped)
VerifyResult = derived(verify.Report, Check, Skipped, RunAs, base=Truncatable, name="VerifyResult")


# ---- heads


Head = derived(heads.Head)
HeadsResult = derived(heads.HeadsReport, Head, base=Truncatable, name="HeadsResult")


# ---- drift


Difference = derived(drift.Difference)
RevisionStatus = derived(drift.Revision, name="RevisionStatus")
DriftResult = derived(
    drift.DriftReport,
    RevisionStatus,
    Difference,
    RunAs,
    base=Truncatable,
    name="DriftResult",
    doc="One database (or tenant schema): what the command line prints for a single target.",
)
DriftCounts = derived(drift.DriftCounts)
DriftSummary = derived(
    drift.DriftSummary, DriftResult, DriftCounts, RunAs, base=Truncatable, doc=drift.DriftSummary.__doc__
)


# ---- detect


class Change(Contract):
    """A model change no migration covers; kind-specific facts (old name, enum value, types) as extra keys."""

    model_config = ConfigDict(extra="allow")

    kind: str
    table: str | None
    column: str | None
    name: str | None = None
    risk: Literal["safe", "locks", "rewrites", "breaks-running-code", "destroys-data"]
    risks: list[str] = []
    template: str | None = Field(description="the `dbpatterns new` pattern that makes the change safely")
    detail: str = ""
    model: str | None = None


class ModelEdit(Contract):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    path: str
    class_: str = Field(alias="class")
    status: str
    table: str | None = None


class Since(Contract):
    ref: str
    models: list[ModelEdit]


class Written(Contract):
    """A revision file written (or, for `new --print`, rendered)."""

    path: str
    revision: str
    down_revision: str | list[str] | None


class DetectResult(Truncatable):
    changes: list[Change]
    head: str | None = Field(None, description="the history's head the models were compared with")
    since: Since | None = None
    written: list[Written] | None = None
    deferred: list[Change] | None = None
    lint: list[Finding] | None = None


# ---- new (migration templates)


class NewResult(Truncatable):
    """The first revision's keys at the top (most patterns write one), every revision in ``revisions``."""

    path: str
    revision: str
    down_revision: str | list[str] | None
    revisions: list[Written] = Field(description="every revision: expand then contract for two-step patterns")
    text: list[str] | None = Field(None, description="each revision's source (`new --print`; MCP: always)")


class PatternOption(Contract):
    flag: str
    kind: str
    required: bool
    multiple: bool


class PatternInfo(Contract):
    name: str
    summary: str
    revisions: int
    options: list[PatternOption]


class PatternsResult(Contract):
    patterns: list[PatternInfo]


# ---- check (the CI bundle)


class SumProblem(Contract):
    path: str
    change: str
    detail: str


class CheckPart(Contract):
    ok: bool
    skipped: bool
    summary: str
    exit_code: int


class LintPart(CheckPart):
    files: int = 0
    findings: list[Finding] = []
    skipped_migrations: int | None = None  # at or before start_after
    stats: LintStats | None = None  # operation counts, as in lint's report


class SumsPart(CheckPart):
    sum_file: str
    exists: bool
    revisions: int
    problems: list[SumProblem]


class DetectPart(CheckPart):
    changes: list[Change]


class VerifyPart(CheckPart):
    checks: list[Check]
    skipped_checks: list[Skipped] = []  # the checks verify skipped, with why


class CheckResult(Contract):
    ok: bool
    exit_code: int
    lint: LintPart
    sums: SumsPart
    verify: VerifyPart
    detect: DetectPart
