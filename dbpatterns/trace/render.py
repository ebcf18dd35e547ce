"""Trace output: a per-statement table for people, the DESIGN.md JSON for programs."""

from __future__ import annotations

from .model import StatementTrace, TraceReport, blocks_reads, blocks_writes

_WIDTH = 50


def trace_data(traces: list[StatementTrace]) -> dict:
    """The JSON document of ``traces`` (DESIGN.md), with ``run_as`` (whom the SQL ran as) when known."""
    return TraceReport(list(traces), getattr(traces, "access", None)).to_dict()


def render_text(traces: list[StatementTrace]) -> str:
    """One row a statement: the locks it took (strongest per relation), rewrites, what it blocks."""
    header = ("line", "ms", "statement", "locks held", "rewritten", "blocks")
    rows = [header]
    earlier = False
    for t in traces:
        strongest = {rel: t.mode(rel) for rel, _ in t.locks}
        held = []
        for rel, mode in strongest.items():
            if (rel, mode) in t.acquired:
                held.append(f"{rel} {mode}")
            else:
                held.append(f"{rel} {mode}*")
                earlier = True
        locks = ", ".join(held) or "-"
        if not t.in_transaction:
            locks += " (sampled, autocommit)"
        blocked = []
        for rel, mode in strongest.items():
            if blocks_reads(mode):
                blocked.append(f"{rel}: reads+writes")
            elif blocks_writes(mode):
                blocked.append(f"{rel}: writes")
        rows.append(
            (
                str(t.line),
                f"{t.duration_ms:.1f}",
                _short(t.sql),
                locks,
                ", ".join(t.rewritten) or "-",
                ", ".join(blocked) or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(w) if i < 2 else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row[:-1], widths, strict=True))
        ]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    lines.append("")
    if earlier:
        lines.append("* taken by an earlier statement of the same transaction and still held")
    lines.append(f"{len(traces)} statement(s) traced on a scratch database, since dropped.")
    access = getattr(traces, "access", None)
    if access is not None:
        lines.append(f"The SQL {access.describe()}.")
    return "\n".join(lines) + "\n"


def _short(sql: str) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= _WIDTH else flat[: _WIDTH - 3] + "..."
