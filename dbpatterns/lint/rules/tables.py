"""Whole-table operations: drops, renames, truncation, rewrites, explicit locks, partitions."""

from __future__ import annotations

from ...sql.locks import ACCESS_EXCLUSIVE, LOCK_BY_NUMBER, LOCK_STRENGTH, SHARE
from ...sql.nodes import option_names, qualified, strings, truthy
from ...sql.parse import long_identifiers
from ..registry import doc_only_rule, rule


@rule(
    "drop-table",
    summary="DROP TABLE breaks running code that uses the table and destroys its data",
    on=("DropStmt",),
    aliases=("ban-drop-table",),
    fix="""
    Contract in two deploys: first remove every use of {table} from the code (models, queries, foreign keys
    pointing at it) and deploy; then drop it in a later migration with a short lock_timeout:
      SET lock_timeout = '2s';
      DROP TABLE {table};
    Consider renaming it aside (or taking a backup) first if the data may be needed.
    """,
)
def drop_table(ctx, node):
    """
    ## What it does
    Flags `DROP TABLE` of a table this migration did not create. A downgrade dropping a table its upgrade
    created is expected and not flagged.

    ## Why is this bad?
    Application servers still running code that uses the table fail, and the data is gone. It also takes
    ACCESS EXCLUSIVE on the table (and on tables whose foreign keys point at it).

    ## Example
    ```sql
    DROP TABLE legacy_events;
    ```

    ## Use instead
    Remove all uses from the code and deploy, then drop the table in a later migration.

    ## References
    - https://www.postgresql.org/docs/current/sql-droptable.html
    """
    if node.get("removeType") != "OBJECT_TABLE":
        return
    for obj in node.get("objects") or ():
        names = strings(obj.get("List", {}).get("items"))
        table = ".".join(names)
        if not table or ctx.state.created_by_upgrade("table", table):
            continue
        ctx.report(
            "DROP TABLE {table} breaks code that still uses it and destroys its data",
            lock=ACCESS_EXCLUSIVE,
            table=table,
        )


@rule(
    "drop-schema-cascade",
    summary="DROP SCHEMA ... CASCADE drops every object in the schema, and what depends on them elsewhere",
    on=("DropStmt",),
    fix="""
    Drop what the schema holds explicitly, each object in its own step once no code uses it, then the empty
    schema without CASCADE (it fails if anything is left, which is the check you want):
      SET lock_timeout = '2s';
      DROP TABLE {schema}.old_events;
      DROP SCHEMA {schema};
    """,
)
def drop_schema_cascade(ctx, node):
    """
    ## What it does
    Flags `DROP SCHEMA ... CASCADE` (in SQL or `op.execute`).

    ## Why is this bad?
    CASCADE drops every table, view, function and type in the schema, and every object elsewhere that
    depends on them (views, foreign keys of tables in other schemas), without listing them. It takes ACCESS
    EXCLUSIVE on each table it drops, all in one transaction, so reads and writes of every one of them wait
    until the migration commits. The data of all the tables is gone.

    ## Example
    ```sql
    DROP SCHEMA legacy CASCADE;
    ```

    ## Use instead
    ```sql
    DROP TABLE legacy.events;
    DROP SCHEMA legacy;
    ```

    ## References
    - https://www.postgresql.org/docs/current/sql-dropschema.html
    """
    if node.get("removeType") != "OBJECT_SCHEMA" or node.get("behavior") != "DROP_CASCADE":
        return
    for obj in node.get("objects") or ():
        schema = obj.get("String", {}).get("sval")
        if not schema or ctx.state.created_by_upgrade("schema", schema):
            continue
        ctx.report(
            "DROP SCHEMA {schema} CASCADE drops every object in it and those elsewhere that depend on them, "
            "taking ACCESS EXCLUSIVE on each table it drops until the transaction commits",
            lock=ACCESS_EXCLUSIVE,
            schema=schema,
        )


