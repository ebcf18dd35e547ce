"""Take a snapshot with one catalog query; compare two snapshots object by object."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .catalog import SQL

Snapshot = dict[tuple[str, str], str]  # (kind, name) -> detail


def snapshot(conn, skip: Iterable[str] = ("alembic_version",)) -> Snapshot:
    """The user objects of the database ``conn`` is connected to (tables named in ``skip`` left out).

    ``conn`` is a SQLAlchemy ``Connection`` (its transaction sees uncommitted DDL) or a DB-API connection.
    """
    names = ", ".join("'" + name.replace("'", "''") + "'" for name in skip)
    query = SQL.replace("/*SKIP*/", f"ARRAY[{names}]::text[]" if names else "ARRAY[]::text[]")
    if hasattr(conn, "exec_driver_sql"):
        rows = conn.exec_driver_sql(query).fetchall()
    else:
        cur = conn.cursor()
        try:
            cur.execute(query)
            rows = cur.fetchall()
        finally:
            cur.close()
    return {(kind, name): " ".join((detail or "").split()) for kind, name, detail in rows}


@dataclass(frozen=True, slots=True)
class Difference:
    """One object that differs: ``change`` is ``added`` (only in the second snapshot), ``removed`` (only in
    the first) or ``changed``."""

    kind: str
    name: str
    change: str
    before: str | None
    after: str | None

    def describe(self, added: str = "added", removed: str = "removed") -> str:
        what = f"{self.kind} {self.name}"
        if self.change == "added":
            return f"{what} {added}" + (f": {self.after}" if self.after else "")
        if self.change == "removed":
            return f"{what} {removed}" + (f": {self.before}" if self.before else "")
        return f"{what} changed: {self.before!r} became {self.after!r}"

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "object": self.name,
            "change": self.change,
            "before": self.before,
            "after": self.after,
        }


def diff(before: Snapshot, after: Snapshot) -> list[Difference]:
    """The objects that differ between two snapshots, sorted by kind and name."""
    out = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        change = "added" if old is None else "removed" if new is None else "changed"
        out.append(Difference(key[0], key[1], change, old, new))
    return out
