"""One renderer per Alembic operation: bound static arguments -> the PostgreSQL statements Alembic emits.

Each renderer takes :class:`~dbpatterns.alembic.values.Args` and returns a list of SQL strings (one call
may emit several statements, e.g. ``alter_column`` changing type and nullability, or ``add_column`` with
``unique=True``). A renderer raises :class:`~dbpatterns.alembic.values.NotStatic` when the SQL cannot be
known statically.
"""

from __future__ import annotations

from collections.abc import Callable

from ..sql.dialects import other_dialect
from ..sql.names import literal, qualified, quote
from .ddl import (
    autoincrement_column,
    check_sql,
    column_foreign_key_sql,
    column_list,
    column_spec,
    comment_sql,
    constraint_name,
    enum_types,
    exclude_sql,
    foreign_key_sql,
    identity_option_list,
    identity_sql,
    index_sql,
    parse_column,
    server_default_sql,
    sql_expr,
    table_constraint_sql,
    table_sql,
    unique_sql,
)
from .types import enum_values_sql, imported_value, type_sql
from .values import (
    HOLE,
    MISSING,
    TABLE_CALLS,
    UNKNOWN,
    Args,
    Call,
    NotStatic,
    Partial,
    Ref,
    SqlText,
    TableColumn,
    as_name,
    as_sql,
)

# Positional parameter names of each op.<name>(...) and batch_op.<name>(...) (a leading * collects the rest)
OP_PARAMS: dict[str, tuple[str, ...]] = {
    "add_column": ("table_name", "column"),
    "alter_column": ("table_name", "column_name"),
    "create_index": ("index_name", "table_name", "columns"),
    "drop_index": ("index_name", "table_name"),
    "create_foreign_key": ("constraint_name", "source_table", "referent_table", "local_cols", "remote_cols"),
    "create_unique_constraint": ("constraint_name", "table_name", "columns"),
    "create_check_constraint": ("constraint_name", "table_name", "condition"),
    "create_primary_key": ("constraint_name", "table_name", "columns"),
    "create_exclude_constraint": ("constraint_name", "table_name", "*elements"),
    "drop_column": ("table_name", "column_name"),
    "drop_table": ("table_name",),
    "drop_constraint": ("constraint_name", "table_name", "type_"),
    "rename_table": ("old_table_name", "new_table_name"),
    "create_table": ("table_name", "*columns"),
    "execute": ("sqltext",),
    "bulk_insert": ("table", "rows"),
    "create_table_comment": ("table_name", "comment"),
    "drop_table_comment": ("table_name",),
    # alembic_utils (views, functions, triggers, policies, extensions as entities)
    "create_entity": ("target",),
    "replace_entity": ("target",),
    "drop_entity": ("target",),
    # alembic-postgresql-enum
    "sync_enum_values": ("enum_schema", "enum_name", "new_values", "affected_columns"),
}
BATCH_PARAMS: dict[str, tuple[str, ...]] = {
    "add_column": ("column",),
    "alter_column": ("column_name",),
    "create_index": ("index_name", "columns"),
    "drop_index": ("index_name",),
    "create_foreign_key": ("constraint_name", "referent_table", "local_cols", "remote_cols"),
    "create_unique_constraint": ("constraint_name", "columns"),
    "create_check_constraint": ("constraint_name", "condition"),
    "create_primary_key": ("constraint_name", "columns"),
    "create_exclude_constraint": ("constraint_name", "*elements"),
    "drop_column": ("column_name",),
    "drop_constraint": ("constraint_name", "type_"),
    "create_table_comment": ("comment",),
    "drop_table_comment": (),
    "execute": ("sqltext",),
}
# op.* attributes that emit no SQL by themselves (helpers, context access)
NOT_OPS = frozenset(
    {
        "f",
        "inline_literal",
        "get_bind",
        "get_context",
        "batch_alter_table",
        "implementation_for",
        "register_operation",
        "impl",
        "migration_context",
        "schema_obj",
    }
)


def _table(args: Args, name_key: str = "table_name", schema_key: str = "schema") -> str:
    return table_sql(args.get(name_key), args.get(schema_key))


def add_column(args: Args) -> list[str]:
    table = _table(args)
    column = parse_column(args.get("column"))
    serial = autoincrement_column([column]) is column
    spec = column_spec(column, serial=serial)
    if args.flag("inline_primary_key") and column.primary_key:
        spec += " PRIMARY KEY"
    inline_fk = args.flag("inline_references") and len(column.foreign_keys) == 1
    if inline_fk:
        fk_sql = column_foreign_key_sql(column.name, column.foreign_keys[0])
        spec += " REFERENCES" + fk_sql.split(" REFERENCES", 1)[1]
    exists = "IF NOT EXISTS " if args.flag("if_not_exists") else ""
    statements = [f"ALTER TABLE {table} ADD COLUMN {exists}{spec}"]
    # Alembic then adds the column's other constraints and indexes as separate statements
    if column.unique and not column.index:
        statements.append(f"ALTER TABLE {table} ADD {unique_sql(None, [column.name], {})}")
    if not inline_fk:
        for fk in column.foreign_keys:
            statements.append(f"ALTER TABLE {table} ADD {column_foreign_key_sql(column.name, fk)}")
    if column.index:
        statements.append(index_sql(None, table, [column.name], {}, unique=bool(column.unique)))
    if column.comment is not None:
        statements.append(comment_sql("COLUMN", f"{table}.{quote(column.name)}", column.comment))
    return statements


