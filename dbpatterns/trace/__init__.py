"""Run a migration on a scratch PostgreSQL database and report, per statement, the locks it holds, the
relations it rewrites and how long it takes; then throw the database away.

    from dbpatterns.trace import trace_sql

    statements = trace_sql("ALTER TABLE t ALTER COLUMN id TYPE bigint", setup="CREATE TABLE t (id int)")

:func:`trace_revision` does the same for an Alembic revision (the scratch database is migrated to the
revision's parent first); :func:`cross_check` compares the lint's findings with a trace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_attributes
from .model import StatementTrace

if TYPE_CHECKING:
    from .crosscheck import cross_check, trace_and_cross_check
    from .run import trace_revision, trace_sql

__all__ = ["StatementTrace", "cross_check", "trace_and_cross_check", "trace_revision", "trace_sql"]

__getattr__ = lazy_attributes(
    __name__,
    {
        "cross_check": "crosscheck",
        "trace_and_cross_check": "crosscheck",
        "trace_revision": "run",
        "trace_sql": "run",
    },
)
