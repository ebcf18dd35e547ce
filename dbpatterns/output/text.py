"""Human-readable and JSON renderings of lint findings and rules."""

from __future__ import annotations

import gc
import json
import os
import sys

from ..findings import Finding


def _colors() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def render_text(findings: list[Finding], files: int, *, show_fix: bool = True) -> str:
    bold, red, yellow, dim, reset = (
        ("\033[1m", "\033[31m", "\033[33m", "\033[2m", "\033[0m") if _colors() else ("",) * 5
    )
    out = []
    for f in findings:
        color = red if f.severity == "error" else yellow
        out.append(f"{bold}{f.path}:{f.line}:{f.column}{reset}: {color}{f.rule}{reset} {f.message}")
        facts = []
        if f.lock:
            facts.append(f"lock: {f.lock}" + (f" on {f.table}" if f.table else ""))
        if f.rewrites:
            facts.append("rewrites the table")
        if facts:
            out.append(f"  {dim}{'; '.join(facts)}{reset}")
        if f.source:
            out.append(f"  | {f.source}")
        if show_fix and f.fix:
            out.append("  fix:")
            out.extend("    " + line for line in f.fix.splitlines())
        out.append("")
    errors = sum(f.severity == "error" for f in findings)
    summary = f"{len(findings)} finding(s) ({errors} error(s)) in {files} file(s)"
    out.append(summary if findings else f"No problems found in {files} file(s).")
    return "\n".join(out) + "\n"


def stats_line(stats: dict | None) -> str:
    """One line about the operations the lint did not check (skipped under a guard that is false on
    PostgreSQL, or not analysable statically), or "" when every operation seen was analysed."""
    if not stats or not (stats.get("skipped") or stats.get("unanalysed")):
        return ""
    parts = []
    if stats.get("skipped"):
        parts.append(f"{stats['skipped']} skipped under a guard that is false on PostgreSQL")
    if stats.get("unanalysed"):
        parts.append(f"{stats['unanalysed']} not analysed (see opaque-operation and syntax-error)")
    return f"{stats.get('seen', 0)} operation(s) seen, {stats.get('analysed', 0)} analysed; " + ", ".join(
        parts
    )


def json_bytes(findings: list[Finding]) -> bytes:
    """The JSON document of ``findings``, UTF-8 encoded (the command line writes the bytes as they are)."""
    return b"".join(json_pieces([json_items(findings)]))


def json_items(findings: list[Finding]) -> bytes:
    """The finding objects as they stand in the document, indented and separated by commas (b"" for
    none): parts rendered apart (by lint's worker processes, a chunk of files each) join into it."""
    if not findings:
        return b""
    try:
        import orjson
    except ImportError:  # pragma: no cover
        orjson = None
    # thousands of new dicts would set off cycle collections that walk every live object; none is needed
    collecting = gc.isenabled()
    gc.disable()
    try:
        items = [f.to_dict() for f in findings]
        if orjson is None:  # pragma: no cover
            data = json.dumps(items, indent=2, ensure_ascii=False).encode()
        else:
            data = orjson.dumps(items, option=orjson.OPT_INDENT_2)
    finally:
        if collecting:
            gc.enable()
    # b'[\n  {...}\n]': the objects without the brackets, two spaces deeper (strings hold no raw newline)
    return data.replace(b"\n", b"\n  ")[2:-4]


def json_pieces(parts: list[bytes], extra: dict | None = None) -> list[bytes]:
    """``{"findings": [...]}`` around the ``json_items`` parts, in order, as pieces to write one after
    the other: joining megabytes of findings into one bytes object only to write it costs a copy.
    ``extra``: top-level keys after ``findings`` (lint's ``skipped``)."""
    parts = [part for part in parts if part]
    tail = b"".join(
        b",\n  " + json.dumps(k).encode() + b": " + json.dumps(v).encode() for k, v in (extra or {}).items()
    )
    if not parts:
        return [b'{\n  "findings": []' + tail + b"\n}\n"]
    pieces = [b'{\n  "findings": [\n']
    for part in parts:
        pieces += (part, b",\n")
    pieces[-1] = b"\n  ]" + tail + b"\n}\n"
    return pieces
