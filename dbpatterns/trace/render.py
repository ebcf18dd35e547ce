"""Trace output: a per-statement table for people, the DESIGN.md JSON for programs."""

from __future__ import annotations

import json

from .model import StatementTrace, blocks_reads, blocks_writes

_WIDTH = 50


def render_json(traces: list[StatementTrace]) -> str:
    return json.dumps({"statements": [t.to_dict() for t in traces]}, indent=2) + "\n"


def render_text(traces: list[StatementTrace]) -> str:
    """One row a statement: the locks it took (strongest per relation), rewrites, what it blocks."""
    header = ("line", "ms", "statement", "locks taken", "rewritten", "blocks")
    rows = [header]
    for t in traces:
        strongest = {rel: t.mode(rel, acquired_only=True) for rel, _ in t.acquired}
        locks = ", ".join(f"{rel} {mode}" for rel, mode in strongest.items()) or "-"
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
    held = sum(1 for t in traces if t.in_transaction)
    lines.append("")
    lines.append(
        f"{len(traces)} statement(s); {held} ran in one transaction (locks accumulate until it ends), "
        "then everything was rolled back and the scratch database dropped."
    )
    return "\n".join(lines) + "\n"


def _short(sql: str) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= _WIDTH else flat[: _WIDTH - 3] + "..."
