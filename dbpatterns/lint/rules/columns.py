"""Adding, changing, renaming and dropping columns."""

from __future__ import annotations

import dataclasses

from ...sql.knowledge import (
    SERIAL_TYPES,
    binary_coercible,
    column_type,
    parse_type,
    unknown_type,
    volatile_calls,
)
from ...sql.locks import ACCESS_EXCLUSIVE
from ...sql.nodes import bare, constraints_by_type, qualified, type_name
from ..registry import rule
from ..state import name_key


def _column(node) -> dict:
    return node.get("def", {}).get("ColumnDef", {})


def _default(col: dict) -> dict | None:
    found = constraints_by_type(col).get("CONSTR_DEFAULT")
    return found[0] if found else None


@rule(
    "add-column-volatile-default",
    summary="ADD COLUMN with a volatile default rewrites the whole table under ACCESS EXCLUSIVE",
    on=("AlterTableStmt:AT_AddColumn",),
    aliases=("adding-field-with-default",),
    fix="""
    Add the column without the default, set the default for new rows, then backfill in batches:
      ALTER TABLE {table} ADD COLUMN {column} {type};
      ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {default};
      -- backfill existing rows in batches of a few thousand, one transaction each:
      UPDATE {table} SET {column} = {default} WHERE id IN (SELECT id FROM {table}
        WHERE {column} IS NULL ORDER BY id LIMIT 5000);
    Alembic: `dbpatterns new add-column-default` and `dbpatterns new backfill` write these revisions.
    """,
)
def add_column_volatile_default(ctx, node):
    """
    ## What it does
    Flags `ADD COLUMN ... DEFAULT expr` where `expr` is volatile (`random()`, `clock_timestamp()`,
    `gen_random_uuid()`, `nextval()`, or a function the lint does not know), and on PostgreSQL 10 and
    older any non-null default.

    ## Why is this bad?
    Since PostgreSQL 11 a non-volatile default is stored in the catalog and the column is added instantly.
    A volatile default must be evaluated for every existing row, so PostgreSQL rewrites the table and its
    indexes while holding ACCESS EXCLUSIVE: no reads or writes for the duration. Before PostgreSQL 11, any
    default rewrote the table.

    ## Example
    ```sql
    ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD COLUMN public_id uuid;
    ALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();
    -- then backfill the existing rows in batches
    ```

    ## References
    - https://www.postgresql.org/docs/current/ddl-alter.html#DDL-ALTER-ADDING-A-COLUMN
    """
    col = _column(node)
    default = _default(col)
    if default is None:
        return
    expr = default.get("raw_expr")
    if expr is None or "A_Const" in expr and expr["A_Const"].get("isnull"):
        return
    name, _ = type_name(col.get("typeName"))
    calls = volatile_calls(expr)
    if ctx.pg_version < 11:
        why = "before PostgreSQL 11 any non-null default rewrites the table"
    elif calls:
        why = f"its default calls {', '.join(sorted(set(calls)))}(), which is volatile or unknown"
    else:
        return
    ctx.report(
        "ADD COLUMN {column} with a default rewrites {table} under ACCESS EXCLUSIVE: " + why,
        lock=ACCESS_EXCLUSIVE,
        table=ctx.table,
        rewrites=True,
        column=col.get("colname", "the_column"),
        type=name or "the_type",
        default="<expression>",
    )


