"""Check the values given to ``dbpatterns new`` and turn them into SQL.

Names are read as PostgreSQL reads them in SQL (``Users`` is ``users``, ``"Users"`` keeps its case, a
keyword such as ``order`` is a name) and written back quoted only when they need it
(:mod:`dbpatterns.sql.names`). Types, expressions and column definitions are parsed with pglast and
written back from the parse tree, never pasted: the tree of what is written must equal the tree of what was
given. Every problem is an :class:`InputError` naming the option."""

from __future__ import annotations

import unicodedata
import zlib

from ..errors import InputError
from ..sql.names import MAX_NAME_BYTES, literal, quote, read_name, truncated
from ..sql.nodes import strings, walk
from ..sql.parse import parse_tree

MAX_IDENTIFIER = MAX_NAME_BYTES  # bytes; PostgreSQL truncates longer names
ON_DELETE = ("cascade", "restrict", "set null", "set default", "no action")
_BAD_CATEGORIES = ("Cc", "Cs", "Zl", "Zp")  # control characters, lone surrogates, line/paragraph separators


def text_value(value, where: str) -> str:
    """``value`` as text PostgreSQL and a UTF-8 file can hold: no NUL, no lone surrogate."""
    text = "" if value is None else str(value)
    if "\x00" in text:
        raise InputError(f"{where}: {text!r} contains a NUL character")
    try:
        text.encode()
    except UnicodeEncodeError:
        raise InputError(f"{where}: {text!r} is not valid UTF-8 text") from None
    return text


def names(value, where: str) -> list[str]:
    """The parts of a (possibly dotted) name as PostgreSQL reads it."""
    text = text_value(value, where)
    try:
        parts = read_name(text)
    except ValueError as exc:
        why = str(exc).split(" at or near ")[0]  # pglast's message would repeat the text unescaped
        raise InputError(f"{where}: {text!r} is not a valid identifier: {why}") from None
    for part in parts:
        bad = [c for c in part if unicodedata.category(c) in _BAD_CATEGORIES]
        if bad:
            raise InputError(f"{where}: {text!r}: control characters are not supported in names")
    return parts


def name(value, where: str) -> str:
    """One name (no schema) as PostgreSQL reads it: ``Email`` is ``email``, ``"Email"`` is ``Email``."""
    parts = names(value, where)
    if len(parts) != 1:
        raise InputError(f"{where}: {value!r} is not a valid identifier: give one name, without a schema")
    return parts[0]


def sql_name(value: str, where: str = "new") -> str:
    """A name (as stored) written as SQL: quoted when it needs quoting, like ``quote_ident``."""
    return no_binds(quote(value), where)


def identifier(value, where: str) -> str:
    """A table, column, index or type name given as in SQL, written back as SQL."""
    return sql_name(name(value, where), where)


def table_names(value, where: str) -> list[str]:
    """``table`` or ``schema.table``: the parts as PostgreSQL reads them."""
    parts = names(value, where)
    if len(parts) > 2:
        raise InputError(f"{where}: {value!r} is not a table name (table or schema.table)")
    return parts


def table(value, where: str) -> str:
    """``table`` or ``schema.table``, each part quoted when needed."""
    return ".".join(sql_name(p, where) for p in table_names(value, where))


def derived_name(stem: str, suffix: str) -> str:
    """``stem_suffix`` as PostgreSQL names things, shortened (with a hash) to fit 63 bytes."""
    name = f"{stem}_{suffix}"
    if len(name.encode()) <= MAX_IDENTIFIER:
        return name
    tag = f"{zlib.crc32(name.encode()):08x}"
    room = MAX_IDENTIFIER - len(suffix) - len(tag) - 2
    return f"{truncated(stem, room)}_{tag}_{suffix}"


