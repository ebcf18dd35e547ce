"""Autogenerate's differences as :class:`Change` objects: a kind, the risk on PostgreSQL, the template.

The facts behind each risk (PostgreSQL 11+): adding a nullable column, or one with a non-volatile default,
only changes the catalog; a volatile default, an identity or a stored generated column rewrites the table;
ADD COLUMN ... NOT NULL without a default fails on a table with rows; SET NOT NULL, ADD CHECK, ADD FOREIGN
KEY and ADD UNIQUE scan (or build an index) under a lock that blocks writes; CREATE INDEX blocks writes for
the whole build; a type change rewrites the table unless it is binary-coercible (``binary_coercible``).
"""

from __future__ import annotations

from ..sql.knowledge import binary_coercible, parse_type, volatile_calls
from ..sql.parse import parse_expression
from .model import BREAKS, DESTROYS, LOCKS, REWRITES, SAFE, Change


def classify(diffs: list, dialect) -> list[Change]:
    """One change per autogenerate difference (``modify_*`` groups are flattened)."""
    flat: list[tuple] = []
    for item in diffs:
        flat.extend(item if isinstance(item, list) else [item])
    new_tables = {_qualified(d[1].schema, d[1].name) for d in flat if d[0] == "add_table"}
    changes = [_change(d, dialect, new_tables) for d in flat]
    return pair_renames(changes)