@rule(
    "add-column-stored-generated",
    summary="ADD COLUMN ... GENERATED ALWAYS AS (...) STORED rewrites the whole table",
    on=("AlterTableStmt:AT_AddColumn",),
    aliases=("adding-field-with-default",),
    fix="""
    On PostgreSQL 18+, a VIRTUAL generated column is added without a rewrite:
      ALTER TABLE {table} ADD COLUMN {column} {type} GENERATED ALWAYS AS (...) VIRTUAL;
    Otherwise add a plain nullable column, keep it in sync with a trigger, and backfill it in batches
    (`dbpatterns new backfill`).
    """,
)
def add_column_stored_generated(ctx, node):
    """
    ## What it does
    Flags adding a stored generated column to an existing table.

    ## Why is this bad?
    PostgreSQL computes the value for every existing row while holding ACCESS EXCLUSIVE: a full table
    rewrite (PostgreSQL 12+, when stored generated columns appeared). PostgreSQL 18 adds VIRTUAL generated
    columns, computed on read, which are added without a rewrite.

    ## Example
    ```sql
    ALTER TABLE orders ADD COLUMN total numeric GENERATED ALWAYS AS (price * quantity) STORED;
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD COLUMN total numeric GENERATED ALWAYS AS (price * quantity) VIRTUAL;
    ```

    ## References
    - https://www.postgresql.org/docs/current/ddl-generated-columns.html
    """
    col = _column(node)
    for con in constraints_by_type(col).get("CONSTR_GENERATED", ()):
        if con.get("generated_kind", "s") != "v":
            name, _ = type_name(col.get("typeName"))
            ctx.report(
                "ADD COLUMN {column} GENERATED ... STORED rewrites {table} under ACCESS EXCLUSIVE",
                lock=ACCESS_EXCLUSIVE,
                table=ctx.table,
                rewrites=True,
                column=col.get("colname", "the_column"),
                type=name or "the_type",
            )
            return


@rule(
    "add-column-serial-or-identity",
    summary="ADD COLUMN of type serial or GENERATED ... AS IDENTITY rewrites the whole table",
    on=("AlterTableStmt:AT_AddColumn",),
    fix="""
    Add a nullable bigint column, attach a sequence as its default for new rows, backfill the existing
    rows in batches, then make it an identity or NOT NULL column with the CHECK ... NOT VALID recipe:
      CREATE SEQUENCE {table}_{column}_seq;
      ALTER TABLE {table} ADD COLUMN {column} bigint;
      ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT nextval('{table}_{column}_seq');
      -- backfill in batches, then SET NOT NULL via a validated CHECK (see set-not-null)
    """,
)
def add_column_serial_or_identity(ctx, node):
    """
    ## What it does
    Flags adding a `serial`/`bigserial`/`smallserial` column or a `GENERATED ... AS IDENTITY` column to an
    existing table.

    ## Why is this bad?
    Both fill every existing row from a sequence (`nextval()` is volatile), so PostgreSQL rewrites the
    table and its indexes under ACCESS EXCLUSIVE. Few linters catch the identity case; PostgreSQL 18
    rewrites for both.

    ## Example
    ```sql
    ALTER TABLE events ADD COLUMN id bigserial;
    ```

    ## Use instead
    ```sql
    CREATE SEQUENCE events_id_seq;
    ALTER TABLE events ADD COLUMN id bigint;
    ALTER TABLE events ALTER COLUMN id SET DEFAULT nextval('events_id_seq');
    -- backfill existing rows in batches
    ```

    ## References
    - https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-SERIAL
    """
    col = _column(node)
    name, _ = type_name(col.get("typeName"))
    identity = "CONSTR_IDENTITY" in constraints_by_type(col)
    if name.lower() in SERIAL_TYPES or identity:
        what = "an identity column" if identity else f"a {name} column"
        ctx.report(
            "ADD COLUMN {column} adds " + what + ": every existing row of {table} is numbered in a "
            "full rewrite under ACCESS EXCLUSIVE",
            lock=ACCESS_EXCLUSIVE,
            table=ctx.table,
            rewrites=True,
            column=col.get("colname", "the_column"),
        )


