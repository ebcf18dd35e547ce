"""Transactions and timeouts."""

from __future__ import annotations

from ...sql.locks import LOCK_STRENGTH, SHARE
from ..registry import rule

_TIMEOUT_FIX = """
Set a short lock_timeout before the first statement that takes a strong lock, and retry the migration
when it times out:
  SET lock_timeout = '2s';
Alembic: op.execute("SET lock_timeout = '2s'") at the top of upgrade(), or once for every revision in
env.py: context.configure(..., ) then connection.exec_driver_sql("SET lock_timeout = '2s'") before
run_migrations() (then set `lock_timeout_in_env = true` in [tool.dbpatterns]).
"""


@rule(
    "missing-lock-timeout",
    summary="A statement that blocks reads or writes runs with no lock_timeout set before it",
    on=("locks",),
    aliases=("require-lock-timeout",),
    fix=_TIMEOUT_FIX,
)
def missing_lock_timeout(ctx, node):
    """
    ## What it does
    Flags the first statement of a migration that takes a lock in SHARE mode or stronger on an existing
    table (any ALTER TABLE, CREATE INDEX, DROP, ...) when no `lock_timeout` was set before it (`SET
    lock_timeout`, `SET LOCAL lock_timeout`, or `set_config('lock_timeout', ...)`). Reported once per
    migration.

    ## Why is this bad?
    A lock request waits behind any running transaction that holds a conflicting lock, even a weak one
    (a long SELECT holds ACCESS SHARE). While it waits, it sits in the lock queue and every later query on
    the table waits behind it: even an instant ALTER TABLE takes the application down for as long as the
    slowest running query. `lock_timeout` makes the migration give up (and retry) instead.

    ## Example
    ```sql
    ALTER TABLE users ADD COLUMN plan text;
    ```

    ## Use instead
    ```sql
    SET lock_timeout = '2s';
    ALTER TABLE users ADD COLUMN plan text;
    ```

    ## References
    - https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-LOCK-TIMEOUT
    """
    state = ctx.state
    if state.lock_timeout or state.reported_lock_timeout or ctx.settings.lock_timeout_in_env:
        return
    for table, mode in node["locks"]:
        if LOCK_STRENGTH[mode] >= LOCK_STRENGTH[SHARE] and not state.is_new(table):
            before = len(ctx.findings)
            ctx.report(
                "{mode} lock on {table} is requested with no lock_timeout set: while it waits, every "
                "other query on {table} queues behind it",
                lock=mode,
                table=table,
                mode=mode,
            )
            state.reported_lock_timeout = len(ctx.findings) > before
            return


@rule(
    "transaction-nesting",
    summary="BEGIN inside a transaction, or COMMIT/ROLLBACK outside one",
    on=("TransactionStmt",),
    severity="warning",
    fix="""
    Remove the extra BEGIN/COMMIT. In Alembic, the migration already runs in a transaction: use
    `with op.get_context().autocommit_block():` for statements that must run outside it.
    """,
)
def transaction_nesting(ctx, node):
    """
    ## What it does
    Flags `BEGIN` while a transaction is open, and `COMMIT`/`ROLLBACK` when none is (including in Alembic
    revisions and SQL files that run inside a transaction the runner opened), and `op.execute("COMMIT")`
    or the migration connection's `commit()`/`rollback()` (`op.get_bind().commit()`) in an Alembic
    revision. (An ORM `Session` on that connection joins its transaction: its `commit()` ends nothing.)

    ## Why is this bad?
    A nested BEGIN is ignored with a warning, so the later COMMIT ends the outer transaction early: the
    statements after it run outside the transaction the author expected, and the runner's own COMMIT
    finds nothing to commit. In Alembic it also commits before `alembic_version` is updated.

    ## Example
    ```sql
    BEGIN;
    BEGIN;
    ALTER TABLE users ADD COLUMN plan text;
    COMMIT;
    ```

    ## Use instead
    ```sql
    BEGIN;
    ALTER TABLE users ADD COLUMN plan text;
    COMMIT;
    ```
    """
    kind = node.get("kind", "")
    state = ctx.state
    if kind in ("TRANS_STMT_BEGIN", "TRANS_STMT_START"):
        if state.in_transaction:
            ctx.report("BEGIN inside a transaction that is already open", exempt_new=False)
    elif kind in ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK"):
        word = "COMMIT" if kind == "TRANS_STMT_COMMIT" else "ROLLBACK"
        if not state.in_transaction:
            ctx.report(f"{word} with no transaction open", exempt_new=False)
        elif getattr(ctx.op, "op", None) in ("commit", "rollback"):  # op.get_bind().commit()
            ctx.report(
                f"the connection's {ctx.op.op}() ends the transaction Alembic opened part way: "
                + (
                    "if a later step fails, what ran before it stays committed while alembic_version "
                    "still names the previous revision (running it again repeats that part)"
                    if word == "COMMIT"
                    else "everything the revision (and the migrations before it in that transaction) did "
                    "so far is undone, and the rest runs in a new transaction"
                ),
                exempt_new=False,
            )
        elif getattr(ctx.op, "autocommit", None) is not None:  # op.execute("COMMIT") in a revision
            ctx.report(
                f"op.execute({word!r}) ends the transaction Alembic opened: the rest of the revision and "
                "the alembic_version update run outside it",
                exempt_new=False,
            )


