"""The values a pattern's template sees: every option checked, names quoted, derived names computed."""

from __future__ import annotations

from ..errors import InputError
from ..sql.knowledge import volatile_calls
from ..sql.names import literal
from . import values as v
from .patterns import Pattern

LOCK_TIMEOUT = "5s"  # how long a DDL statement may wait for its lock before it gives up (and can be re-run)
BATCH_LOCK_TIMEOUT = "2s"  # per backfill batch
BATCH_STATEMENT_TIMEOUT = "30s"  # per backfill batch


def template_values(pattern: Pattern, options: dict, pg_version: int) -> dict:
    """Check ``options`` (keys as in :attr:`Option.key`) against ``pattern`` and build the template values."""
    raw = {}
    for option in pattern.options:
        value = options.get(option.key)
        if _empty(value) and option.default is not None:
            value = option.default
        if option.required and _empty(value):
            raise InputError(f"new {pattern.name}: {option.flag} is required")
        raw[option.key] = value
    unknown = sorted(k for k, val in options.items() if val not in (None, False, [], ()) and k not in raw)
    if unknown:
        flags = ", ".join("--" + k.replace("_", "-") for k in unknown)
        raise InputError(f"new {pattern.name}: {flags} is not an option of this pattern")
    out = {
        "pattern": pattern.name,
        "pg_version": pg_version,
        "lock_timeout": LOCK_TIMEOUT,
        "batch_lock_timeout": BATCH_LOCK_TIMEOUT,
        "batch_statement_timeout": BATCH_STATEMENT_TIMEOUT,
    }
    for option in pattern.options:
        value = raw[option.key]
        where = f"new {pattern.name} {option.flag}"
        if _empty(value):
            out[option.key] = [] if option.multiple else (False if option.kind == "flag" else None)
            continue
        items = list(value) if option.multiple and isinstance(value, (list, tuple)) else [value]
        if option.kind in ("name", "table"):  # the names as PostgreSQL stores them, and as SQL
            read = v.name if option.kind == "name" else v.table_names
            stored = [read(item, where) for item in items]
            plain = [n if isinstance(n, str) else ".".join(n) for n in stored]
            sql = [".".join(v.sql_name(n, where) for n in ([n] if isinstance(n, str) else n)) for n in stored]
            out[option.key] = sql if option.multiple else sql[0]
            out[option.key + "_name"] = plain if option.multiple else plain[0]
            if option.kind == "table":
                out[option.key + "_parts"] = stored[0]
            continue
        converted = [_convert(option.kind, item, where) for item in items]
        out[option.key] = converted if option.multiple else converted[0]
    builder = _BUILDERS.get(pattern.name)
    if builder:
        builder(out, raw, pattern.name)
    return out


def _empty(value) -> bool:
    """Not given: None, an empty string or an empty list (``False`` and ``0`` are values)."""
    return value is None or (isinstance(value, (str, list, tuple)) and not value)


def _convert(kind: str, value, where: str):
    if kind == "type":
        return v.sql_type(str(value), where)
    if kind == "expr":
        return v.expression(str(value), where)
    if kind == "label":
        return v.label(str(value), where)
    if kind == "int":
        return v.positive_int(value, where)
    if kind == "float":
        return v.seconds(value, where)
    if kind == "flag":
        return bool(value)
    if kind == "action":
        return v.on_delete(str(value), where)
    return v.text_value(value, where)  # coldef, references: checked by the pattern's builder


def _stem(out: dict) -> str:
    return out["table_parts"][-1]


def _schema_prefix(out: dict, key: str = "table") -> str:
    """``schema.`` (as SQL) when the table is schema-qualified: indexes, functions and types live there."""
    parts = out[key + "_parts"]
    return v.sql_name(parts[0]) + "." if len(parts) == 2 else ""


def _index(out: dict, raw: dict, name: str) -> None:
    suffix = {"add-unique-constraint": "key"}.get(name, "key" if out.get("unique") else "idx")
    stem = "_".join([_stem(out), *out["column_name"]])
    if raw.get("name"):
        out["index_name"] = out["name_name"]
    else:
        out["index_name"] = v.derived_name(stem, suffix)
    out["index"] = v.sql_name(out["index_name"], f"new {name} --name")
    out["schema_prefix"] = _schema_prefix(out)
    out["columns_sql"] = ", ".join(out["column"])


