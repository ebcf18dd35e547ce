"""What detect reports: one :class:`Change` per model change no migration covers, with its risk and the
``dbpatterns new`` template that makes it safely."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal, get_args

from ..findings import Finding
from ..shapes import Record, computed, described, spread
from ..templates.model import Written

# Risks, mildest first. A change carries every risk that applies; ``risk`` is the worst of them.
Risk = Literal["safe", "locks", "rewrites", "breaks-running-code", "destroys-data"]
RISKS: tuple[str, ...] = get_args(Risk)
SAFE = "safe"
LOCKS = "locks"  # blocks reads or writes of the table while it runs (a scan or build under a strong lock)
REWRITES = "rewrites"  # rewrites every row (and rebuilds the indexes) under ACCESS EXCLUSIVE
BREAKS = "breaks-running-code"  # code deployed before the change fails against the new schema
DESTROYS = "destroys-data"  # data is gone after the change


@dataclass(slots=True)
class Change(Record):
    """A model change no migration covers; kind-specific facts (old name, enum value, types) as extra keys."""

    JSON_COMPUTED: ClassVar[dict] = {"risk": computed(Risk, after="name")}

    kind: str  # add_table, drop_column, rename_column, change_type, add_enum_value, ...
    table: str | None
    column: str | None
    risks: tuple[str, ...] = described(absent=[])
    template: str | None = described("the `dbpatterns new` pattern that makes the change safely")
    detail: str = described(absent="")
    # the index, constraint or enum the change is about
    name: str | None = described(absent=None, after="column", default=None)
    # the model class mapped to the table, when known
    model: str | None = described(absent=None, default=None)
    extra: dict = spread(default_factory=dict)  # kind-specific facts (old name, enum value, types)

    @property
    def risk(self) -> str:
        return max(self.risks, key=RISKS.index) if self.risks else SAFE


@dataclass(slots=True)
class ModelEdit(Record):
    """A model class whose definition changed since a git ref (``--since``)."""

    path: str
    name: str = described(key="class")
    status: str  # added, changed, removed
    table: str | None = described(absent=None, default=None)


@dataclass(slots=True)
class Since:
    """``--since``: the git ref, and the model classes changed since it."""

    ref: str
    models: list[ModelEdit]


def _nothing_written(report: DetectReport) -> bool:
    return not report.written and not report.deferred


@dataclass(slots=True)
class DetectReport(Record):
    changes: list[Change] = field(default_factory=list)
    head: str | None = described(
        "the history's head the models were compared with", absent=None, default=None
    )
    since: Since | None = described(optional=True, default=None)
    # --write: the revisions written, the changes left out (see their detail), lint findings on the written
    written: list[Written] = described(omit=_nothing_written, default_factory=list)
    deferred: list[Change] = described(omit=_nothing_written, default_factory=list)
    lint: list[Finding] = described(omit=_nothing_written, default_factory=list)

    @property
    def ok(self) -> bool:
        """No change left: the history covers the models (after --write, nothing was deferred)."""
        if self.written:
            return not self.deferred and not self.lint
        return not self.changes  # (--write with every change left out writes nothing)