@rule(
    "add-column-required",
    summary="ADD COLUMN ... NOT NULL without a default fails on any table that has rows",
    on=("AlterTableStmt:AT_AddColumn",),
    aliases=("adding-required-field",),
    fix="""
    Add the column nullable (or NOT NULL with a constant default, instant on PostgreSQL 11+):
      ALTER TABLE {table} ADD COLUMN {column} {type} NOT NULL DEFAULT <constant>;
    or the two-phase recipe: add it nullable, backfill, then CHECK ({column} IS NOT NULL) NOT VALID,
    VALIDATE, SET NOT NULL (`dbpatterns new add-not-null-column`).
    """,
)
def add_column_required(ctx, node):
    """
    ## What it does
    Flags `ADD COLUMN ... NOT NULL` with no default on an existing table.

    ## Why is this bad?
    The existing rows would hold NULL, so the statement fails with "column contains null values" as soon
    as the table has a row; it also breaks running code that inserts rows without the new column.

    ## Example
    ```sql
    ALTER TABLE users ADD COLUMN plan text NOT NULL;
    ```

    ## Use instead
    ```sql
    ALTER TABLE users ADD COLUMN plan text NOT NULL DEFAULT 'free';
    ```

    ## References
    - https://www.postgresql.org/docs/current/ddl-alter.html#DDL-ALTER-ADDING-A-COLUMN
    """
    col = _column(node)
    kinds = constraints_by_type(col)
    if "CONSTR_NOTNULL" not in kinds and "CONSTR_PRIMARY" not in kinds:
        return
    if "CONSTR_DEFAULT" in kinds or "CONSTR_GENERATED" in kinds or "CONSTR_IDENTITY" in kinds:
        return
    name, _ = type_name(col.get("typeName"))
    if name.lower() in SERIAL_TYPES:
        return
    ctx.report(
        "ADD COLUMN {column} NOT NULL without a default fails if {table} has any row",
        lock=ACCESS_EXCLUSIVE,
        table=ctx.table,
        column=col.get("colname", "the_column"),
        type=name or "the_type",
    )


@rule(
    "set-not-null",
    summary="SET NOT NULL scans the whole table under ACCESS EXCLUSIVE",
    on=("AlterTableStmt:AT_SetNotNull", "AlterTableStmt:AT_AddConstraint"),
    aliases=("adding-not-nullable-field",),
    fix="""
    PostgreSQL 12+ skips the scan when a validated CHECK proves the column has no NULLs:
      ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_not_null CHECK ({column} IS NOT NULL) NOT VALID;
      -- next transaction (SHARE UPDATE EXCLUSIVE: reads and writes go on):
      ALTER TABLE {table} VALIDATE CONSTRAINT {table}_{column}_not_null;
      ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL;   -- instant
      ALTER TABLE {table} DROP CONSTRAINT {table}_{column}_not_null;
    PostgreSQL 18+: ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_not_null NOT NULL {column} NOT VALID;
    then VALIDATE CONSTRAINT. `dbpatterns new add-not-null-column` writes the Alembic revisions.
    """,
)
def set_not_null(ctx, node):
    """
    ## What it does
    Flags `ALTER COLUMN ... SET NOT NULL` (and `ADD CONSTRAINT ... NOT NULL col` without `NOT VALID`) on an
    existing table, unless a validated `CHECK (col IS NOT NULL)` precedes it in the same migration on
    PostgreSQL 12+ (or, the cross-migration recipe, a constraint named like a not-null check of the column,
    e.g. `users_email_not_null`, was validated), and unless the column is NOT NULL already (created so in
    this migration or an earlier one of its history): then the statement is a no-op and scans nothing.

    ## Why is this bad?
    PostgreSQL scans the whole table to prove there are no NULLs while holding ACCESS EXCLUSIVE: no reads
    or writes until the scan ends. Since PostgreSQL 12 the scan is skipped when a valid CHECK constraint
    already proves it, and a CHECK can be added `NOT VALID` and validated under SHARE UPDATE EXCLUSIVE.

    ## Example
    ```sql
    ALTER TABLE users ALTER COLUMN email SET NOT NULL;
    ```

    ## Use instead
    ```sql
    ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;
    ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;
    ALTER TABLE users ALTER COLUMN email SET NOT NULL;
    ALTER TABLE users DROP CONSTRAINT users_email_not_null;
    ```
    (the VALIDATE in a later transaction than the ADD; see `validate-in-same-transaction`)

    ## References
    - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-SET-DROP-NOT-NULL
    """
    if node.get("subtype") == "AT_AddConstraint":
        con = node.get("def", {}).get("Constraint", {})
        if con.get("contype") != "CONSTR_NOTNULL" or con.get("skip_validation"):
            return
        keys = [k["String"]["sval"] for k in con.get("keys") or () if "String" in k]
        column = keys[0] if keys else "the_column"
    else:
        column = node.get("name", "the_column")
    table = ctx.table
    state = ctx.state
    if ctx.pg_version >= 12:
        if (bare(table), column) in state.validated_not_null:
            return
        if any(_names_not_null_check(name, column) for name in state.validated_unknown.get(bare(table), ())):
            return
    known = state.not_null_fact(table, column)
    if already_not_null(known, ctx.pg_version):
        return
    before = len(ctx.findings)
    ctx.report(
        "SET NOT NULL on {table}.{column} scans the whole table under ACCESS EXCLUSIVE",
        lock=ACCESS_EXCLUSIVE,
        table=table,
        column=column,
    )
    if known is None and state.questions is not None and len(ctx.findings) > before:
        # an earlier migration of the history may have made the column NOT NULL: settle_set_not_null
        state.questions.append((ctx.findings[-1], name_key(table), column, (NOT_NULL_QUESTION,)))


