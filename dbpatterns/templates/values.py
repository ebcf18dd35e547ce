"""Check the values given to ``dbpatterns new`` and turn them into SQL: identifiers quoted when they need it,
types and expressions checked with pglast. Every problem is an :class:`InputError` naming the option."""

from __future__ import annotations

import re
import zlib

from ..errors import InputError
from ..sql.names import literal, quote
from ..sql.parse import parse_tree

MAX_IDENTIFIER = 63  # bytes; PostgreSQL truncates longer names
_IDENTIFIER = re.compile(r"[^\W\d][\w$]*")
# what SQLAlchemy's text() takes for a bind parameter (op.execute wraps strings in text())
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")
ON_DELETE = ("cascade", "restrict", "set null", "set default", "no action")


def identifier(value: str, where: str) -> str:
    """A table, column, index or type name, quoted when it needs quoting."""
    if not _IDENTIFIER.fullmatch(value or ""):
        raise InputError(f"{where}: {value!r} is not a valid identifier (letters, digits, _ and $)")
    if len(value.encode()) > MAX_IDENTIFIER:
        raise InputError(f"{where}: {value!r} is longer than {MAX_IDENTIFIER} bytes")
    return quote(value)


def table(value: str, where: str) -> str:
    """``table`` or ``schema.table``, each part quoted when needed."""
    parts = (value or "").split(".")
    if len(parts) > 2:
        raise InputError(f"{where}: {value!r} is not a table name (table or schema.table)")
    return ".".join(identifier(p, where) for p in parts)


def bare(value: str) -> str:
    """The name without its schema."""
    return value.rsplit(".", 1)[-1]


def derived_name(stem: str, suffix: str) -> str:
    """``stem_suffix`` as PostgreSQL names things, shortened (with a hash) to fit 63 bytes."""
    name = f"{stem}_{suffix}"
    if len(name.encode()) <= MAX_IDENTIFIER:
        return name
    tag = f"{zlib.crc32(name.encode()):08x}"
    room = MAX_IDENTIFIER - len(suffix) - len(tag) - 2
    return f"{stem.encode()[:room].decode(errors='ignore')}_{tag}_{suffix}"


def sql_type(value: str, where: str) -> str:
    """A SQL type (``text``, ``numeric(12,2)``, ``timestamptz``, ``public.mood``...)."""
    text = (value or "").strip()
    stmts = parse_tree(f"CREATE TABLE t (c {text})") if text and ";" not in text else None
    column = None
    if stmts and len(stmts) == 1:
        elts = stmts[0]["stmt"].get("CreateStmt", {}).get("tableElts", [])
        column = elts[0].get("ColumnDef") if len(elts) == 1 else None
    if not column or column.get("constraints") or column.get("collClause"):
        raise InputError(f"{where}: {value!r} is not a SQL type")
    no_binds(text, where)
    return text


def expression(value: str, where: str) -> str:
    """A SQL expression (a default, a condition, a value)."""
    return expression_tree(value, where)[0]


def expression_tree(value: str, where: str) -> tuple[str, dict]:
    """A SQL expression and its pglast JSON tree."""
    text = (value or "").strip()
    stmts = parse_tree(f"SELECT ({text})") if text else None
    select = stmts[0]["stmt"].get("SelectStmt", {}) if stmts and len(stmts) == 1 else {}
    targets = select.get("targetList", [])
    if len(targets) != 1 or set(select) - {"targetList", "limitOption", "op"}:
        raise InputError(f"{where}: {value!r} is not a SQL expression")
    no_binds(text, where)
    return text, targets[0]["ResTarget"]["val"]


def column_names(tree: dict) -> list[str]:
    """The column names an expression refers to, in order."""
    from ..sql.nodes import strings, walk

    out = []
    for kind, node in walk({"root": tree}):
        if kind == "ColumnRef":
            names = strings(node.get("fields"))
            if names and names[-1] not in out:
                out.append(names[-1])
    return out


def label(value: str, where: str) -> str:
    """A string literal (an enum label)."""
    if not value:
        raise InputError(f"{where}: the label is empty")
    if len(value.encode()) > MAX_IDENTIFIER:
        raise InputError(f"{where}: {value!r} is longer than {MAX_IDENTIFIER} bytes")
    return no_binds(literal(value), where)


def references(value: str, where: str) -> tuple[str, str, str]:
    """``table`` or ``table(column)`` -> (quoted table, quoted column, bare table name)."""
    match = re.fullmatch(r"\s*([^()\s]+)\s*(?:\(\s*([^()\s]+)\s*\))?\s*", value or "")
    if not match:
        raise InputError(f"{where}: {value!r} is not table or table(column)")
    name, column = match.group(1), match.group(2) or "id"
    return table(name, where), identifier(column, where), bare(name)


def on_delete(value: str, where: str) -> str:
    action = " ".join((value or "").lower().split())
    if action not in ON_DELETE:
        raise InputError(f"{where}: {value!r} is not one of {', '.join(ON_DELETE)}")
    return action.upper()


def no_binds(text: str, where: str) -> str:
    """Refuse ``:name`` (SQLAlchemy's text() would take it for a bind parameter), and backslashes or triple
    quotes (the SQL goes into Python string literals)."""
    if "\\" in text or '"""' in text:
        raise InputError(f"{where}: {text!r}: backslashes and triple quotes are not supported here")
    match = _BIND.search(text)
    if match:
        raise InputError(
            f"{where}: SQLAlchemy would read {match.group(0)!r} as a bind parameter; write it another way"
        )
    return text


def positive_int(value, where: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise InputError(f"{where}: {value!r} must be a whole number of 1 or more")
    return number


def seconds(value, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if not 0 <= number <= 3600:
        raise InputError(f"{where}: {value!r} must be a number of seconds from 0 to 3600")
    return number