def alter_column(args: Args) -> list[str]:
    table = _table(args)
    column_name = args.str("column_name")
    column = quote(column_name)
    alter = f"ALTER TABLE {table} ALTER COLUMN {column}"
    statements = []
    type_ = args.get("type_")
    using = args.get("postgresql_using")
    if type_ is not MISSING and type_ is not None:
        text = f"{alter} TYPE {type_sql(type_, partial=True)}"  # an unknown type: a hedged rewrite
        if using is not MISSING and using is not None:
            if not isinstance(using, (str, SqlText)):
                raise NotStatic("postgresql_using= is not a literal string")
            text += f" USING {using if isinstance(using, str) else using.text}"
        statements.append(text)
    elif using is not MISSING and using is not None:
        raise NotStatic("postgresql_using= without type_= (Alembic refuses it)")
    nullable = args.get("nullable")
    if nullable is not MISSING and nullable is not None:
        if not isinstance(nullable, bool):
            raise NotStatic("nullable= is not a literal")
        statements.append(f"{alter} {'DROP NOT NULL' if nullable else 'SET NOT NULL'}")
    default = args.get("server_default", False)
    if default is not False:
        statements.extend(_alter_default(alter, default, args.get("existing_server_default")))
    comment = args.get("comment", False)
    if comment is not False:
        statements.append(comment_sql("COLUMN", f"{table}.{column}", comment))
    new_name = args.get("new_column_name")
    if new_name is not MISSING and new_name is not None:
        if not isinstance(new_name, str):
            raise NotStatic("new_column_name= is not a literal string")
        statements.append(f"ALTER TABLE {table} RENAME COLUMN {column} TO {quote(new_name)}")
    return statements


def _kind(value: object) -> str | None:
    if isinstance(value, Call) and value.receiver is None:
        return value.name
    if isinstance(value, Ref):
        return value.name
    return None


def _alter_default(alter: str, default: object, existing: object) -> list[str]:
    if _kind(default) == "Computed" or _kind(existing) == "Computed":
        raise NotStatic("Alembic cannot add or remove a computed (GENERATED ALWAYS AS) expression")
    if _kind(default) == "Identity":
        identity = default if isinstance(default, Call) else Call("Identity", [], {})
        if _kind(existing) == "Identity":
            kw = identity.kwargs
            text = f"{alter} SET GENERATED {'ALWAYS' if kw.get('always') is True else 'BY DEFAULT'}"
            return [" ".join([text, *(f"SET {option}" for option in identity_option_list(identity))])]
        return [f"{alter} ADD {identity_sql(identity)}"]
    if default is None:
        if _kind(existing) == "Identity":
            return [f"{alter} DROP IDENTITY"]
        return [f"{alter} DROP DEFAULT"]
    value = server_default_sql(default)
    return [f"{alter} SET DEFAULT {value}" if value is not None else f"{alter} DROP DEFAULT"]


def create_index(args: Args) -> list[str]:
    table = _table(args)
    if args.incomplete:
        raise NotStatic("create_index with **kwargs")
    return [
        index_sql(
            args.get("index_name"),
            table,
            args.get("columns"),
            args.values,
            unique=args.flag("unique"),
            if_not_exists=args.flag("if_not_exists"),
        )
    ]


def drop_index(args: Args) -> list[str]:
    name = args.str("index_name", "the index name")
    text = "DROP INDEX "
    if args.flag("postgresql_concurrently"):
        text += "CONCURRENTLY "
    if args.flag("if_exists"):
        text += "IF EXISTS "
    schema = args.get("schema")
    return [text + table_sql(name, schema)]


def create_foreign_key(args: Args) -> list[str]:
    table = _table(args, "source_table", "source_schema")
    referent = _table(args, "referent_table", "referent_schema")
    fk = foreign_key_sql(
        args.get("constraint_name"), args.get("local_cols"), referent, args.get("remote_cols"), args.values
    )
    return [f"ALTER TABLE {table} ADD {fk}"]


def create_unique_constraint(args: Args) -> list[str]:
    table = _table(args)
    return [
        f"ALTER TABLE {table} ADD {unique_sql(args.get('constraint_name'), args.get('columns'), args.values)}"
    ]


def create_check_constraint(args: Args) -> list[str]:
    table = _table(args)
    check = check_sql(args.get("constraint_name"), args.get("condition"), args.values)
    return [f"ALTER TABLE {table} ADD {check}"]


def create_primary_key(args: Args) -> list[str]:
    table = _table(args)
    name = constraint_name(args.get("constraint_name"))
    return [f"ALTER TABLE {table} ADD {name}PRIMARY KEY ({column_list(args.get('columns'))})"]


def create_exclude_constraint(args: Args) -> list[str]:
    table = _table(args)
    return [f"ALTER TABLE {table} ADD {exclude_sql(args.get('constraint_name'), args.rest, args.values)}"]


def drop_column(args: Args) -> list[str]:
    table = _table(args)
    exists = "IF EXISTS " if args.flag("if_exists") else ""
    return [f"ALTER TABLE {table} DROP COLUMN {exists}{quote(args.str('column_name'))}"]


def drop_table(args: Args) -> list[str]:
    exists = "IF EXISTS " if args.flag("if_exists") else ""
    return [f"DROP TABLE {exists}{_table(args)}"]


def drop_constraint(args: Args) -> list[str]:
    table = _table(args)
    exists = "IF EXISTS " if args.flag("if_exists") else ""
    return [f"ALTER TABLE {table} DROP CONSTRAINT {exists}{quote(args.str('constraint_name'))}"]


def rename_table(args: Args) -> list[str]:
    table = _table(args, "old_table_name")
    return [f"ALTER TABLE {table} RENAME TO {quote(args.str('new_table_name'))}"]