#: Marks a question (``state.questions``) about SET NOT NULL: is the column NOT NULL already?
NOT_NULL_QUESTION = "\0set-not-null"


def already_not_null(known, pg_version: int) -> bool:
    """SET NOT NULL on a column whose NOT NULL is ``known`` (``MigrationState.not_null_fact``) scans
    nothing: the column is NOT NULL already (a no-op), or (PostgreSQL 12+) a validated CHECK (column IS
    NOT NULL) proves it."""
    return known is True or (isinstance(known, str) and pg_version >= 12)


def settle_set_not_null(finding, key: str, column: str, schema, pg_version: int):
    """A SET NOT NULL finding on a column only the earlier migrations know: None when they left it NOT
    NULL (or proven by a validated CHECK), else the finding."""
    return None if already_not_null(schema.not_null_of(key, column), pg_version) else finding


def _names_not_null_check(name: str, column: str) -> bool:
    """A constraint validated here but added in an earlier migration: by its name, is it the
    ``CHECK (column IS NOT NULL)`` of the recipe (``users_email_not_null``, ``ck_users_email_nn``...)?
    A foreign key or other check named after the column proves nothing."""
    lowered = name.lower()
    return column.lower() in lowered and any(m in lowered for m in ("not_null", "notnull", "nonnull", "_nn"))


