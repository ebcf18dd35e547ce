"""Text output of a drift summary."""

from __future__ import annotations

from .model import DriftReport, DriftSummary


def render_text(summary: DriftSummary) -> str:
    lines: list[str] = []
    for report in summary.reports:
        lines.extend(_report(report))
    if len(summary.reports) > 1:
        data = summary.to_dict()["summary"]
        lines.append(
            f"{data['targets']} targets: {data['in_sync']} in sync, {data['drifted']} drifted, "
            f"{data['errors']} could not be checked"
        )
    if summary.run_as is not None:
        lines.append(f"The history {summary.run_as.describe()}.")
    return "\n".join(lines) + "\n"


def _report(report: DriftReport) -> list[str]:
    if report.error:
        return [f"{report.target}: ERROR {report.error}"]
    rev = report.revision
    at = ", ".join(rev.database) if rev.database else ("no version table" if rev.database is None else "base")
    status = f"{rev.status} (database at {at}; heads {', '.join(rev.heads) or 'none'})"
    if rev.pending:
        status += f"; pending: {', '.join(rev.pending)}"
    if rev.unknown:
        status += f"; not in the repository: {', '.join(rev.unknown)}"
    lines = [f"{report.target}: {status}"]
    for d in report.differences:
        lines.append(f"  {d.source}: {d.kind} {d.object} {d.change}: {d.detail}")
    verdict = "in sync" if report.in_sync else f"{len(report.differences)} difference(s)"
    if not report.in_sync and not report.differences:
        verdict = f"no schema difference, but the database is {rev.status}"
    lines.append(f"  {verdict}")
    return lines