@rule(
    "drop-database",
    summary="DROP DATABASE in a migration destroys everything",
    on=("DropdbStmt",),
    aliases=("ban-drop-database",),
    fix="Do not drop databases from migrations; do it by hand, with a backup, outside the deploy.",
)
def drop_database(ctx, node):
    """
    ## What it does
    Flags `DROP DATABASE`.

    ## Why is this bad?
    Nothing in a schema migration should be able to delete a whole database.

    ## Example
    ```sql
    DROP DATABASE analytics;
    ```

    ## Use instead
    An operator runs it by hand after taking a backup.
    """
    ctx.report("DROP DATABASE {name} in a migration", name=node.get("dbname", "?"))


@rule(
    "rename-table",
    summary="RENAME TABLE breaks running code that uses the old name",
    on=("RenameStmt",),
    aliases=("renaming-table",),
    fix="""
    Rename without downtime: rename the table and create a view with the old name in the same transaction
    (simple views are updatable), deploy code that uses the new name, then drop the view:
      BEGIN;
      ALTER TABLE {table} RENAME TO {new};
      CREATE VIEW {table} AS SELECT * FROM {new};
      COMMIT;
    Or keep the table name and change only the SQLAlchemy class name (`__tablename__` stays).
    """,
)
def rename_table(ctx, node):
    """
    ## What it does
    Flags `ALTER TABLE ... RENAME TO`.

    ## Why is this bad?
    The rename is instant, but every application server still running the previous release queries the
    old name and fails until it is redeployed.

    ## Example
    ```sql
    ALTER TABLE customers RENAME TO clients;
    ```

    ## Use instead
    ```sql
    BEGIN;
    ALTER TABLE customers RENAME TO clients;
    CREATE VIEW customers AS SELECT * FROM clients;
    COMMIT;
    ```

    ## References
    - https://www.postgresql.org/docs/current/sql-altertable.html
    """
    if node.get("renameType") != "OBJECT_TABLE":
        return
    ctx.report(
        "RENAME TABLE {table} to {new} breaks code that uses the old name",
        lock=ACCESS_EXCLUSIVE,
        table=qualified(node.get("relation")),
        new=node.get("newname", "?"),
    )


@rule(
    "rename-schema",
    summary="ALTER SCHEMA ... RENAME breaks running code that uses the old schema name",
    on=("RenameStmt",),
    fix="Create the new schema, move objects with ALTER ... SET SCHEMA behind views, switch code, then drop.",
)
def rename_schema(ctx, node):
    """
    ## What it does
    Flags `ALTER SCHEMA ... RENAME TO`.

    ## Why is this bad?
    Every query that names the schema, or a search_path that lists it, stops working for code that is
    already running.

    ## Example
    ```sql
    ALTER SCHEMA billing RENAME TO invoicing;
    ```

    ## Use instead
    Move to the new schema in steps, keeping the old names working until all code has moved.
    """
    if node.get("renameType") == "OBJECT_SCHEMA":
        ctx.report("RENAME SCHEMA {old} breaks code that uses the old name", old=node.get("subname", "?"))


@rule(
    "rename-enum-value",
    summary="ALTER TYPE ... RENAME VALUE breaks running code that writes or compares the old value",
    on=("AlterEnumStmt",),
    fix="Add the new value (ALTER TYPE ... ADD VALUE), move data and code to it, and stop using the old one.",
)
def rename_enum_value(ctx, node):
    """
    ## What it does
    Flags `ALTER TYPE ... RENAME VALUE` (PostgreSQL 10+).

    ## Why is this bad?
    Running code that inserts or filters by the old label fails with "invalid input value for enum"; the
    SQLAlchemy Enum of the previous release still lists the old label.

    ## Example
    ```sql
    ALTER TYPE order_status RENAME VALUE 'canceled' TO 'cancelled';
    ```

    ## Use instead
    ```sql
    ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'cancelled';
    ```
    then migrate rows and code, and leave the old label unused.
    """
    if node.get("oldVal"):
        ctx.report(
            "RENAME VALUE {old} of {type} breaks code that uses the old label",
            old=repr(node["oldVal"]),
            type=".".join(strings(node.get("typeName"))),
        )