def _change(d: tuple, dialect, new_tables: set[str]) -> Change:
    op = d[0]
    if op == "add_table":
        table = d[1]
        return Change(
            "add_table",
            _qualified(table.schema, table.name),
            None,
            (SAFE,),
            "create-table",
            f"new table with {len(table.columns)} column(s): CREATE TABLE takes no lock on existing tables",
        )
    if op == "remove_table":
        return Change(
            "drop_table",
            _qualified(d[1].schema, d[1].name),
            None,
            (BREAKS, DESTROYS),
            None,
            "the table is not in the models: DROP TABLE breaks code that still uses it and destroys "
            "its rows; drop it in a later release, once no deployed code reads it",
        )
    if op == "add_column":
        return _add_column(_qualified(d[1], d[2]), d[3], dialect)
    if op == "remove_column":
        column = d[3]
        return Change(
            "drop_column",
            _qualified(d[1], d[2]),
            column.name,
            (BREAKS, DESTROYS),
            "drop-column",
            "the column is not in the models: DROP COLUMN breaks code deployed before it (SELECTs and "
            "INSERTs naming it) and destroys its values; first deploy code that no longer uses it",
            extra={"type": type_sql(column.type, dialect)},
        )
    if op.startswith("modify_"):
        return _modify(d, dialect)
    if op in ("add_index", "remove_index"):
        return _index(op, d[1], new_tables)
    if op in ("add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        return _constraint(op, d[1], new_tables)
    if op in ("add_table_comment", "remove_table_comment"):
        return Change(
            "change_table_comment",
            _qualified(d[1].schema, d[1].name),
            None,
            (SAFE,),
            None,
            "COMMENT ON TABLE changes only the catalog",
        )
    return Change(op, None, None, (LOCKS,), None, " ".join(str(part) for part in d[1:]))


def _add_column(table: str, column, dialect) -> Change:
    type_text = type_sql(column.type, dialect)
    extra = {"type": type_text, "nullable": bool(column.nullable)}
    default = default_sql(column.server_default, dialect)
    computed = getattr(column, "computed", None)
    if computed is not None and getattr(computed, "persisted", True) is not False:
        return Change(
            "add_column",
            table,
            column.name,
            (LOCKS, REWRITES),
            "add-column",
            f"{type_text} GENERATED ALWAYS AS (...) STORED computes every row: the table is rewritten under "
            "ACCESS EXCLUSIVE; add a plain column, backfill it in batches, fill it from a trigger",
            extra=extra,
        )
    if getattr(column, "identity", None) is not None or _serial(type_text):
        return Change(
            "add_column",
            table,
            column.name,
            (LOCKS, REWRITES),
            "add-column",
            "an identity or serial column is filled for every existing row: the table is rewritten under "
            "ACCESS EXCLUSIVE; add a nullable column, attach a sequence default, backfill in batches",
            extra=extra,
        )
    if default is not None:
        extra["default"] = default
        volatile = volatile_calls(_expression(default))
        if volatile:
            return Change(
                "add_column",
                table,
                column.name,
                (LOCKS, REWRITES),
                "add-column-default",
                f"DEFAULT {default} calls {', '.join(sorted(set(volatile)))} (volatile): every existing row "
                "gets its own value, so the table is rewritten under ACCESS EXCLUSIVE; add the column "
                "without a default, SET DEFAULT for new rows, backfill the old ones in batches",
                extra=extra,
            )
        return Change(
            "add_column",
            table,
            column.name,
            (SAFE,),
            "add-column-default",
            f"a non-volatile DEFAULT {default} is stored in the catalog (PostgreSQL 11+): no rewrite",
            extra=extra,
        )
    if not column.nullable:
        return Change(
            "add_column",
            table,
            column.name,
            (LOCKS, BREAKS),
            "add-not-null-column",
            "ADD COLUMN ... NOT NULL without a default fails on a table with rows, and INSERTs of code "
            "deployed before it fail; add it nullable, backfill in batches, then CHECK (... IS NOT NULL) "
            "NOT VALID, VALIDATE and SET NOT NULL in a later revision",
            extra=extra,
        )
    return Change(
        "add_column",
        table,
        column.name,
        (SAFE,),
        "add-column",
        "a nullable column without a default changes only the catalog",
        extra=extra,
    )


def _modify(d: tuple, dialect) -> Change:
    op, schema, tname, cname, existing, old, new = d
    table = _qualified(schema, tname)
    if op == "modify_type":
        old_sql, new_sql = type_sql(old, dialect), type_sql(new, dialect)
        extra = {"old_type": old_sql, "new_type": new_sql}
        old_key, new_key = parse_type(old_sql), parse_type(new_sql)
        if old_key and new_key and binary_coercible(old_key, new_key):
            return Change(
                "change_type",
                table,
                cname,
                (SAFE,),
                "change-column-type",
                f"{old_sql} to {new_sql} is binary-coercible: no rewrite (a brief ACCESS EXCLUSIVE lock; "
                "CHECK constraints on the column are re-checked)",
                extra=extra,
            )
        return Change(
            "change_type",
            table,
            cname,
            (LOCKS, REWRITES),
            "change-column-type",
            f"{old_sql} to {new_sql} is not binary-coercible: the table and its indexes are rewritten under "
            "ACCESS EXCLUSIVE; expand-contract: a new column kept in sync, backfilled, then swapped",
            extra=extra,
        )
    if op == "modify_nullable":
        if new is False:
            return Change(
                "set_not_null",
                table,
                cname,
                (LOCKS, BREAKS),
                "add-check-constraint",
                "SET NOT NULL scans the table under ACCESS EXCLUSIVE and INSERTs of NULL start failing: add "
                f"CHECK ({cname} IS NOT NULL) NOT VALID, VALIDATE it in its own transaction, then SET NOT "
                "NULL (PostgreSQL 12+ skips the scan) and drop the CHECK",
            )
        return Change(
            "drop_not_null",
            table,
            cname,
            (SAFE,),
            None,
            "DROP NOT NULL changes only the catalog",
        )
    if op == "modify_default":
        old_text, new_text = default_sql(old, dialect), default_sql(new, dialect)
        return Change(
            "change_default",
            table,
            cname,
            (SAFE,),
            None,
            f"default {old_text or 'none'} in the history, {new_text or 'none'} in the models: SET/DROP "
            "DEFAULT changes only the catalog (existing rows keep their values)",
            extra={"old_default": old_text, "new_default": new_text},
        )
    return Change(
        "change_comment",
        table,
        cname,
        (SAFE,),
        None,
        "COMMENT ON COLUMN changes only the catalog",
    )


def _index(op: str, index, new_tables: set[str]) -> Change:
    table = _qualified(index.table.schema, index.table.name)
    columns = ", ".join(str(getattr(e, "name", e)) for e in index.expressions)
    unique = "unique " if index.unique else ""
    if op == "remove_index":
        return Change(
            "drop_index",
            table,
            None,
            (LOCKS,),
            "drop-index",
            f"DROP INDEX takes ACCESS EXCLUSIVE on {table}: DROP INDEX CONCURRENTLY in an autocommit block",
            name=index.name,
        )
    if table in new_tables:
        return Change(
            "add_index",
            table,
            None,
            (SAFE,),
            "create-table",
            f"{unique}index on ({columns}) of a new table: built while it is empty",
            name=index.name,
        )
    return Change(
        "add_index",
        table,
        None,
        (LOCKS,),
        "add-index",
        f"CREATE {unique.upper()}INDEX on ({columns}) blocks writes to {table} for the whole build: use "
        "CREATE INDEX CONCURRENTLY in an autocommit block",
        name=index.name,
    )


def _constraint(op: str, constraint, new_tables: set[str]) -> Change:
    table = _qualified(constraint.table.schema, constraint.table.name)
    columns = ", ".join(c.name for c in constraint.columns)
    fk = op.endswith("_fk")
    if op.startswith("remove"):
        kind = "drop_foreign_key" if fk else "drop_unique"
        return Change(
            kind,
            table,
            None,
            (SAFE,),
            None,
            "DROP CONSTRAINT changes only the catalog (a brief ACCESS EXCLUSIVE lock)",
            name=constraint.name,
        )
    kind = "add_foreign_key" if fk else "add_unique"
    if table in new_tables:
        return Change(
            kind, table, None, (SAFE,), "create-table", f"on ({columns}) of a new table", name=constraint.name
        )
    if fk:
        target = constraint.elements[0].target_fullname.rsplit(".", 1)[0] if constraint.elements else "?"
        return Change(
            kind,
            table,
            None,
            (LOCKS,),
            "add-foreign-key",
            f"FOREIGN KEY ({columns}) to {target} scans {table} while writes to both tables are blocked: add "
            "it NOT VALID, then VALIDATE CONSTRAINT in its own transaction",
            name=constraint.name,
        )
    return Change(
        kind,
        table,
        None,
        (LOCKS,),
        "add-unique-constraint",
        f"ADD UNIQUE ({columns}) builds its index under ACCESS EXCLUSIVE: build a unique index CONCURRENTLY, "
        "then ADD CONSTRAINT ... UNIQUE USING INDEX",
        name=constraint.name,
    )


def pair_renames(changes: list[Change]) -> list[Change]:
    """A dropped column and an added nullable column of the same type in one table: a probable rename."""
    out = list(changes)
    for dropped in [c for c in changes if c.kind == "drop_column"]:
        match = next(
            (
                c
                for c in out
                if c.kind == "add_column"
                and c.table == dropped.table
                and _same_type(c.extra.get("type"), dropped.extra.get("type"))
            ),
            None,
        )
        if match is None:
            continue
        out.remove(dropped)
        index = out.index(match)
        out[index] = Change(
            "rename_column",
            match.table,
            match.column,
            (BREAKS,),
            "rename-column",
            f"{dropped.column} is gone and {match.column} ({match.extra['type']}) is new: probably a rename. "
            "RENAME COLUMN (or drop + add) breaks code deployed before it, and drop + add loses the values. "
            f"Expand-contract: add {match.column}, write both and backfill it, switch readers, then drop "
            f"{dropped.column} in a later release",
            extra={"old_column": dropped.column, "type": match.extra["type"]},
        )
    return out


# -- SQL text of SQLAlchemy objects ------------------------------------------------------------------


def type_sql(type_, dialect) -> str:
    try:
        return type_.compile(dialect=dialect)
    except Exception:  # noqa: BLE001 - a type the dialect cannot render: show what we have
        return str(type_)


def default_sql(default, dialect) -> str | None:
    """The SQL of a server default (``DefaultClause``, text, or a reflected string), or None."""
    if default is None:
        return None
    arg = getattr(default, "arg", default)
    if isinstance(arg, str):
        return "'" + arg.replace("'", "''") + "'" if getattr(default, "arg", None) is not None else arg
    try:
        return str(arg.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    except Exception:  # noqa: BLE001
        return str(arg)


def _same_type(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    ka, kb = parse_type(a), parse_type(b)
    return (ka or a) == (kb or b)


def _expression(sql: str) -> dict:
    tree = parse_expression(sql)
    return (
        tree if tree is not None else {"FuncCall": {"funcname": [{"String": {"sval": "unreadable default"}}]}}
    )


def _serial(type_text: str) -> bool:
    return type_text.upper() in ("SERIAL", "BIGSERIAL", "SMALLSERIAL")


def _qualified(schema, name) -> str:
    return f"{schema}.{name}" if schema else str(name)
