"""SQL for statically read SQLAlchemy constructs as PostgreSQL DDL: SQL expressions,
server defaults, column specifications and constraints. The output follows what SQLAlchemy's PostgreSQL
DDL compiler emits for the same objects."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..sql.names import literal, qualified, quote, quote_dotted
from .types import EnumType, call_arg, enum_type, is_integer_type, type_sql
from .values import (
    MISSING,
    UNKNOWN,
    Call,
    Conv,
    NotStatic,
    Ref,
    SqlOp,
    SqlText,
    is_sqlalchemy,
    made_string,
    sqlalchemy_name,
)

# SQL functions SQLAlchemy renders without parentheses (func.current_timestamp() -> CURRENT_TIMESTAMP)
_ANSI_FUNCTIONS = {
    "current_date",
    "current_time",
    "current_timestamp",
    "current_user",
    "localtime",
    "localtimestamp",
    "session_user",
    "user",
}
_SCHEMA_ITEMS = {
    "ForeignKey",
    "Identity",
    "Computed",
    "Sequence",
    "CheckConstraint",
    "DefaultClause",
    "FetchedValue",
    "ColumnDefault",
}


def _func_name(path: str) -> str | None:
    """``sqlalchemy.func.now`` -> ``now``; None when the path is not a ``func.`` call."""
    parts = path.split(".")
    if "func" in parts[:-1]:
        return ".".join(parts[parts.index("func") + 1 :])
    return None


def sql_expr(value: object, strings: str = "literal") -> str:
    """A SQL expression for a static value.

    ``strings`` says what a plain Python string means here: ``"literal"`` a SQL string literal (function
    arguments, comparison values), ``"sql"`` raw SQL text (check conditions, index WHERE clauses,
    computed columns), ``"column"`` a column name (index elements).
    """
    if isinstance(value, SqlText):
        return value.text
    if isinstance(value, str):
        if strings == "sql":
            return value
        if strings == "column":
            return quote(value)
        return literal(value)
    if value is None or isinstance(value, (bool, int, float)):
        return literal(value)
    if isinstance(value, SqlOp):
        return _sql_op(value)
    if isinstance(value, Call) and not value.incomplete:
        return _sql_call(value, strings)
    raise NotStatic("a SQL expression is not static")


def _sql_op(value: SqlOp) -> str:
    if value.op in ("IS NULL", "IS NOT NULL"):
        return f"{sql_expr(value.left)} {value.op}"
    if value.op == "NOT":
        return f"NOT ({sql_expr(value.left)})"
    if value.op in ("AND", "OR"):
        return f"({sql_expr(value.left)} {value.op} {sql_expr(value.right)})"
    return f"{_operand(value.left)} {value.op} {_operand(value.right)}"


def _operand(value: object) -> str:
    text = sql_expr(value)
    return f"({text})" if isinstance(value, SqlOp) else text


def _sql_call(call: Call, strings: str) -> str:
    args = call.args
    if call.receiver is not None:
        return _sql_method(call)
    fname = _func_name(call.path)
    if fname is not None:
        if not args and fname.lower() in _ANSI_FUNCTIONS:
            return fname.upper()
        return f"{fname}({', '.join(sql_expr(a) for a in args)})"
    if not is_sqlalchemy(call.path) and not call.path.startswith("alembic.op."):
        raise NotStatic(f"{call.path}() is not a known SQL expression")
    name = call.name
    if name in ("true", "false", "true_", "false_", "True_", "False_"):
        return name.rstrip("_").lower()
    if name in ("null", "null_"):
        return "NULL"
    if name in ("column", "Column") and args and isinstance(args[0], str):
        return quote(args[0])  # a Column used in an expression (func.lower(sa.Column("email"))): its name
    if name in ("literal", "inline_literal") and args:
        return literal(args[0])
    if name in ("and_", "or_") and args:
        joiner = " AND " if name == "and_" else " OR "
        return "(" + joiner.join(sql_expr(a, strings) for a in args) + ")"
    if name in ("not_",) and args:
        return f"NOT ({sql_expr(args[0], strings)})"
    if name == "cast" and len(args) == 2:
        return f"CAST({sql_expr(args[0])} AS {type_sql(args[1])})"
    if name in ("desc", "asc") and args:
        return f"{sql_expr(args[0], 'column')} {name.upper()}"
    if name in ("DefaultClause", "ColumnDefault") and args:
        return server_default_sql(args[0]) or "NULL"
    raise NotStatic(f"{call.path}() is not a known SQL expression")


def _sql_method(call: Call) -> str:
    target, method, args = call.receiver, call.path, call.args
    if method == "next_value" and not args:  # sa.Sequence("s").next_value(): nextval('s')
        seq = target.args[0] if isinstance(target, Call) and target.args else None
        schema = target.kwargs.get("schema") if isinstance(target, Call) else None
        name = seq if isinstance(seq, str) else "?"
        return f"nextval({literal(f'{schema}.{name}' if isinstance(schema, str) else name)})"
    if method in ("is_", "is_not", "isnot") and len(args) == 1:
        negate = " NOT" if method != "is_" else ""
        value = "NULL" if args[0] is None else literal(args[0])
        return f"{sql_expr(target)} IS{negate} {value}"
    if method in ("in_", "not_in", "notin_") and len(args) == 1 and isinstance(args[0], list):
        negate = " NOT" if method != "in_" else ""
        return f"{sql_expr(target)}{negate} IN ({', '.join(sql_expr(v) for v in args[0])})"
    if method in ("like", "ilike", "not_like", "notlike", "not_ilike", "notilike") and len(args) == 1:
        negate = "NOT " if method.startswith("not") else ""
        keyword = "ILIKE" if "ilike" in method else "LIKE"
        return f"{sql_expr(target)} {negate}{keyword} {sql_expr(args[0])}"
    if method == "between" and len(args) == 2:
        return f"{sql_expr(target)} BETWEEN {sql_expr(args[0])} AND {sql_expr(args[1])}"
    if method in ("desc", "asc") and not args:
        return f"{sql_expr(target, 'column')} {method.upper()}"
    if method == "cast" and len(args) == 1:
        return f"CAST({sql_expr(target)} AS {type_sql(args[0])})"
    raise NotStatic(f".{method}() is not a known SQL expression")


def server_default_sql(value: object) -> str | None:
    """The DEFAULT expression for a ``server_default=`` value (None: no default)."""
    if value is MISSING or value is None:
        return None
    if isinstance(value, str):
        return literal(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return literal(str(value))  # SQLAlchemy wants a string; the intent is clear
    if isinstance(value, Call) and value.receiver is None and value.name == "FetchedValue":
        return None
    if value is UNKNOWN:
        raise NotStatic("server_default is not static")
    if (
        isinstance(value, Call)
        and value.receiver is None
        and not is_sqlalchemy(value.path)
        and _func_name(value.path) is None
        and not value.path.startswith("alembic.")
    ):
        if value.name == "next_value":  # some_sequence.next_value() on a sequence not known here
            return "nextval('?')"
        return literal("?")  # json.dumps({...}) and the like: a string made in Python, a constant default
    if isinstance(value, Ref) and not is_sqlalchemy(value.path):
        return literal("?")  # a constant of the application (MyEnum.A.name, settings.DEFAULT): a string
    if made_string(value):
        return literal("?")  # str(MyEnum.A.value): a string made in Python
    try:
        return sql_expr(value)
    except NotStatic:
        if isinstance(value, Call) and value.receiver is not None and _python_value(value.receiver):
            return literal("?")  # a method of a Python value (encryptor.encrypt({})): a string made in Python
        raise


def _python_value(value: object) -> bool:
    """A value made by Python code, not a SQL construct: unknown, or made by a call to something that is
    neither SQLAlchemy nor Alembic."""
    if isinstance(value, Call):
        path = value.path
        return value.receiver is None and not is_sqlalchemy(path) and not path.startswith("alembic.")
    return value is UNKNOWN or (isinstance(value, Ref) and not is_sqlalchemy(value.path))


def _kind(value: object) -> str | None:
    """The SQLAlchemy class name of a schema item (``Column``, ``ForeignKey``...), or None."""
    if isinstance(value, Call) and value.receiver is None and not value.incomplete:
        return value.name
    if isinstance(value, Ref):
        return value.name
    return None


@dataclass(slots=True)
class ColumnDef:
    """A ``sa.Column(...)`` read from the source."""

    name: str
    type: object
    nullable: bool | None  # None: not given
    primary_key: bool
    unique: bool | None
    index: bool | None
    server_default: object
    identity: Call | None
    computed: Call | None
    foreign_keys: list[Call] = field(default_factory=list)
    checks: list[object] = field(default_factory=list)
    comment: str | None = None
    autoincrement: object = "auto"
    python_default: bool = False

    @property
    def not_null(self) -> bool:
        if self.nullable is not None:
            return not self.nullable
        return self.primary_key or self.identity is not None


def parse_column(value: object) -> ColumnDef:
    """Read a ``sa.Column(...)`` call; raises NotStatic when it is something else or not static."""
    if not isinstance(value, Call) or value.receiver is not None or value.name != "Column":
        raise NotStatic("the column is not a literal sa.Column(...)")
    if value.incomplete:
        raise NotStatic("sa.Column(...) with *args or **kwargs")
    kw = value.kwargs
    args = list(value.args)
    name = kw.get("name", MISSING)
    if args and isinstance(args[0], str):
        name = args.pop(0)
    if not isinstance(name, str):
        raise NotStatic("the column name is not a literal string")
    type_ = kw.get("type_", MISSING)
    if args and _kind(args[0]) not in _SCHEMA_ITEMS and type_ is MISSING:
        type_ = args.pop(0)
    column = ColumnDef(
        name=name,
        type=type_,
        nullable=_opt_bool(kw.get("nullable", MISSING), "nullable"),
        primary_key=bool(_opt_bool(kw.get("primary_key", MISSING), "primary_key")),
        unique=_opt_bool(kw.get("unique", MISSING), "unique"),
        index=_opt_bool(kw.get("index", MISSING), "index"),
        server_default=kw.get("server_default", MISSING),
        identity=None,
        computed=None,
        comment=_opt_str(kw.get("comment", MISSING), "comment"),
        autoincrement=kw.get("autoincrement", "auto"),
        python_default=kw.get("default", None) is not None,
    )
    items = list(args)
    if _kind(column.server_default) in ("Identity", "Computed"):
        items.append(column.server_default)
        column.server_default = MISSING
    for item in items:
        kind = _kind(item)
        if kind == "ForeignKey":
            column.foreign_keys.append(item)  # type: ignore[arg-type]
        elif kind == "Identity":
            column.identity = item if isinstance(item, Call) else Call(item.path, [], {})  # type: ignore[union-attr]
        elif kind == "Computed":
            column.computed = item  # type: ignore[assignment]
        elif kind == "CheckConstraint":
            column.checks.append(item)
        elif kind in ("DefaultClause", "ColumnDefault") and isinstance(item, Call) and item.args:
            if kind == "DefaultClause":
                column.server_default = item.args[0]
        elif kind in ("Sequence", "FetchedValue"):
            continue
        else:
            raise NotStatic("a sa.Column(...) argument is not static")
    if column.type is MISSING:
        if not column.foreign_keys:
            raise NotStatic("the column has no type")
        column.type = Ref("sqlalchemy.Integer")  # a typeless FK column takes the referenced type
    return column


def _opt_bool(value: object, what: str) -> bool | None:
    return _optional(value, bool, f"{what}= is not a literal")


def _opt_str(value: object, what: str) -> str | None:
    return _optional(value, str, f"{what}= is not a literal string")


def _optional(value: object, kind: type, why: str):
    """A keyword argument that may be left out (None), else a literal of ``kind``; NotStatic otherwise."""
    if value is MISSING or value is None:
        return None
    if isinstance(value, kind):
        return value
    raise NotStatic(why)


def autoincrement_column(columns: list[ColumnDef]) -> ColumnDef | None:
    """The column SQLAlchemy treats as the table's autoincrement column (rendered SERIAL), if any."""
    pk = [c for c in columns if c.primary_key]
    if len(pk) != 1:
        for column in pk:
            if column.autoincrement is True and is_integer_type(column.type):
                return column
        return None
    column = pk[0]
    if not is_integer_type(column.type):
        return None
    if column.autoincrement is True:
        return column
    if column.autoincrement not in ("auto", "ignore_fk"):
        return None
    if column.python_default or server_default_sql(column.server_default) is not None:
        return None
    if column.foreign_keys and column.autoincrement != "ignore_fk":
        return None
    return column