def create_table(args: Args) -> list[str]:
    table = _table(args)
    columns, constraints, indexes = [], [], []
    for item in args.rest:
        kind = _kind(item)
        if kind == "Column":
            columns.append(parse_column(item))
        elif kind == "Index" and isinstance(item, Call):
            indexes.append(item)
        elif kind in ("PrimaryKeyConstraint",) and isinstance(item, Call):
            for name in item.args:
                for column in columns:
                    if column.name == name:
                        column.primary_key = True
            constraints.append(item)
        elif isinstance(item, Call) and kind is not None and kind.endswith("Constraint"):
            constraints.append(item)
        elif kind == "MetaData":
            continue  # op.create_table("t", sa.MetaData(), ...): SQLAlchemy takes it as the table's metadata
        else:
            raise NotStatic("a create_table argument is not a literal Column or constraint")
    serial = autoincrement_column(columns)
    elements = [column_spec(c, serial=c is serial, new_table=True) for c in columns]
    has_pk_constraint = any(c.name == "PrimaryKeyConstraint" for c in constraints)
    pk_columns = [c.name for c in columns if c.primary_key]
    if pk_columns and not has_pk_constraint:
        elements.append(f"PRIMARY KEY ({column_list(pk_columns)})")
    for column in columns:
        if column.unique and not column.index:
            elements.append(unique_sql(None, [column.name], {}))
        for fk in column.foreign_keys:
            elements.append(column_foreign_key_sql(column.name, fk))
    elements.extend(table_constraint_sql(c) for c in constraints)
    prefixes = args.get("prefixes")
    prefix = ""
    if isinstance(prefixes, list) and all(isinstance(p, str) for p in prefixes):
        prefix = "".join(f"{p} " for p in prefixes)
    exists = "IF NOT EXISTS " if args.flag("if_not_exists") else ""
    text = f"CREATE {prefix}TABLE {exists}{table} ({', '.join(elements)})"
    text += _table_options(args)
    statements = [enum_values_sql(e) for e in enum_types(columns)]
    statements.append(text)
    for column in columns:
        if column.index:
            statements.append(index_sql(None, table, [column.name], {}, unique=bool(column.unique)))
    for index in indexes:
        if index.incomplete:
            raise NotStatic("sa.Index(...) with *args or **kwargs")
        name = index.args[0] if index.args else index.kwargs.get("name")
        unique = index.kwargs.get("unique") is True
        statements.append(index_sql(name, table, list(index.args[1:]), index.kwargs, unique=unique))
    comment = args.get("comment")
    if comment is not MISSING and comment is not None:
        statements.append(comment_sql("TABLE", table, comment))
    for column in columns:
        if column.comment is not None:
            statements.append(comment_sql("COLUMN", f"{table}.{quote(column.name)}", column.comment))
    return statements


def _table_options(args: Args) -> str:
    text = ""
    inherits = args.get("postgresql_inherits")
    if isinstance(inherits, str):
        inherits = [inherits]
    if isinstance(inherits, list) and inherits:
        text += f" INHERITS ( {', '.join(quote(str(i)) for i in inherits)} )"
    partition = args.get("postgresql_partition_by")
    if isinstance(partition, str):
        text += f" PARTITION BY {partition}"
    using = args.get("postgresql_using")
    if isinstance(using, str):
        text += f" USING {using}"
    with_ = args.get("postgresql_with")
    if isinstance(with_, dict) and with_:
        text += " WITH (" + ", ".join(f"{k} = {v}" for k, v in with_.items()) + ")"
    on_commit = args.get("postgresql_on_commit")
    if isinstance(on_commit, str):
        text += f" ON COMMIT {on_commit.upper()}"
    tablespace = args.get("postgresql_tablespace")
    if isinstance(tablespace, str):
        text += f" TABLESPACE {quote(tablespace)}"
    return text


def execute(args: Args) -> list[str]:
    sql = args.get("sqltext")
    if isinstance(sql, SqlText):
        sql = sql.text
    if isinstance(sql, Ref) and sql.path in KNOWN_SQL:  # a library's SQL constant
        return [KNOWN_SQL[sql.path]]
    if isinstance(sql, Ref):  # a constant of the project's own module: read there
        found = imported_value(sql)
        sql = found.text if isinstance(found, SqlText) else found if isinstance(found, str) else sql
    if isinstance(sql, str):  # a plain string goes through sa.text() (:name binds, \: a colon)
        return [statement_text(sql)]
    core = core_statement(sql)
    if core is not None:
        return [core]
    ddl = ddl_element(sql)
    if ddl is not None:
        return [ddl]
    raise NotStatic("op.execute with a non-literal argument")


def ddl_element(value: object) -> str | None:
    """The SQL of a SQLAlchemy DDL element handed to ``op.execute``: ``CreateSequence``/``DropSequence``
    of a ``Sequence("name")``, ``CreateSchema``/``DropSchema("name", cascade=)``, ``DropTable`` of a
    ``sa.table``, ``DropIndex`` of an ``Index("name")``. None for anything else."""
    if not isinstance(value, Call) or value.receiver is not None or value.incomplete or not value.args:
        return None
    kind, element = value.name, value.args[0]
    kw = value.kwargs
    exists = kw.get("if_exists") is True
    if kind in ("CreateSchema", "DropSchema"):
        name = quote(as_name(element)) if isinstance(element, str) else quote(UNKNOWN_NAME)
        if kind == "CreateSchema":
            return f"CREATE SCHEMA {'IF NOT EXISTS ' if kw.get('if_not_exists') is True else ''}{name}"
        cascade = " CASCADE" if kw.get("cascade") is True else ""
        return f"DROP SCHEMA {'IF EXISTS ' if exists else ''}{name}{cascade}"
    if not isinstance(element, Call) or element.receiver is not None:
        return None
    named = element.args[0] if element.args and isinstance(element.args[0], str) else UNKNOWN_NAME
    schema = element.kwargs.get("schema")
    target = qualified(as_name(named), as_name(schema) if isinstance(schema, str) else None)
    if kind in ("CreateSequence", "DropSequence") and element.name == "Sequence":
        if kind == "CreateSequence":
            return f"CREATE SEQUENCE {'IF NOT EXISTS ' if kw.get('if_not_exists') is True else ''}{target}"
        return f"DROP SEQUENCE {'IF EXISTS ' if exists else ''}{target}"
    if kind == "DropTable" and element.name in TABLE_CALLS:
        return f"DROP TABLE {'IF EXISTS ' if exists else ''}{_core_table(element)}"
    if kind == "DropIndex" and element.name == "Index":
        return f"DROP INDEX {'IF EXISTS ' if exists else ''}{target}"
    return None


