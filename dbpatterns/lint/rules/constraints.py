"""Adding and validating constraints."""

from __future__ import annotations

import dataclasses

from ...sql.locks import ACCESS_EXCLUSIVE, SHARE_ROW_EXCLUSIVE
from ...sql.nodes import bare, bare_relation, constraints_by_type, has_constraint, qualified, strings
from ..registry import rule
from ..state import check_constraint_name, name_key


def _constraint(node) -> dict:
    return node.get("def", {}).get("Constraint", {})


def _column_name(node) -> str | None:
    return node.get("def", {}).get("ColumnDef", {}).get("colname")


def _builds_index(node, contype: str) -> tuple[bool, str | None]:
    """(whether an ADD COLUMN / ADD CONSTRAINT builds a ``contype`` index itself, the constraint's name)."""
    if node.get("subtype") == "AT_AddColumn":
        col = node.get("def", {}).get("ColumnDef", {})
        return contype in constraints_by_type(col), None
    con = _constraint(node)
    return con.get("contype") == contype and not con.get("indexname"), con.get("conname")


@rule(
    "add-foreign-key",
    summary="Adding a FOREIGN KEY without NOT VALID scans the table while blocking writes to both tables",
    on=("AlterTableStmt:AT_AddConstraint", "AlterTableStmt:AT_AddColumn"),
    aliases=("adding-foreign-key-constraint", "constraint-missing-not-valid"),
    fix="""
    Add it NOT VALID (instant), then validate in a separate transaction (SHARE UPDATE EXCLUSIVE on {table},
    ROW SHARE on {ref}: reads and writes go on):
      ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY (...) REFERENCES {ref} (...) NOT VALID;
      -- next migration or after COMMIT:
      ALTER TABLE {table} VALIDATE CONSTRAINT {name};
    Index the referencing columns first (CREATE INDEX CONCURRENTLY). `dbpatterns new add-foreign-key`
    writes the Alembic revisions.
    """,
)
def add_foreign_key(ctx, node):
    """
    ## What it does
    Flags `ADD CONSTRAINT ... FOREIGN KEY` without `NOT VALID`, and `ADD COLUMN ... REFERENCES`, on an
    existing table.

    ## Why is this bad?
    PostgreSQL takes SHARE ROW EXCLUSIVE on both the table and the referenced table (writes to both are
    blocked) and scans the table to check every row while holding it; `ADD COLUMN ... REFERENCES` holds
    ACCESS EXCLUSIVE on the table instead (reads wait too). With `NOT VALID` the constraint is
    added instantly and enforced for new rows; `VALIDATE CONSTRAINT` later checks old rows under SHARE
    UPDATE EXCLUSIVE, which blocks neither reads nor writes (PostgreSQL 9.4+).

    ## Example
    ```sql
    ALTER TABLE orders ADD CONSTRAINT orders_customer_fk
        FOREIGN KEY (customer_id) REFERENCES customers (id);
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD CONSTRAINT orders_customer_fk
        FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
    -- in a later transaction:
    ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
    ```

    ## References
    - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
    """
    if node.get("subtype") == "AT_AddColumn":
        col = node.get("def", {}).get("ColumnDef", {})
        cons = constraints_by_type(col).get("CONSTR_FOREIGN")
        if not cons:
            return
        name = f"{bare(ctx.table)}_{col.get('colname', 'col')}_fkey"
    else:
        con = _constraint(node)
        cons = [con] if con.get("contype") == "CONSTR_FOREIGN" and not con.get("skip_validation") else []
        name = con.get("conname") or "the_constraint"
    if not cons:
        return
    # The table's lock is the statement's: ACCESS EXCLUSIVE when it also adds a column (server-checked).
    mode = dict(ctx.statement_locks()).get(bare(ctx.table), SHARE_ROW_EXCLUSIVE)
    for con in cons:
        ref = qualified(con.get("pktable")) or "the_referenced_table"
        if mode == SHARE_ROW_EXCLUSIVE and bare(ref) == bare(ctx.table):  # parent_id REFERENCES itself
            message = (
                "FOREIGN KEY on {table} (to itself) without NOT VALID: SHARE ROW EXCLUSIVE on {table} "
                "(writes blocked) while every row is checked"
            )
        elif mode == SHARE_ROW_EXCLUSIVE:
            message = (
                "FOREIGN KEY on {table} without NOT VALID: SHARE ROW EXCLUSIVE on {table} and {ref} (writes "
                "blocked) while every row is checked"
            )
        else:
            message = (
                "FOREIGN KEY on {table} without NOT VALID: {mode} on {table} (reads and writes blocked) and "
                "SHARE ROW EXCLUSIVE on {ref} while every row is checked"
            )
        ctx.report(message, lock=mode, table=ctx.table, ref=ref, name=name, mode=mode)


