"""Index builds, drops and rebuilds."""

from __future__ import annotations

from ...sql.locks import ACCESS_EXCLUSIVE, SHARE
from ...sql.nodes import option_names, qualified, strings, truthy
from ..registry import rule


@rule(
    "create-index-non-concurrently",
    summary="CREATE INDEX without CONCURRENTLY blocks all writes to the table for the whole build",
    on=("IndexStmt",),
    aliases=("require-concurrent-index-creation",),
    fix="""
    Build the index without blocking writes, outside a transaction:
      CREATE INDEX CONCURRENTLY {index} ON {table} (...);
    Alembic:
      with op.get_context().autocommit_block():
          op.create_index("{index}", "{table}", [...], postgresql_concurrently=True)
    A failed concurrent build leaves an INVALID index: drop it (DROP INDEX CONCURRENTLY) and retry.
    """,
)
def create_index_non_concurrently(ctx, node):
    """
    ## What it does
    Flags `CREATE INDEX` on an existing table without `CONCURRENTLY`.

    ## Why is this bad?
    A plain index build takes a SHARE lock on the table: every INSERT, UPDATE and DELETE waits until the
    build has read the whole table and sorted it, which on a large table is minutes. `CONCURRENTLY` takes
    SHARE UPDATE EXCLUSIVE, which lets reads and writes go on (PostgreSQL 8.2+).

    ## Example
    ```sql
    CREATE INDEX orders_customer_id_idx ON orders (customer_id);
    ```

    ## Use instead
    ```sql
    CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
    ```
    In Alembic, put it in `with op.get_context().autocommit_block():` with `postgresql_concurrently=True`:
    a concurrent build cannot run inside a transaction. Tables created in the same migration are exempt,
    and so is `CREATE INDEX ... ON ONLY` of a partitioned table (it builds nothing: the partitions' indexes
    are built concurrently and attached with `ALTER INDEX ... ATTACH PARTITION`).

    ## References
    - https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY
    """
    if node.get("concurrent"):
        return
    if not (node.get("relation") or {}).get("inh"):
        return  # ON ONLY: a partitioned table's own index, created invalid and empty (catalog only)
    table = qualified(node.get("relation"))
    ctx.report(
        "CREATE INDEX on {table} takes a SHARE lock: writes to {table} are blocked for the whole build",
        lock=SHARE,
        table=table,
        index=node.get("idxname") or "the_index",
    )


@rule(
    "drop-index-non-concurrently",
    summary="DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the index's table",
    on=("DropStmt",),
    aliases=("require-concurrent-index-deletion",),
    fix="""
    Drop it without blocking the table, outside a transaction:
      DROP INDEX CONCURRENTLY IF EXISTS {index};
    Alembic:
      with op.get_context().autocommit_block():
          op.drop_index("{index}", table_name=..., postgresql_concurrently=True, if_exists=True)
    """,
)
def drop_index_non_concurrently(ctx, node):
    """
    ## What it does
    Flags `DROP INDEX` without `CONCURRENTLY`.

    ## Why is this bad?
    `DROP INDEX` takes an ACCESS EXCLUSIVE lock on the table the index belongs to: while it waits for
    running queries to finish, every new read and write of that table queues behind it.
    `DROP INDEX CONCURRENTLY` waits for conflicting transactions without blocking others (PostgreSQL 9.2+).

    ## Example
    ```sql
    DROP INDEX orders_customer_id_idx;
    ```

    ## Use instead
    ```sql
    DROP INDEX CONCURRENTLY IF EXISTS orders_customer_id_idx;
    ```

    ## References
    - https://www.postgresql.org/docs/current/sql-dropindex.html
    """
    if node.get("removeType") != "OBJECT_INDEX" or node.get("concurrent"):
        return
    if getattr(ctx.op, "table_dropped_next", False):
        return  # the next operation drops the table: the index goes with it
    for obj in node.get("objects") or ():
        names = strings(obj.get("List", {}).get("items"))
        index = ".".join(names) or "the_index"
        if ctx.state.created_by_upgrade("index", names[-1] if names else None):
            continue
        if names and names[-1] in ctx.state.created_indexes:
            continue
        ctx.report(
            "DROP INDEX {index} takes an ACCESS EXCLUSIVE lock on its table: reads and writes wait",
            lock=ACCESS_EXCLUSIVE,
            index=index,
        )


