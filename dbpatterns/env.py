"""Helpers for a project's env.py: a log of applied revisions, and one deploy at a time.

Add them to env.py's online migration function::

    from dbpatterns.env import migration_lock, record_applied

    with connectable.connect() as connection, migration_lock(connection):
        context.configure(connection=connection, target_metadata=target_metadata,
                          on_version_apply=record_applied)
        with context.begin_transaction():
            context.run_migrations()

``record_applied`` (Alembic's ``on_version_apply`` hook) writes one row per applied step to
``dbpatterns_migration_log`` (in the version table's schema), inside the step's transaction: the revision,
upgrade / downgrade / stamp, the revision file's checksum (:mod:`dbpatterns.checksums`), the time, the
database role and the operating-system user. ``dbpatterns drift`` compares those checksums with the files.
It also works in offline mode (``alembic upgrade --sql``): the statements are rendered into the script.

``migration_lock`` takes a PostgreSQL session advisory lock (``pg_try_advisory_lock``, retried until
``timeout``) so two deploys never migrate the same database at once; the second one waits, then fails with
:class:`MigrationLocked`.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import socket
import time
import weakref
from collections.abc import Iterator

from .checksums import file_checksum

LOG_TABLE = "dbpatterns_migration_log"
DEFAULT_LOCK_NAME = "dbpatterns migration"

_ready: weakref.WeakSet = weakref.WeakSet()  # migration contexts whose log table exists


def log_table(schema: str | None = None):
    """The log table as a SQLAlchemy ``Table``."""
    from sqlalchemy import Column, DateTime, MetaData, Table, Text, text

    return Table(
        LOG_TABLE,
        MetaData(),
        Column("revision", Text, nullable=False),
        Column("operation", Text, nullable=False),
        Column("checksum", Text),
        Column(
            "applied_at", DateTime(timezone=True), nullable=False, server_default=text("clock_timestamp()")
        ),
        Column("applied_by", Text, nullable=False, server_default=text("current_user")),
        Column("client_user", Text),
        Column("client_host", Text),
        schema=schema,
    )


def record_applied(*, ctx, step, heads, run_args) -> None:
    """Alembic's ``on_version_apply`` callback: log the step just applied (see the module doc)."""
    from sqlalchemy.schema import CreateTable

    table = log_table(ctx.version_table_schema)
    if ctx not in _ready:
        ctx.execute(CreateTable(table, if_not_exists=True))
        _ready.add(ctx)
    operation = "stamp" if step.is_stamp else "upgrade" if step.is_upgrade else "downgrade"
    rows = []
    for revision_id in step.up_revision_ids:
        script = step.revision_map.get_revision(revision_id)
        path = getattr(script, "path", None)
        checksum = None
        if path:
            with contextlib.suppress(OSError):
                checksum = file_checksum(path)
        rows.append({"revision": revision_id, "operation": operation, "checksum": checksum})
    who, host = _client()
    for row in rows:
        ctx.execute(table.insert().values(**row, client_user=who, client_host=host))


def _client() -> tuple[str | None, str | None]:
    try:
        who = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        who = None
    return who, socket.gethostname() or None


# -- one deploy at a time ------------------------------------------------------------------------------


class MigrationLocked(RuntimeError):
    """Another session holds the migration lock; ``holder`` is its backend pid when known."""

    def __init__(self, message: str, holder: int | None = None) -> None:
        super().__init__(message)
        self.holder = holder


def lock_key(name: str = DEFAULT_LOCK_NAME) -> int:
    """A stable signed 64-bit advisory lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def migration_lock(
    connection, *, timeout: float = 60.0, name: str = DEFAULT_LOCK_NAME, poll: float = 0.5
) -> Iterator[None]:
    """Hold a session advisory lock on ``connection`` (a SQLAlchemy ``Connection``) for the block.

    Retries ``pg_try_advisory_lock`` every ``poll`` seconds until ``timeout``, then raises
    :class:`MigrationLocked`. The lock is taken and released outside the migration's transaction: when
    the connection was not in a transaction, the little transaction the lock query opens is committed so
    env.py's ``begin_transaction()`` still owns the migrations' transaction.
    """
    key = lock_key(name)
    deadline = time.monotonic() + timeout
    while not _scalar(connection, f"SELECT pg_try_advisory_lock({key})"):
        if time.monotonic() >= deadline:
            holder = _holder(connection, key)
            who = f" (held by backend pid {holder})" if holder else ""
            raise MigrationLocked(
                f"another migration is running on this database{who}; gave up after {timeout:g} s", holder
            )
        time.sleep(min(poll, max(0.0, deadline - time.monotonic())))
    try:
        yield
    finally:
        if not connection.closed:
            with contextlib.suppress(Exception):
                _scalar(connection, f"SELECT pg_advisory_unlock({key})")


def _scalar(connection, query: str):
    started = not connection.in_transaction()
    value = connection.exec_driver_sql(query).scalar()
    if started:
        connection.commit()
    return value


def _holder(connection, key: int) -> int | None:
    classid, objid = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
    return _scalar(
        connection,
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
        f"AND classid = {classid} AND objid = {objid} AND objsubid = 1 LIMIT 1",
    )