_CORE_VERBS = ("update", "delete", "insert", "select")
_CORE_JOINS = ("join", "outerjoin")


def core_statement(value: object) -> str | None:
    """The SQL of a SQLAlchemy Core statement built on a table: ``t.update().where(...).values(...)``,
    ``t.delete()``, ``t.insert()``, ``t.select()`` (also ``sa.update(t)``, ...). What is not known (the
    table, a WHERE condition, a value) reads ``?``/``$1``: an UPDATE without ``.where()`` touches every row,
    one with a WHERE the reader cannot evaluate touches some. None when ``value`` is no such statement."""
    chain: list[Call] = []
    node = value
    while isinstance(node, Call) and node.receiver is not None:
        chain.append(node)
        node = node.receiver
    chain.reverse()
    verb: str | None = None
    table: object = UNKNOWN
    if isinstance(node, Call) and node.receiver is None and node.name in _CORE_VERBS:
        verb, table = node.name, (node.args[0] if node.args else UNKNOWN)  # sa.update(t)
        if isinstance(table, TableColumn):  # sa.select(t.c.id, t.c.name): the columns' table
            table = table.table
    elif chain and chain[0].path in _CORE_VERBS:
        verb, table = chain[0].path, node
        chain = chain[1:]
    joined: list[object] = []
    if verb is None:  # a.join(b, ...).select(): the verb after the joins
        at = next((i for i, c in enumerate(chain) if c.path in _CORE_VERBS), None)
        if at is None or not all(c.path in _CORE_JOINS for c in chain[:at]):
            return None
        verb, table = chain[at].path, node
        joined = [c.args[0] if c.args else UNKNOWN for c in chain[:at]]
        chain = chain[at + 1 :]
    target = _core_table(table)  # "?": a table not known here (a variable, a join, a list of columns)
    if joined:
        if verb != "select":
            return None
        target += "".join(f" JOIN {_core_table(other)} ON TRUE" for other in joined)  # the condition: no lock
    where: list[str] = []
    columns: list[str] = []
    for call in chain:
        if call.path in ("where", "filter", "filter_by"):
            for condition in [*call.args, *call.kwargs.values()]:
                try:
                    where.append(_core_condition(condition))
                except NotStatic:  # a condition read at run time (a row's id): it bounds the rows
                    where.append(f"{quote(UNKNOWN_NAME)} = $1")
        elif call.path == "values":
            items = call.args[0] if len(call.args) == 1 and isinstance(call.args[0], dict) else call.kwargs
            columns.extend(k if isinstance(k, str) else UNKNOWN_NAME for k in items)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    if verb == "update":
        sets = ", ".join(f"{quote(c)} = $1" for c in columns or [UNKNOWN_NAME])
        return f"UPDATE {target} SET {sets}{clause}"
    if verb == "delete":
        return f"DELETE FROM {target}{clause}"
    if verb == "insert":
        if not columns:
            return f"INSERT INTO {target} DEFAULT VALUES"
        names = ", ".join(quote(c) for c in columns)
        return f"INSERT INTO {target} ({names}) VALUES ({', '.join('$1' for _ in columns)})"
    return f"SELECT * FROM {target}{clause}"


def _core_condition(condition: object) -> str:
    if condition is UNKNOWN or condition is None or isinstance(condition, (str, int, float, bool)):
        raise NotStatic("the condition is not static")
    return f"({sql_expr(condition, 'sql')})"


def statement_text(sql: str) -> str:
    """The SQL of an executed string as PostgreSQL's parser can read it: bind parameters in any style
    (``:name``, ``%s``, ``%(name)s``) become ``$1``, or ``'?'`` where PostgreSQL accepts no parameter, and
    the unknown parts of a string built at run time become ``"?"``. Raises NotStatic when such a string
    does not parse with its unknown parts so replaced (the unknown part is SQL, not a name or a value)."""
    # lazy: sql.params and sql.parse load pglast; reading a revision statically does not
    from ..sql.params import placeholders
    from ..sql.parse import parse

    unknown = HOLE in sql
    text = as_sql(sql)
    candidate = placeholders(text).replace("\\:", ":")  # sa.text() unescapes \: wherever it stands
    if candidate == text and not unknown:
        return candidate
    if not parse(candidate).errors:
        return candidate
    literal = placeholders(text, literal=True).replace("\\:", ":")
    if not parse(literal).errors:
        return literal
    if unknown:
        # the unknown part is a value list, a SET list, enum labels: the same part as each of those; or the
        # WHEN branches of a CASE
        for other in (*(as_sql(sql, filler) for filler in _FILLERS), _case_branches(sql)):
            other = placeholders(other).replace("\\:", ":")
            if not parse(other).errors:
                return other
        if other_dialect(candidate):  # another database's statement: the syntax-error finding says so
            return candidate
        raise NotStatic("the SQL is built at run time and does not parse with its unknown parts as ?")
    return candidate


def _case_branches(sql: str) -> str:
    """``sql`` with each unknown part that follows ``CASE`` or ``CASE <operand>`` read as ``WHEN NULL THEN
    NULL`` (branches joined at run time: ``CASE {' '.join(whens)} ELSE x END``), the others as ``"?"``."""
    from ..sql.pglast_loader import parser_module

    scan = parser_module().scan
    parts = sql.split(HOLE)
    out = [parts[0]]
    for part in parts[1:]:
        before = as_sql("".join(out))
        try:
            names = [t.name for t in scan(before)][-2:]
        except Exception:  # noqa: BLE001 - an unterminated literal before the hole: not a CASE
            names = []
        out.append("WHEN NULL THEN NULL" if "CASE" in names else HOLE)
        out.append(part)
    return as_sql("".join(out))


