"""What verify reports: checks that passed or failed, and the report that gathers them."""

from __future__ import annotations

from dataclasses import dataclass, field

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
class Check:
    name: str
    ok: bool
    revision: str | None = None  # the revision a failure is about
    detail: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "ok": self.ok, "revision": self.revision, "detail": self.detail}


@dataclass(slots=True)
class Report:
    checks: list[Check] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # check name -> why it did not run
    run_as: object = None  # whom the history ran as (dbpatterns.pg.sandbox.Access), when known
    notes: list[str] = field(default_factory=list)  # what the checks could not do (tables left empty, ...)
    generated_rows: int = 0  # rows the checks inserted into empty tables before revisions, in all

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

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "checks": [c.to_dict() for c in self.checks],
            "skipped": [{"name": k, "detail": v} for k, v in self.skipped.items()],
            "notes": list(self.notes),
            "generated_rows": self.generated_rows,
        } | ({"run_as": self.run_as.to_dict()} if self.run_as is not None else {})
