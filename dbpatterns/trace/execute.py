"""Run SQL statement by statement on the scratch database and observe each one.

The change runs on one connection as it would run for real: statements inside the script's own
``BEGIN ... COMMIT`` (Alembic's rendered SQL has one around the upgrade) share one transaction, so their
locks accumulate; a statement outside any block is its own transaction (``in_transaction=True`` puts the
whole script in one, as many migration runners do). After each statement, still inside its transaction,
the connection reads its own locks (pg_locks) and the relfilenodes of every user table and index. A
statement that cannot run in a transaction block (``CREATE INDEX CONCURRENTLY``, ``VACUUM``...) is undone
to a savepoint, the work before it committed (the scratch database is thrown away anyway), and it reruns
in autocommit while a second connection samples its locks. At the end what is still open is rolled back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psycopg
from psycopg.pq import TransactionStatus

from ..errors import InputError
from ..pg.locks import observe, relfilenodes, rewritten, table_locks
from ..pg.sandbox import explain
from ..sql.parse import parse
from .model import Lock, StatementTrace

_OPEN = {"TRANS_STMT_BEGIN", "TRANS_STMT_START"}
_CLOSE = {"TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK", "TRANS_STMT_PREPARE", "TRANS_STMT_COMMIT_PREPARED"}


@dataclass(slots=True)
class Piece:
    """One statement to run: its text and where it comes from (line, last line)."""

    sql: str
    line: int
    end_line: int
    kind: str = ""
    tx: str = ""  # a TransactionStmt's kind: TRANS_STMT_BEGIN, TRANS_STMT_COMMIT...


def split(text: str, where: str, first_line: int = 1) -> list[Piece]:
    """The statements of ``text`` (pglast's parser), with their lines; a syntax error is an InputError."""
    parsed = parse(text)
    if parsed.errors:
        problem = parsed.errors[0]
        raise InputError(f"{where}:{problem.line + first_line - 1}: syntax error: {problem.message}")
    pieces = []
    for stmt in parsed.statements:
        sql = text[stmt.start : stmt.end].strip().rstrip(";").rstrip()
        line = parsed.position(stmt.start)[0] + first_line - 1
        end_line = parsed.position(max(stmt.start, stmt.end - 1))[0] + first_line - 1
        tx = stmt.body.get("kind", "") if stmt.kind == "TransactionStmt" else ""
        pieces.append(Piece(sql, line, end_line, stmt.kind, tx))
    return pieces


def run_setup(url: str, pieces: list[Piece], where: str) -> None:
    """Run the setup statements one by one in autocommit; a failure names the statement's line."""
    with _connect(url) as conn:
        for piece in pieces:
            try:
                conn.execute(piece.sql)
            except psycopg.Error as exc:
                raise InputError(f"{where}:{piece.line}: setup statement failed: {_message(exc)}") from None


def run_change(
    url: str, pieces: list[Piece], where: str, *, in_transaction: bool = False
) -> list[StatementTrace]:
    """Run and observe the change's statements; roll back what is still open at the end.

    The script's BEGIN/COMMIT/ROLLBACK delimit transactions (they are not traced themselves); savepoints
    run as written.
    """
    traces = []
    with _connect(url) as conn:
        pid = conn.info.backend_pid
        block = in_transaction  # inside a transaction the script opened (or the runner's one)
        conn.execute("BEGIN")
        try:
            for piece in pieces:
                if piece.tx in _OPEN:
                    block = True
                elif piece.tx in _CLOSE:
                    conn.execute("ROLLBACK" if piece.tx == "TRANS_STMT_ROLLBACK" else "COMMIT")
                    conn.execute("BEGIN")
                    block = in_transaction
                elif piece.tx:
                    _execute(conn, piece, where)
                else:
                    traces.append(_one(conn, url, pid, piece, where))
                    if not block:  # a statement of its own: its transaction ends with it
                        conn.execute("COMMIT")
                        conn.execute("BEGIN")
        finally:
            if conn.info.transaction_status != TransactionStatus.IDLE:
                conn.execute("ROLLBACK")
    return traces


def _execute(conn: psycopg.Connection, piece: Piece, where: str) -> None:
    try:
        conn.execute(piece.sql)
    except psycopg.Error as exc:
        raise InputError(f"{where}:{piece.line}: statement failed: {_message(exc)}") from None


def _one(conn: psycopg.Connection, url: str, pid: int, piece: Piece, where: str) -> StatementTrace:
    nodes = relfilenodes(conn)
    held = table_locks(conn, pid)
    conn.execute("SAVEPOINT dbpatterns_trace")
    started = time.perf_counter()
    try:
        conn.execute(piece.sql)
    except psycopg.errors.ActiveSqlTransaction:
        conn.execute("ROLLBACK TO SAVEPOINT dbpatterns_trace")
        return _autocommit(conn, url, piece, where)
    except psycopg.Error as exc:
        raise InputError(f"{where}:{piece.line}: statement failed: {_message(exc)}") from None
    duration = (time.perf_counter() - started) * 1000
    conn.execute("RELEASE SAVEPOINT dbpatterns_trace")
    locks = [Lock(*lock) for lock in table_locks(conn, pid)]
    changed = rewritten(nodes, relfilenodes(conn))
    acquired = [lock for lock in locks if lock not in held]
    return StatementTrace(
        piece.sql,
        piece.line,
        piece.end_line,
        locks=locks,
        rewritten=sorted(changed),
        duration_ms=round(duration, 3),
        acquired=acquired,
    )


def _autocommit(conn: psycopg.Connection, url: str, piece: Piece, where: str) -> StatementTrace:
    conn.execute("COMMIT")  # the statements before it must be visible to it; the database is scratch
    try:
        seen = observe(url, None, piece.sql, autocommit=True)
    except InputError as exc:
        raise InputError(f"{where}:{piece.line}: {exc}") from None
    finally:
        conn.execute("BEGIN")
    locks = [Lock(*lock) for lock in seen.locks]
    return StatementTrace(
        piece.sql,
        piece.line,
        piece.end_line,
        locks=locks,
        rewritten=sorted(seen.rewritten),
        duration_ms=round(seen.duration_ms, 3),
        acquired=locks,
        in_transaction=False,
    )


def _connect(url: str) -> psycopg.Connection:
    try:
        return psycopg.connect(url, autocommit=True)
    except psycopg.Error as exc:
        raise InputError(f"cannot connect to the scratch database: {_message(exc)}") from None


def _message(exc: psycopg.Error) -> str:
    diag = getattr(exc, "diag", None)
    primary = diag.message_primary if diag is not None else None
    text = primary or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return " ".join(text.split()) + explain(exc)
