"""What drift reports: one report per database (or tenant schema), and a summary over several."""

from __future__ import annotations

from dataclasses import dataclass, field

STATUSES = ("up to date", "behind", "unknown", "unversioned")


@dataclass(frozen=True, slots=True)
class Difference:
    """One thing that differs. ``source``: ``schema`` (live catalog vs the history), ``models`` (live
    catalog vs the models), ``checksum`` (revision files vs the sum file or the migration log).
    ``change``: ``added`` (in the database only), ``removed`` (missing from the database) or ``changed``."""

    kind: str
    object: str
    detail: str
    source: str = "schema"
    change: str = "changed"

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "object": self.object,
            "detail": self.detail,
            "source": self.source,
            "change": self.change,
        }


@dataclass
class Revision:
    database: list[str] | None  # None: no version table
    heads: list[str]
    status: str
    pending: list[str] = field(default_factory=list)  # base first
    unknown: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "database": self.database,
            "heads": self.heads,
            "status": self.status,
            "pending": self.pending,
            "unknown": self.unknown,
        }


@dataclass
class DriftReport:
    target: str  # the masked URL (and the schema)
    revision: Revision | None = None
    differences: list[Difference] = field(default_factory=list)
    compared_with: list[str] = field(default_factory=list)  # the revisions the expected schema is at
    error: str | None = None  # the target could not be checked (unreachable, bad credentials)

    @property
    def in_sync(self) -> bool:
        return (
            self.error is None
            and not self.differences
            and self.revision is not None
            and (self.revision.status == "up to date")
        )

    def to_dict(self) -> dict:
        return {
            "target": self.target,
            "in_sync": self.in_sync,
            "revision": self.revision.to_dict() if self.revision else None,
            "differences": [d.to_dict() for d in self.differences],
            "compared_with": self.compared_with,
            "error": self.error,
        }


@dataclass
class DriftSummary:
    reports: list[DriftReport]
    run_as: object = None  # whom the history ran as (dbpatterns.pg.sandbox.Access); None: from the cache

    @property
    def in_sync(self) -> bool:
        return all(r.in_sync for r in self.reports)

    @property
    def errors(self) -> list[DriftReport]:
        return [r for r in self.reports if r.error]

    def to_dict(self, *, always_summary: bool = False) -> dict:
        """One target: its report. Several (or ``always_summary``): ``{"in_sync", "targets": [...],
        "summary": {...}}``."""
        run_as = {"run_as": self.run_as.to_dict()} if self.run_as is not None else {}
        if len(self.reports) == 1 and not always_summary:
            return self.reports[0].to_dict() | run_as
        return {
            "in_sync": self.in_sync,
            "targets": [r.to_dict() for r in self.reports],
            "summary": {
                "targets": len(self.reports),
                "in_sync": sum(r.in_sync for r in self.reports),
                "drifted": sum(not r.in_sync and not r.error for r in self.reports),
                "errors": len(self.errors),
            },
        } | run_as