@rule(
    "change-column-type",
    summary="ALTER COLUMN ... TYPE rewrites the table and its indexes unless the change is binary-coercible",
    on=("AlterTableStmt:AT_AlterColumnType",),
    aliases=("changing-column-type",),
    fix="""
    Change the type by expand-contract (`dbpatterns new change-column-type`):
      1. ALTER TABLE {table} ADD COLUMN {column}_new {type};
      2. a trigger keeps {column}_new in sync on INSERT/UPDATE; backfill existing rows in batches;
      3. deploy code that reads {column}_new; 4. swap names in one short transaction and drop the old column.
    Binary-coercible changes need none of this: varchar(n) to varchar(m > n) or text, numeric(p, s) to
    numeric(q > p, s), dropping a length or precision limit.
    """,
)
def change_column_type(ctx, node):
    """
    ## What it does
    Flags `ALTER COLUMN ... TYPE` unless the lint can see the change is binary-coercible: varchar widening,
    varchar to text, raising a numeric's precision at the same scale, removing a length or precision limit,
    cidr to inet. The old type comes from the same migration, from Alembic's `existing_type`, or from the
    earlier migrations of the history (the revisions before it in an Alembic project, the files before it
    in a folder of versioned SQL files); only for a lone file does the finding say it "may" rewrite, and for
    a type the Alembic reading cannot know (a library's TypeDecorator, a length set at run time). A `USING`
    expression other than the column itself (or its cast to the new type) is evaluated for every row, so
    it rewrites whatever the types.

    ## Why is this bad?
    Any other type change rewrites every row and rebuilds every index of the table under ACCESS EXCLUSIVE:
    no reads or writes for the duration. Even a binary-coercible change re-checks every CHECK constraint
    that uses the column, a full scan under the same lock; the lint reports it, naming the constraint, when
    it has seen the CHECK in the same migration or an earlier one of the history. (With a rewrite, the
    CHECK is checked on the rewritten rows in the same pass: no second scan, PostgreSQL 18.) (timestamp
    to timestamptz skips the rewrite only on PostgreSQL 12+ with the session TimeZone set to UTC, which a
    linter cannot know.)

    ## Example
    ```sql
    ALTER TABLE orders ALTER COLUMN id TYPE bigint;
    ```

    ## Use instead
    Expand-contract: add a new column, sync it with a trigger, backfill, switch readers, drop the old one.

    ## References
    - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
    """
    col = _column(node)
    column = node.get("name", "the_column")
    table = ctx.table
    state = ctx.state
    new = column_type(col)
    old = state.old_type(table, column)
    op = getattr(ctx, "op", None)
    if old is None and op is not None and getattr(op, "existing_type", None):
        old = parse_type(op.existing_type)
    if unknown_type(old):  # a size or a library's type the Alembic reading could not see
        old = None
    using = col.get("raw_default")  # USING expr
    computed = using is not None and not _is_column(using, column, new)
    if unknown_type(new) and not computed:
        ctx.report(
            "ALTER COLUMN {column} TYPE {type} takes ACCESS EXCLUSIVE; its PostgreSQL type is not known "
            "here, so it may rewrite {table} and rebuild its indexes",
            lock=ACCESS_EXCLUSIVE,
            table=table,
            rewrites=True,
            hedged=True,
            column=column,
            type=_unknown_display(col),
        )
        return  # no earlier migration can tell what the new type is
    if old is not None and not computed and binary_coercible(old, new):
        check = state.check_on(table, column)
        if check:
            ctx.report(
                _CHECK_MESSAGE,
                lock=ACCESS_EXCLUSIVE,
                table=table,
                column=column,
                check=check,
                type=_type_sql(new),
            )
        return
    new_sql = _type_sql(new)
    if computed:
        why = "its USING expression is evaluated for every row: {table} and its indexes are rewritten"
    elif old is None:
        why = "the old type is not known here, so it may rewrite {table} and rebuild its indexes"
    else:
        why = _rewrite_why(old, new)
    if old is not None or computed:
        check = state.check_on(table, column)
        if check:
            why += _CHECK_IN_REWRITE.replace("{check}", "{check_name}")
    before = len(ctx.findings)
    ctx.report(
        "ALTER COLUMN {column} TYPE " + new_sql + " takes ACCESS EXCLUSIVE; " + why,
        lock=ACCESS_EXCLUSIVE,
        table=table,
        rewrites=True,
        hedged=old is None and not computed,
        column=column,
        type=new_sql,
        check_name=state.check_on(table, column) or "",
    )
    if old is None and not computed and state.questions is not None and len(ctx.findings) > before:
        # the earlier migrations of the history may know the old type: settled by settle_type_change
        state.questions.append((ctx.findings[-1], name_key(table), column, new))


# With a rewrite, PostgreSQL checks the CHECK constraints on the rows it writes: one pass (PG 18, checked
# by tests/test_lint_facts.py).
_CHECK_IN_REWRITE = "; CHECK constraint {check} is checked in the same pass"

_CHECK_MESSAGE = (
    "ALTER COLUMN {column} TYPE needs no rewrite, but CHECK constraint {check} on it is re-verified with a "
    "full scan of {table} under ACCESS EXCLUSIVE"
)


