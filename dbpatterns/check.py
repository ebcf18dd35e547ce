"""``dbpatterns check``: the CI bundle on one Alembic project, with one summary.

    from dbpatterns.check import run_check

    report = run_check("path/to/project")       # embedded throwaway PostgreSQL
    report.ok, report.exit_code, report.to_dict()

Parts, in order: ``lint`` (the project's revisions, with its ``[tool.dbpatterns]`` settings), ``sums``
(the sum file, when the project has one), ``verify`` (the history on a scratch database) and ``detect``
(model changes no migration covers; skipped when the detect capability or the models are missing). Each
part has an exit code (0 passed or skipped, 1 failed, 2 input error); the report's is the worst.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import ClassVar

from . import detect as detect_command
from . import verify as verify_command
from .alembic.project import as_project
from .checksums import SumReport, check_project_sums
from .detect.model import Change
from .errors import InputError
from .findings import Finding, LintStats
from .shapes import Record, computed, described, spread
from .verify.model import Check, Skipped


@dataclass(kw_only=True)
class Part(Record):
    """What one part did; its subclasses' fields (what it found) come first in its JSON."""

    name: ClassVar[str]
    JSON_COMPUTED: ClassVar[dict] = {"ok": computed(bool, before="skipped")}

    skipped: bool = described(last=True, default=False)
    summary: str = described(last=True)
    exit_code: int = described(last=True)  # 0 passed (or skipped), 1 failed, 2 could not run

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


@dataclass(kw_only=True)
class LintPart(Part):
    name: ClassVar[str] = "lint"

    files: int = described(absent=0, default=0)
    findings: list[Finding] = described(absent=[], default_factory=list)
    stats: LintStats | None = described(absent=None, default=None)  # operation counts, as in lint's report
    skipped_migrations: int | None = described(optional=True, default=None)  # at or before start_after


@dataclass(kw_only=True)
class SumsPart(Part):
    """The sum file's report, its keys first (``ok`` the part's)."""

    name: ClassVar[str] = "sums"

    report: SumReport = spread()


@dataclass(kw_only=True)
class VerifyPart(Part):
    name: ClassVar[str] = "verify"

    checks: list[Check]
    # the checks verify skipped, with why (left out when verify could not run)
    skipped_checks: dict[str, str] | None = described(items=Skipped, optional=True, absent=[], default=None)


@dataclass(kw_only=True)
class DetectPart(Part):
    name: ClassVar[str] = "detect"

    changes: list[Change]


@dataclass
class CheckReport(Record):
    JSON_COMPUTED: ClassVar[dict] = {"ok": computed(bool), "exit_code": computed(int)}

    lint: LintPart
    sums: SumsPart
    verify: VerifyPart
    detect: DetectPart

    @property
    def parts(self) -> list[Part]:
        return [self.lint, self.sums, self.verify, self.detect]

    @property
    def exit_code(self) -> int:
        return max((p.exit_code for p in self.parts), default=0)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def run_check(
    project_dir: str | os.PathLike = ".",
    *,
    db: str | None = None,
    start_after: list[str] | None = None,
    since: str | None = None,
    progress=None,
) -> CheckReport:
    """The parts below, in order. The lint honours ``start_after`` (default: the project's
    ``[tool.dbpatterns] start_after``) and ``since``; verify and detect always run the whole history.
    ``progress(text)``: told each step of verify's run (which detect's comparison shares)."""
    project = as_project(project_dir)
    # detect compares where verify's upgrade left the scratch database: one run of the history
    shared = detect_command.at_head()
    return CheckReport(
        _lint(project, start_after, since),
        _sums(project),
        _verify(project, db, shared, progress),
        _detect(project, db, shared),
    )


def _lint(project, start_after=None, since=None) -> LintPart:
    from .lint.run import lint_report  # loads pglast: the records above import light, for the contracts

    result = lint_report([str(project.root)], project.settings, start_after=start_after, since=since)
    findings, files = result.findings, result.files
    stats = None if result.stats is None else LintStats(**result.stats)
    skipped = "" if result.skipped is None else f", {result.skipped} migration(s) skipped (start_after)"
    if findings:
        exit_code, summary = 1, f"{len(findings)} finding(s) in {files} file(s){skipped}"
    else:
        exit_code, summary = 0, f"{files} file(s), no findings{skipped}"
    return LintPart(
        files=files,
        findings=findings,
        stats=stats,
        skipped_migrations=result.skipped,
        exit_code=exit_code,
        summary=summary,
    )


def _sums(project) -> SumsPart:
    report = check_project_sums(project)
    if not report.exists:
        summary = "no sum file (run `dbpatterns sum` to start one)"
        return SumsPart(report=report, exit_code=0, summary=summary, skipped=True)
    if report.problems:
        what = "; ".join(f"{p.path}: {p.change}" for p in report.problems)
        summary = f"{len(report.problems)} revision(s) do not match the sum file: {what}"
        return SumsPart(report=report, exit_code=1, summary=summary)
    return SumsPart(report=report, exit_code=0, summary=f"{report.revisions} revision(s) match the sum file")


def _verify(project, db, shared=None, progress=None) -> VerifyPart:
    try:
        report = verify_command.verify_project(project, db=db, at_head=shared, progress=progress)
    except InputError as exc:
        return VerifyPart(checks=[], exit_code=2, summary=str(exc))
    checks, skipped = report.checks, report.skipped
    failed = [c for c in report.checks if not c.ok]
    if failed:
        what = "; ".join(f"{c.name}: {c.detail}" for c in failed)
        summary = f"{len(failed)} check(s) failed: {what}"
        return VerifyPart(checks=checks, skipped_checks=skipped, exit_code=1, summary=summary)
    summary = f"{len(report.checks)} check(s) passed"
    return VerifyPart(checks=checks, skipped_checks=skipped, exit_code=0, summary=summary)


def _detect(project, db, shared=None) -> DetectPart:
    configured = project.settings.models is not None
    try:
        report = detect_command.detect_changes(project, db=db, shared=shared)
    except InputError as exc:
        if configured:
            return DetectPart(changes=[], exit_code=2, summary=str(exc))
        return DetectPart(changes=[], exit_code=0, summary=f"skipped: {exc}", skipped=True)
    changes = report.changes
    if changes:
        summary = f"{len(changes)} model change(s) no migration covers"
        return DetectPart(changes=changes, exit_code=1, summary=summary)
    return DetectPart(changes=changes, exit_code=0, summary="the models match the migrations")


def render_text(report: CheckReport) -> str:
    lines = []
    for part in report.parts:
        mark = (
            "skip"
            if part.skipped
            else ("ok  " if part.exit_code == 0 else "FAIL" if part.exit_code == 1 else "ERR ")
        )
        lines.append(f"{mark} {part.name}: {part.summary}")
        if part.name == "lint":
            for f in part.findings[:20]:
                lines.append(f"       {f.path}:{f.line}:{f.column}: {f.rule} {f.message}")
    lines.append("all checks passed" if report.ok else f"check failed (exit {report.exit_code})")
    return "\n".join(lines) + "\n"