def _foreign_key(out: dict, raw: dict, name: str) -> None:
    where = f"new {name} --references"
    out["ref_table"], out["ref_column"], ref_bare = v.references(raw["references"], where)
    stem = f"{_stem(out)}_{out['column_name']}"
    constraint = out["name_name"] if raw.get("name") else v.derived_name(stem, "fkey")
    out["constraint"] = v.sql_name(constraint, f"new {name} --name")
    out["index"] = v.sql_name(v.derived_name(stem, "idx"), f"new {name}")
    out["schema_prefix"] = _schema_prefix(out)
    out["ref_bare"] = ref_bare


def _check(out: dict, raw: dict, name: str) -> None:
    _, tree = v.expression_tree(raw["check"], f"new {name} --check")
    stem = "_".join([_stem(out), *v.column_names(tree)[:3]])
    constraint = out["name_name"] if raw.get("name") else v.derived_name(stem, "check")
    out["constraint"] = v.sql_name(constraint, f"new {name} --name")


def _backfill(out: dict, raw: dict, name: str) -> None:
    out["where"] = out["where"] or f"{out['column']} IS NULL"


def _not_null(out: dict, raw: dict, name: str) -> None:
    out["constraint"] = v.sql_name(v.derived_name(f"{_stem(out)}_{out['column_name']}", "not_null"))
    _column_default(out, raw, name)


def _column_default(out: dict, raw: dict, name: str) -> None:
    _, tree = v.expression_tree(raw["default"], f"new {name} --default")
    calls = volatile_calls(tree)
    out["default"] = v.default_expression(out["default"])
    out["volatile"] = sorted(set(calls))
    out["batched"] = bool(calls) or out["pg_version"] < 11
    out["where"] = f"{out['column']} IS NULL"


def _rename(out: dict, raw: dict, name: str) -> None:
    if out["new_name_name"] == out["column_name"]:
        raise InputError(f"new {name}: --new-name is the column's current name")
    _sync_names(out, out["column_name"], out["new_name_name"])
    out["old"], out["new"] = out["column"], out["new_name"]


def _change_type(out: dict, raw: dict, name: str) -> None:
    shadow = v.derived_name(out["column_name"], "new")
    out["old"], out["new"] = out["column"], v.sql_name(shadow, f"new {name}")
    out["new_name"] = shadow
    _sync_names(out, out["column_name"], shadow)


def _sync_names(out: dict, old: str, new: str) -> None:
    stem = f"{_stem(out)}_{old}_{new}"
    out["function"] = v.sql_name(v.derived_name(stem, "sync"))
    out["trigger"] = v.sql_name(v.derived_name(stem, "sync"))
    out["restore"] = v.sql_name(v.derived_name(stem, "restore"))
    out["schema_prefix"] = _schema_prefix(out)
    out["table_literal"] = literal(out["table"])
    out["old_literal"] = literal(old)


def _enum(out: dict, raw: dict, name: str) -> None:
    if raw.get("before") and raw.get("after"):
        raise InputError(f"new {name}: give --before or --after, not both")
    parts = out["type_parts"]
    out["old_type_bare"] = v.sql_name(v.derived_name(parts[-1], "old"))
    out["old_type"] = (v.sql_name(parts[0]) + "." if len(parts) == 2 else "") + out["old_type_bare"]
    out["type_literal"] = literal(out["type"])
    out["old_type_literal"] = literal(out["old_type"])


def _create_table(out: dict, raw: dict, name: str) -> None:
    where = f"new {name} --column"
    names, columns, indexed = [], [], []
    for text in out["column"]:
        column, sql, definition = v.column_definition(text, where)
        names.append(column)
        columns.append(sql)
        for constraint in definition.get("constraints", ()):
            if constraint.get("Constraint", {}).get("contype") == "CONSTR_FOREIGN":
                indexed.append(column)
    taken = {"id", "created_at", "updated_at"} & set(names)
    if taken:
        raise InputError(f"{where}: {', '.join(sorted(taken))} is added by the template")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"{where}: {', '.join(twice)} is given twice")
    out["columns"] = columns
    out["fk_indexes"] = [
        (v.sql_name(v.derived_name(f"{_stem(out)}_{col}", "idx")), v.sql_name(col)) for col in indexed
    ]


_BUILDERS = {
    "add-index": _index,
    "drop-index": _index,
    "add-unique-constraint": _index,
    "add-foreign-key": _foreign_key,
    "add-check-constraint": _check,
    "backfill": _backfill,
    "add-not-null-column": _not_null,
    "add-column-default": _column_default,
    "rename-column": _rename,
    "change-column-type": _change_type,
    "add-enum-value": _enum,
    "create-table": _create_table,
}