def column_spec(column: ColumnDef, serial: bool = False, new_table: bool = False) -> str:
    """``name TYPE [DEFAULT x] [GENERATED ...] [NOT NULL]`` as SQLAlchemy's PostgreSQL compiler renders it.
    ``new_table``: the column of a table being created, whose default (when not known here) reads ``'?'``:
    no row exists for it to fill, so nothing about the statement's locks depends on it."""
    parts = [quote(column.name)]
    if serial and column.identity is None:
        name = type_sql(column.type)
        parts.append({"BIGINT": "BIGSERIAL", "SMALLINT": "SMALLSERIAL"}.get(name, "SERIAL"))
    else:
        parts.append(type_sql(column.type, partial=True))  # a new column: no claim depends on its type
        try:
            default = server_default_sql(column.server_default)
        except NotStatic:
            if not new_table:
                raise
            default = literal("?")
        if default is not None:
            parts.append(f"DEFAULT {default}")
    if column.computed is not None:
        parts.append(computed_sql(column.computed))
    if column.identity is not None:
        parts.append(identity_sql(column.identity))
        if column.nullable is True:
            parts.append("NULL")
    elif column.not_null:
        parts.append("NOT NULL")
    for check in column.checks:  # column-level CHECK constraints are rendered inline
        parts.append(table_constraint_sql(check))  # type: ignore[arg-type]
    return " ".join(parts)


