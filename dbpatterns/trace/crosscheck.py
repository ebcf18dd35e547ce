"""The lint's claims against a trace: each finding that names a lock or a rewrite of its table is
compared with what the statement it points at did on the server. A disagreement is a bug in a rule and is
reported as a ``trace-disagrees`` finding."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path

from ..findings import Finding
from ..lint.registry import get_rule
from ..pg import throwaway_server
from .model import StatementTrace, strongest
from .run import read_text, trace_sql

RULE = "trace-disagrees"
# Rules whose finding names the lock the transaction already holds, not the one the statement asks for.
HELD_LOCK_RULES = {"validate-in-same-transaction", "work-under-exclusive-lock"}


def cross_check(findings: Iterable[Finding], traces: list[StatementTrace]) -> list[Finding]:
    """``trace-disagrees`` findings for the claims of ``findings`` (one file's) the trace contradicts."""
    out = []
    for f in findings:
        if f.rule == RULE or not f.table or not (f.lock or f.rewrites):
            continue  # a finding about style or maintainability claims nothing about locks or rewrites
        stmt = next((s for s in traces if s.line <= f.line <= s.end_line), None)
        if stmt is None:
            continue
        relation = f.table.removeprefix("public.")
        if not any(rel == relation for rel, _ in stmt.locks) and relation not in stmt.rewritten:
            if stmt.in_transaction:
                out.append(_disagree(f, relation, "the statement took no lock on it", None, False))
            continue
        claims, seen = [], []
        rewritten = relation in stmt.rewritten
        if f.rewrites != rewritten:
            claims.append("rewrites it" if f.rewrites else "does not rewrite it")
            seen.append("a rewrite" if rewritten else "no rewrite")
        taken = _taken(f, stmt, relation)
        if f.lock and taken is not None and taken != f.lock:
            claims.append(f"takes {f.lock}")
            seen.append(taken)
        if claims:
            out.append(_disagree(f, relation, " and ".join(seen), taken, rewritten, " and ".join(claims)))
    return out


def _taken(f: Finding, stmt: StatementTrace, relation: str) -> str | None:
    if f.rule in HELD_LOCK_RULES:
        return stmt.mode(relation)
    new = stmt.mode(relation, acquired_only=True)
    if new is not None:
        return new
    held = {mode for rel, mode in stmt.locks if rel == relation}
    return f.lock if f.lock in held else strongest(held)  # asked for a mode the transaction already held


def _disagree(f, relation, seen, lock, rewritten, claim=None) -> Finding:
    rule = get_rule(RULE)
    claim = claim or (f"takes {f.lock}" if f.lock else "rewrites it")
    said = f"{f.rule} says the statement {claim} on {relation}; the trace saw {seen}."
    if f.hedged:
        severity = "info"
        verdict = " The rule said it may, not knowing the schema; the trace settles it"
    else:
        severity = rule.severity
        verdict = " This is a bug in dbpatterns' rules: please report it"
    return Finding(
        rule=RULE,
        severity=severity,
        path=f.path,
        line=f.line,
        column=f.column,
        message=said + verdict,
        lock=lock,
        table=f.table,
        rewrites=rewritten,
        fix=rule.fix,
        source=f.source,
    )


def trace_and_cross_check(
    files: Iterable[tuple[str, Path | None]],
    findings: list[Finding],
    *,
    setup: Path | None = None,
    rows: int = 0,
    db: str | None = None,
    in_transaction: bool = False,
) -> list[Finding]:
    """Trace every .sql file of ``files`` (display name, path) after ``setup`` and cross-check the
    findings made on it. One server for all of them: the embedded one, or ``db``."""
    sql_files = [(display, path) for display, path in files if path is not None and path.suffix == ".sql"]
    if not sql_files:
        return []
    setup_text = read_text(setup, "--setup") if setup else None
    out: list[Finding] = []
    with contextlib.ExitStack() as stack:
        url = db or stack.enter_context(throwaway_server()).url("postgres")
        for display, path in sql_files:
            mine = [f for f in findings if f.path == display]
            if not any(f.table and (f.lock or f.rewrites) for f in mine):
                continue
            traces = trace_sql(
                read_text(path, display),
                setup=setup_text,
                rows=rows,
                db=url,
                change_name=display,
                setup_name=str(setup),
                in_transaction=in_transaction,
            )
            out += cross_check(mine, traces)
    return out
