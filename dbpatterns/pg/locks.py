"""Which locks a statement takes and which relations it rewrites, observed on a real server.

:func:`observe` is the whole recipe; :func:`table_locks`, :func:`relfilenodes` and :func:`mode_name` are
its parts, for a tracer that runs several statements in one transaction.

Relations are named ``name`` in schema ``public`` and ``schema.name`` elsewhere. Only user relations are
reported: ``pg_catalog``, ``information_schema`` and TOAST relations are left out. Lock modes are spelled
as in the documentation and ``LOCK TABLE``: ``ACCESS EXCLUSIVE``, ``SHARE ROW EXCLUSIVE``...
"""

from __future__ import annotations

import re
import select
import time
from dataclasses import dataclass

import psycopg

from dbpatterns.errors import first_line
from dbpatterns.pg.errors import PgError
from dbpatterns.pg.sandbox import explain, explain_error

#: Table lock modes, weakest first.
LOCK_MODES = (
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
)
_STRENGTH = {mode: i for i, mode in enumerate(LOCK_MODES)}

_NAME = "CASE WHEN n.nspname = 'public' THEN c.relname::text ELSE n.nspname || '.' || c.relname END"
_USER = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND left(n.nspname, 8) <> 'pg_toast'"
_LOCKS_SQL = f"""
    SELECT {_NAME}, l.mode
    FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE l.locktype = 'relation' AND l.pid = %s
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND {_USER}
"""
_FILENODES_SQL = f"""
    SELECT {_NAME}, c.relfilenode
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'm', 'i') AND c.relfilenode <> 0 AND {_USER}
"""


@dataclass(frozen=True, slots=True)
class Observation:
    """What one statement did.

    ``locks``: (relation, mode) pairs, sorted by relation then strongest first. ``rewritten``: relations
    whose relfilenode changed (a table rewrite, or an index rebuilt under the same name).
    ``in_transaction`` is False when the statement had to run in autocommit: then the locks were sampled
    from a second connection (a lock still waited for counts: it is the mode the statement needs) and
    the statement was not rolled back. Sampling is best effort: a lock held
    for less than a sampling round trip (a fraction of a millisecond) can be missed -- ``VACUUM FULL`` of
    a one-row table often is; with a few thousand rows it is seen. ``duration_ms`` is the wall time.
    """

    locks: list[tuple[str, str]]
    rewritten: set[str]
    in_transaction: bool = True
    duration_ms: float = 0.0

    def mode(self, relation: str) -> str | None:
        """The strongest mode taken on ``relation``, or None."""
        return next((mode for rel, mode in self.locks if rel == relation), None)


def mode_name(pg_mode: str) -> str:
    """``AccessExclusiveLock`` (as in pg_locks) -> ``ACCESS EXCLUSIVE``."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", pg_mode.removesuffix("Lock")).upper()


def sort_locks(locks) -> list[tuple[str, str]]:
    return sorted(set(locks), key=lambda lock: (lock[0], -_STRENGTH.get(lock[1], -1), lock[1]))


def table_locks(conn: psycopg.Connection, pid: int) -> list[tuple[str, str]]:
    """The relation locks backend ``pid`` holds or waits for now, on user relations of ``conn``'s database."""
    rows = conn.execute(_LOCKS_SQL, (pid,)).fetchall()
    return sort_locks((rel, mode_name(mode)) for rel, mode in rows)


def relfilenodes(conn: psycopg.Connection) -> dict[str, int]:
    """Relfilenode of every user table, materialized view and index, by relation name."""
    return dict(conn.execute(_FILENODES_SQL).fetchall())


def rewritten(before: dict[str, int], after: dict[str, int]) -> set[str]:
    return {rel for rel, node in after.items() if rel in before and before[rel] != node}


