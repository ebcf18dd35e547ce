"""A scratch database where users' SQL can do no harm to the server: a role made for the run, and a time
limit the SQL cannot lift.

Trace and verify run SQL they were given (a trace's setup and change, an Alembic history through its
env.py). On a throwaway server :func:`sandbox` runs it as a role created for the run: it owns the scratch
database and nothing else (``NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS``, a member of
no role, so not of ``pg_read_server_files``, ``pg_write_server_files``, ``pg_execute_server_program`` or
``pg_read_all_*``). ``pg_read_file``, ``COPY ... FROM PROGRAM``, ``COPY ... TO '/file'``, ``ALTER
SYSTEM``, ``ALTER ROLE`` of another role and ``CREATE ROLE`` are refused by the server, and
:func:`explain` adds to such an error which privilege the role lacks and the opt-in (``--superuser``, a
command line flag only: :func:`superuser` here) that runs the SQL as the superuser instead.

Extensions: PostgreSQL 13+ lets a database owner create the extensions marked ``trusted`` (citext,
btree_gist, pg_trgm, hstore...). The others the SQL names literally (pgvector's ``vector``...) are
created beforehand by the superuser when the server ships them, so ``CREATE EXTENSION IF NOT EXISTS``
then succeeds as the role.

Time: a watchdog on a connection of its own cancels (``pg_cancel_backend``, then ``pg_terminate_backend``)
any statement of the scratch database running longer than the limit (``DBPATTERNS_STATEMENT_TIMEOUT``
seconds, default 120; 0 for none), on the wall clock: ``SET statement_timeout = 0`` cannot lift it.
A caller that may be given up on (the MCP server, when its client cancels a request or goes away) hands an
event to :func:`abort_on`: once it is set, the watchdog ends every connection to the scratch database
(``pg_terminate_backend``), so the run unwinds at once and frees what it holds (the MCP run lock).

Every role and scratch database is marked with its owner process (:mod:`dbpatterns.pg.owner`); those of
a process that is gone (killed) are dropped the next time a sandbox is made on the same server.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit, urlunsplit

from dbpatterns.errors import first_line
from dbpatterns.pg.errors import PgError
from dbpatterns.pg.owner import my_mark, owner_alive
from dbpatterns.shapes import Record, described

log = logging.getLogger("dbpatterns.pg")

ROLE_PREFIX = "dbpatterns_run_"
DATABASE_PREFIX = "dbpatterns_scratch_"
MARK_PREFIX = "dbpatterns run of process "
TIME_LIMIT_ENV = "DBPATTERNS_STATEMENT_TIMEOUT"
DEFAULT_TIME_LIMIT = 120.0
_POLL = 0.25  # seconds between two looks of the watchdog
_GRACE = 3.0  # seconds a cancelled statement has to end before its backend is terminated

_superuser: contextvars.ContextVar[bool] = contextvars.ContextVar("dbpatterns_superuser", default=False)
_limit: contextvars.ContextVar[float | None] = contextvars.ContextVar("dbpatterns_limit", default=None)
_abort: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "dbpatterns_abort", default=None
)


@dataclass(frozen=True, slots=True)
class Access(Record):
    """Whom the users' SQL ran as: ``restricted`` (a role made for the run), ``superuser`` (the opt-in) or
    ``given`` (the role of a ``--db`` URL, as the user gave it)."""

    mode: str = described(
        "restricted: a role made for the run, owning only the scratch database; "
        "superuser: the --superuser opt-in; "
        "given: the role of the server URL given (--db, DBPATTERNS_SERVER_URL or server_url), as given"
    )
    role: str

    def describe(self) -> str:
        if self.mode == "restricted":
            return f"ran as {self.role}, a role made for this run that owns only the scratch database"
        if self.mode == "superuser":
            return f"ran as the superuser {self.role} (--superuser)"
        return (
            f"ran as {self.role}, the role of the server URL given (--db, DBPATTERNS_SERVER_URL or "
            "server_url), with the privileges it has there"
        )


@dataclass(slots=True)
class Sandbox:
    url: str  # libpq URL of the scratch database, as the run's role
    name: str
    access: Access
    limit: float
    precreated: tuple[str, ...] = ()  # extensions the superuser created beforehand
    cancelled: list[str] = field(default_factory=list)  # statements the watchdog cancelled
    abort: threading.Event | None = None  # set: the caller gave up, end the run now
    aborted: bool = False  # the watchdog ended the run because ``abort`` was set


_current: contextvars.ContextVar[Sandbox | None] = contextvars.ContextVar("dbpatterns_sandbox", default=None)


@contextlib.contextmanager
def superuser(on: bool = True) -> Iterator[None]:
    """Within the block, sandboxes run the SQL as the superuser (the command line's ``--superuser``)."""
    token = _superuser.set(on)
    try:
        yield
    finally:
        _superuser.reset(token)


@contextlib.contextmanager
def abort_on(event: threading.Event) -> Iterator[None]:
    """Within the block, sandboxes end their run when ``event`` is set (see the module's documentation)."""
    token = _abort.set(event)
    try:
        yield
    finally:
        _abort.reset(token)


@contextlib.contextmanager
def statement_limit(seconds: float) -> Iterator[None]:
    """Within the block, sandboxes cancel statements after ``seconds`` (over ``DBPATTERNS_STATEMENT_TIMEOUT``;
    a server that answers for a client that may give up, like the MCP server, sets a short one)."""
    token = _limit.set(float(seconds))
    try:
        yield
    finally:
        _limit.reset(token)


def time_limit() -> float:
    """Seconds a statement may run (:func:`statement_limit`, else ``DBPATTERNS_STATEMENT_TIMEOUT``); 0 means
    no limit."""
    if (given := _limit.get()) is not None:
        return given
    raw = os.environ.get(TIME_LIMIT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIME_LIMIT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise PgError(f"{TIME_LIMIT_ENV} must be a number of seconds (0: no limit), not {raw!r}")
    return value


def with_login(url: str, *, user: str | None = None, dbname: str | None = None) -> str:
    """``url`` (libpq) with another user name and/or database; the rest (host, port, options) kept."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if user is not None:
        netloc = f"{quote(user, safe='')}@{netloc.rpartition('@')[2]}"
    path = parts.path if dbname is None else "/" + quote(dbname, safe="")
    return urlunsplit(parts._replace(netloc=netloc, path=path))


@contextlib.contextmanager
def sandbox(
    admin_url: str,
    *,
    extensions: Iterable[str] = (),
    superuser: bool | None = None,
    limit: float | None = None,
) -> Iterator[Sandbox]:
    """A scratch database on the server of ``admin_url`` (a superuser's libpq URL of a throwaway server),
    for the users' SQL; dropped, with its role, when the block ends. See the module's documentation."""
    import psycopg
    from psycopg import sql

    as_superuser = _superuser.get() if superuser is None else superuser
    limit = time_limit() if limit is None else limit
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=15)
    except psycopg.Error as exc:
        raise PgError(f"cannot connect to the throwaway PostgreSQL: {first_line(exc)}") from None
    with admin:
        reap_dead_runs(admin)
        token = secrets.token_hex(5)
        name = DATABASE_PREFIX + token
        ident = sql.Identifier(name)
        mark = sql.Literal(MARK_PREFIX + my_mark())
        role = None if as_superuser else ROLE_PREFIX + token
        try:
            if role is not None:
                _admin(
                    admin,
                    sql.SQL(
                        "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
                    ).format(sql.Identifier(role)),
                    "create the run's role",
                )
                _admin(admin, sql.SQL("COMMENT ON ROLE {} IS {}").format(sql.Identifier(role), mark), "")
            owner = sql.Identifier(role or admin.info.user)
            _admin(
                admin,
                sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE template0 STRATEGY FILE_COPY").format(
                    sql.Identifier(name), owner
                ),
                "create the scratch database",
            )
            try:
                _admin(admin, sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), mark), "")
                # no other run's role may connect to it (nor this role to theirs)
                _admin(
                    admin,
                    sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(
                        sql.Identifier(name)
                    ),
                    "",
                )
                db_admin_url = with_login(admin_url, dbname=name)
                precreated = _precreate(db_admin_url, extensions) if role is not None else ()
                user = role or admin.info.user
                access = Access("superuser" if role is None else "restricted", user)
                box = Sandbox(with_login(db_admin_url, user=user), name, access, limit, precreated)
                with watched(admin_url, box):
                    yield box
            finally:
                with contextlib.suppress(psycopg.Error):
                    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        finally:
            if role is not None:
                try:
                    admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
                except psycopg.Error as exc:  # left for the server's lifetime; a dead owner's is reaped
                    log.debug("cannot drop the run's role %s: %s", role, first_line(exc))


@contextlib.contextmanager
def watched(admin_url: str, box: Sandbox) -> Iterator[Sandbox]:
    """Within the block, ``box`` is the current sandbox (for :func:`explain`) and a watchdog cancels its
    database's statements that run longer than ``box.limit`` (as seen from ``admin_url``'s connection)."""
    if box.abort is None:
        box.abort = _abort.get()
    dog = _Watchdog(admin_url, box) if box.limit > 0 or box.abort is not None else None
    if dog is not None:
        dog.start()
    token = _current.set(box)
    try:
        yield box
    finally:
        _current.reset(token)
        if dog is not None:
            dog.stop()


def reap_dead_runs(admin) -> None:
    """Drop the scratch databases and roles left on this server by runs whose process is gone."""
    import psycopg
    from psycopg import sql

    try:
        databases = admin.execute(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database WHERE datname LIKE %s",
            [DATABASE_PREFIX.replace("_", r"\_") + "%"],
        ).fetchall()
        roles = admin.execute(
            "SELECT rolname, shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname LIKE %s",
            [ROLE_PREFIX.replace("_", r"\_") + "%"],
        ).fetchall()
    except psycopg.Error:
        return
    for kind, rows in (("DATABASE", databases), ("ROLE", roles)):
        for name, comment in rows:
            if (
                not (comment or "").startswith(MARK_PREFIX)
                or owner_alive(comment[len(MARK_PREFIX) :]) is not False
            ):
                continue
            force = sql.SQL(" WITH (FORCE)") if kind == "DATABASE" else sql.SQL("")
            query = sql.SQL("DROP {} IF EXISTS {}{}").format(sql.SQL(kind), sql.Identifier(name), force)
            try:
                admin.execute(query)
                log.debug("dropped %s %s of a run that is gone", kind.lower(), name)
            except psycopg.Error as exc:
                log.debug("cannot drop %s %s: %s", kind.lower(), name, first_line(exc))


def explain(exc: BaseException) -> str:
    """What to add to the message of ``exc``, raised by the users' SQL in the current sandbox: the privilege
    the run's role lacks and the opt-in, or the time limit that cancelled it; "" when nothing."""
    err = _driver_error(exc)
    diag = getattr(err, "diag", None)
    return explain_error(
        getattr(err, "sqlstate", None),
        getattr(diag, "message_primary", None) or "",
        getattr(diag, "message_detail", None) or "",
    )


def explain_error(state: str | None, primary: str = "", detail: str = "") -> str:
    """:func:`explain` for an error given by its SQLSTATE, primary message and detail."""
    box = _current.get()
    if box is None:
        return ""
    if box.aborted and state in ("57014", "57P01", None):
        return " (the caller gave up: the run was ended)"
    if box.cancelled and state in ("57014", "57P01", None):  # query_canceled, admin_shutdown, a lost link
        return (
            f" (it ran longer than {box.limit:g} s, the time limit per statement, and was cancelled;"
            f" {TIME_LIMIT_ENV} sets the limit in seconds)"
        )
    if box.access.mode != "restricted":
        return ""
    if state == "42501":  # insufficient_privilege
        for name in box.precreated:
            if primary == f"must be owner of extension {name}":
                return (
                    f" (dbpatterns created the extension {name} beforehand as the superuser, since the run's"
                    f" role {box.access.role} cannot create it; dropping and creating it again needs"
                    " --superuser (trace, verify, drift))"
                )
        detail = " ".join(detail.split())
        needs = f"{detail.rstrip('.')}; " if detail else ""
        return (
            f" ({needs}the SQL runs as {box.access.role}, a role that is not a superuser and owns only the"
            " scratch database; rerun with --superuser (trace, verify, drift) to run it as the superuser)"
        )
    if state == "42710":  # duplicate_object
        for name in box.precreated:
            if primary == f'extension "{name}" already exists':
                return (
                    f" (dbpatterns created the extension {name} beforehand as the superuser, since the run's"
                    " role cannot: write CREATE EXTENSION IF NOT EXISTS, or rerun with --superuser)"
                )
    return ""


def time_note() -> str:
    """The time-limit note when the current sandbox's watchdog cancelled a statement, else ""."""
    box = _current.get()
    return explain_error(None) if box is not None and box.cancelled else ""


def _driver_error(exc: BaseException | None):
    """The psycopg error behind ``exc`` (itself, SQLAlchemy's ``orig``, or a cause), or None."""
    seen = 0
    while exc is not None and seen < 5:
        if getattr(exc, "sqlstate", None) is not None or type(exc).__module__.startswith("psycopg"):
            return exc
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
        seen += 1
    return None


def _admin(conn, query, what: str) -> None:
    import psycopg

    try:
        conn.execute(query)
    except psycopg.Error as exc:
        if not what:
            raise PgError(f"cannot prepare the scratch database: {first_line(exc)}") from None
        raise PgError(f"cannot {what}: {first_line(exc)}") from None


def _precreate(db_admin_url: str, names: Iterable[str]) -> tuple[str, ...]:
    """Create, as the superuser, the extensions of ``names`` the server ships and a database owner cannot
    create (not ``trusted``); returns those created. A failure is left for the SQL to meet."""
    import psycopg
    from psycopg import sql

    wanted = sorted(set(names))
    if not wanted:
        return ()
    done = []
    with psycopg.connect(db_admin_url, autocommit=True) as conn:
        if conn.info.server_version >= 130000:
            query = (
                "SELECT name FROM pg_available_extension_versions WHERE name = ANY(%s)"
                " GROUP BY name HAVING NOT bool_or(trusted)"
            )
        else:  # before 13 no extension is trusted
            query = "SELECT name FROM pg_available_extensions WHERE name = ANY(%s)"
        for (name,) in conn.execute(query, [wanted]).fetchall():
            try:
                conn.execute(
                    sql.SQL("CREATE EXTENSION IF NOT EXISTS {} CASCADE").format(sql.Identifier(name))
                )
                done.append(name)
            except psycopg.Error as exc:
                log.debug("cannot create extension %s beforehand: %s", name, first_line(exc))
    return tuple(done)


class _Watchdog:
    """Cancels the sandbox database's statements that run past the limit, from a connection of its own."""

    def __init__(self, admin_url: str, box: Sandbox) -> None:
        self.admin_url = admin_url
        self.box = box
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="dbpatterns-watchdog", daemon=True)
        self.conn = None

    def start(self) -> None:
        import psycopg

        try:
            self.conn = psycopg.connect(self.admin_url, autocommit=True, connect_timeout=15)
        except psycopg.Error as exc:
            raise PgError(f"cannot connect to watch the scratch database: {first_line(exc)}") from None
        self.thread.start()

    def stop(self) -> None:
        self.done.set()
        self.thread.join(5)
        if self.conn is not None and not self.thread.is_alive():
            with contextlib.suppress(Exception):
                self.conn.close()

    def _run(self) -> None:
        import psycopg

        cancelled: dict[tuple[int, object], float] = {}  # (pid, query_start) -> when it was cancelled
        query = """
            SELECT pid, query_start, query, extract(epoch FROM clock_timestamp() - query_start)
            FROM pg_stat_activity
            WHERE datname = %s AND state = 'active' AND pid <> pg_backend_pid()
        """
        every = (
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()"
        )
        abort = self.box.abort
        while not self.done.wait(_POLL):
            try:
                if abort is not None and abort.is_set():  # the caller gave up: end the run's connections
                    self.box.aborted = True
                    self.conn.execute(every, [self.box.name])
                    continue
                if self.box.limit <= 0:
                    continue
                rows = self.conn.execute(query, [self.box.name]).fetchall()
                for pid, started, text, seconds in rows:
                    key = (pid, started)
                    if key in cancelled:
                        if time.monotonic() - cancelled[key] > _GRACE:
                            self.conn.execute("SELECT pg_terminate_backend(%s)", [pid])
                    elif seconds is not None and seconds > self.box.limit:
                        cancelled[key] = time.monotonic()
                        self.box.cancelled.append(" ".join((text or "").split())[:200])
                        self.conn.execute("SELECT pg_cancel_backend(%s)", [pid])
            except psycopg.Error as exc:  # the server went away: nothing left to watch
                log.debug("the watchdog stops: %s", first_line(exc))
                return
