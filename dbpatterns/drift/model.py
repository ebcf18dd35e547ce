"""What drift reports: one report per database (or tenant schema), and a summary over several. These
records are the JSON (:mod:`dbpatterns.shapes`); the contracts derive from them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, ClassVar, Literal, get_args

from ..shapes import Record, as_json, computed, described

if TYPE_CHECKING:
    from ..pg.sandbox import Access

Status = Literal["up to date", "behind", "unknown", "unversioned"]
STATUSES: tuple[str, ...] = get_args(Status)

RUN_AS = "whom the history ran as; absent when it came from the cache"


@dataclass(frozen=True, slots=True)
class Difference(Record):
    """One thing that differs. ``source``: ``schema`` (live catalog vs the history), ``models`` (live
    catalog vs the models), ``checksum`` (revision files vs the sum file or the migration log).
    ``change``: ``added`` (in the database only), ``removed`` (missing from the database) or ``changed``."""

    kind: str
    object: str
    detail: str
    source: Literal["schema", "models", "checksum"] = "schema"
    change: Literal["added", "removed", "changed"] = "changed"


@dataclass
class Revision(Record):
    database: list[str] | None = described("the alembic_version rows (null: no version table)")
    heads: list[str]
    status: Status
    pending: list[str] = field(default_factory=list)  # base first
    unknown: list[str] = field(default_factory=list)


@dataclass
class DriftReport(Record):
    JSON_COMPUTED: ClassVar[dict] = {"in_sync": computed(bool, after="target")}

    target: str = described("the database URL, password masked")  # and the schema
    revision: Revision | None = None
    differences: list[Difference] = field(default_factory=list)
    compared_with: list[str] = field(default_factory=list)  # the revisions the expected schema is at
    error: str | None = None  # the target could not be checked (unreachable, bad credentials)
    # the summary's, when the report stands alone (one target)
    run_as: Access | None = described(RUN_AS, optional=True, default=None)

    @property
    def in_sync(self) -> bool:
        return (
            self.error is None
            and not self.differences
            and self.revision is not None
            and (self.revision.status == "up to date")
        )


@dataclass(frozen=True, slots=True)
class DriftCounts:
    targets: int
    in_sync: int
    drifted: int
    errors: int


@dataclass
class DriftSummary:
    """Several databases or tenant schemas."""

    JSON_COMPUTED: ClassVar[dict] = {
        "in_sync": computed(bool),
        "summary": computed(DriftCounts, after="reports"),
    }

    reports: list[DriftReport] = described(key="targets")
    run_as: Access | None = described(RUN_AS, optional=True, default=None)

    @property
    def in_sync(self) -> bool:
        return all(r.in_sync for r in self.reports)

    @property
    def errors(self) -> list[DriftReport]:
        return [r for r in self.reports if r.error]

    @property
    def summary(self) -> DriftCounts:
        return DriftCounts(
            len(self.reports),
            sum(r.in_sync for r in self.reports),
            sum(not r.in_sync and not r.error for r in self.reports),
            len(self.errors),
        )

    def to_dict(self, *, always_summary: bool = False) -> dict:
        """One target: its report (with ``run_as``). Several (or ``always_summary``): ``{"in_sync",
        "targets": [...], "summary": {...}}``."""
        if len(self.reports) == 1 and not always_summary:
            return replace(self.reports[0], run_as=self.run_as).to_dict()
        return as_json(self)