def sql_type(value, where: str) -> str:
    """A SQL type (``text``, ``numeric(12,2)``, ``timestamptz``, ``public.mood``...), written back from its
    parse tree."""
    text = text_value(value, where).strip()
    parsed = _column(f"x {text}", where, f"{text!r} is not a SQL type") if text else None
    if parsed is None or set(parsed[2]) - {"colname", "typeName", "is_local", "location"}:
        raise InputError(f"{where}: {text!r} is not a SQL type")
    if parsed[2]["typeName"].get("setof"):
        raise InputError(f"{where}: {text!r} is not a SQL type")
    return no_binds(parsed[1], where)


def column_definition(value, where: str) -> tuple[str, str, dict]:
    """One column definition (``email text NOT NULL``, ``"Order" bigint REFERENCES orders``): exactly
    one column, nothing else. A name that is a keyword (``order text``) is taken as the name when the text
    does not parse as written. (name, SQL written back from its parse tree, pglast's ColumnDef)."""
    from pglast.parser import ParseError, scan

    text = text_value(value, where)
    what = f"{text!r} is not one column definition (name type [constraints])"
    try:
        tokens = scan(text)
    except ParseError:
        tokens = []
    if tokens and tokens[0].name == "IDENT":  # a name PostgreSQL would shorten is refused, as everywhere
        names(text[: tokens[0].end + 1], where)
    parsed = _column(text, where, what)
    keyword = bool(tokens) and tokens[0].kind != "NO_KEYWORD"
    if parsed is None and keyword and parse_tree(f"CREATE TABLE t ({text})") is None:
        first = text[tokens[0].start : tokens[0].end + 1].lower()
        parsed = _column(f'"{first}"' + text[tokens[0].end + 1 :], where, what)
    if parsed is None:
        raise InputError(f"{where}: {what}")
    column, rest, definition = parsed
    return column, no_binds(sql_name(column, where) + " " + rest, where), definition


def _column(sql: str, where: str, what: str) -> tuple[str, str, dict] | None:
    """``sql`` parsed in ``CREATE TABLE t (...)``: None unless the statement is one column definition and
    nothing else; else (its name, the rest written back from its tree, the ColumnDef). What is written
    back is checked to parse to the same tree."""
    stmts = parse_tree(f"CREATE TABLE t ({sql})")
    create = stmts[0]["stmt"].get("CreateStmt") if stmts and len(stmts) == 1 else None
    if not create or set(create) - {"relation", "tableElts", "oncommit"}:
        return None
    elts = create.get("tableElts", [])
    relation = _plain(create["relation"])
    if relation != {"relname": "t", "inh": True, "relpersistence": "p"} or len(elts) != 1:
        return None
    if "ColumnDef" not in elts[0] or create.get("oncommit") != "ONCOMMIT_NOOP":
        return None
    definition = elts[0]["ColumnDef"]

    def without_name():
        from pglast import parse_sql

        node = parse_sql(f"CREATE TABLE t ({sql})")[0].stmt.tableElts[0]
        node.colname = "x"
        return node

    written = _deparse(without_name, where, what)
    column = definition["colname"]
    again = parse_tree(f"CREATE TABLE t ({quote(column)} {written[2:]})")
    if not written.startswith("x ") or not again or _plain(again) != _plain(stmts):
        raise InputError(f"{where}: {what}: pglast cannot write it back faithfully")
    return column, written[2:], definition


def expression(value, where: str) -> str:
    """A SQL expression (a default, a condition, a value), written back from its parse tree."""
    return expression_tree(value, where)[0]


def expression_tree(value, where: str) -> tuple[str, dict]:
    """A SQL expression written back from its parse tree, and pglast's JSON tree."""
    text = text_value(value, where).strip()
    what = f"{text!r} is not a SQL expression"
    stmts = parse_tree(f"SELECT ({text})") if text else None
    select = stmts[0]["stmt"].get("SelectStmt", {}) if stmts and len(stmts) == 1 else {}
    targets = select.get("targetList", [])
    extra = set(select) - {"targetList", "limitOption", "op"}
    if len(targets) != 1 or extra or "name" in targets[0]["ResTarget"]:
        raise InputError(f"{where}: {what}")
    from pglast import parse_sql

    tree = targets[0]["ResTarget"]["val"]
    written = _deparse(lambda: parse_sql(f"SELECT ({text})")[0].stmt.targetList[0].val, where, what)
    again = parse_tree(f"SELECT ({written})")
    if not again or _plain(again) != _plain(stmts):
        raise InputError(f"{where}: {what}: pglast cannot write it back faithfully")
    return no_binds(written, where), tree


