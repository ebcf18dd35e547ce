"""Fill every user table with N generated rows (``--rows N``), so a trace sees the cost of real data.

Values come from the column types: numbers count up (unique), text is the row number, timestamps step by
a minute, enums cycle through their labels. NOT NULL columns always get a value; identity, serial and
generated columns are left to the server. Foreign keys point at rows of the parent, which is filled first
(topological order); a nullable foreign key to a table not filled yet (a cycle, a self-reference) stays
NULL. String constants in a one-column CHECK (``status IN ('a', 'b')``) become the column's values, and
the generated rows are filtered by every CHECK whose columns are all generated, so a table may get fewer
than N rows when its checks reject most of them. One ``INSERT ... SELECT FROM generate_series`` a table.

:func:`fill` fills a database through its own connection (``trace --rows``); :func:`fill_empty` fills the
empty tables through a connection that is already in a transaction (verify's rows before each revision),
each insert under a savepoint so that a table it cannot fill stays empty and is only noted.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from ..errors import InputError
from ..sql.parse import parse_tree

_USER = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND left(n.nspname, 3) <> 'pg_'"
_TABLES = f"""
    SELECT c.oid, c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND {_USER}
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
      AND c.relname <> 'alembic_version'
    ORDER BY 2
"""
_COLUMNS = """
    SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
           a.attidentity <> '' OR a.attgenerated <> ''
             OR coalesce(starts_with(pg_get_expr(d.adbin, d.adrelid), 'nextval('), false),
           coalesce(bt.typname, t.typname), coalesce(bt.typcategory, t.typcategory), a.atthasdef
    FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = ANY({oids}) AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY a.attrelid, a.attnum
"""
_CONSTRAINTS = """
    SELECT c.conrelid, c.contype, c.confrelid,
           ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i)::text[],
           ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                 JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)::text[],
           CASE WHEN c.contype = 'c' THEN pg_get_expr(c.conbin, c.conrelid) END
    FROM pg_constraint c WHERE c.conrelid = ANY({oids}) AND c.contype IN ('f', 'c')
    ORDER BY c.conrelid, c.conname
"""


@dataclass
class Column:
    name: str
    type: str  # as format_type prints it: "character varying(20)"
    not_null: bool
    server_made: bool  # identity, serial or generated: left to the server
    base: str  # the (domain's base) type name: "int4"
    category: str  # pg_type.typcategory
    has_default: bool
    choices: list[str] = field(default_factory=list)  # string constants of a one-column CHECK


@dataclass
class Table:
    oid: int
    name: str  # regclass text, quoted as needed
    columns: dict[str, Column] = field(default_factory=dict)
    fks: list[tuple[int, list[str], list[str]]] = field(default_factory=list)  # parent, cols, parent cols
    checks: list[tuple[str, set[str]]] = field(default_factory=list)  # expression, columns it reads


def fill(url: str, rows: int) -> dict[str, int]:
    """Insert ``rows`` generated rows into every user table; returns rows inserted per table."""
    if rows <= 0:
        return {}
    with psycopg.connect(url, autocommit=True) as conn:
        tables = _read(conn)
        # the generated rows satisfy their foreign keys: skip the per-row checks (superuser only)
        with contextlib.suppress(psycopg.Error):
            conn.execute("SET session_replication_role = replica")
        done: dict[str, int] = {}
        filled: set[int] = set()
        for table in _order(tables):
            statement = _insert(table, tables, filled, rows)
            if statement is None:
                continue
            try:
                cur = conn.execute(statement)
            except psycopg.Error as exc:
                message = " ".join(str(exc).split()) or type(exc).__name__
                raise InputError(
                    f"--rows: cannot fill table {table.name}: {message.splitlines()[0]} "
                    "(insert rows into it in the setup script instead)"
                ) from None
            done[table.name] = cur.rowcount
            filled.add(table.oid)
        conn.execute("ANALYZE")
    return done


@dataclass
class Filled:
    """What :func:`fill_empty` did: rows inserted per table, and the tables it could not fill (why)."""

    rows: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def fill_empty(cursor, rows: int, known: dict[int, bool] | None = None) -> Filled:
    """Insert ``rows`` generated rows into every empty user table, through ``cursor`` (a DB-API cursor of a
    connection inside a transaction: each insert runs under a savepoint). ``known``: table oid -> whether it
    has rows, for tables seen before (skipped), updated in place. Nothing is ANALYZEd, no session setting
    changed: the migration that runs next sees its connection as it was."""
    out = Filled()
    if rows <= 0:
        return out

    def query(q: str) -> list:
        cursor.execute(q)
        return cursor.fetchall() if cursor.description else []

    known = known if known is not None else {}
    listed = query(_TABLES)
    if all(oid in known for oid, _ in listed):
        return out
    tables = _read_with(query, listed)
    todo = {oid for oid in tables if oid not in known}
    filled = {oid for oid in tables if known.get(oid)}
    for table in _order(tables):
        if table.oid not in todo:
            continue
        known[table.oid] = False
        if query(f"SELECT EXISTS (SELECT FROM {table.name})")[0][0]:
            known[table.oid] = True
            filled.add(table.oid)
            continue
        statement = _insert(table, tables, filled, rows)
        if statement is None:
            continue
        query("SAVEPOINT dbpatterns_fill")
        try:
            cursor.execute(statement.as_string(None))
            count = cursor.rowcount
        except psycopg.Error as exc:
            query("ROLLBACK TO SAVEPOINT dbpatterns_fill")
            out.failed[table.name] = error_text(exc)
            continue
        finally:
            query("RELEASE SAVEPOINT dbpatterns_fill")
        out.rows[table.name] = count
        if count > 0:
            known[table.oid] = True
            filled.add(table.oid)
    return out


def error_text(exc: BaseException) -> str:
    """The server's message of a psycopg error, on one line."""
    diag = getattr(exc, "diag", None)
    text = getattr(diag, "message_primary", None) or str(exc)
    return " ".join(text.split()) or type(exc).__name__


