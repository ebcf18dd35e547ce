"""Read a live database without writing to it: every connection is opened read-only
(``default_transaction_read_only=on`` at connect, then ``SET SESSION CHARACTERISTICS AS TRANSACTION READ
ONLY``), and every transaction is rolled back."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..env import LOG_TABLE
from ..errors import InputError, first_line
from ..schema import Snapshot, snapshot
from ..sql.names import quote
from ..trace.database import libpq_url, mask, psycopg_url

VERSION_TABLE = "alembic_version"
READ_ONLY = "-c default_transaction_read_only=on"


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    schema: str | None = None  # a tenant schema (schema-per-tenant layouts)

    @property
    def label(self) -> str:
        return mask(self.url) + (f" schema {self.schema}" if self.schema else "")


@dataclass
class LiveState:
    versions: list[str] | None  # None: no version table
    snapshot: Snapshot
    log: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # revision -> (operation, checksum)


def connect(target: Target):
    """A read-only psycopg connection to the target (search_path set to its tenant schema)."""
    import psycopg

    options = READ_ONLY + (f" -c search_path={quote(target.schema)}" if target.schema else "")
    try:
        conn = psycopg.connect(libpq_url(target.url), options=options, connect_timeout=10)
    except psycopg.Error as exc:
        raise InputError(f"cannot connect to {target.label}: {mask(first_line(exc), target.url)}") from None
    conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    conn.commit()
    return conn


def read_live(target: Target) -> LiveState:
    """The target's version rows, catalog snapshot and migration log."""
    import psycopg

    conn = connect(target)
    try:
        if (
            target.schema
            and not conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (target.schema,)).fetchone()
        ):
            raise InputError(f"{target.label}: no schema {target.schema!r} in the database")
        versions = _read_versions(conn, target.schema)
        log = _read_log(conn, target.schema)
        shot = snapshot(conn, skip=(VERSION_TABLE, LOG_TABLE))
        if target.schema:
            shot.update(_tenant_functions(conn, target.schema))
        conn.rollback()
    except psycopg.Error as exc:
        raise InputError(f"cannot read {target.label}: {mask(first_line(exc), target.url)}") from None
    finally:
        conn.close()
    return LiveState(versions, shot, log)


def _tenant_functions(conn, schema: str) -> dict:
    """Function hashes of a tenant schema as if it were ``public`` (the snapshot hashes the definition,
    which names the schema)."""
    rows = conn.execute(
        "SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END,"
        " quote_ident(n.nspname) || '.' || quote_ident(p.proname)"
        " || '(' || pg_get_function_identity_arguments(p.oid) || ')',"
        " md5(replace(pg_get_functiondef(p.oid), quote_ident(n.nspname) || '.', 'public.'))"
        " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname = %s AND p.prokind IN ('f', 'p', 'w')",
        (schema,),
    )
    return {(kind, name): digest for kind, name, digest in rows}


def _table(conn, name: str, schema: str | None) -> str | None:
    """The qualified name of table ``name`` in ``schema`` (or as the search path finds it), or None."""
    if schema:
        found = conn.execute("SELECT to_regclass(%s)::text", (f"{quote(schema)}.{quote(name)}",)).fetchone()
    else:
        found = conn.execute("SELECT to_regclass(%s)::text", (quote(name),)).fetchone()
    if found and found[0]:
        return f"{quote(schema)}.{quote(name)}" if schema else found[0]
    return None


def _read_versions(conn, schema: str | None) -> list[str] | None:
    table = _table(conn, VERSION_TABLE, schema)
    if table is None:
        return None
    return sorted(row[0] for row in conn.execute(f"SELECT version_num FROM {table}"))  # noqa: S608


def _read_log(conn, schema: str | None) -> dict[str, tuple[str, str | None]]:
    table = _table(conn, LOG_TABLE, schema)
    if table is None:
        return {}
    rows = conn.execute(
        f"SELECT DISTINCT ON (revision) revision, operation, checksum FROM {table} "  # noqa: S608
        "ORDER BY revision, applied_at DESC"
    )
    return {revision: (operation, checksum) for revision, operation, checksum in rows}


def compare_models(target: Target, metadata) -> list[tuple[str, str, str, str]]:
    """Autogenerate's differences between the models and the live database, on a read-only connection."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.pool import NullPool

    from ..verify.autogen import describe

    options = READ_ONLY + (f" -c search_path={quote(target.schema)}" if target.schema else "")
    url = psycopg_url(target.url)
    engine = create_engine(url, poolclass=NullPool, connect_args={"options": options, "connect_timeout": 10})

    def include_name(name, type_, parent_names):
        return not (type_ == "table" and name in (VERSION_TABLE, LOG_TABLE))

    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": include_name}
            )
            found = compare_metadata(context, metadata)
            connection.rollback()
    except SQLAlchemyError as exc:
        raise InputError(
            f"cannot compare the models with {target.label}: {mask(first_line(exc), target.url)}"
        ) from None
    finally:
        engine.dispose()
    out = []
    for item in found:
        for d in item if isinstance(item, list) else [item]:
            op = d[0]
            change = "added" if op.startswith("remove") else "removed" if op.startswith("add") else "changed"
            kind = op.split("_", 1)[1] if "_" in op else op
            kind = {"fk": "foreign key", "table_comment": "comment", "column_comment": "comment"}.get(
                kind, kind
            )
            if op.startswith("modify_"):
                kind = "column"
            out.append((kind, _model_object(d), change, describe(d)))
    return out


def _model_object(d: tuple) -> str:
    op = d[0]
    if op in ("add_table", "remove_table"):
        return _name(d[1].schema, d[1].name)
    if op in ("add_column", "remove_column"):
        return f"{_name(d[1], d[2])}.{d[3].name}"
    if op.startswith("modify_"):
        return f"{_name(d[1], d[2])}.{d[3]}"
    obj = d[1]
    table = getattr(obj, "table", None)
    if table is not None:
        return f"{_name(table.schema, table.name)}.{getattr(obj, 'name', None) or '(unnamed)'}"
    return str(getattr(obj, "name", obj))


def _name(schema, name) -> str:
    return f"{schema}.{name}" if schema else str(name)