@rule(
    "truncate",
    summary="TRUNCATE takes ACCESS EXCLUSIVE and deletes every row of the table",
    on=("TruncateStmt",),
    fix="""
    Delete in batches instead, each in its own transaction:
      DELETE FROM {table} WHERE id IN (SELECT id FROM {table} ORDER BY id LIMIT 5000);
    or, to replace a table's contents, fill a new table and swap names in one short transaction.
    """,
)
def truncate(ctx, node):
    """
    ## What it does
    Flags `TRUNCATE` of a table this migration did not create.

    ## Why is this bad?
    It takes ACCESS EXCLUSIVE (reads and writes wait) and removes all data at once; it is not MVCC-safe
    for concurrent transactions that started before it.

    ## Example
    ```sql
    TRUNCATE audit_log;
    ```

    ## Use instead
    Batched deletes, or fill-and-swap.

    ## References
    - https://www.postgresql.org/docs/current/sql-truncate.html
    """
    for rel in node.get("relations") or ():
        table = qualified(rel)
        ctx.report(
            "TRUNCATE {table} takes ACCESS EXCLUSIVE and deletes every row",
            lock=ACCESS_EXCLUSIVE,
            table=table,
            rewrites=True,
        )


@rule(
    "truncate-cascade",
    summary="TRUNCATE ... CASCADE also empties every table that references it, recursively",
    on=("TruncateStmt",),
    aliases=("ban-truncate-cascade",),
    fix="Name every table to truncate explicitly, without CASCADE, so the statement fails instead of "
    "silently emptying tables you did not list.",
)
def truncate_cascade(ctx, node):
    """
    ## What it does
    Flags `TRUNCATE ... CASCADE`.

    ## Why is this bad?
    CASCADE truncates all tables with foreign keys to the named tables, and the ones referencing those:
    data in tables the migration never names is deleted.

    ## Example
    ```sql
    TRUNCATE customers CASCADE;
    ```

    ## Use instead
    ```sql
    TRUNCATE customers, orders;
    ```
    """
    if node.get("behavior") == "DROP_CASCADE":
        ctx.report("TRUNCATE ... CASCADE empties every table that references these tables", exempt_new=False)


@rule(
    "set-logged-unlogged",
    summary="ALTER TABLE ... SET LOGGED / SET UNLOGGED rewrites the whole table",
    on=("AlterTableStmt:AT_SetLogged", "AlterTableStmt:AT_SetUnLogged"),
    fix="""
    Plan it as a maintenance operation: it rewrites {table} under ACCESS EXCLUSIVE. For a big table, create a
    new table with the wanted persistence, copy in batches, and swap names in one short transaction.
    """,
)
def set_logged_unlogged(ctx, node):
    """
    ## What it does
    Flags `ALTER TABLE ... SET LOGGED` and `SET UNLOGGED`.

    ## Why is this bad?
    Changing persistence rewrites the table and its indexes under ACCESS EXCLUSIVE (and SET LOGGED writes
    the whole table to the WAL, which replicas must replay).

    ## Example
    ```sql
    ALTER TABLE staging_events SET LOGGED;
    ```

    ## Use instead
    Create the table with the right persistence from the start, or copy-and-swap.

    ## References
    - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-SET-LOGGED-UNLOGGED
    """
    word = "LOGGED" if node.get("subtype") == "AT_SetLogged" else "UNLOGGED"
    ctx.report(
        f"SET {word} rewrites {{table}} under ACCESS EXCLUSIVE",
        lock=ACCESS_EXCLUSIVE,
        table=ctx.table,
        rewrites=True,
    )


_REPACK_FIX = """
PostgreSQL 19+: REPACK (CONCURRENTLY) {table};   -- reads and writes go on; a brief lock at the swap
Before 19: the pg_repack extension rebuilds the table online: pg_repack --table={table}
"""