@rule(
    "add-check-constraint",
    summary="Adding a CHECK constraint without NOT VALID scans the table under ACCESS EXCLUSIVE",
    on=("AlterTableStmt:AT_AddConstraint",),
    aliases=("constraint-missing-not-valid",),
    fix="""
    Add it NOT VALID (instant, enforced for new rows), then validate in a separate transaction
    (SHARE UPDATE EXCLUSIVE: reads and writes go on):
      ALTER TABLE {table} ADD CONSTRAINT {name} CHECK (...) NOT VALID;
      -- next migration or after COMMIT:
      ALTER TABLE {table} VALIDATE CONSTRAINT {name};
    `dbpatterns new add-check-constraint` writes the Alembic revisions.
    """,
)
def add_check_constraint(ctx, node):
    """
    ## What it does
    Flags `ADD CONSTRAINT ... CHECK (...)` without `NOT VALID` on an existing table.

    ## Why is this bad?
    PostgreSQL checks every existing row while holding ACCESS EXCLUSIVE: no reads or writes for the length
    of a full scan. `NOT VALID` skips the scan; `VALIDATE CONSTRAINT` does it later under SHARE UPDATE
    EXCLUSIVE (PostgreSQL 9.2+ for CHECK).

    ## Example
    ```sql
    ALTER TABLE accounts ADD CONSTRAINT positive_balance CHECK (balance >= 0);
    ```

    ## Use instead
    ```sql
    ALTER TABLE accounts ADD CONSTRAINT positive_balance CHECK (balance >= 0) NOT VALID;
    -- in a later transaction:
    ALTER TABLE accounts VALIDATE CONSTRAINT positive_balance;
    ```

    ## References
    - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT
    """
    con = _constraint(node)
    if con.get("contype") != "CONSTR_CHECK" or con.get("skip_validation"):
        return
    named = check_constraint_name(bare(ctx.table) or "the_table", con)
    if con.get("conname"):
        what = "CHECK constraint {name}"
    elif named:
        what = "CHECK constraint {name} (the name PostgreSQL gives it)"
    else:
        what = "CHECK constraint"
    ctx.report(
        what + " on {table} without NOT VALID: every row is checked under ACCESS EXCLUSIVE",
        lock=ACCESS_EXCLUSIVE,
        table=ctx.table,
        name=named or "the_constraint",
    )