def computed_sql(call: Call) -> str:
    expr = call.args[0] if call.args else call.kwargs.get("sqltext", MISSING)
    text = f"GENERATED ALWAYS AS ({sql_expr(expr, 'sql')})"
    persisted = call.kwargs.get("persisted", MISSING)
    if persisted is True:
        text += " STORED"
    elif persisted is False:
        text += " VIRTUAL"
    return text


def identity_sql(call: Call) -> str:
    kw = call.kwargs
    text = "GENERATED ALWAYS AS IDENTITY" if kw.get("always") is True else "GENERATED BY DEFAULT AS IDENTITY"
    options = identity_options(call)
    return f"{text} ({options})" if options else text


def identity_options(call: Call) -> str:
    return " ".join(identity_option_list(call))


def identity_option_list(call: Call) -> list[str]:
    kw = call.kwargs
    options = []
    for key, label in (("increment", "INCREMENT BY"), ("start", "START WITH")):
        if isinstance(kw.get(key), int):
            options.append(f"{label} {kw[key]}")
    for key, label in (("minvalue", "MINVALUE"), ("maxvalue", "MAXVALUE")):
        if isinstance(kw.get(key), int):
            options.append(f"{label} {kw[key]}")
    if kw.get("nominvalue"):
        options.append("NO MINVALUE")
    if kw.get("nomaxvalue"):
        options.append("NO MAXVALUE")
    if isinstance(kw.get("cache"), int):
        options.append(f"CACHE {kw['cache']}")
    if isinstance(kw.get("cycle"), bool):
        options.append("CYCLE" if kw["cycle"] else "NO CYCLE")
    return options