@rule(
    "uncommitted-transaction",
    summary="A BEGIN with no COMMIT before the end of the file",
    on=("TransactionStmt", "file-end"),
    aliases=("ban-uncommitted-transaction",),
    fix="End the transaction with COMMIT; (or remove the BEGIN).",
)
def uncommitted_transaction(ctx, node):
    """
    ## What it does
    Flags a SQL file that opens a transaction with `BEGIN` (or `START TRANSACTION`) and never commits it.

    ## Why is this bad?
    Depending on the runner, the changes are rolled back silently when the session ends, or the session is
    left idle in transaction holding every lock the migration took.

    ## Example
    ```sql
    BEGIN;
    CREATE TABLE users (id bigint);
    ```

    ## Use instead
    ```sql
    BEGIN;
    CREATE TABLE users (id bigint);
    COMMIT;
    ```
    """
    if ctx.stmt is not None:  # BEGIN: its suppression comments apply to the finding at the end
        if node.get("kind") in ("TRANS_STMT_BEGIN", "TRANS_STMT_START"):
            ctx.state.begin_suppress = ctx.suppress
        return
    if ctx.state.explicit_transaction and not ctx.alembic:
        ctx.suppress = ctx.state.begin_suppress
        ctx.report("the transaction opened here is never committed", exempt_new=False)


def _long_work(ctx, node) -> str | None:
    """What long, restartable-only-from-scratch work the current statement is, or None."""
    kind = ctx.stmt.kind if ctx.stmt is not None else ""
    if kind == "IndexStmt" and node.get("concurrent"):
        return "CREATE INDEX CONCURRENTLY"
    if kind == "ReindexStmt" and any(
        p.get("DefElem", {}).get("defname") == "concurrently" for p in node.get("params") or ()
    ):
        return "REINDEX CONCURRENTLY"
    if kind == "AlterTableStmt" and node.get("subtype") == "AT_ValidateConstraint":
        return "VALIDATE CONSTRAINT"
    if kind in ("UpdateStmt", "DeleteStmt"):
        return "the backfill" if kind == "UpdateStmt" else "the batched DELETE"
    return None


@rule(
    "statement-timeout-cancels-work",
    summary="A statement_timeout set for every revision (env.py) can cancel a long build, validation or "
    "backfill midway",
    on=("IndexStmt", "ReindexStmt", "AlterTableStmt:AT_ValidateConstraint", "UpdateStmt", "DeleteStmt"),
    fix="""
    Turn the statement timeout off for this work only, and keep lock_timeout:
      SET statement_timeout = 0;   -- or SET LOCAL inside the transaction
    Alembic: op.execute("SET statement_timeout = 0") before it (in the autocommit_block() of a concurrent
    build), and set it back afterwards if the rest of the revision relies on it.
    """,
)
def statement_timeout_cancels_work(ctx, node):
    """
    ## What it does
    Flags a `CREATE INDEX CONCURRENTLY`, `REINDEX ... CONCURRENTLY`, `ALTER TABLE ... VALIDATE CONSTRAINT`
    or a data backfill (`UPDATE`/`DELETE`) that runs while a non-zero `statement_timeout` set in env.py for
    every revision is in effect (read from env.py: `SET statement_timeout`, `connect_args` options
    `-c statement_timeout=...`).

    ## Why is this bad?
    These statements are long on a big table by design: they take weak locks so that they may. A
    statement timeout cancels them midway: a cancelled concurrent build leaves an INVALID index behind
    (it must be dropped before a retry), a cancelled VALIDATE has scanned for nothing, a cancelled backfill
    rolls back all of its work. The revision then fails, and retrying fails the same way.

    ## Example
    ```python
    # env.py: connect_args={"options": "-c statement_timeout=30s"}
    with op.get_context().autocommit_block():
        op.create_index("ix_orders_customer", "orders", ["customer_id"], postgresql_concurrently=True)
    ```

    ## Use instead
    ```python
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = 0")
        op.create_index("ix_orders_customer", "orders", ["customer_id"], postgresql_concurrently=True)
    ```

    ## References
    - https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-STATEMENT-TIMEOUT
    - https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY
    """
    timeout = ctx.settings.statement_timeout_in_env
    if not timeout:
        return
    work = _long_work(ctx, node)
    if work is None:
        return
    ctx.report(
        f"statement_timeout = {timeout} (set in env.py for every revision) is in effect: {work} is cancelled "
        "when it runs longer, and all of its work is lost",
        exempt_new=False,
    )
