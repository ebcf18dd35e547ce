"""Small readers over pglast's JSON parse tree (dicts keyed by node name)."""

from __future__ import annotations

from collections.abc import Iterator


def qualified(rangevar: dict | None) -> str | None:
    """``schema.table`` or ``table`` from a RangeVar."""
    if not rangevar:
        return None
    rv = rangevar.get("RangeVar", rangevar)
    name = rv.get("relname")
    schema = rv.get("schemaname")
    return f"{schema}.{name}" if schema and name else name


def bare(name: str | None) -> str | None:
    """The table name without its schema, for matching names written with and without one."""
    return name.rsplit(".", 1)[-1] if name else name


def bare_relation(rangevar: dict | None) -> str | None:
    """``bare(qualified(rangevar))`` without building the qualified name."""
    if not rangevar:
        return None
    name = rangevar.get("RangeVar", rangevar).get("relname")
    return name.rsplit(".", 1)[-1] if name and "." in name else name


def strings(items: list | None) -> list[str]:
    """The svals of a list of String nodes (names, qualified names)."""
    out = []
    for item in items or ():
        s = item.get("String")
        if s is not None:
            out.append(s.get("sval", ""))
    return out


def dotted(items: list | None) -> str:
    return ".".join(strings(items))


def type_name(type_node: dict | None) -> tuple[str, tuple[int, ...]]:
    """(name, typmods) of a TypeName: ('int4', ()), ('varchar', (255,)), ('numeric', (10, 2))."""
    if not type_node:
        return "", ()
    names = strings(type_node.get("names"))
    name = names[-1] if names else ""
    mods = []
    for mod in type_node.get("typmods") or ():
        const = mod.get("A_Const")
        if const is None:
            return name, (-1,)
        ival = const.get("ival")
        mods.append(ival.get("ival", 0) if ival is not None else -1)
    if type_node.get("arrayBounds"):
        name += "[]"
    return name, tuple(mods)


def const_value(node: dict | None):
    """The Python value of an A_Const, or None."""
    if not node or "A_Const" not in node:
        return None
    c = node["A_Const"]
    for key, inner in (("sval", "sval"), ("ival", "ival"), ("fval", "fval"), ("boolval", "boolval")):
        if key in c:
            return c[key].get(inner, 0 if key == "ival" else False if key == "boolval" else "")
    return None


def walk(node) -> Iterator[tuple[str, dict]]:
    """Every (node name, fields) pair below ``node``, depth first."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(value, dict):
                    if key[:1].isupper():
                        yield key, value
                    stack.append(value)
                elif isinstance(value, list):
                    stack.extend(value)
        elif isinstance(item, list):
            stack.extend(item)


def constraints_of(column_def: dict) -> list[dict]:
    return [c["Constraint"] for c in column_def.get("constraints") or () if "Constraint" in c]


def has_constraint(column_def: dict, contype: str) -> bool:
    """Whether the column carries a constraint of type ``contype`` (CONSTR_FOREIGN, ...)."""
    for item in column_def.get("constraints") or ():
        con = item.get("Constraint")
        if con is not None and con.get("contype") == contype:
            return True
    return False


_last_column: tuple[dict | None, dict[str | None, list[dict]]] = (None, {})


def constraints_by_type(column_def: dict) -> dict[str | None, list[dict]]:
    """contype -> the column's constraints of that type, in order. Remembered for the last column asked
    about (the rules on one ADD COLUMN all ask about the same one); the trees are never changed."""
    global _last_column
    if _last_column[0] is column_def:
        return _last_column[1]
    found: dict[str | None, list[dict]] = {}
    for item in column_def.get("constraints") or ():
        con = item.get("Constraint")
        if con is not None:
            contype = con.get("contype")
            group = found.get(contype)
            if group is None:
                found[contype] = [con]
            else:
                group.append(con)
    _last_column = (column_def, found)
    return found


def option_names(params: list | None) -> dict[str, object]:
    """DefElem options (``(CONCURRENTLY)``, ``(FULL FALSE)``) as name -> value (True when bare)."""
    out: dict[str, object] = {}
    for p in params or ():
        d = p.get("DefElem")
        if not d:
            continue
        arg = d.get("arg")
        if arg is None:
            out[d.get("defname", "")] = True
        else:
            value = const_value(arg)
            if value is None and "String" in arg:
                value = arg["String"].get("sval")
            if value is None and "Boolean" in arg:
                value = arg["Boolean"].get("boolval", False)
            out[d.get("defname", "")] = value
    return out


def truthy(value) -> bool:
    if isinstance(value, str):
        return value.lower() not in ("false", "off", "0", "no")
    return bool(value) if value is not None else True