def _rewrite_why(old, new) -> str:
    change = f"{_type_sql(old)} to {_type_sql(new)}"
    return change + " is not binary-coercible: {table} and its indexes are rewritten"


def settle_type_change(finding, column: str, old, new, check: str | None):
    """The hedged finding of a type change whose old type the history knows (``old``, and ``check``: a
    CHECK constraint on the column): None when the change is binary-coercible with no CHECK to re-verify,
    else the finding as the rule reports it with that knowledge (the rewrite certain, or the CHECK scan)."""
    table = finding.table or "the_table"
    if binary_coercible(old, new):
        if not check:
            return None
        message = _CHECK_MESSAGE.format(column=column, check=check, table=table)
        return dataclasses.replace(finding, message=message, rewrites=False, hedged=False)
    why = _rewrite_why(old, new) + (_CHECK_IN_REWRITE if check else "")
    message = f"ALTER COLUMN {column} TYPE {_type_sql(new)} takes ACCESS EXCLUSIVE; " + why.format(
        table=table, check=check
    )
    return dataclasses.replace(finding, message=message, rewrites=True, hedged=False)


_DISPLAY = {
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "float4": "real",
    "float8": "double precision",
    "bool": "boolean",
    "varchar": "varchar",
    "bpchar": "char",
}


def _unknown_display(col: dict) -> str:
    """A type the Alembic reading could not know, as the revision wrote it: ``JsonEncodedDict`` (a library's
    class), ``string(?)`` (a run-time length), ``?``."""
    name = type_name(col.get("typeName"))[0]
    return name[:-1] if name.endswith("?") and len(name) > 1 and not name.endswith("(?)") else name


def _type_sql(t: tuple[str, tuple[int, ...]]) -> str:
    name, mods = t
    return _DISPLAY.get(name, name) + (f"({', '.join(map(str, mods))})" if mods else "")


def _is_column(expr: dict, column: str, new_type) -> bool:
    """``USING col`` or ``USING col::new_type``: the plain conversion, as if USING were not written."""
    while "TypeCast" in expr:
        cast = expr["TypeCast"]
        if column_type({"typeName": cast.get("typeName")}) != new_type:
            return False
        expr = cast.get("arg") or {}
    fields = expr.get("ColumnRef", {}).get("fields") or ()
    return bool(fields) and fields[-1].get("String", {}).get("sval") == column


@rule(
    "drop-column",
    summary="DROP COLUMN breaks running code that still reads or writes the column",
    on=("AlterTableStmt:AT_DropColumn",),
    aliases=("ban-drop-column",),
    fix="""
    Contract in two deploys:
      1. Stop using the column in code. SQLAlchemy: remove the attribute from the model (or keep it out of
         queries with `deferred()`), and deploy.
      2. Then drop it, with a short lock_timeout:
         SET lock_timeout = '2s';
         ALTER TABLE {table} DROP COLUMN {column};
    `dbpatterns new drop-column` writes the revision with this checklist in its docstring.
    """,
)
def drop_column(ctx, node):
    """
    ## What it does
    Flags `ALTER TABLE ... DROP COLUMN` on an existing table. A downgrade dropping a column its upgrade
    added is expected and not flagged.

    ## Why is this bad?
    The drop itself is fast (the column is only marked dropped), but application servers still running the
    previous release select, insert or update the column by name and fail; SQLAlchemy models list every
    mapped column in their INSERTs and SELECTs. It also destroys the data.

    ## Example
    ```sql
    ALTER TABLE users DROP COLUMN legacy_flag;
    ```

    ## Use instead
    Remove the column from the model and deploy first; drop it in a later migration.

    ## References
    - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-DROP-COLUMN
    """
    column = node.get("name", "the_column")
    if ctx.state.created_by_upgrade("column", (ctx.table, column)):
        return
    ctx.report(
        "DROP COLUMN {table}.{column} breaks code that still uses it and destroys its data",
        lock=ACCESS_EXCLUSIVE,
        table=ctx.table,
        column=column,
    )