# What else an unknown part of a SQL string built at run time may stand for, tried in turn after a name:
# a string literal (ENUM ('a', 'b')), a parenthesised row (VALUES (...), (...)), an assignment (SET a = 1)
_FILLERS = ("'?'", '("?")', '"?" = NULL')


# The parameters of each operation that name something (a table, an index, a constraint, a column), and
# those that list column names: an unknown value there is read as the name ``?`` (the operation's hazard
# rarely depends on the name).
NAME_PARAMS = frozenset(
    {
        "table_name",
        "source_table",
        "referent_table",
        "old_table_name",
        "new_table_name",
        "index_name",
        "constraint_name",
        "column_name",
        "new_column_name",
        "schema",
        "source_schema",
        "referent_schema",
    }
)
_SCHEMA_PARAMS = frozenset({"schema", "source_schema", "referent_schema"})  # None: the search path
LIST_PARAMS = frozenset({"columns", "local_cols", "remote_cols"})
_SQL_PARAMS = frozenset({"condition", "postgresql_where", "where", "sqltext", "postgresql_using"})
_SQL_CALLS = frozenset({"CheckConstraint", "Computed"})  # whose positional arguments are SQL text
UNKNOWN_NAME = "?"


def fill_unknown(name: str, args: Args) -> bool:
    """Read what is not known about an operation's arguments as ``?``, in place: an unknown name, an unknown
    column (or column list), the unknown parts of an f-string name, the unknown name or type of a
    ``sa.Column``. ``None`` as the name of a dropped constraint or index (named by a naming convention at run
    time) is unknown too. Returns whether anything was unknown."""
    found = False
    values = args.values
    for key, value in list(values.items()):
        if key in NAME_PARAMS:
            if value is UNKNOWN or (value is None and name.startswith("drop_") and key not in _SCHEMA_PARAMS):
                values[key] = UNKNOWN_NAME
                found = True
            elif isinstance(value, (Call, Ref)) and key not in _SCHEMA_PARAMS:
                values[key] = UNKNOWN_NAME  # a name computed by a call the reader does not follow
                found = True
        elif key in LIST_PARAMS and (value is UNKNOWN or isinstance(value, (Call, Ref))):
            values[key] = [UNKNOWN_NAME]
            found = True
        if key in LIST_PARAMS and isinstance(values[key], list):
            items = values[key]
            for index, item in enumerate(items):
                if item is UNKNOWN:
                    items[index] = UNKNOWN_NAME
                    found = True
        if key == "sqltext":
            continue  # execute reads its own holes (statement_text)
        new, changed = _holes(values[key], sql=key in _SQL_PARAMS)
        values[key], found = new, found or changed
    if args.rest:
        new, changed = _holes(args.rest, sql=False)
        args.rest, found = new, found or changed
    if name == "create_table" and (args.incomplete or not all(_table_item(i) for i in args.rest)):
        # columns made by the application's helpers, or spread from a list built at run time: the table is
        # created with the columns that are known (nothing about a new table's locks depends on the others)
        args.rest = [item for item in args.rest if _table_item(item)]
        args.incomplete, found = False, True
    for value in [*values.values(), *args.rest]:
        if isinstance(value, Call) and value.receiver is None and value.name == "Column":
            found = _column_unknowns(value) or found
    if name == "alter_column" and _type_known_in_part(values.get("type_", MISSING)):
        found = True
    return found


def _type_known_in_part(value: object) -> bool:
    """A ``type_=`` read as a type named with a ``?`` (``type_sql``'s ``partial``): a length known at run
    time, a library's class, an expression that is not a type."""
    if value is MISSING or value is None:
        return False
    try:
        return "?" in type_sql(value, partial=True)
    except NotStatic:  # refused: SQLAlchemy raises (operation-fails says so)
        return False


def _table_item(item: object) -> bool:
    """A create_table argument the reader renders: a literal Column, constraint, Index or MetaData."""
    kind = _kind(item)
    return (
        isinstance(item, (Call, Ref))
        and kind is not None
        and (kind in ("Column", "Index", "MetaData") or kind.endswith("Constraint"))
    )


def _holes(value: object, sql: bool) -> tuple[object, bool]:
    """``value`` with every partial string read as a name (or, in SQL, with ``"?"``), deeply."""
    if isinstance(value, Partial):
        return (as_sql(value) if sql else as_name(value)), True
    if isinstance(value, list):
        changed = False
        for index, item in enumerate(value):
            value[index], one = _holes(item, sql)
            changed = changed or one
        return value, changed
    if isinstance(value, Call):
        changed = False
        sql_args = sql or value.name in _SQL_CALLS
        for index, item in enumerate(value.args):
            value.args[index], one = _holes(item, sql_args)
            changed = changed or one
        for key, item in value.kwargs.items():
            value.kwargs[key], one = _holes(item, sql or key in _SQL_PARAMS)
            changed = changed or one
        return value, changed
    if isinstance(value, SqlText) and isinstance(value.text, Partial):
        return SqlText(as_sql(value.text)), True
    return value, False


def _column_unknowns(column: Call) -> bool:
    """A ``sa.Column`` whose name or type is unknown: ``?`` for the name, a type named ``?``; items that
    are not known (a ForeignKey or a default computed at run time) are left out."""
    found = False
    args = column.args
    named_by_call = len(args) >= 2 and isinstance(args[0], Call) and isinstance(args[1], (Call, Ref))
    if "name" not in column.kwargs and args and (args[0] is UNKNOWN or named_by_call):
        args[0] = UNKNOWN_NAME
        found = True
    start = 1 if args and isinstance(args[0], str) else 0
    if "type_" not in column.kwargs and len(args) > start and args[start] is UNKNOWN:
        args[start] = Ref(UNKNOWN_NAME)
        found = True
    kept = [a for a in args[start + 1 :] if a is not UNKNOWN]
    if len(kept) != len(args[start + 1 :]):
        found = True
        del args[start + 1 :]
        args.extend(kept)
    if column.kwargs.get("type_") is UNKNOWN:
        column.kwargs["type_"] = Ref(UNKNOWN_NAME)
        found = True
    return found


