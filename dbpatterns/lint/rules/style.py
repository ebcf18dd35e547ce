"""Column type preferences. Opt-in (``extend_select``): they are advice, not hazards."""

from __future__ import annotations

from ...sql.knowledge import SERIAL_TYPES
from ...sql.nodes import qualified, type_name
from ..registry import rule

_ON = ("CreateStmt", "AlterTableStmt:AT_AddColumn", "AlterTableStmt:AT_AlterColumnType")


def _columns(ctx, node):
    """(table, column name, type name) of every column a statement defines or retypes."""
    if ctx.stmt.kind == "CreateStmt":
        table = qualified(node.get("relation"))
        for elt in node.get("tableElts") or ():
            col = elt.get("ColumnDef")
            if col:
                yield table, col.get("colname", "?"), type_name(col.get("typeName"))[0].lower(), col
        return
    col = node.get("def", {}).get("ColumnDef", {})
    name = col.get("colname") or node.get("name", "?")
    yield ctx.table, name, type_name(col.get("typeName"))[0].lower(), col


def _style(ctx, node, types: set[str], message: str) -> None:
    for table, column, type_, _ in _columns(ctx, node):
        if type_ in types:
            ctx.report(message, table=table, column=column, type=type_, exempt_new=False)


@rule(
    "prefer-bigint-over-int",
    summary="An integer (int4) column can run out of values; bigint costs 4 more bytes",
    on=_ON,
    severity="warning",
    default=False,
    category="style",
    aliases=("prefer-bigint-over-int",),
    fix="Declare it bigint (SQLAlchemy: BigInteger). Changing it later rewrites the table.",
)
def prefer_bigint_over_int(ctx, node):
    """
    ## What it does
    Flags `integer`/`int`/`int4`/`serial` columns (opt-in).

    ## Why is this bad?
    Ids and counters outgrow 2^31 - 1 sooner than expected, and widening to bigint later is a full table
    rewrite under ACCESS EXCLUSIVE.

    ## Example
    ```sql
    CREATE TABLE events (id integer PRIMARY KEY);
    ```

    ## Use instead
    ```sql
    CREATE TABLE events (id bigint PRIMARY KEY);
    ```
    """
    _style(
        ctx, node, {"int4", "int", "integer", "serial", "serial4"}, "column {column} is {type}: prefer bigint"
    )


@rule(
    "prefer-bigint-over-smallint",
    summary="A smallint column holds at most 32,767; bigint avoids a rewrite when it grows",
    on=_ON,
    severity="warning",
    default=False,
    category="style",
    aliases=("prefer-bigint-over-smallint",),
    fix="Declare it bigint (SQLAlchemy: BigInteger).",
)
def prefer_bigint_over_smallint(ctx, node):
    """
    ## What it does
    Flags `smallint`/`int2`/`smallserial` columns (opt-in).

    ## Why is this bad?
    The range is small and widening later rewrites the table under ACCESS EXCLUSIVE.

    ## Example
    ```sql
    ALTER TABLE items ADD COLUMN quantity smallint;
    ```

    ## Use instead
    ```sql
    ALTER TABLE items ADD COLUMN quantity bigint;
    ```
    """
    _style(
        ctx, node, {"int2", "smallint", "smallserial", "serial2"}, "column {column} is {type}: prefer bigint"
    )


@rule(
    "prefer-text-field",
    summary="varchar(n) limits need a table-wide change to raise; text with a CHECK is easier to evolve",
    on=_ON,
    severity="warning",
    default=False,
    category="style",
    aliases=("prefer-text-field",),
    fix="Declare it text, and if a limit is needed add CHECK (char_length(col) <= n) NOT VALID.",
)
def prefer_text_field(ctx, node):
    """
    ## What it does
    Flags `varchar(n)` columns (opt-in).

    ## Why is this bad?
    In PostgreSQL varchar(n) is text with a length check built into the type. Raising the limit is
    catalog-only, but lowering it or changing it in older versions rewrites; a CHECK constraint can be
    replaced with NOT VALID + VALIDATE without blocking.

    ## Example
    ```sql
    CREATE TABLE users (email varchar(255));
    ```

    ## Use instead
    ```sql
    CREATE TABLE users (email text CHECK (char_length(email) <= 255));
    ```
    """
    for table, column, type_, col in _columns(ctx, node):
        if type_ == "varchar" and type_name(col.get("typeName"))[1]:
            ctx.report(
                "column {column} is varchar(n): prefer text", table=table, column=column, exempt_new=False
            )


@rule(
    "prefer-timestamptz",
    summary="timestamp without time zone stores wall-clock values that are ambiguous across zones",
    on=_ON,
    severity="warning",
    default=False,
    category="style",
    aliases=("prefer-timestamp-tz",),
    fix="Declare it timestamptz (SQLAlchemy: DateTime(timezone=True)).",
)
def prefer_timestamptz(ctx, node):
    """
    ## What it does
    Flags `timestamp` (without time zone) columns (opt-in).

    ## Why is this bad?
    The value means different instants depending on the session's TimeZone; comparisons with now() and
    DST changes give wrong answers. Converting later is a rewrite (or, on PostgreSQL 12+ with
    TimeZone=UTC, a catalog-only change).

    ## Example
    ```sql
    ALTER TABLE orders ADD COLUMN paid_at timestamp;
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD COLUMN paid_at timestamptz;
    ```
    """
    _style(ctx, node, {"timestamp"}, "column {column} is timestamp without time zone: prefer timestamptz")


@rule(
    "prefer-identity",
    summary="serial columns are legacy; identity columns are the SQL-standard replacement",
    on=_ON,
    severity="warning",
    default=False,
    category="style",
    aliases=("prefer-identity",),
    fix="Declare it bigint GENERATED ALWAYS AS IDENTITY (SQLAlchemy: sa.Identity()).",
)
def prefer_identity(ctx, node):
    """
    ## What it does
    Flags `serial`, `bigserial` and `smallserial` columns (opt-in).

    ## Why is this bad?
    The sequence of a serial column is a separate object with its own permissions and ownership quirks;
    identity columns (PostgreSQL 10+) are owned by the column and behave the same in dumps and copies.

    ## Example
    ```sql
    CREATE TABLE events (id bigserial PRIMARY KEY);
    ```

    ## Use instead
    ```sql
    CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
    ```
    """
    _style(ctx, node, set(SERIAL_TYPES), "column {column} is {type}: prefer an identity column")


@rule(
    "ban-char-field",
    summary="char(n) pads values with spaces and is never faster than text",
    on=_ON,
    severity="warning",
    default=False,
    category="style",
    aliases=("ban-char-field",),
    fix="Declare it text (with a CHECK on the length if one is needed).",
)
def ban_char_field(ctx, node):
    """
    ## What it does
    Flags `char(n)`/`character(n)` columns (opt-in).

    ## Why is this bad?
    Values are blank-padded, comparisons ignore trailing spaces, and it uses as much space as text.

    ## Example
    ```sql
    CREATE TABLE countries (code char(2));
    ```

    ## Use instead
    ```sql
    CREATE TABLE countries (code text CHECK (char_length(code) = 2));
    ```
    """
    for table, column, type_, col in _columns(ctx, node):
        names = [n.get("String", {}).get("sval") for n in (col.get("typeName") or {}).get("names", ())]
        if type_ == "bpchar" and "pg_catalog" in names:
            ctx.report(
                "column {column} is char(n): prefer text", table=table, column=column, exempt_new=False
            )
