"""The values a pattern's template sees: every option checked, names quoted, derived names computed."""

from __future__ import annotations

from ..errors import InputError
from ..sql.parse import parse_tree
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
        if value in (None, [], ()) and option.default is not None:
            value = option.default
        if option.required and value in (None, "", [], ()):
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
        if value in (None, "", [], ()):
            out[option.key] = [] if option.multiple else (False if option.kind == "flag" else None)
            continue
        if option.multiple:
            items = [value] if isinstance(value, str) else list(value)
            out[option.key] = [_convert(option.kind, item, where) for item in items]
        else:
            out[option.key] = _convert(option.kind, value, where)
        if option.kind in ("name", "table"):
            items = value if option.multiple else [value]
            out[option.key + "_name"] = [str(i) for i in items] if option.multiple else str(value)
    builder = _BUILDERS.get(pattern.name)
    if builder:
        builder(out, raw, pattern.name)
    return out


def _convert(kind: str, value, where: str):
    if kind == "name":
        return v.identifier(str(value), where)
    if kind == "table":
        return v.table(str(value), where)
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
    return str(value)  # coldef, references: checked by the pattern's builder


def _stem(out: dict) -> str:
    return v.bare(out["table_name"])


def _index(out: dict, raw: dict, name: str) -> None:
    suffix = {"add-unique-constraint": "key"}.get(name, "key" if out.get("unique") else "idx")
    stem = "_".join([_stem(out), *out["column_name"]])
    index = raw.get("name") or v.derived_name(stem, suffix)
    out["index"] = v.identifier(index, f"new {name} --name")
    out["index_name"] = index
    out["schema_prefix"] = out["table"].rsplit(".", 1)[0] + "." if "." in out["table_name"] else ""
    out["columns_sql"] = ", ".join(out["column"])


def _foreign_key(out: dict, raw: dict, name: str) -> None:
    where = f"new {name} --references"
    out["ref_table"], out["ref_column"], ref_bare = v.references(raw["references"], where)
    stem = f"{_stem(out)}_{out['column_name']}"
    constraint = raw.get("name") or v.derived_name(stem, "fkey")
    out["constraint"] = v.identifier(constraint, f"new {name} --name")
    index = v.derived_name(stem, "idx")
    out["index"] = v.identifier(index, f"new {name}")
    out["schema_prefix"] = out["table"].rsplit(".", 1)[0] + "." if "." in out["table_name"] else ""
    out["ref_bare"] = ref_bare


def _check(out: dict, raw: dict, name: str) -> None:
    _, tree = v.expression_tree(raw["check"], f"new {name} --check")
    stem = "_".join([_stem(out), *v.column_names(tree)[:3]])
    constraint = raw.get("name") or v.derived_name(stem, "check")
    out["constraint"] = v.identifier(constraint, f"new {name} --name")


def _backfill(out: dict, raw: dict, name: str) -> None:
    out["where"] = out["where"] or f"{out['column']} IS NULL"


def _not_null(out: dict, raw: dict, name: str) -> None:
    out["constraint"] = v.identifier(v.derived_name(f"{_stem(out)}_{out['column_name']}", "not_null"), "")
    _column_default(out, raw, name)


def _column_default(out: dict, raw: dict, name: str) -> None:
    from ..sql.knowledge import volatile_calls

    _, tree = v.expression_tree(raw["default"], f"new {name} --default")
    calls = volatile_calls(tree)
    out["volatile"] = sorted(set(calls))
    out["batched"] = bool(calls) or out["pg_version"] < 11
    out["where"] = f"{out['column']} IS NULL"


def _rename(out: dict, raw: dict, name: str) -> None:
    if raw["new_name"] == raw["column"]:
        raise InputError(f"new {name}: --new-name is the column's current name")
    _sync_names(out, out["column_name"], out["new_name_name"])
    out["old"], out["new"] = out["column"], out["new_name"]


def _change_type(out: dict, raw: dict, name: str) -> None:
    shadow = v.derived_name(out["column_name"], "new")
    out["old"], out["new"] = out["column"], v.identifier(shadow, f"new {name}")
    out["new_name"] = shadow
    _sync_names(out, out["column_name"], shadow)


def _sync_names(out: dict, old: str, new: str) -> None:
    stem = f"{_stem(out)}_{old}_{new}"
    out["function"] = v.identifier(v.derived_name(stem, "sync"), "")
    out["trigger"] = v.identifier(v.derived_name(stem, "sync"), "")
    out["schema_prefix"] = out["table"].rsplit(".", 1)[0] + "." if "." in out["table_name"] else ""


def _enum(out: dict, raw: dict, name: str) -> None:
    from ..sql.names import literal

    if raw.get("before") and raw.get("after"):
        raise InputError(f"new {name}: give --before or --after, not both")
    schema, _, bare = out["type_name"].rpartition(".")
    out["old_type_bare"] = v.identifier(v.derived_name(bare, "old"), "")
    out["old_type"] = (v.identifier(schema, "") + "." if schema else "") + out["old_type_bare"]
    out["type_literal"] = literal(out["type"])
    out["old_type_literal"] = literal(out["old_type"])


def _create_table(out: dict, raw: dict, name: str) -> None:
    columns = out["column"]
    sql = f"CREATE TABLE {out['table']} (\n    " + ",\n    ".join(columns) + "\n)" if columns else ""
    parsed = parse_tree(sql) if columns and ";" not in sql else None
    elts = parsed[0]["stmt"].get("CreateStmt", {}).get("tableElts", []) if parsed and len(parsed) == 1 else []
    if columns and len(elts) != len(columns):
        raise InputError(f"new {name} --column: {columns!r} are not column definitions (name type [...])")
    names, indexed = [], []
    for elt, text in zip(elts, columns, strict=True):
        column = elt.get("ColumnDef")
        if column is None:
            raise InputError(f"new {name} --column: {text!r} is not a column definition (name type [...])")
        v.no_binds(text, f"new {name} --column")
        names.append(column["colname"])
        for constraint in column.get("constraints", ()):
            if constraint.get("Constraint", {}).get("contype") == "CONSTR_FOREIGN":
                indexed.append(column["colname"])
    reserved = {"id", "created_at", "updated_at"} & set(names)
    if reserved:
        raise InputError(f"new {name} --column: {', '.join(sorted(reserved))} is added by the template")
    out["columns"] = columns
    out["fk_indexes"] = [
        (v.identifier(v.derived_name(f"{_stem(out)}_{col}", "idx"), ""), v.identifier(col, ""))
        for col in indexed
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