def default_expression(sql: str) -> str:
    """An expression (from :func:`expression`) as ``DEFAULT <it>`` takes it: parenthesized when the
    narrower grammar of DEFAULT (``b_expr``: no AND, OR, IS NULL, ...) would read it otherwise."""
    bare = parse_tree(f"CREATE TABLE t (c int DEFAULT {sql})")
    wrapped = parse_tree(f"CREATE TABLE t (c int DEFAULT ({sql}))")
    return sql if bare and _plain(bare) == _plain(wrapped) else f"({sql})"


def _deparse(node, where: str, what: str) -> str:
    from pglast.stream import RawStream

    try:
        return RawStream()(node())
    except Exception:  # noqa: BLE001 - pglast's printers raise anything on a tree they do not handle
        raise InputError(f"{where}: {what}: pglast cannot write it back") from None


def _plain(tree):
    """A pglast JSON tree without its source positions (two parses of equal SQL compare equal)."""
    if isinstance(tree, dict):
        return {k: _plain(v) for k, v in tree.items() if k != "location" and not k.endswith("_location")}
    if isinstance(tree, list):
        return [_plain(v) for v in tree]
    return tree


def column_names(tree: dict) -> list[str]:
    """The column names an expression refers to, in order."""
    out = []
    for kind, node in walk({"root": tree}):
        if kind == "ColumnRef":
            names = strings(node.get("fields"))
            if names and names[-1] not in out:
                out.append(names[-1])
    return out


def label(value, where: str) -> str:
    """A string literal (an enum label): any text but NUL, up to 63 bytes, written as a SQL literal."""
    text = text_value(value, where)
    if not text:
        raise InputError(f"{where}: the label is empty")
    if len(text.encode()) > MAX_IDENTIFIER:
        raise InputError(f"{where}: {text!r} is longer than {MAX_IDENTIFIER} bytes")
    return no_binds(literal(text), where)


def references(value, where: str) -> tuple[str, str, str]:
    """``table`` or ``table(column)`` (names as in SQL) -> (SQL table, SQL column, bare table name)."""
    from pglast.parser import ParseError, scan

    text = text_value(value, where)
    what = f"{where}: {text!r} is not table or table(column)"
    try:
        tokens = scan(text)
    except ParseError:
        raise InputError(what) from None
    opens = [t for t in tokens if t.name == "ASCII_40"]
    if not opens:
        tab, column = text, '"id"'
    elif len(opens) == 1 and tokens[-1].name == "ASCII_41" and tokens[-1] is not opens[0]:
        tab, column = text[: opens[0].start], text[opens[0].end + 1 : tokens[-1].start]
    else:
        raise InputError(what)
    return table(tab, where), identifier(column, where), table_names(tab, where)[-1]


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
    # op.execute wraps a string in text(): SQLAlchemy's own reading says what it takes for a bind parameter
    from sqlalchemy import text as text_clause

    names = list(text_clause(text).compile().params)
    if names:
        raise InputError(
            f"{where}: SQLAlchemy would read {':' + names[0]!r} as a bind parameter; write it another way"
        )
    return text


MAX_BATCH = 2**31 - 2  # LIMIT batch_size + 1 stays an integer


def positive_int(value, where: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        number = 0
    if not 1 <= number <= MAX_BATCH:
        raise InputError(f"{where}: {value!r} must be a whole number from 1 to {MAX_BATCH}")
    return number


def seconds(value, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if not 0 <= number <= 3600:
        raise InputError(f"{where}: {value!r} must be a number of seconds from 0 to 3600")
    return number
