"""What autogenerate does not compare, read from the catalog: CHECK constraints and enum values.

CHECK constraints are compared as PostgreSQL prints them: each model CHECK is added ``NOT VALID`` to the
scratch database inside a savepoint that is rolled back, and ``pg_get_constraintdef`` gives its normalized
text (the same function prints the history's constraints). Enum values come from ``pg_enum``.
"""

from __future__ import annotations

from .classify import _qualified
from .model import BREAKS, LOCKS, REWRITES, SAFE, Change

_PROBE = "dbpatterns_detect_probe"

_CHECKS_SQL = """
SELECT n.nspname, c.relname, k.conname, pg_get_constraintdef(k.oid)
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE k.contype = 'c' AND c.relkind IN ('r', 'p') AND n.nspname = ANY (:schemas)
"""

_TABLES_SQL = """
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY (:schemas)
"""

_ENUMS_SQL = """
SELECT n.nspname, t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder),
       EXISTS (SELECT FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
               WHERE a.atttypid IN (t.oid, t.typarray) AND NOT a.attisdropped AND c.relkind IN ('r', 'p'))
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_enum e ON e.enumtypid = t.oid
WHERE n.nspname = ANY (:schemas)
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
                  AND d.deptype = 'e')
GROUP BY n.nspname, t.typname, t.oid, t.typarray
"""


def catalog_changes(connection, metadata, dialect, include_table=None) -> list[Change]:
    """CHECK constraint and enum differences between ``metadata`` and the database of ``connection``."""
    from sqlalchemy import text

    default_schema = connection.execute(text("SELECT current_schema()")).scalar()
    tables = [
        t for t in metadata.sorted_tables if include_table is None or include_table(t)
    ]  # honour env.py's include_object for tables
    schemas = sorted({t.schema or default_schema for t in tables} | {default_schema})
    existing = {tuple(r) for r in connection.execute(text(_TABLES_SQL), {"schemas": schemas})}
    present = [t for t in tables if (t.schema or default_schema, t.name) in existing]
    changes = _check_changes(connection, present, dialect, default_schema, schemas)
    changes += _enum_changes(connection, tables, existing, default_schema, schemas)
    return changes


# -- CHECK constraints -------------------------------------------------------------------------------


def _check_changes(connection, tables, dialect, default_schema: str, schemas: list[str]) -> list[Change]:
    from sqlalchemy import text

    in_db: dict[tuple[str, str], dict[str, str]] = {}
    for schema, table, name, definition in connection.execute(text(_CHECKS_SQL), {"schemas": schemas}):
        in_db.setdefault((schema, table), {})[name] = _plain(definition)
    compiler = dialect.ddl_compiler(dialect, None)
    changes: list[Change] = []
    for table in tables:
        key = (table.schema or default_schema, table.name)
        left = dict(in_db.get(key, {}))
        where = _qualified(table.schema, table.name)
        for constraint in model_checks(table, compiler):
            name = _constraint_name(constraint, compiler)
            expression = compiler.sql_compiler.process(
                constraint.sqltext, include_table=False, literal_binds=True
            )
            normalized = _normalize(connection, compiler, table, expression)
            if name and name in left:
                found = left.pop(name)
                if normalized != found:
                    changes.append(
                        Change(
                            "change_check",
                            where,
                            None,
                            (LOCKS,),
                            "add-check-constraint",
                            f"{found} in the history, CHECK ({expression}) in the models: drop it, add "
                            "the new one NOT VALID, then VALIDATE it in its own transaction",
                            name=name,
                            extra={"definition": f"CHECK ({expression})", "old_definition": found},
                        )
                    )
                continue
            same = next((n for n, d in left.items() if normalized is not None and d == normalized), None)
            if same is not None:
                left.pop(same)
                continue
            changes.append(
                Change(
                    "add_check",
                    where,
                    None,
                    (LOCKS,),
                    "add-check-constraint",
                    f"ADD CHECK ({expression}) scans {where} under ACCESS EXCLUSIVE: add it NOT VALID, then "
                    "VALIDATE CONSTRAINT in its own transaction",
                    name=name,
                    extra={"definition": f"CHECK ({expression})"},
                )
            )
        for name, definition in left.items():
            changes.append(
                Change(
                    "drop_check",
                    where,
                    None,
                    (SAFE,),
                    None,
                    f"{definition} is not in the models: DROP CONSTRAINT changes only the catalog",
                    name=name,
                    extra={"definition": definition},
                )
            )
    return changes


def model_checks(table, compiler) -> list:
    """The CHECK constraints SQLAlchemy creates for ``table`` on PostgreSQL (type-bound ones included only
    when the type creates them there, e.g. a non-native Enum)."""
    from sqlalchemy import CheckConstraint

    found = [c for c in table.constraints if isinstance(c, CheckConstraint)]
    for column in table.columns:
        found.extend(c for c in column.constraints if isinstance(c, CheckConstraint) and c not in found)
    out = []
    for constraint in found:
        rule = getattr(constraint, "_create_rule", None)  # SQLAlchemy's own "is it created here" test
        if rule is not None and not rule(compiler):
            continue
        out.append(constraint)
    return out


def _constraint_name(constraint, compiler) -> str | None:
    from sqlalchemy.sql.elements import conv

    try:
        name = compiler.preparer.format_constraint(constraint, _alembic_quote=False)
    except Exception:  # noqa: BLE001 - a naming convention that cannot be applied: unnamed
        return None
    if name is None or type(name).__name__ == "_NoneName":
        return None
    return str(conv(name))