def observe(
    conn_url: str,
    setup_sql: str | None,
    statement_sql: str,
    *,
    autocommit: bool | None = None,
    timeout: float = 60.0,
) -> Observation:
    """Run ``setup_sql`` (committed), then ``statement_sql``, and report its locks and rewrites.

    By default the statement runs inside a transaction: ``BEGIN``, the statement, a read of ``pg_locks``
    for our own backend, a read of the relfilenodes, ``ROLLBACK`` -- so the database is left as the
    setup made it. Statements that cannot run in a transaction block (``CREATE INDEX CONCURRENTLY``,
    ``REINDEX CONCURRENTLY``, ``VACUUM``...) are retried in autocommit mode, where a second connection
    samples the locks while the statement runs; their effects stay. ``autocommit=True`` forces that mode,
    ``False`` forbids it. Pass one statement at a time: several in one string run as one implicit
    transaction. ``timeout`` (seconds) is the statement timeout. Use a scratch database.
    """
    try:
        conn = psycopg.connect(conn_url, autocommit=True)
    except psycopg.Error as exc:
        raise PgError(f"cannot connect to the database: {first_line(exc)}") from None
    with conn:
        conn.execute(f"SET statement_timeout = {int(timeout * 1000)}")
        if setup_sql and setup_sql.strip():
            _run(conn, setup_sql, "setup")
        if autocommit:
            return _observe_autocommit(conn, conn_url, statement_sql, timeout)
        before = relfilenodes(conn)
        conn.execute("BEGIN")
        try:
            started = time.perf_counter()
            try:
                conn.execute(statement_sql)
            except psycopg.errors.ActiveSqlTransaction:
                if autocommit is False:
                    raise
                conn.execute("ROLLBACK")
                return _observe_autocommit(conn, conn_url, statement_sql, timeout)
            duration = (time.perf_counter() - started) * 1000
            locks = table_locks(conn, conn.info.backend_pid)
            changed = rewritten(before, relfilenodes(conn))
        except psycopg.Error as exc:
            raise PgError(f"statement failed: {first_line(exc)}{explain(exc)}") from exc
        finally:
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.execute("ROLLBACK")
    return Observation(locks, changed, True, duration)


def _observe_autocommit(conn: psycopg.Connection, conn_url: str, sql: str, timeout: float) -> Observation:
    """Run ``sql`` in autocommit and sample its locks from a second connection while it runs.

    One thread: the statement is sent without waiting (libpq's asynchronous API) and the sampler's
    prepared query loops until its result arrives, one round trip (a fraction of a millisecond) apart;
    after the first 100 ms, one sample a millisecond.
    """
    before = relfilenodes(conn)
    pid = conn.info.backend_pid
    seen: set[tuple[str, str]] = set()
    try:
        sampler = psycopg.connect(conn_url, autocommit=True)
    except psycopg.Error as exc:
        raise PgError(f"cannot connect a lock sampler: {first_line(exc)}") from None
    with sampler:

        def sample() -> None:
            seen.update(sampler.execute(_LOCKS_SQL, (pid,), prepare=True).fetchall())

        sample()  # warm the plan and the caches before the statement starts
        pgconn = conn.pgconn
        started = time.perf_counter()
        deadline = started + timeout + 5
        pgconn.send_query(sql.encode(conn.info.encoding))
        while pgconn.flush():  # psycopg's connections are non-blocking: push the query out now
            select.select([], [pgconn.socket], [], 0.01)
        while True:
            sample()
            pgconn.consume_input()
            if not pgconn.is_busy():
                break
            now = time.perf_counter()
            if now > deadline:
                sampler.execute("SELECT pg_cancel_backend(%s)", (pid,))
                deadline = float("inf")
            if now - started > 0.1:  # wake up at once when the result arrives
                select.select([pgconn.socket], [], [], 0.001)
        duration = (time.perf_counter() - started) * 1000
        errors = []
        while (result := pgconn.get_result()) is not None:
            if result.status == psycopg.pq.ExecStatus.FATAL_ERROR:
                errors.append(result)
    if errors:

        def field(code) -> str:
            return (errors[0].error_field(code) or b"").decode(conn.info.encoding, "replace")

        fields = psycopg.pq.DiagnosticField
        message = errors[0].error_message.decode(conn.info.encoding, "replace").removeprefix("ERROR:").strip()
        primary, detail = field(fields.MESSAGE_PRIMARY), field(fields.MESSAGE_DETAIL)
        note = explain_error(field(fields.SQLSTATE) or None, primary, detail)
        raise PgError(f"statement failed: {message.splitlines()[0]}{note}")
    changed = rewritten(before, relfilenodes(conn))
    return Observation(sort_locks((rel, mode_name(mode)) for rel, mode in seen), changed, False, duration)


def _run(conn: psycopg.Connection, sql: str, what: str) -> None:
    try:
        conn.execute(sql)
    except psycopg.Error as exc:
        raise PgError(f"{what} failed: {first_line(exc)}") from exc
