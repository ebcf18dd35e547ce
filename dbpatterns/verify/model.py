"""What verify reports: checks that passed or failed, and the report that gathers them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from ..shapes import Record, computed, described

if TYPE_CHECKING:
    from ..pg.sandbox import Access

#: The checks in the order they run (models_match only when models are known).
CHECKS = (
    "single_head",
    "upgrade",
    "models_match",
    "downgrade",
    "stairway",
    "downgrade_no_trace",
    "downgrade_keeps_data",
)


@dataclass(slots=True)
class Check(Record):
    name: str
    ok: bool
    revision: str | None = described(absent=None, default=None)  # the revision a failure is about
    detail: str = described(absent="", default="")


class Skipped(NamedTuple):
    """A check that did not run, and why (the JSON of :attr:`Report.skipped`'s items)."""

    name: str
    detail: str


@dataclass(slots=True)
class Report(Record):
    JSON_COMPUTED: ClassVar[dict] = {"ok": computed(bool)}

    checks: list[Check] = field(default_factory=list)
    # check name -> why it did not run
    skipped: dict[str, str] = described(items=Skipped, absent=[], default_factory=dict)
    # what the checks could not do (tables left empty, ...)
    notes: list[str] = described(absent=[], default_factory=list)
    # rows the checks inserted into empty tables before revisions, in all
    generated_rows: int = described(absent=0, default=0)
    # whom the history ran as, when known
    run_as: Access | None = described(optional=True, default=None)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, revision: str | None = None, detail: str = "") -> Check:
        check = Check(name, ok, revision, detail)
        self.checks.append(check)
        return check

    def skip_rest(self, why: str) -> None:
        done = {c.name for c in self.checks}
        for name in CHECKS:
            if name not in done and name not in self.skipped:
                self.skipped[name] = why
