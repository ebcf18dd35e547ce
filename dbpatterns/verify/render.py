"""Text output of a verify report."""

from __future__ import annotations

from .model import Report


def render_text(report: Report) -> str:
    lines = []
    for check in report.checks:
        mark = "ok  " if check.ok else "FAIL"
        at = f" [{check.revision}]" if check.revision and not check.ok else ""
        lines.append(f"{mark} {check.name}{at}: {check.detail}")
    for name, why in report.skipped.items():
        lines.append(f"skip {name}: {why}")
    for note in report.notes:
        lines.append(f"note {note}")
    failed = sum(not c.ok for c in report.checks)
    lines.append("all checks passed" if report.ok else f"{failed} check(s) failed")
    if report.run_as is not None:
        lines.append(f"The history {report.run_as.describe()}.")
    return "\n".join(lines) + "\n"