@rule(
    "reindex-non-concurrently",
    summary="REINDEX without CONCURRENTLY blocks writes to the table and reads through the index",
    on=("ReindexStmt",),
    aliases=("require-concurrent-reindex",),
    fix="""
    Rebuild without blocking (PostgreSQL 12+), outside a transaction:
      REINDEX {kind} CONCURRENTLY {name};
    Before PostgreSQL 12: CREATE INDEX CONCURRENTLY a copy, then DROP INDEX CONCURRENTLY the old one and
    rename the copy.
    """,
)
def reindex_non_concurrently(ctx, node):
    """
    ## What it does
    Flags `REINDEX` of a table, index, schema or database without `CONCURRENTLY`.

    ## Why is this bad?
    `REINDEX` takes a SHARE lock on the table (writes wait) and an ACCESS EXCLUSIVE lock on each index it
    rebuilds (queries that would use it wait). `REINDEX CONCURRENTLY` (PostgreSQL 12+) rebuilds while
    reads and writes go on.

    ## Example
    ```sql
    REINDEX INDEX orders_customer_id_idx;
    ```

    ## Use instead
    ```sql
    REINDEX INDEX CONCURRENTLY orders_customer_id_idx;
    ```

    ## References
    - https://www.postgresql.org/docs/current/sql-reindex.html
    """
    kind = node.get("kind", "")
    if kind == "REINDEX_OBJECT_SYSTEM":
        return
    opts = option_names(node.get("params"))
    if "concurrently" in opts and truthy(opts["concurrently"]):
        if ctx.pg_version < 12:
            ctx.report(
                f"REINDEX CONCURRENTLY needs PostgreSQL 12; {ctx.pg_version} rejects it", exempt_new=False
            )
        return
    target = qualified(node.get("relation")) or node.get("name") or "the_index"
    word = kind.replace("REINDEX_OBJECT_", "") or "INDEX"
    table = qualified(node.get("relation")) if word == "TABLE" else None
    ctx.report(
        "REINDEX {kind} {name} blocks writes to the table and reads that use the index until it finishes",
        lock=SHARE,
        table=table,
        kind=word,
        name=target,
    )


@rule(
    "concurrently-in-transaction",
    summary="A CONCURRENTLY operation inside a transaction block fails at run time",
    on=("IndexStmt", "DropStmt", "ReindexStmt", "AlterTableStmt:AT_DetachPartition"),
    aliases=("ban-concurrent-index-creation-in-transaction",),
    fix="""
    Run it outside any transaction. SQL: put it in its own migration without BEGIN/COMMIT (or after COMMIT).
    Alembic: wrap the operation in
      with op.get_context().autocommit_block():
          ...
    """,
)
def concurrently_in_transaction(ctx, node):
    """
    ## What it does
    Flags `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX ... CONCURRENTLY` and
    `DETACH PARTITION ... CONCURRENTLY` that run inside a transaction: after an explicit `BEGIN`, in a SQL
    file configured to run in one transaction, or in an Alembic revision outside `autocommit_block()`.

    ## Why is this bad?
    PostgreSQL refuses them in a transaction block ("cannot run inside a transaction block"): the
    deployment fails halfway.

    ## Example
    ```sql
    BEGIN;
    CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
    COMMIT;
    ```

    ## Use instead
    ```sql
    CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
    ```

    ## References
    - https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY
    """
    if not ctx.state.in_transaction:
        return
    kind = ctx.stmt.kind
    if kind == "AlterTableStmt":
        concurrent = node.get("def", {}).get("PartitionCmd", {}).get("concurrent")
        what = "DETACH PARTITION CONCURRENTLY"
    elif kind == "ReindexStmt":
        opts = option_names(node.get("params"))
        concurrent = "concurrently" in opts and truthy(opts["concurrently"])
        what = "REINDEX CONCURRENTLY"
    elif kind == "DropStmt":
        concurrent = node.get("concurrent")
        what = "DROP INDEX CONCURRENTLY"
    else:
        concurrent = node.get("concurrent")
        what = "CREATE INDEX CONCURRENTLY"
    if not concurrent:
        return
    where = "outside autocommit_block()" if ctx.alembic else "inside a transaction block"
    ctx.report(f"{what} runs {where}: PostgreSQL rejects it there", exempt_new=False)


@rule(
    "concurrent-index-pg14-corruption",
    summary="CREATE INDEX / REINDEX CONCURRENTLY on PostgreSQL 14.0 to 14.3 can silently corrupt the index",
    on=("IndexStmt", "ReindexStmt"),
    fix="""
    Upgrade the server to PostgreSQL 14.4 or later first, then REINDEX CONCURRENTLY every index that was built
    or rebuilt concurrently on 14.0-14.3 (pg_amcheck --heapallindexed finds the damaged ones).
    """,
)
def concurrent_index_pg14_corruption(ctx, node):
    """
    ## What it does
    Flags `CREATE INDEX CONCURRENTLY` and `REINDEX CONCURRENTLY` when the target version is PostgreSQL 14.0
    to 14.3 (give the minor release: `--pg-version 14.3` or `pg_version = "14.3"`).

    ## Why is this bad?
    A bug in PostgreSQL 14.0-14.3 let concurrent index builds miss rows written during the build, leaving
    an index that silently returns wrong results (fixed in 14.4, June 2022).

    ## Example
    ```sql
    CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
    ```

    ## Use instead
    Upgrade to 14.4+ first, then build the index concurrently.

    ## References
    - https://www.postgresql.org/docs/release/14.4/
    """
    if ctx.pg_version != 14 or ctx.settings.pg_minor is None or ctx.settings.pg_minor >= 4:
        return
    if ctx.stmt.kind == "ReindexStmt":
        opts = option_names(node.get("params"))
        if not ("concurrently" in opts and truthy(opts["concurrently"])):
            return
    elif not node.get("concurrent"):
        return
    ctx.report(
        f"PostgreSQL 14.{ctx.settings.pg_minor} has the concurrent index build bug fixed in 14.4: the "
        "index can miss rows",
        table=qualified(node.get("relation")),
        exempt_new=False,
    )