@rule(
    "validate-in-same-transaction",
    summary="VALIDATE CONSTRAINT in the transaction that added it keeps the strong lock through the scan",
    on=("AlterTableStmt:AT_ValidateConstraint",),
    aliases=("constraint-missing-not-valid",),
    fix="""
    Commit between the two steps: add the constraint NOT VALID in one migration (or transaction) and run
      ALTER TABLE {table} VALIDATE CONSTRAINT {name};
    in the next. In Alembic, put the VALIDATE in its own revision or in an autocommit_block().
    """,
)
def validate_in_same_transaction(ctx, node):
    """
    ## What it does
    Flags `VALIDATE CONSTRAINT` in the same transaction as the `ADD CONSTRAINT ... NOT VALID` it validates,
    or in a transaction that already holds ACCESS EXCLUSIVE on the table.

    ## Why is this bad?
    The point of `NOT VALID` is to scan under the weak SHARE UPDATE EXCLUSIVE lock. When the ADD (ACCESS
    EXCLUSIVE for a CHECK, SHARE ROW EXCLUSIVE for a foreign key) is in the same transaction, that lock is
    still held during the validating scan, so nothing is gained.

    ## Example
    ```sql
    BEGIN;
    ALTER TABLE accounts ADD CONSTRAINT positive_balance CHECK (balance >= 0) NOT VALID;
    ALTER TABLE accounts VALIDATE CONSTRAINT positive_balance;
    COMMIT;
    ```

    ## Use instead
    ```sql
    ALTER TABLE accounts ADD CONSTRAINT positive_balance CHECK (balance >= 0) NOT VALID;
    -- COMMIT, then in a new transaction:
    ALTER TABLE accounts VALIDATE CONSTRAINT positive_balance;
    ```

    ## References
    - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-VALIDATE-CONSTRAINT
    """
    state = ctx.state
    if not state.in_transaction:
        return
    table = bare(ctx.table)
    name = node.get("name", "the_constraint")
    held = state.held_locks.get(table)
    if (table, name) in state.not_valid_in_tx or held in (ACCESS_EXCLUSIVE, SHARE_ROW_EXCLUSIVE):
        ctx.report(
            "VALIDATE CONSTRAINT {name} runs in the transaction that holds {held} on {table}: the "
            "validating scan keeps it",
            lock=held or ACCESS_EXCLUSIVE,
            table=ctx.table,
            name=name,
            held=held or "a strong lock",
        )


@rule(
    "add-unique-constraint",
    summary="Adding a UNIQUE constraint builds its index under ACCESS EXCLUSIVE",
    on=("AlterTableStmt:AT_AddConstraint", "AlterTableStmt:AT_AddColumn"),
    aliases=("disallowed-unique-constraint",),
    fix="""
    Build the unique index concurrently, then attach it (instant):
      CREATE UNIQUE INDEX CONCURRENTLY {name}_idx ON {table} (...);
      ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}_idx;
    `dbpatterns new add-unique-constraint` writes the Alembic revision.
    """,
)
def add_unique_constraint(ctx, node):
    """
    ## What it does
    Flags `ADD CONSTRAINT ... UNIQUE (...)` and `ADD COLUMN ... UNIQUE` on an existing table, unless the
    constraint is attached to an existing index with `USING INDEX`.

    ## Why is this bad?
    The unique index is built while ACCESS EXCLUSIVE is held: no reads or writes for the whole build.
    `CREATE UNIQUE INDEX CONCURRENTLY` followed by `ADD CONSTRAINT ... UNIQUE USING INDEX` takes the strong
    lock only for a catalog update.

    ## Example
    ```sql
    ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
    ```

    ## Use instead
    ```sql
    CREATE UNIQUE INDEX CONCURRENTLY users_email_key_idx ON users (email);
    ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key_idx;
    ```

    ## References
    - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT-USING-INDEX
    """
    found, name = _builds_index(node, "CONSTR_UNIQUE")
    if found:
        name = name or (
            f"{bare(ctx.table)}_{_column_name(node)}_key" if _column_name(node) else f"{bare(ctx.table)}_key"
        )
        ctx.report(
            "UNIQUE constraint on {table} builds its index under ACCESS EXCLUSIVE: reads and writes wait",
            lock=ACCESS_EXCLUSIVE,
            table=ctx.table,
            name=name,
        )