@rule(
    "vacuum-full",
    summary="VACUUM FULL rewrites the table under ACCESS EXCLUSIVE",
    on=("VacuumStmt",),
    fix=_REPACK_FIX,
)
def vacuum_full(ctx, node):
    """
    ## What it does
    Flags `VACUUM FULL` (and `VACUUM (FULL)`), on PostgreSQL 18 and older; from PostgreSQL 19 the finding
    is `use-repack`.

    ## Why is this bad?
    It copies the table to a new file and rebuilds its indexes while holding ACCESS EXCLUSIVE: no reads or
    writes until it finishes. Plain VACUUM (SHARE UPDATE EXCLUSIVE) is what a migration may run.

    ## Example
    ```sql
    VACUUM FULL events;
    ```

    ## Use instead
    `REPACK (CONCURRENTLY) events;` on PostgreSQL 19+, or the pg_repack extension before that.

    ## References
    - https://www.postgresql.org/docs/current/sql-vacuum.html
    """
    opts = option_names(node.get("options"))
    if "full" not in opts or not truthy(opts["full"]):
        return
    tables = [qualified(r.get("VacuumRelation", {}).get("relation")) for r in node.get("rels") or ()]
    for table in tables or [None]:
        ctx.report(
            "VACUUM FULL rewrites {table} under ACCESS EXCLUSIVE: reads and writes wait",
            rule="use-repack" if ctx.pg_version >= 19 else None,
            lock=ACCESS_EXCLUSIVE,
            table=table,
            rewrites=True,
        )


@rule(
    "cluster",
    summary="CLUSTER rewrites the table under ACCESS EXCLUSIVE",
    on=("ClusterStmt",),
    fix=_REPACK_FIX.replace(
        "REPACK (CONCURRENTLY) {table}", "REPACK (CONCURRENTLY) {table} USING INDEX"
    ).replace("--table={table}", "--table={table} --order-by=..."),
)
def cluster(ctx, node):
    """
    ## What it does
    Flags `CLUSTER`, on PostgreSQL 18 and older; from PostgreSQL 19 the finding is `use-repack`.

    ## Why is this bad?
    It rewrites the table in index order and rebuilds every index while holding ACCESS EXCLUSIVE.

    ## Example
    ```sql
    CLUSTER events USING events_created_at_idx;
    ```

    ## Use instead
    `REPACK (CONCURRENTLY) events USING INDEX events_created_at_idx;` on PostgreSQL 19+, or pg_repack.

    ## References
    - https://www.postgresql.org/docs/current/sql-cluster.html
    """
    ctx.report(
        "CLUSTER rewrites {table} under ACCESS EXCLUSIVE: reads and writes wait",
        rule="use-repack" if ctx.pg_version >= 19 else None,
        lock=ACCESS_EXCLUSIVE,
        table=qualified(node.get("relation")),
        rewrites=True,
    )


@rule(
    "refresh-materialized-view",
    summary="REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks every read of the view",
    on=("RefreshMatViewStmt",),
    fix="""
    Refresh concurrently: readers keep the old contents until the new ones commit. It needs a unique index
    on the view (plain columns, no WHERE clause) and a view that is already populated:
      CREATE UNIQUE INDEX CONCURRENTLY {table}_key ON {table} (id);   -- once
      REFRESH MATERIALIZED VIEW CONCURRENTLY {table};
    It still takes EXCLUSIVE (writes to the view wait; a view takes none) and is slower than a plain refresh.
    """,
)
def refresh_materialized_view(ctx, node):
    """
    ## What it does
    Flags `REFRESH MATERIALIZED VIEW` without `CONCURRENTLY` on a view that already exists.

    ## Why is this bad?
    A plain refresh rebuilds the view into a new file (a rewrite) while holding ACCESS EXCLUSIVE on it: every
    query that reads the view waits until the refresh ends, which is as long as the view's query takes.
    `CONCURRENTLY` (PostgreSQL 9.4+) takes EXCLUSIVE instead, so reads go on.

    ## Example
    ```sql
    REFRESH MATERIALIZED VIEW order_totals;
    ```

    ## Use instead
    ```sql
    REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals;
    ```

    ## References
    - https://www.postgresql.org/docs/current/sql-refreshmaterializedview.html
    """
    if node.get("concurrent") or node.get("skipData"):
        return
    ctx.report(
        "REFRESH MATERIALIZED VIEW rebuilds {table} under ACCESS EXCLUSIVE: every read of it waits",
        lock=ACCESS_EXCLUSIVE,
        table=qualified(node.get("relation")),
        rewrites=True,
    )