# The parameters each op.<name>(...) cannot do without (Alembic's signatures): a call without one raises
# TypeError before anything runs
REQUIRED: dict[str, tuple[str, ...]] = {
    "add_column": ("table_name", "column"),
    "alter_column": ("table_name", "column_name"),
    "create_index": ("index_name", "table_name", "columns"),
    "create_foreign_key": ("constraint_name", "source_table", "referent_table", "local_cols", "remote_cols"),
    "create_unique_constraint": ("constraint_name", "table_name", "columns"),
    "create_check_constraint": ("constraint_name", "table_name", "condition"),
    "create_primary_key": ("constraint_name", "table_name", "columns"),
    "drop_column": ("table_name", "column_name"),
    "drop_constraint": ("constraint_name", "table_name"),
    "drop_table": ("table_name",),
    "rename_table": ("old_table_name", "new_table_name"),
}


def refusal(name: str, args: Args, owner: str = "op") -> str | None:
    """Why Alembic or SQLAlchemy raises on this operation before sending any SQL, or None. Read before
    :func:`fill_unknown` (which reads a ``None`` name as ``?``)."""
    if owner == "op" and not args.incomplete:
        missing = [p for p in REQUIRED.get(name, ()) if not args.has(p)]
        if missing:
            return f"op.{name}() without {missing[0]}: Alembic raises TypeError (a required argument)"
    if name == "drop_constraint" and args.get("constraint_name") is None:
        kind = args.get("type_")
        if kind == "primary":  # a convention of the table name alone (pk_%(table_name)s) can name it
            return None
        table = args.get("table_name")
        on = f', "{as_name(table)}"' if isinstance(table, str) else ""
        return (
            f"op.drop_constraint(None{on}) cannot run: a constraint without a name cannot be dropped "
            '(SQLAlchemy raises CompileError "Can\'t emit DROP CONSTRAINT ...; it has no name", and a '
            "naming convention cannot name a foreign key, unique or check constraint from the table alone)"
        )
    return None


def bulk_insert(args: Args) -> list[str]:
    """``op.bulk_insert(table, rows)``: one INSERT of the rows' keys (Alembic sends the rows as one
    executemany); the table of a ``sa.table("name", ...)``, else ``?``; no statement for a literal empty
    list of rows."""
    rows = args.get("rows")
    if isinstance(rows, list) and not rows:
        return []
    columns: list[str] = []
    for row in rows if isinstance(rows, list) else []:
        for key in row if isinstance(row, dict) else [UNKNOWN_NAME]:
            name = key if isinstance(key, str) else UNKNOWN_NAME
            if name not in columns:
                columns.append(name)
    columns = columns or [UNKNOWN_NAME]
    target = _core_table(args.get("table"))
    values = ", ".join("$1" for _ in columns)
    return [f"INSERT INTO {target} ({', '.join(quote(c) for c in columns)}) VALUES ({values})"]


def _core_table(table: object) -> str:
    """The rendered name of a ``sa.table("name", ..., schema=)`` / ``sa.Table(...)``, else ``"?"``."""
    if isinstance(table, Call) and table.receiver is None and table.name in TABLE_CALLS:
        name = as_name(table.args[0]) if table.args and isinstance(table.args[0], str) else UNKNOWN_NAME
        schema = table.kwargs.get("schema")
        return qualified(name, as_name(schema) if isinstance(schema, str) else None)
    return quote(UNKNOWN_NAME)


def create_table_comment(args: Args) -> list[str]:
    return [comment_sql("TABLE", _table(args), args.get("comment", None))]


def drop_table_comment(args: Args) -> list[str]:
    return [comment_sql("TABLE", _table(args), None)]


# -- third-party operations ------------------------------------------------------------------------------


def _entity(args: Args) -> tuple[str, str, dict]:
    """(class name, schema-qualified signature, keyword arguments) of an alembic_utils entity."""
    target = args.get("target")
    if not isinstance(target, Call) or target.receiver is not None or target.incomplete:
        raise NotStatic("the entity is not a literal alembic_utils PGView/PGFunction/PGTrigger(...)")
    kw = dict(target.kwargs)
    for index, key in enumerate(("schema", "signature", "definition")):
        if index < len(target.args):
            kw.setdefault(key, target.args[index])
    kind = target.name
    schema = kw.get("schema")
    signature = kw.get("signature")
    if not isinstance(signature, str):
        signature = UNKNOWN_NAME
    if kind in ("PGFunction", "PGProcedure"):
        name = f"{quote(schema)}.{signature}" if isinstance(schema, str) else signature  # name(args) as is
    else:
        name = qualified(signature, schema if isinstance(schema, str) else None)
    return kind, name, kw


def _definition(kw: dict) -> str:
    definition = kw.get("definition")
    if isinstance(definition, SqlText):
        definition = definition.text
    if not isinstance(definition, str):
        raise NotStatic("the entity's definition is not a literal string")
    return as_sql(definition).strip().rstrip(";")


def _on_entity(kw: dict) -> str:
    on = kw.get("on_entity")
    return ".".join(quote(p) for p in on.split(".")) if isinstance(on, str) else quote(UNKNOWN_NAME)


_ENTITY_KINDS = {
    "PGView": "VIEW",
    "PGMaterializedView": "MATERIALIZED VIEW",
    "PGFunction": "FUNCTION",
    "PGProcedure": "PROCEDURE",
    "PGTrigger": "TRIGGER",
    "PGPolicy": "POLICY",
    "PGExtension": "EXTENSION",
}