@rule(
    "add-primary-key",
    summary="Adding a PRIMARY KEY builds its index and sets NOT NULL on its columns under ACCESS EXCLUSIVE",
    on=("AlterTableStmt:AT_AddConstraint", "AlterTableStmt:AT_AddColumn"),
    aliases=("adding-serial-primary-key-field",),
    fix="""
    Make the columns NOT NULL without a scan under the strong lock, build the index concurrently, then
    attach it (for each column; the VALIDATE in a later transaction than the ADD):
      ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_not_null CHECK ({column} IS NOT NULL) NOT VALID;
      ALTER TABLE {table} VALIDATE CONSTRAINT {table}_{column}_not_null;  -- SHARE UPDATE EXCLUSIVE
      ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL;  -- no scan: the valid CHECK proves it (PG 12+)
      ALTER TABLE {table} DROP CONSTRAINT {table}_{column}_not_null;
      CREATE UNIQUE INDEX CONCURRENTLY {table}_pkey_idx ON {table} ({columns});
      ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY USING INDEX {table}_pkey_idx;
    """,
)
def add_primary_key(ctx, node):
    """
    ## What it does
    Flags `ADD PRIMARY KEY (...)` and `ADD COLUMN ... PRIMARY KEY` on an existing table, and `ADD
    CONSTRAINT ... PRIMARY KEY USING INDEX` unless the index's columns are known to be NOT NULL (declared
    NOT NULL, made so by `SET NOT NULL`, or proven by a validated `CHECK (column IS NOT NULL)`) in the same
    migration or an earlier one of the history.

    ## Why is this bad?
    The primary key's unique index is built under ACCESS EXCLUSIVE, and its columns are implicitly made
    NOT NULL, which scans the table too: reads and writes wait for both. `USING INDEX` skips the build,
    but not the implicit `SET NOT NULL`: on a column that may hold NULLs it is a full scan under ACCESS
    EXCLUSIVE (checked on PostgreSQL 18). A validated `CHECK (column IS NOT NULL)` lets PostgreSQL skip that
    scan (`SET NOT NULL` since PostgreSQL 12).

    ## Example
    ```sql
    ALTER TABLE items ADD PRIMARY KEY (id);
    -- or, id nullable:
    CREATE UNIQUE INDEX CONCURRENTLY items_pkey_idx ON items (id);
    ALTER TABLE items ADD CONSTRAINT items_pkey PRIMARY KEY USING INDEX items_pkey_idx;
    ```

    ## Use instead
    ```sql
    ALTER TABLE items ADD CONSTRAINT items_id_not_null CHECK (id IS NOT NULL) NOT VALID;
    -- in a later transaction:
    ALTER TABLE items VALIDATE CONSTRAINT items_id_not_null;
    ALTER TABLE items ALTER COLUMN id SET NOT NULL;
    ALTER TABLE items DROP CONSTRAINT items_id_not_null;
    CREATE UNIQUE INDEX CONCURRENTLY items_pkey_idx ON items (id);
    ALTER TABLE items ADD CONSTRAINT items_pkey PRIMARY KEY USING INDEX items_pkey_idx;
    ```

    ## References
    - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT-USING-INDEX
    """
    builds, _ = _builds_index(node, "CONSTR_PRIMARY")
    con = _constraint(node)
    table = ctx.table
    state = ctx.state
    if builds:
        if node.get("subtype") == "AT_AddColumn":
            columns: tuple[str, ...] = (_column_name(node) or "the_column",)
            unknown = []  # a new column: its NOT NULL scan finds no row to check
        else:
            columns = tuple(strings(con.get("keys"))) or ("?",)
            unknown = [c for c in columns if state.is_not_null(table, c) is not True]
        fields = _fix_fields(columns)
        before = len(ctx.findings)
        ctx.report(
            _build_message(unknown), lock=ACCESS_EXCLUSIVE, table=table, unknown=", ".join(unknown), **fields
        )
        asked = [c for c in unknown if state.is_not_null(table, c) is None]
        if asked and state.questions is not None and len(ctx.findings) > before:
            # the earlier migrations may know the columns are NOT NULL: settle_primary_key
            question = (PRIMARY_KEY_QUESTION, columns, _not_null_here(state, table), "")
            state.questions.append((ctx.findings[-1], name_key(table), "", question))
        return
    index = con.get("indexname")
    if con.get("contype") != "CONSTR_PRIMARY" or not index:
        return
    columns = state.columns_of_index(table, index)
    known = [state.is_not_null(table, c) for c in columns] if columns else []
    if columns and all(k is True for k in known):
        return
    certain = columns is not None and any(k is False for k in known)
    before = len(ctx.findings)
    nullable = [c for c, k in zip(columns or (), known, strict=True) if k is not True]
    if not certain:
        nullable = (
            [f"{', '.join(nullable)} {'is' if len(nullable) == 1 else 'are'}"]
            if nullable
            else ["its columns are"]
        )
    ctx.report(
        primary_key_message(certain),
        lock=ACCESS_EXCLUSIVE,
        table=table,
        hedged=not certain,
        index=index,
        nullable=", ".join(nullable),
        **_fix_fields(columns or ("the_column",)),
    )
    if not certain and state.questions is not None and len(ctx.findings) > before:
        # the earlier migrations of the history may know the index and its columns: settle_primary_key
        unknown = tuple(columns) if columns else None
        question = (PRIMARY_KEY_QUESTION, unknown, _not_null_here(state, table), index)
        state.questions.append((ctx.findings[-1], name_key(table), index, question))