doc_only_rule(
    "use-repack",
    summary="PostgreSQL 19+: VACUUM FULL and CLUSTER block the table; REPACK (CONCURRENTLY) does not",
    aliases=("prefer-repack",),
    fix=_REPACK_FIX,
    doc="""
    ## What it does
    On PostgreSQL 19 and newer, flags `VACUUM FULL` and `CLUSTER` (the checks of `vacuum-full` and `cluster`
    report under this id there).

    ## Why is this bad?
    Both rewrite the table under ACCESS EXCLUSIVE. PostgreSQL 19 added `REPACK`, which absorbs both, and
    `REPACK (CONCURRENTLY)`, which rewrites while reads and writes go on.

    ## Example
    ```sql
    VACUUM FULL events;
    ```

    ## Use instead
    ```sql
    REPACK (CONCURRENTLY) events;
    ```

    ## References
    - https://www.postgresql.org/docs/19/sql-repack.html
    """,
)


@rule(
    "lock-table",
    summary="LOCK TABLE holds a strong lock until the end of the transaction",
    on=("LockStmt",),
    fix="""
    Avoid explicit locks in migrations. If one is needed, set a short lock_timeout first and keep the
    transaction tiny:
      SET LOCAL lock_timeout = '2s';
      LOCK TABLE {table} IN {mode} MODE;
    """,
)
def lock_table(ctx, node):
    """
    ## What it does
    Flags `LOCK TABLE` in SHARE mode or stronger (ACCESS EXCLUSIVE when no mode is given).

    ## Why is this bad?
    The lock is held until the transaction ends, blocking writes (SHARE and up) or reads and writes (ACCESS
    EXCLUSIVE) for everything that follows it in the migration.

    ## Example
    ```sql
    LOCK TABLE accounts;
    ```

    ## Use instead
    Let each statement take the lock it needs, with a lock_timeout.

    ## References
    - https://www.postgresql.org/docs/current/sql-lock.html
    """
    mode = LOCK_BY_NUMBER.get(node.get("mode", 8), ACCESS_EXCLUSIVE)
    if LOCK_STRENGTH[mode] < LOCK_STRENGTH[SHARE]:
        return
    for rel in node.get("relations") or ():
        ctx.report(
            "LOCK TABLE {table} IN {mode} MODE holds the lock until the transaction ends",
            lock=mode,
            table=qualified(rel),
            mode=mode,
        )


@rule(
    "detach-partition-non-concurrently",
    summary="DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the partitioned table",
    on=("AlterTableStmt:AT_DetachPartition",),
    aliases=("require-concurrent-partition-detach",),
    fix="""
    PostgreSQL 14+, outside a transaction:
      ALTER TABLE {table} DETACH PARTITION {partition} CONCURRENTLY;
    (if interrupted, finish with ALTER TABLE {table} DETACH PARTITION {partition} FINALIZE).
    """,
)
def detach_partition_non_concurrently(ctx, node):
    """
    ## What it does
    Flags `ALTER TABLE ... DETACH PARTITION` without `CONCURRENTLY`.

    ## Why is this bad?
    It takes ACCESS EXCLUSIVE on the parent table: every query on any partition waits. `CONCURRENTLY`
    (PostgreSQL 14+) takes SHARE UPDATE EXCLUSIVE instead; it cannot run in a transaction block.

    ## Example
    ```sql
    ALTER TABLE measurements DETACH PARTITION measurements_2023;
    ```

    ## Use instead
    ```sql
    ALTER TABLE measurements DETACH PARTITION measurements_2023 CONCURRENTLY;
    ```

    ## References
    - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DETACH-PARTITION
    """
    part = node.get("def", {}).get("PartitionCmd", {})
    if part.get("concurrent"):
        return
    note = "" if ctx.pg_version >= 14 else " (CONCURRENTLY needs PostgreSQL 14+)"
    ctx.report(
        "DETACH PARTITION {partition} takes ACCESS EXCLUSIVE on {table}" + note,
        lock=ACCESS_EXCLUSIVE,
        table=ctx.table,
        partition=qualified(part.get("name")) or "the_partition",
    )


