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
from dataclasses import dataclass, field

from .alembic.project import as_project
from .checksums import check_project_sums
from .detect import at_head, detect_changes
from .errors import InputError
from .lint.run import lint_report
from .verify import verify_project


@dataclass
class Part:
    name: str
    exit_code: int  # 0 passed (or skipped), 1 failed, 2 could not run
    summary: str
    data: dict = field(default_factory=dict)
    skipped: bool = False

    def to_dict(self) -> dict:
        return {
            **self.data,
            "ok": self.exit_code == 0,
            "skipped": self.skipped,
            "summary": self.summary,
            "exit_code": self.exit_code,
        }


@dataclass
class CheckReport:
    parts: list[Part]

    @property
    def exit_code(self) -> int:
        return max((p.exit_code for p in self.parts), default=0)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def to_dict(self) -> dict:
        return {"ok": self.ok, "exit_code": self.exit_code, **{p.name: p.to_dict() for p in self.parts}}


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
    shared = at_head()  # detect compares where verify's upgrade left the scratch database: one history run
    parts = [
        _lint(project, start_after, since),
        _sums(project),
        _verify(project, db, shared, progress),
        _detect(project, db, shared),
    ]
    return CheckReport(parts)


def _lint(project, start_after=None, since=None) -> Part:
    result = lint_report([str(project.root)], project.settings, start_after=start_after, since=since)
    findings, files = result.findings, result.files
    data = {"files": files, "findings": [f.to_dict() for f in findings], "stats": result.stats}
    skipped = ""
    if result.skipped is not None:
        data["skipped_migrations"] = result.skipped
        skipped = f", {result.skipped} migration(s) skipped (start_after)"
    if findings:
        return Part("lint", 1, f"{len(findings)} finding(s) in {files} file(s){skipped}", data)
    return Part("lint", 0, f"{files} file(s), no findings{skipped}", data)


def _sums(project) -> Part:
    report = check_project_sums(project)
    if not report.exists:
        return Part(
            "sums", 0, "no sum file (run `dbpatterns sum` to start one)", report.to_dict(), skipped=True
        )
    if report.problems:
        what = "; ".join(f"{p.path}: {p.change}" for p in report.problems)
        return Part(
            "sums",
            1,
            f"{len(report.problems)} revision(s) do not match the sum file: {what}",
            report.to_dict(),
        )
    return Part("sums", 0, f"{report.revisions} revision(s) match the sum file", report.to_dict())


def _verify(project, db, shared=None, progress=None) -> Part:
    try:
        report = verify_project(project, db=db, at_head=shared, progress=progress)
    except InputError as exc:
        return Part("verify", 2, str(exc), {"checks": []})
    data = report.to_dict()
    data = {"checks": data["checks"], "skipped_checks": data.get("skipped", [])}
    failed = [c for c in report.checks if not c.ok]
    if failed:
        what = "; ".join(f"{c.name}: {c.detail}" for c in failed)
        return Part("verify", 1, f"{len(failed)} check(s) failed: {what}", data)
    return Part("verify", 0, f"{len(report.checks)} check(s) passed", data)


def _detect(project, db, shared=None) -> Part:
    configured = project.settings.models is not None
    try:
        report = detect_changes(project, db=db, shared=shared)
    except InputError as exc:
        if configured:
            return Part("detect", 2, str(exc), {"changes": []})
        return Part("detect", 0, f"skipped: {exc}", {"changes": []}, skipped=True)
    changes = [c.to_dict() for c in report.changes]
    if changes:
        return Part("detect", 1, f"{len(changes)} model change(s) no migration covers", {"changes": changes})
    return Part("detect", 0, "the models match the migrations", {"changes": changes})


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
            for f in part.data.get("findings", [])[:20]:
                lines.append(f"       {f['path']}:{f['line']}:{f['column']}: {f['rule']} {f['message']}")
    lines.append("all checks passed" if report.ok else f"check failed (exit {report.exit_code})")
    return "\n".join(lines) + "\n"