# -- constraints -----------------------------------------------------------------------------------------


def constraint_name(name: object) -> str:
    """``CONSTRAINT name `` or "" for an unnamed constraint."""
    if name is MISSING or name is None:
        return ""
    if isinstance(name, str):
        return f"CONSTRAINT {quote(sqlalchemy_name(name, isinstance(name, Conv)))} "
    raise NotStatic("the constraint name is not a literal string")


def name_list(values: object, what: str) -> list[str]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise NotStatic(f"{what} is not a literal list of names")
    return values  # type: ignore[return-value]


def column_list(values: object, what: str = "the column list") -> str:
    return ", ".join(quote(v) for v in name_list(values, what))


def _deferrable(kw: dict) -> str:
    text = ""
    if kw.get("deferrable") is True:
        text += " DEFERRABLE"
    elif kw.get("deferrable") is False:
        text += " NOT DEFERRABLE"
    if isinstance(kw.get("initially"), str):
        text += f" INITIALLY {kw['initially']}"
    return text


def _not_valid(kw: dict) -> str:
    return " NOT VALID" if kw.get("postgresql_not_valid") is True else ""


def foreign_key_sql(
    name: object,
    local_cols: object,
    referent: str,
    remote_cols: object,
    kw: dict,
) -> str:
    """``[CONSTRAINT n ]FOREIGN KEY(a) REFERENCES t (b) [MATCH] [ON DELETE] [ON UPDATE] [DEFERRABLE]
    [INITIALLY] [NOT VALID]``; ``referent`` is already rendered."""
    text = f"{constraint_name(name)}FOREIGN KEY({column_list(local_cols)}) REFERENCES {referent} "
    text += f"({column_list(remote_cols, 'the referenced columns')})"
    if isinstance(kw.get("match"), str):
        text += f" MATCH {kw['match']}"
    if isinstance(kw.get("ondelete"), str):
        text += f" ON DELETE {kw['ondelete']}"
    if isinstance(kw.get("onupdate"), str):
        text += f" ON UPDATE {kw['onupdate']}"
    return text + _deferrable(kw) + _not_valid(kw)