#: Marks a question (``state.questions``) about a PRIMARY KEY USING INDEX: are the index's columns NOT NULL?
PRIMARY_KEY_QUESTION = "\0primary-key-using-index"


def primary_key_message(certain: bool) -> str:
    """The message template of a PRIMARY KEY USING INDEX (fields ``index``, ``table``, ``nullable``: the
    columns not known to be NOT NULL); not ``certain``: the index's columns are not known."""
    if not certain:
        return (
            "PRIMARY KEY USING INDEX {index} on {table}: unless {nullable} NOT NULL already, "
            "PostgreSQL sets NOT NULL implicitly, a full scan of {table} under ACCESS EXCLUSIVE"
        )
    return (
        "PRIMARY KEY USING INDEX {index} on {table}: {nullable} not known to be NOT NULL, so PostgreSQL "
        "sets NOT NULL implicitly, a full scan of {table} under ACCESS EXCLUSIVE"
    )


def _build_message(unknown) -> str:
    message = "PRIMARY KEY on {table} builds its index under ACCESS EXCLUSIVE: reads and writes wait"
    if unknown:
        message += "; {unknown} not known to be NOT NULL: setting NOT NULL scans {table} again"
    return message


def _not_null_here(state, table) -> tuple[tuple[str, bool], ...]:
    """(column, NOT NULL) for the columns of ``table`` whose NOT NULL the migration itself set, dropped or
    proved before this statement."""
    key = name_key(table)
    return tuple((column, bool(value)) for (k, column), value in state.not_null.items() if k == key)


def settle_primary_key(finding, key: str, question, schema):
    """A PRIMARY KEY finding whose columns' NOT NULL only the earlier migrations know (``schema``):
    ``question`` is (marker, the columns to look up (None: the index's, from the schema), (column, NOT
    NULL) as the migration itself left them, the index of a USING INDEX or ""). USING INDEX: None when
    every column is NOT NULL, else the finding, certain when the columns are known; an index build: the
    finding, saying which columns are not known NOT NULL."""
    _, columns, here, index = question
    columns = columns if columns is not None else schema.index_of(key, index)
    if not columns:
        return finding
    here = dict(here)
    nullable = [c for c in columns if not (here[c] if c in here else schema.not_null_of(key, c))]
    fields = {"table": finding.table or "the_table", "index": index, "unknown": ", ".join(nullable)}
    if not index:
        return dataclasses.replace(finding, message=_build_message(nullable).format_map(fields))
    if not nullable:
        return None
    fields["nullable"] = fields["unknown"]
    message = primary_key_message(True).format_map(fields)
    return dataclasses.replace(finding, message=message, hedged=False)


def _fix_fields(columns) -> dict:
    return {"column": columns[0] if len(columns) == 1 else "{column}", "columns": ", ".join(columns)}