@rule(
    "rename-column",
    summary="RENAME COLUMN breaks running code that uses the old name",
    on=("RenameStmt",),
    aliases=("renaming-column",),
    fix="""
    Rename by expand-contract (`dbpatterns new rename-column`): add the new column, keep both in sync with a
    trigger, backfill, move code to the new name, then drop the old column. In SQLAlchemy you can also keep
    the Python attribute name and only change the column name: `name = mapped_column("new_name", ...)`.
    """,
)
def rename_column(ctx, node):
    """
    ## What it does
    Flags `ALTER TABLE ... RENAME COLUMN`.

    ## Why is this bad?
    The rename is instant, but every running application server still queries the old name and fails
    until it is redeployed; there is no moment when old and new code both work.

    ## Example
    ```sql
    ALTER TABLE users RENAME COLUMN name TO full_name;
    ```

    ## Use instead
    Expand-contract: add `full_name`, sync it with a trigger, backfill, switch the code, drop `name`.

    ## References
    - https://www.postgresql.org/docs/current/sql-altertable.html
    """
    if node.get("renameType") != "OBJECT_COLUMN" or node.get("relationType") not in (None, "OBJECT_TABLE"):
        return
    ctx.report(
        "RENAME COLUMN {table}.{old} to {new} breaks code that uses the old name",
        lock=ACCESS_EXCLUSIVE,
        table=qualified(node.get("relation")),
        old=node.get("subname", "?"),
        new=node.get("newname", "?"),
    )


@rule(
    "json-column",
    summary="A json (not jsonb) column has no equality operator: DISTINCT, UNION and GROUP BY on it fail",
    on=("CreateStmt", "AlterTableStmt:AT_AddColumn", "AlterTableStmt:AT_AlterColumnType"),
    severity="warning",
    fix="Use jsonb: ALTER TABLE {table} ADD COLUMN {column} jsonb; (SQLAlchemy: "
    "sqlalchemy.dialects.postgresql.JSONB)",
)
def json_column(ctx, node):
    """
    ## What it does
    Flags columns declared as `json` rather than `jsonb`.

    ## Why is this bad?
    `json` has no equality operator, so any query over the table that uses `SELECT DISTINCT`, `UNION` or
    `GROUP BY` on the row fails with "could not identify an equality operator for type json" (ORMs
    emit DISTINCT for eager loads). It also cannot be indexed with GIN and is re-parsed on every access.

    ## Example
    ```sql
    ALTER TABLE events ADD COLUMN payload json;
    ```

    ## Use instead
    ```sql
    ALTER TABLE events ADD COLUMN payload jsonb;
    ```

    ## References
    - https://www.postgresql.org/docs/current/datatype-json.html
    """
    if not ctx.mentions("json"):
        return  # the type is written out: no "json" in the text, no json column
    if ctx.stmt.kind == "CreateStmt":
        table = qualified(node.get("relation"))
        cols = [e["ColumnDef"] for e in node.get("tableElts") or () if "ColumnDef" in e]
    else:
        table = ctx.table
        col = _column(node)
        if node.get("subtype") == "AT_AlterColumnType":
            col = dict(col, colname=node.get("name"))
        cols = [col]
    for col in cols:
        type_node = col.get("typeName")
        names = type_node.get("names") if type_node else None
        if not names:
            continue
        last = names[-1].get("String")  # cheap test first: this runs for every column of every new table
        if last is None or last.get("sval", "").lower() != "json":
            continue
        name, _ = type_name(type_node)
        if name.lower().removesuffix("[]") == "json":  # json[] has no equality operator either
            ctx.report(
                "column {column} is json, not jsonb: DISTINCT, UNION and GROUP BY over it fail",
                table=table,
                column=col.get("colname", "the_column"),
                exempt_new=False,
            )