def split_target(target: object) -> tuple[str, str]:
    """``"schema.table.col"`` -> (rendered ``schema.table``, ``col``); a target known only at run time (a
    variable, a model's column) is ``"?"`` (``?``): the constraint's locks and scan do not depend on it."""
    if target is UNKNOWN or isinstance(target, (Ref, Call)):
        return quote("?"), "?"
    if not isinstance(target, str) or "." not in target:
        raise NotStatic("the foreign key target is not a literal 'table.column'")
    table, column = target.rsplit(".", 1)
    return quote_dotted(table), column


def column_foreign_key_sql(column: str, fk: Call) -> str:
    """The table constraint for a ``sa.ForeignKey("t.c", ...)`` given on a column."""
    target = fk.args[0] if fk.args else fk.kwargs.get("column", MISSING)
    table, remote = split_target(target)
    return foreign_key_sql(fk.kwargs.get("name"), [column], table, [remote], fk.kwargs)


def table_constraint_sql(item: Call) -> str:
    """A table-level constraint given to ``op.create_table``."""
    kind, args, kw = item.name, item.args, item.kwargs
    name = kw.get("name")
    if kind == "PrimaryKeyConstraint":
        return f"{constraint_name(name)}PRIMARY KEY ({column_list(args)}){_include(kw)}{_deferrable(kw)}"
    if kind == "UniqueConstraint":
        return unique_sql(name, args, kw)
    if kind == "CheckConstraint":
        return check_sql(name, call_arg(item, 0, "sqltext"), kw)
    if kind == "ForeignKeyConstraint":  # (columns, refcolumns), by position or by keyword
        columns, referenced = call_arg(item, 0, "columns"), call_arg(item, 1, "refcolumns")
        if columns is MISSING or referenced is MISSING:
            raise NotStatic("ForeignKeyConstraint needs columns and referenced columns")
        refs = name_list(referenced, "the referenced columns")
        if not refs:
            raise NotStatic("ForeignKeyConstraint without referenced columns")
        table = split_target(refs[0])[0]
        return foreign_key_sql(name, columns, table, [split_target(r)[1] for r in refs], kw)
    if kind == "ExcludeConstraint":
        return exclude_sql(name, args, kw)
    raise NotStatic(f"{kind} is not understood in create_table")


def _include(kw: dict) -> str:
    include = kw.get("postgresql_include", MISSING)
    if include is MISSING or include is None or include == []:
        return ""
    return f" INCLUDE ({column_list(include, 'postgresql_include')})"


def unique_sql(name: object, columns: object, kw: dict) -> str:
    nulls = " NULLS NOT DISTINCT" if kw.get("postgresql_nulls_not_distinct") is True else ""
    return f"{constraint_name(name)}UNIQUE{nulls} ({column_list(columns)}){_include(kw)}{_deferrable(kw)}"


def check_sql(name: object, condition: object, kw: dict) -> str:
    if condition is MISSING:
        raise NotStatic("the check condition is missing")
    return f"{constraint_name(name)}CHECK ({sql_expr(condition, 'sql')}){_deferrable(kw)}{_not_valid(kw)}"


def exclude_sql(name: object, elements: list, kw: dict) -> str:
    using = kw.get("using", "gist")
    if not isinstance(using, str):
        raise NotStatic("using= is not a literal string")
    parts = []
    for element in elements:
        if not isinstance(element, list) or len(element) != 2 or not isinstance(element[1], str):
            raise NotStatic("an exclusion element is not a literal (column, operator) pair")
        parts.append(f"{sql_expr(element[0], 'column')} WITH {element[1]}")
    text = f"{constraint_name(name)}EXCLUDE USING {using} ({', '.join(parts)})"
    where = kw.get("where", MISSING)
    if where is not MISSING and where is not None:
        text += f" WHERE ({sql_expr(where, 'sql')})"
    return text + _deferrable(kw)


