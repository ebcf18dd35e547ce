"""Pydantic models of the JSON contracts in DESIGN.md: what `--format json` prints and what the MCP tools
return as structured output. Each JSON shape is defined once, as a record (a dataclass) of the core whose
``to_dict()`` is :func:`dbpatterns.shapes.as_json`; its model here is :func:`derived` from that record
(keys, order, types, descriptions), never written again. The models written here are the shapes no
record makes: the lint's report (its worker processes write it in pieces) and the one-key lists
``{"rules"}`` and ``{"patterns"}``; tests/test_shapes.py checks them against the code that writes them.

Every model forbids unknown keys, so a key added on one face and not here fails the contract test.
``truncated`` (the number of list items left out of a size-capped MCP result) is 0 on the command line.
"""

from __future__ import annotations

import keyword
import operator
from dataclasses import is_dataclass
from functools import reduce
from pathlib import PurePath
from types import UnionType
from typing import Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model

from . import check, checksums, findings, heads, ruleinfo
from .detect import model as detect
from .drift import model as drift
from .pg import sandbox
from .shapes import COMPUTED, NO_DEFAULT, OPTIONAL, SPREAD, json_keys
from .templates import model as templates
from .templates import patterns
from .trace import model as trace
from .verify import model as verify


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Truncatable(Contract):
    truncated: int = Field(0, description="list items left out of this result to keep it small")


_DERIVED: dict[type, type] = {}  # a record -> the contract first derived from it


def derived(record: type, *, base: type[Contract] = Contract, name: str = "", doc: str | None = None) -> type:
    """The contract of a core record (a dataclass, or a NamedTuple): the keys of its JSON
    (:func:`dbpatterns.shapes.json_keys`) in order, each described by its declaration; required unless
    left out while None (``optional``) or given a value for a missing key (``absent``); a spread dict's
    keys allowed, a spread record's keys taken in its place. Tuples become lists, paths strings, and a
    record derived before (a nested one: derive it first) its model. ``doc``: the model's description in
    the schema. A key that is a Python keyword is the field ``key_`` with the alias ``key``."""
    models = _DERIVED
    hints = get_type_hints(record, localns={r.__name__: r for r in models})
    spec: dict = {}
    for key in json_keys(record):
        if key.how == SPREAD:
            inner = hints[key.attribute]
            if get_origin(inner) is dict or inner is dict:  # a dict's items: keys it does not name
                base = _open(base)
            else:  # a nested record's keys, in its order
                for inner_key, info in (_DERIVED.get(inner) or derived(inner)).model_fields.items():
                    spec[inner_key] = (info.annotation, info)
            continue
        annotation = key.type if key.how == COMPUTED else hints[key.attribute]
        if key.items is not None:
            annotation = list[key.items]
        info: dict = {"description": key.description}
        if key.absent is not NO_DEFAULT:
            info["default"] = key.absent
        elif key.how == OPTIONAL:
            annotation, info["default"] = annotation | None, None
        field_name = key.name + "_" if keyword.iskeyword(key.name) else key.name  # class: class_
        if field_name != key.name:
            info["alias"] = key.name
        spec[field_name] = (_annotation(annotation, models), Field(**info))
    model = create_model(name or record.__name__, __base__=base, __doc__=doc, **spec)
    model.__record__ = record
    _DERIVED.setdefault(record, model)
    return model


def _open(base: type[Contract]) -> type[Contract]:
    """``base`` allowing keys it does not name."""
    return type(base.__name__, (base,), {"model_config": ConfigDict(extra="allow"), "__module__": __name__})


def _annotation(annotation, models: dict):
    if annotation in models:
        return models[annotation]
    if is_dataclass(annotation):  # a nested record not derived yet: pydantic would take it as it is
        raise TypeError(f"derive the contract of {annotation.__name__} before the records that hold it")
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


# written by dbpatterns.lint.run (json_pieces, report_extra) and the lint_migration tool
class LintResult(Truncatable):
    findings: list[Finding]
    skipped: int | None = Field(
        None, description="migrations at or before start_after: linted for the schema, their findings skipped"
    )
    stats: LintStats | None = Field(
        None, description="operation counts, summed over the migrations linted (not those skipped)"
    )


Rule = derived(ruleinfo.RuleInfo, name="Rule")
RuleDoc = derived(ruleinfo.RuleDoc)


class RulesResult(Truncatable):
    rules: list[Rule]


# ---- trace


Lock = derived(trace.Lock)
Blocked = derived(trace.Blocked)
RunAs = derived(sandbox.Access, name="RunAs")
StatementTrace = derived(trace.StatementTrace)
TraceResult = derived(trace.TraceReport, base=Truncatable, name="TraceResult")


# ---- verify


Check = derived(verify.Check)
Skipped = derived(verify.Skipped)
VerifyResult = derived(verify.Report, base=Truncatable, name="VerifyResult")


# ---- heads


Head = derived(heads.Head)
HeadsResult = derived(heads.HeadsReport, base=Truncatable, name="HeadsResult")


# ---- drift


Difference = derived(drift.Difference)
RevisionStatus = derived(drift.Revision, name="RevisionStatus")
DriftResult = derived(
    drift.DriftReport,
    base=Truncatable,
    name="DriftResult",
    doc="One database (or tenant schema): what the command line prints for a single target.",
)
DriftCounts = derived(drift.DriftCounts)
DriftSummary = derived(drift.DriftSummary, base=Truncatable, doc=drift.DriftSummary.__doc__)


# ---- detect


Change = derived(detect.Change, doc=detect.Change.__doc__)
ModelEdit = derived(detect.ModelEdit)
Since = derived(detect.Since)
Written = derived(templates.Written, doc=templates.Written.__doc__)
DetectResult = derived(detect.DetectReport, base=Truncatable, name="DetectResult")


# ---- new (migration templates)


PatternOption = derived(patterns.Option, name="PatternOption")
PatternInfo = derived(patterns.Pattern, name="PatternInfo")
NewResult = derived(templates.NewReport, base=Truncatable, name="NewResult", doc=templates.NewReport.__doc__)


class PatternsResult(Contract):
    patterns: list[PatternInfo]


# ---- check (the CI bundle)


SumProblem = derived(checksums.SumProblem)
LintPart = derived(check.LintPart)
SumsPart = derived(check.SumsPart)
VerifyPart = derived(check.VerifyPart)
DetectPart = derived(check.DetectPart)
CheckResult = derived(check.CheckReport, name="CheckResult")