def _normalize(connection, compiler, table, expression: str) -> str | None:
    """How PostgreSQL prints ``CHECK (expression)`` on ``table``; None when it cannot be added (e.g. it
    names a column the history does not have yet)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    qualified = compiler.preparer.format_table(table)
    savepoint = connection.begin_nested()
    try:
        connection.execute(
            text(f"ALTER TABLE {qualified} ADD CONSTRAINT {_PROBE} CHECK ({expression}) NOT VALID")
        )
        row = connection.execute(
            text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = CAST(:t AS regclass) AND conname = :n"
            ),
            {"t": qualified, "n": _PROBE},
        ).scalar()
        return _plain(row) if row else None
    except DBAPIError:
        return None
    finally:
        savepoint.rollback()


def _plain(definition: str) -> str:
    return definition.removesuffix(" NOT VALID")


# -- enums ---------------------------------------------------------------------------------------------


def model_enums(tables, default_schema: str) -> dict[tuple[str, str], dict]:
    """Native enum types the models use: (schema, name) -> {"values", "uses": [(table, column)]}."""
    from sqlalchemy import Enum
    from sqlalchemy.types import TypeDecorator

    found: dict[tuple[str, str], dict] = {}
    for table in tables:
        for column in table.columns:
            type_ = column.type
            if isinstance(type_, TypeDecorator):
                type_ = type_.impl if isinstance(type_.impl, Enum) else type_
            if not isinstance(type_, Enum) or not type_.native_enum or not type_.name:
                continue
            schema = type_.schema  # attached to its table: inherit_schema and MetaData.schema are applied
            key = (schema or default_schema, type_.name)
            entry = found.setdefault(key, {"values": list(type_.enums), "uses": []})
            entry["uses"].append((table, column.name))
    return found


def _enum_changes(connection, tables, existing, default_schema: str, schemas: list[str]) -> list[Change]:
    from sqlalchemy import text

    in_db, used_in_db = {}, set()
    for schema, name, values, used in connection.execute(text(_ENUMS_SQL), {"schemas": schemas}):
        in_db[(schema, name)] = list(values)
        if used:
            used_in_db.add((schema, name))
    changes: list[Change] = []
    for (schema, name), entry in model_enums(tables, default_schema).items():
        table, column = entry["uses"][0]
        where = _qualified(table.schema, table.name)
        label = name if schema == default_schema else f"{schema}.{name}"
        wanted = entry["values"]
        if (schema, name) not in in_db:
            on_existing = [
                (t, c) for t, c in entry["uses"] if (t.schema or default_schema, t.name) in existing
            ]
            if not on_existing:
                continue  # created with its table by create_table
            table, column = on_existing[0]
            changes.append(
                Change(
                    "add_enum",
                    _qualified(table.schema, table.name),
                    column,
                    (SAFE,),
                    None,
                    f"enum type {label} does not exist: CREATE TYPE before the column that uses it "
                    "(op.add_column does not create it)",
                    name=label,
                    extra={"values": wanted},
                )
            )
            continue
        have = in_db[(schema, name)]
        for position, value in enumerate(wanted):
            if value in have:
                continue
            # values are added in the models' order, so the one before is there by then
            after = wanted[position - 1] if position else None
            before = None if position else next((v for v in wanted if v in have), None)
            where_sql = f" AFTER '{after}'" if after else (f" BEFORE '{before}'" if before else "")
            changes.append(
                Change(
                    "add_enum_value",
                    where,
                    column,
                    (SAFE,),
                    "add-enum-value",
                    f"ALTER TYPE {label} ADD VALUE '{value}'{where_sql}: catalog only; the new value cannot "
                    "be used until the transaction that adds it commits (and not inside a transaction block "
                    "before PostgreSQL 12)",
                    name=label,
                    extra={
                        "enum": label,
                        "value": value,
                        "after": after,
                        "before": before,
                        "columns": [
                            {"schema": t.schema, "table": t.name, "column": c} for t, c in entry["uses"]
                        ],
                    },
                )
            )
        removed = [v for v in have if v not in wanted]
        for value in removed:
            changes.append(
                Change(
                    "drop_enum_value",
                    where,
                    column,
                    (REWRITES, BREAKS),
                    None,
                    f"'{value}' of {label} is not in the models: PostgreSQL cannot drop an enum value; a new "
                    "type and ALTER COLUMN ... TYPE USING (a rewrite) replace it, after rows and code stop "
                    "using the value",
                    name=label,
                    extra={"enum": label, "value": value},
                )
            )
        kept = [v for v in have if v in wanted]
        if not removed and kept != [v for v in wanted if v in have]:
            changes.append(
                Change(
                    "reorder_enum",
                    where,
                    column,
                    (REWRITES,),
                    None,
                    f"{label} lists its values in another order in the models: enum order is fixed at "
                    "creation; changing it needs a new type and a rewrite of every column that uses it",
                    name=label,
                    extra={"enum": label, "values": wanted, "old_values": have},
                )
            )
    used = set(model_enums(tables, default_schema))
    for (schema, name), values in in_db.items():
        # a type a column still uses goes with that column (reported as dropped, or kept by include_object)
        if (schema, name) not in used and (schema, name) not in used_in_db:
            label = name if schema == default_schema else f"{schema}.{name}"
            changes.append(
                Change(
                    "drop_enum",
                    None,
                    None,
                    (SAFE,),
                    None,
                    f"enum type {label} ({', '.join(values)}) is used by no model and no column: DROP TYPE "
                    "changes only the catalog",
                    name=label,
                    extra={"enum": label, "values": values},
                )
            )
    return changes