@rule(
    "add-exclusion-constraint",
    summary="Adding an EXCLUDE constraint builds its index under ACCESS EXCLUSIVE (it cannot be NOT VALID)",
    on=("AlterTableStmt:AT_AddConstraint",),
    fix="""
    There is no online recipe: an exclusion constraint cannot be NOT VALID or attached USING INDEX.
    Create it with the table, or schedule a maintenance window with a short lock_timeout and retries, or
    enforce the rule with a trigger and a concurrently built index.
    """,
)
def add_exclusion_constraint(ctx, node):
    """
    ## What it does
    Flags `ADD CONSTRAINT ... EXCLUDE` on an existing table.

    ## Why is this bad?
    The constraint's GiST (or other) index is built and every row checked while ACCESS EXCLUSIVE is held.
    PostgreSQL offers no NOT VALID or USING INDEX form for exclusion constraints.

    ## Example
    ```sql
    ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);
    ```

    ## Use instead
    Create the constraint together with the table, or plan a maintenance window.

    ## References
    - https://www.postgresql.org/docs/current/sql-createtable.html#SQL-CREATETABLE-EXCLUDE
    """
    if _constraint(node).get("contype") == "CONSTR_EXCLUSION":
        ctx.report(
            "EXCLUDE constraint on {table} builds its index under ACCESS EXCLUSIVE",
            lock=ACCESS_EXCLUSIVE,
            table=ctx.table,
        )


@rule(
    "foreign-key-without-index",
    summary="A foreign key whose referencing columns have no index makes parent deletes scan the child",
    on=("CreateStmt", "AlterTableStmt:AT_AddConstraint", "AlterTableStmt:AT_AddColumn", "file-end"),
    severity="warning",
    fix="""
    Index the referencing columns (concurrently on an existing table):
      CREATE INDEX CONCURRENTLY {table}_{columns}_idx ON {table} ({columns});
    `dbpatterns new create-table` indexes foreign key columns for you.
    """,
)
def foreign_key_without_index(ctx, node):
    """
    ## What it does
    Flags a foreign key on columns created in the same migration (a new table or a new column) when the
    migration creates no index whose leading columns are the referencing columns.

    ## Why is this bad?
    PostgreSQL indexes the referenced (parent) side only. Every DELETE or key UPDATE on the parent must
    find the child rows, and without an index that is a sequential scan of the child table per parent row,
    holding locks all the while; ON DELETE CASCADE makes it worse.

    ## Example
    ```sql
    CREATE TABLE order_lines (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        order_id bigint NOT NULL REFERENCES orders (id)
    );
    ```

    ## Use instead
    ```sql
    CREATE TABLE order_lines (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        order_id bigint NOT NULL REFERENCES orders (id)
    );
    CREATE INDEX order_lines_order_id_idx ON order_lines (order_id);
    ```

    ## References
    - https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK
    """
    state = ctx.state
    pending = state.pending_fks
    kind = ctx.stmt.kind if ctx.stmt else "file-end"
    if kind == "file-end":
        saved = ctx.location, ctx.suppress
        for table, cols, location, suppress in pending:
            if not any(idx[: len(cols)] == cols for idx in state.indexed_columns.get(table, ())):
                ctx.location, ctx.suppress = location, suppress  # the foreign key's own suppressions
                ctx.report(
                    "foreign key {table}({columns}) has no index: deletes on the parent scan {table}",
                    table=table,
                    columns=", ".join(cols),
                    exempt_new=False,
                )
        pending.clear()
        ctx.location, ctx.suppress = saved
        return
    if not ctx.mentions("references"):
        return  # every foreign key is written with REFERENCES
    location = ctx.here  # called only when a foreign key is found
    if kind == "CreateStmt":
        table = bare_relation(node.get("relation"))
        for elt in node.get("tableElts") or ():
            if "ColumnDef" in elt:
                col = elt["ColumnDef"]
                if has_constraint(col, "CONSTR_FOREIGN"):
                    pending.append((table, (col.get("colname"),), location(), ctx.suppress))
            elif elt.get("Constraint", {}).get("contype") == "CONSTR_FOREIGN":
                cols = tuple(strings(elt["Constraint"].get("fk_attrs")))
                pending.append((table, cols, location(), ctx.suppress))
        return
    table = bare(ctx.table)
    if node.get("subtype") == "AT_AddColumn":
        col = node.get("def", {}).get("ColumnDef", {})
        if "CONSTR_FOREIGN" in constraints_by_type(col):
            pending.append((table, (col.get("colname"),), location(), ctx.suppress))
        return
    con = _constraint(node)
    if con.get("contype") == "CONSTR_FOREIGN":
        cols = tuple(strings(con.get("fk_attrs")))
        if state.is_new(table) or all((table, c) in state.created_columns for c in cols):
            pending.append((table, cols, location(), ctx.suppress))


