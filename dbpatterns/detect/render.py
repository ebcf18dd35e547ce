"""Text output of a detect report."""

from __future__ import annotations

import textwrap
from collections import Counter

from .model import RISKS, DetectReport


def render_text(report: DetectReport) -> str:
    lines: list[str] = []
    for change in report.changes:
        where = change.table or ""
        if change.column:
            old = change.extra.get("old_column")
            where += f".{old} -> {change.column}" if old else f".{change.column}"
        if change.name and change.kind not in ("add_column", "drop_column"):
            where += f" ({change.name})" if where else change.name
        model = f" [{change.model}]" if change.model else ""
        template = f"  template: {change.template}" if change.template else ""
        lines.append(f"{change.kind:<17} {where}{model}  risk: {', '.join(change.risks)}{template}")
        lines.extend(textwrap.wrap(change.detail, 100, initial_indent="    ", subsequent_indent="    "))
    if report.since is not None:
        ref, edits = report.since.ref, report.since.models
        lines.append(
            f"model classes changed since {ref}:" if edits else f"no model class changed since {ref}"
        )
        lines.extend(
            f"  {e.path}: {e.name} {e.status}" + (f" (table {e.table})" if e.table else "") for e in edits
        )
    for written in report.written:
        lines.append(f"wrote {written.path} (revision {written.revision}, revises {written.down_revision})")
    for change in report.deferred:
        lines.append(
            f"not written: {change.kind} {change.table}{'.' + change.column if change.column else ''}"
        )
    for finding in report.lint:
        lines.append(f"lint: {finding.path}:{finding.line}: {finding.rule}: {finding.message}")
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


def _summary(report: DetectReport) -> str:
    if not report.changes:
        return f"no model changes: the history (head {report.head or 'base'}) matches the models"
    counts = Counter(c.risk for c in report.changes)
    by_risk = ", ".join(f"{counts[r]} {r}" for r in RISKS if counts[r])
    return f"{len(report.changes)} model change(s) no migration covers: {by_risk}"