def _create_entity(kind: str, name: str, kw: dict, replace: bool = False) -> list[str]:
    or_replace = "OR REPLACE " if replace else ""
    if kind == "PGView":
        return [f"CREATE {or_replace}VIEW {name} AS {_definition(kw)}"]
    if kind == "PGMaterializedView":
        data = "" if kw.get("with_data", True) is not False else " WITH NO DATA"
        return [f"CREATE MATERIALIZED VIEW {name} AS {_definition(kw)}{data}"]
    if kind in ("PGFunction", "PGProcedure"):
        return [f"CREATE {or_replace}{_ENTITY_KINDS[kind]} {name} {_definition(kw)}"]
    if kind == "PGTrigger":
        constraint = "CONSTRAINT " if kw.get("is_constraint") is True else ""
        bare = name.rsplit(".", 1)[-1]  # a trigger lives on its table, not in a schema
        return [f"CREATE {constraint}TRIGGER {bare} {_definition(kw)}"]
    if kind == "PGPolicy":
        bare = name.rsplit(".", 1)[-1]
        return [f"CREATE POLICY {bare} ON {_on_entity(kw)} {_definition(kw)}"]
    if kind == "PGExtension":
        schema = kw.get("schema")
        bare = quote(kw["signature"]) if isinstance(kw.get("signature"), str) else quote(UNKNOWN_NAME)
        where = f" WITH SCHEMA {quote(schema)}" if isinstance(schema, str) else ""
        return [f"CREATE EXTENSION IF NOT EXISTS {bare}{where}"]
    raise NotStatic(f"{kind} is not an alembic_utils entity the lint knows")


def _drop_entity(kind: str, name: str, kw: dict) -> list[str]:
    if kind in ("PGTrigger", "PGPolicy"):
        return [f"DROP {_ENTITY_KINDS[kind]} {name.rsplit('.', 1)[-1]} ON {_on_entity(kw)}"]
    if kind == "PGExtension":
        bare = quote(kw["signature"]) if isinstance(kw.get("signature"), str) else quote(UNKNOWN_NAME)
        return [f"DROP EXTENSION {bare}"]
    if kind in _ENTITY_KINDS:
        return [f"DROP {_ENTITY_KINDS[kind]} {name}"]
    raise NotStatic(f"{kind} is not an alembic_utils entity the lint knows")


def create_entity(args: Args) -> list[str]:
    """alembic_utils' ``op.create_entity``: the entity's CREATE statement."""
    return _create_entity(*_entity(args))


def replace_entity(args: Args) -> list[str]:
    """alembic_utils' ``op.replace_entity``: CREATE OR REPLACE for views and functions; a trigger, policy
    or materialized view is dropped and created again."""
    kind, name, kw = _entity(args)
    if kind in ("PGView", "PGFunction", "PGProcedure"):
        return _create_entity(kind, name, kw, replace=True)
    return [*_drop_entity(kind, name, kw), *_create_entity(kind, name, kw)]


def drop_entity(args: Args) -> list[str]:
    """alembic_utils' ``op.drop_entity``."""
    return _drop_entity(*_entity(args))


def sync_enum_values(args: Args) -> list[str]:
    """alembic-postgresql-enum's ``op.sync_enum_values``: the enum is renamed, created again with the new
    values, every affected column is cast to it (``ALTER COLUMN ... TYPE ... USING``: a table rewrite under
    ACCESS EXCLUSIVE), and the old type dropped. (Its values-only additions run ALTER TYPE ... ADD VALUE in
    newer releases; the rewrite is what the operation may do.)"""
    schema = args.get("enum_schema")
    name = args.get("enum_name")
    name = name if isinstance(name, str) else UNKNOWN_NAME
    schema = schema if isinstance(schema, str) else None
    if _names(args.get("affected_columns")) or args.has("old_values"):
        return _added_enum_values(args, qualified(name, schema))
    values = args.get("new_values")
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        values = [UNKNOWN_NAME]
    enum = qualified(name, schema)
    old = qualified(f"{name}_old", schema)
    statements = [
        f"ALTER TYPE {enum} RENAME TO {quote(name + '_old')}",
        f"CREATE TYPE {enum} AS ENUM ({', '.join(literal(v) for v in values)})",
    ]
    columns = args.get("affected_columns")
    for item in columns if isinstance(columns, list) else []:
        table = column = None
        if (
            isinstance(item, Call) and item.receiver is None
        ):  # TableReference(table_schema=, table_name=, ...)
            table = item.kwargs.get("table_name", item.args[1] if len(item.args) > 1 else None)
            column = item.kwargs.get("column_name", item.args[2] if len(item.args) > 2 else None)
            table_schema = item.kwargs.get("table_schema", item.args[0] if item.args else None)
        else:
            table_schema = None
        table = table if isinstance(table, str) else UNKNOWN_NAME
        column = column if isinstance(column, str) else UNKNOWN_NAME
        target = qualified(table, table_schema if isinstance(table_schema, str) else None)
        statements.append(
            f"ALTER TABLE {target} ALTER COLUMN {quote(column)} TYPE {enum} "
            f"USING {quote(column)}::text::{enum}"
        )
    statements.append(f"DROP TYPE {old}")
    return statements


