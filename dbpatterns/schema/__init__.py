"""Catalog snapshots of a live PostgreSQL database and their diff.

    from dbpatterns.schema import snapshot, diff

    before = snapshot(conn)            # a psycopg connection, a SQLAlchemy Connection, or any DB-API one
    ...
    for d in diff(before, snapshot(conn)):
        print(d.describe())            # "index public.ix_orders_total left behind: CREATE INDEX ..."

A snapshot maps ``(kind, name)`` to a text description of one object: tables, columns (type, nullability,
default, identity), constraints (definition and validity), indexes (definition and validity), sequences,
enum types (values in order), domains, views, functions, triggers, policies, extensions and comments.
The Alembic version table is left out (``skip`` names the tables to leave out).
"""

from .snapshot import Difference, Snapshot, diff, snapshot

__all__ = ["Difference", "Snapshot", "diff", "snapshot"]