_IDENT_KEYS = ("relname", "colname", "idxname", "conname", "newname", "schemaname", "dbname", "indexname")
_IDENT_STATEMENTS = (
    "CreateStmt",
    "AlterTableStmt",
    "IndexStmt",
    "RenameStmt",
    "CreateSeqStmt",
    "ViewStmt",
    "CreateTableAsStmt",
    "CreateSchemaStmt",
    "CompositeTypeStmt",
    "CreateEnumStmt",
    "CreateDomainStmt",
    "CreateTrigStmt",
)


@rule(
    "identifier-too-long",
    summary="An identifier longer than 63 bytes is silently truncated by PostgreSQL",
    on=_IDENT_STATEMENTS,
    fix="Use a name of at most 63 bytes (NAMEDATALEN - 1). SQLAlchemy naming conventions can produce long "
    "constraint names: shorten the table or column part, or name the constraint explicitly.",
)
def identifier_too_long(ctx, node):
    """
    ## What it does
    Flags identifiers longer than 63 bytes (UTF-8) in DDL.

    ## Why is this bad?
    PostgreSQL truncates them to 63 bytes with only a NOTICE. The object then exists under a different name
    than the migration and the models use: later migrations that drop or alter it by its full name fail,
    two long names can collide after truncation, and autogenerate reports phantom differences.

    ## Example
    ```sql
    CREATE INDEX ix_customer_subscription_billing_period_started_at_and_plan_identifier ON subs (a);
    ```

    ## Use instead
    ```sql
    CREATE INDEX ix_subs_period_start_plan ON subs (a);
    ```

    ## References
    - https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS
    """
    # The parser truncates long identifiers to 63 bytes (at a character boundary), so a name of 60+ bytes
    # in the tree may have been longer in the source: read the statement's tokens to find out.
    if not _has_long_word(ctx.text):
        return  # no word of the whole text is long enough to hold a 60-character identifier
    stmt = ctx.stmt
    sql = ctx.text[stmt.start : stmt.end]
    if '"' not in sql and max(map(len, sql.encode().split()), default=0) < 60:
        return  # nor of this statement (in bytes: a character may take up to four)
    if not any(len(name.encode()) >= 60 for name in _identifiers(node)):
        return

    op = ctx.op  # an Alembic operation (not op.execute): SQLAlchemy compiles its index/constraint names
    compiled = op is not None and getattr(op, "op", "execute") not in ("execute", "?")
    named = _index_and_constraint_names(node) if compiled else set()
    for name in long_identifiers(sql):
        if name[:63] in named and len(name) > 63:
            message = (
                "index/constraint name {name} is {n} characters: SQLAlchemy raises IdentifierError before "
                "PostgreSQL sees it (mark it with op.f() to let SQLAlchemy shorten it with a hash, or "
                "shorten it)"
            )
        else:
            message = "identifier {name} is {n} bytes: PostgreSQL truncates it to 63"
        ctx.report(
            message,
            name=name if len(name) <= 40 else name[:40] + "…",
            n=len(name) if name[:63] in named else len(name.encode()),
            exempt_new=False,
        )


def _index_and_constraint_names(node) -> set[str]:
    """The index and constraint names of a statement's tree (as the parser truncated them)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key in ("idxname", "conname", "indexname") and isinstance(value, str):
                    found.add(value)
                elif isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return found


_last_text: tuple[str, bool] = ("", False)
# bytes str.split() splits at (ASCII whitespace) -> b" ", every other byte -> b"x": a word of n characters
# is a run of at least n x's (a character is one byte or more)
_WORD_BYTES = bytes(32 if chr(b).isspace() and b < 128 else 120 for b in range(256))
_LONG_RUN = b"x" * 60


def _has_long_word(text: str) -> bool:
    """A quoted name or, maybe, a word of 60+ characters somewhere in ``text`` (remembered for the last
    text: the statements of one file share it)."""
    global _last_text
    if _last_text[0] is not text:
        long = '"' in text or _LONG_RUN in text.encode("utf-8", "replace").translate(_WORD_BYTES)
        _last_text = (text, long)
    return _last_text[1]


def _identifiers(node):
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(value, str):
                    if key in _IDENT_KEYS:
                        yield value
                elif key == "String" and isinstance(value, dict):
                    yield value.get("sval", "")
                elif isinstance(value, dict | list) and key not in ("raw_expr", "whereClause", "query"):
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