def _names(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _added_enum_values(args: Args, enum: str) -> list[str]:
    """alembic-autogenerate-enums' ``op.sync_enum_values(schema, name, old_values, new_values)`` (the
    fourth argument a list of labels, not of TableReference): each label of the new list not in the old
    one is added with ``ALTER TYPE ... ADD VALUE`` (on a connection of its own, committed); no label is
    removed, no column is touched."""
    old = args.get("old_values", args.get("new_values"))
    new = args.get("new_values") if args.has("old_values") else args.get("affected_columns")
    if not (isinstance(old, list) and _names(new)):
        raise NotStatic("op.sync_enum_values with labels that are not literal")
    return [f"ALTER TYPE {enum} ADD VALUE {literal(v)}" for v in new if v not in old]


# -- sqlalchemy-searchable ----------------------------------------------------------------------------

# What a library's SQL constant, executed by a revision, runs (the statements' kind and targets; the bodies
# are the lint's own): sqlalchemy_searchable's ``sql_expressions`` creates its two search functions.
KNOWN_SQL = {
    "sqlalchemy_searchable.sql_expressions": (
        "CREATE OR REPLACE FUNCTION parse_websearch(config regconfig, search_query text) RETURNS tsquery "
        "AS $$ SELECT websearch_to_tsquery(config, search_query) $$ LANGUAGE SQL IMMUTABLE;\n"
        "CREATE OR REPLACE FUNCTION parse_websearch(search_query text) RETURNS tsquery "
        "AS $$ SELECT parse_websearch('pg_catalog.simple', search_query) $$ LANGUAGE SQL IMMUTABLE"
    ),
}

# Functions of a library that a revision calls with a connection, run as operations: dotted path ->
# (operation name, positional parameters)
FUNCTION_OPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sqlalchemy_searchable.sync_trigger": (
        "sync_trigger",
        (
            "conn",
            "table_name",
            "tsvector_column",
            "indexed_columns",
            "metadata",
            "options",
            "schema",
            "update_rows",
        ),
    ),
    "sqlalchemy_searchable.drop_trigger": (
        "drop_trigger",
        ("conn", "table_name", "tsvector_column", "metadata", "options", "schema"),
    ),
}


def _search_names(args: Args) -> tuple[str, str, str, str]:
    """(table as rendered, tsvector column, trigger name, function name) of a search trigger."""
    table = args.get("table_name")
    table = table if isinstance(table, str) else UNKNOWN_NAME
    column = args.get("tsvector_column")
    column = as_name(column) if isinstance(column, str) else UNKNOWN_NAME
    schema = args.get("schema")
    target = qualified(table, as_name(schema) if isinstance(schema, str) else None)
    return target, column, quote(f"{table}_{column}_trigger"), quote(f"{table}_{column}_update")


def drop_trigger(args: Args) -> list[str]:
    """sqlalchemy_searchable's ``drop_trigger(conn, table, column)``: the search trigger and its function."""
    target, _, trigger, function = _search_names(args)
    return [f"DROP TRIGGER IF EXISTS {trigger} ON {target}", f"DROP FUNCTION IF EXISTS {function}()"]


def sync_trigger(args: Args) -> list[str]:
    """sqlalchemy_searchable's ``sync_trigger(conn, table, column, indexed_columns)``: the search trigger
    dropped and created again (CREATE TRIGGER takes SHARE ROW EXCLUSIVE on the table), then, unless
    ``update_rows=False``, one UPDATE of every row (``SET first = first``) so the trigger fills the
    column."""
    target, column, trigger, function = _search_names(args)
    indexed = args.get("indexed_columns")
    items = indexed if isinstance(indexed, list) else []
    names = [as_name(c) if isinstance(c, str) else UNKNOWN_NAME for c in items] or [UNKNOWN_NAME]
    vector = " || ".join(f"to_tsvector('pg_catalog.simple', coalesce(NEW.{quote(n)}, ''))" for n in names)
    statements = [
        *drop_trigger(args),
        f"CREATE FUNCTION {function}() RETURNS TRIGGER AS $$ BEGIN NEW.{quote(column)} = {vector}; "
        "RETURN NEW; END $$ LANGUAGE plpgsql",
        f"CREATE TRIGGER {trigger} BEFORE UPDATE OR INSERT ON {target} FOR EACH ROW EXECUTE PROCEDURE "
        f"{function}()",
    ]
    if args.get("update_rows", True) is not False:
        statements.append(f"UPDATE {target} SET {quote(names[0])} = {quote(names[0])}")
    return statements


RENDERERS: dict[str, Callable[[Args], list[str]]] = {
    "add_column": add_column,
    "alter_column": alter_column,
    "create_index": create_index,
    "drop_index": drop_index,
    "create_foreign_key": create_foreign_key,
    "create_unique_constraint": create_unique_constraint,
    "create_check_constraint": create_check_constraint,
    "create_primary_key": create_primary_key,
    "create_exclude_constraint": create_exclude_constraint,
    "drop_column": drop_column,
    "drop_table": drop_table,
    "drop_constraint": drop_constraint,
    "rename_table": rename_table,
    "create_table": create_table,
    "execute": execute,
    "bulk_insert": bulk_insert,
    "create_table_comment": create_table_comment,
    "drop_table_comment": drop_table_comment,
    "create_entity": create_entity,
    "replace_entity": replace_entity,
    "drop_entity": drop_entity,
    "sync_enum_values": sync_enum_values,
    "sync_trigger": sync_trigger,
    "drop_trigger": drop_trigger,
}


_OTHER_DIALECTS = tuple(
    f"sqlalchemy.dialects.{name}." for name in ("mysql", "mariadb", "sqlite", "mssql", "oracle")
)


def existing_type_sql(args: Args) -> str | None:
    """The SQL of ``existing_type=`` of an alter_column call, or None when absent or not static."""
    value = args.get("existing_type")
    if value is MISSING or value is None or value is UNKNOWN:
        return None
    if isinstance(value, (Ref, Call)) and value.path.startswith(_OTHER_DIALECTS):
        return None  # mysql.TINYTEXT(): what autogenerate saw on another database, not PostgreSQL's column
    try:
        return type_sql(value, partial=True)
    except NotStatic:
        return None


def batch_recreate(table: str, schema: str | None) -> list[str]:
    """What ``batch_alter_table(..., recreate="always")`` runs on PostgreSQL when the block ends: copy the
    table into a new one, drop the old one, rename. The columns come from reflection at run time, so the
    statements name none."""
    temp = f"_alembic_tmp_{table}"
    return [
        f"CREATE TABLE {qualified(temp, schema)} ()",
        f"INSERT INTO {qualified(temp, schema)} SELECT * FROM {qualified(table, schema)}",
        f"DROP TABLE {qualified(table, schema)}",
        f"ALTER TABLE {qualified(temp, schema)} RENAME TO {quote(table)}",
    ]