def _read(conn: psycopg.Connection) -> dict[int, Table]:
    return _read_with(lambda q: conn.execute(q).fetchall())


def _read_with(query, listed: list | None = None) -> dict[int, Table]:
    """The user tables (``listed``: the rows of ``_TABLES`` when read already), their columns and
    constraints; ``query(sql) -> rows`` runs a statement."""
    tables = {oid: Table(oid, name) for oid, name in (listed if listed is not None else query(_TABLES))}
    oids = "'{" + ",".join(str(o) for o in tables) + "}'::oid[]"
    for rel, name, typ, not_null, server_made, base, category, has_default in query(
        _COLUMNS.format(oids=oids)
    ):
        tables[rel].columns[name] = Column(name, typ, not_null, server_made, base, category, has_default)
    for rel, kind, parent, cols, parent_cols, expr in query(_CONSTRAINTS.format(oids=oids)):
        table = tables[rel]
        if kind == "f":
            table.fks.append((parent, cols, parent_cols))
        elif expr:
            names, strings = _check_parts(expr)
            table.checks.append((expr, names))
            col = table.columns.get(next(iter(names))) if len(names) == 1 else None
            if strings and col is not None and col.category == "S":
                col.choices = strings
    return tables


def _check_parts(expr: str) -> tuple[set[str], list[str]]:
    """Column names a CHECK expression reads and the string constants in it (pglast's parse tree)."""
    tree = parse_tree(f"SELECT {expr}")
    if tree is None:
        return set(), []
    names: set[str] = set()
    strings: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if "ColumnRef" in node:
                fields = node["ColumnRef"].get("fields", [])
                last = fields[-1] if fields else {}
                if "String" in last:
                    names.add(last["String"]["sval"])
            if "sval" in node and isinstance(node["sval"], dict):
                strings.append(node["sval"].get("sval", ""))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree)
    return names, list(dict.fromkeys(strings))


def _order(tables: dict[int, Table]) -> list[Table]:
    """Parents before children (Kahn); tables in a cycle come last, in name order."""
    parents = {oid: {p for p, _, _ in t.fks if p != oid and p in tables} for oid, t in tables.items()}
    ordered: list[Table] = []
    ready = sorted((oid for oid, ps in parents.items() if not ps), key=lambda o: tables[o].name)
    placed: set[int] = set()
    while ready:
        oid = ready.pop(0)
        placed.add(oid)
        ordered.append(tables[oid])
        for child, ps in parents.items():
            if child not in placed and child not in ready and ps <= placed:
                ready.append(child)
        ready.sort(key=lambda o: tables[o].name)
    ordered += sorted((t for o, t in tables.items() if o not in placed), key=lambda t: t.name)
    return ordered