def index_sql(
    name: object,
    table: str,
    columns: object,
    kw: dict,
    unique: bool = False,
    if_not_exists: bool = False,
) -> str:
    """``CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] name ON table [USING m] (cols) [INCLUDE]
    [NULLS NOT DISTINCT] [WITH (...)] [TABLESPACE] [WHERE ...]``; ``table`` is already rendered."""
    if isinstance(columns, (str, SqlText, Call, SqlOp)):
        columns = [columns]
    if not isinstance(columns, list) or not columns:
        raise NotStatic("the index columns are not a literal list")
    ops = kw.get("postgresql_ops", {})
    ops = ops if isinstance(ops, dict) else {}
    elements = []
    for column in columns:
        text = sql_expr(column, "column")
        if isinstance(column, SqlOp):
            text = f"({text})"
        if isinstance(column, str) and isinstance(ops.get(column), str):
            text += f" {ops[column]}"
        elements.append(text)
    text = "CREATE UNIQUE INDEX " if unique else "CREATE INDEX "
    if kw.get("postgresql_concurrently") is True:
        text += "CONCURRENTLY "
    if if_not_exists:
        text += "IF NOT EXISTS "
    if name is None or name is MISSING:
        name = default_index_name(table, columns[0])
        name = Conv(name) if name is not None else None  # a naming convention's name
    if isinstance(name, str):
        text += f"{quote(sqlalchemy_name(name, isinstance(name, Conv)))} "
    elif name is not None:
        raise NotStatic("the index name is not a literal string")
    text += f"ON {table} "
    using = kw.get("postgresql_using", MISSING)
    if isinstance(using, str):
        text += f"USING {using.lower()} "
    text += f"({', '.join(elements)})"
    text += _include(kw)
    nulls = kw.get("postgresql_nulls_not_distinct", MISSING)
    if nulls is True:
        text += " NULLS NOT DISTINCT"
    elif nulls is False:
        text += " NULLS DISTINCT"
    with_ = kw.get("postgresql_with", MISSING)
    if isinstance(with_, dict) and with_:
        text += " WITH (" + ", ".join(f"{k} = {_option(v)}" for k, v in with_.items()) + ")"
    tablespace = kw.get("postgresql_tablespace", MISSING)
    if isinstance(tablespace, str):
        text += f" TABLESPACE {quote(tablespace)}"
    where = kw.get("postgresql_where", MISSING)
    if where is not MISSING and where is not None:
        text += f" WHERE {sql_expr(where, 'sql')}"
    return text


def default_index_name(table: str, first: object) -> str | None:
    """SQLAlchemy's default naming convention for an unnamed index: ``ix_<table>_<first column>``."""
    label = first if isinstance(first, str) else first.text if isinstance(first, SqlText) else None
    if label is None:
        return None
    return f"ix_{table.replace(chr(34), '').replace('.', '_')}_{label}"  # the schema is part of the label


def _option(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise NotStatic("a storage option is not a literal")


def comment_sql(kind: str, target: str, comment: object) -> str:
    if comment is not None and not isinstance(comment, str):
        raise NotStatic("the comment is not a literal string")
    return f"COMMENT ON {kind} {target} IS {literal(comment)}"


def table_sql(name: object, schema: object) -> str:
    if not isinstance(name, str):
        raise NotStatic("the table name is not a literal string")
    if schema is not MISSING and schema is not None and not isinstance(schema, str):
        raise NotStatic("schema= is not a literal string")
    return qualified(name, schema if isinstance(schema, str) else None)


def enum_types(columns: list[ColumnDef]) -> list[EnumType]:
    """The native enums ``op.create_table`` creates for its columns, first use first, without repeats."""
    seen: dict[str, EnumType] = {}
    for column in columns:
        enum = enum_type(column.type)
        if enum is not None and (enum.schema, enum.name) not in {(e.schema, e.name) for e in seen.values()}:
            seen[f"{enum.schema}.{enum.name}"] = enum
    return list(seen.values())