@rule(
    "create-domain-with-constraint",
    summary="A domain with a constraint makes every later change to the constraint scan all its columns",
    on=("CreateDomainStmt",),
    aliases=("ban-create-domain-with-constraint",),
    severity="warning",
    fix="""
    Put the constraint on the table columns instead (CHECK ... NOT VALID, then VALIDATE), or accept that
    later ALTER DOMAIN ... ADD CONSTRAINT must use NOT VALID and VALIDATE CONSTRAINT.
    """,
)
def create_domain_with_constraint(ctx, node):
    """
    ## What it does
    Flags `CREATE DOMAIN ... CHECK (...)` or `NOT NULL`.

    ## Why is this bad?
    Changing a domain's constraints later checks every column of every table that uses the domain, and
    PostgreSQL cannot drop or alter the check per table: schema changes on a domain are table-wide scans in
    disguise. Plain types with table-level CHECK constraints are easier to evolve.

    ## Example
    ```sql
    CREATE DOMAIN positive_amount AS numeric CHECK (VALUE > 0);
    ```

    ## Use instead
    ```sql
    CREATE DOMAIN amount AS numeric;
    ```

    ## References
    - https://www.postgresql.org/docs/current/sql-createdomain.html
    """
    if any(
        c.get("Constraint", {}).get("contype") in ("CONSTR_CHECK", "CONSTR_NOTNULL")
        for c in node.get("constraints") or ()
    ):
        ctx.report(
            "CREATE DOMAIN {name} carries a constraint", name=".".join(strings(node.get("domainname")))
        )


@rule(
    "alter-domain-add-constraint",
    summary="ALTER DOMAIN ... ADD CONSTRAINT without NOT VALID scans every column that uses the domain",
    on=("AlterDomainStmt",),
    aliases=("ban-alter-domain-with-add-constraint",),
    fix="""
    Add it NOT VALID, then validate separately:
      ALTER DOMAIN {name} ADD CONSTRAINT ... CHECK (...) NOT VALID;
      ALTER DOMAIN {name} VALIDATE CONSTRAINT ...;
    """,
)
def alter_domain_add_constraint(ctx, node):
    """
    ## What it does
    Flags `ALTER DOMAIN ... ADD CONSTRAINT` without `NOT VALID`.

    ## Why is this bad?
    PostgreSQL checks every row of every table with a column of that domain, holding locks on those tables
    for the duration.

    ## Example
    ```sql
    ALTER DOMAIN amount ADD CONSTRAINT amount_positive CHECK (VALUE > 0);
    ```

    ## Use instead
    ```sql
    ALTER DOMAIN amount ADD CONSTRAINT amount_positive CHECK (VALUE > 0) NOT VALID;
    ALTER DOMAIN amount VALIDATE CONSTRAINT amount_positive;
    ```

    ## References
    - https://www.postgresql.org/docs/current/sql-alterdomain.html
    """
    if node.get("subtype") != "C":
        return
    con = node.get("def", {}).get("Constraint", {})
    if con.get("skip_validation"):
        return
    ctx.report(
        "ALTER DOMAIN {name} ADD CONSTRAINT checks every column that uses the domain",
        name=".".join(strings(node.get("typeName"))),
    )