def _value(col: Column, rows: int) -> sql.Composable | None:
    """An expression of ``g`` (the row number, 1..N) for the column, or None to leave it out."""
    typ = sql.SQL(col.type)
    if col.choices:
        literals = sql.SQL(", ").join(sql.Literal(c) for c in col.choices)
        return sql.SQL("((ARRAY[{}])[1 + g % {}])::{}").format(literals, len(col.choices), typ)
    base, cat = col.base, col.category
    if base == "int2":
        expr = "(1 + (g - 1) % 32767)"
    elif cat == "N" and base not in ("money", "oid", "regclass", "regtype", "regproc"):
        expr = "g"
    elif cat == "S":
        expr = "g::text"
    elif base == "bool":
        expr = "(g % 2 = 0)"
    elif base == "date":
        expr = "(date '2000-01-01' + g::int % 3000000)"
    elif base in ("timestamp", "timestamptz"):
        expr = "(timestamp '2000-01-01' + g * interval '1 minute')"
    elif base in ("time", "timetz"):
        expr = "(time '00:00' + g * interval '1 second')"
    elif base == "interval":
        expr = "(g * interval '1 second')"
    elif base == "uuid":
        expr = "md5(g::text)::uuid"
    elif base in ("json", "jsonb"):
        expr = "json_build_object('n', g)"
    elif base == "bytea":
        expr = "convert_to(g::text, 'UTF8')"
    elif base in ("inet", "cidr"):
        expr = "(inet '10.0.0.0' + g)"
    elif cat == "E":
        return sql.SQL("(enum_range(NULL::{t}))[1 + g % cardinality(enum_range(NULL::{t}))]").format(t=typ)
    elif cat == "A":
        expr = "'{}'"
    else:
        return None if col.has_default or not col.not_null else sql.SQL("g::text::{}").format(typ)
    return sql.SQL("({})::{}").format(sql.SQL(expr), typ)


def _insert(table: Table, tables: dict[int, Table], filled: set[int], rows: int) -> sql.Composable | None:
    exprs: dict[str, sql.Composable] = {}
    joins: list[sql.Composable] = []
    for i, (parent, cols, parent_cols) in enumerate(table.fks):
        alias = sql.Identifier(f"fk{i}")
        if parent not in filled or parent == table.oid:
            continue  # nullable columns stay NULL; NOT NULL ones make the insert fail with a clear message
        source = sql.SQL(", ").join(sql.Identifier(c) for c in parent_cols)
        parent_name = sql.SQL(tables[parent].name)
        joins.append(
            sql.SQL(
                "LEFT JOIN (SELECT {src}, row_number() OVER () AS rn FROM {p}) {a}"
                " ON {a}.rn = (g - 1) % greatest((SELECT count(*) FROM {p}), 1) + 1"
            ).format(src=source, p=parent_name, a=alias)
        )
        for col, parent_col in zip(cols, parent_cols, strict=True):
            exprs[col] = sql.SQL("{}.{}").format(alias, sql.Identifier(parent_col))
    for col in table.columns.values():
        if col.name in exprs or col.server_made:
            continue
        if any(col.name in cols for _, cols, _ in table.fks):
            if col.not_null:
                exprs[col.name] = sql.NULL  # its parent is not filled: the server names the problem
            continue
        value = _value(col, rows)
        if value is not None:
            exprs[col.name] = value
    if not exprs:  # every column is made by the server (a lone serial id)
        return sql.SQL("INSERT INTO {} SELECT FROM generate_series(1, {})").format(sql.SQL(table.name), rows)
    names = list(exprs)
    checks = [expr for expr, cols in table.checks if cols and cols <= set(names)]
    where = sql.SQL(" AND ").join(sql.SQL("({}) IS NOT FALSE").format(sql.SQL(e)) for e in checks)
    inner = sql.SQL("SELECT g AS dbpatterns_g, {} FROM generate_series(1, {}) g {}").format(
        sql.SQL(", ").join(sql.SQL("{} AS {}").format(exprs[n], sql.Identifier(n)) for n in names),
        rows * (4 if checks else 1),
        sql.SQL(" ").join(joins),
    )
    # the first rows that pass the checks, in order: numbers stay 1..N where they can, so a foreign key
    # added later over an integer column usually finds its parent's ids (serials from 1)
    return sql.SQL(
        "INSERT INTO {t} ({cols}) SELECT {cols} FROM ({inner}) s {where} ORDER BY dbpatterns_g LIMIT {n}"
    ).format(
        t=sql.SQL(table.name),
        cols=sql.SQL(", ").join(sql.Identifier(n) for n in names),
        inner=inner,
        where=sql.SQL("WHERE ") + where if checks else sql.SQL(""),
        n=rows,
    )
