"""Autogenerate's differences (``alembic.autogenerate.compare_metadata``) as one line each."""

from __future__ import annotations


def describe_all(diffs: list) -> list[str]:
    out: list[str] = []
    for item in diffs:
        if isinstance(item, list):  # modify_* of one column come grouped
            out.extend(describe(d) for d in item)
        else:
            out.append(describe(item))
    return out


def describe(d: tuple) -> str:
    op = d[0]
    if op in ("add_table", "remove_table"):
        where = "only in the models" if op == "add_table" else "only in the database"
        return f"table {_name(d[1].schema, d[1].name)} {where}"
    if op in ("add_column", "remove_column"):
        where = "only in the models" if op == "add_column" else "only in the database"
        return f"column {_name(d[1], d[2])}.{d[3].name} {where}"
    if op in ("add_index", "remove_index", "add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        obj = d[1]
        kind = {"index": "index", "constraint": "constraint", "fk": "foreign key"}[op.split("_", 1)[1]]
        where = "only in the models" if op.startswith("add") else "only in the database"
        table = getattr(obj, "table", None)
        on = f" on {_name(table.schema, table.name)}" if table is not None else ""
        return f"{kind} {obj.name or '(unnamed)'}{on} {where}"
    if op.startswith("modify_"):
        _, schema, table, column, _existing, old, new = d
        what = op.removeprefix("modify_").replace("_", " ")
        where = f"{_show(old)} in the database, {_show(new)} in the models"
        return f"column {_name(schema, table)}.{column}: {what} {where}"
    if op in ("add_table_comment", "remove_table_comment"):
        return f"comment on table {_name(d[1].schema, d[1].name)} differs"
    return " ".join(str(part) for part in d)


def _name(schema, name) -> str:
    return f"{schema}.{name}" if schema else str(name)


def _show(value) -> str:
    if value is None:
        return "none"
    text = getattr(value, "arg", value)  # a server default
    text = getattr(text, "text", text)
    return repr(str(text)) if isinstance(text, str) else str(text)
