"""Data changes inside migrations: backfills and deletes."""

from __future__ import annotations

from ...sql.locks import ACCESS_EXCLUSIVE, ROW_EXCLUSIVE
from ...sql.nodes import qualified, walk
from ..registry import rule


def _whole_table(where: dict | None) -> bool:
    """True when a WHERE clause cannot bound the rows to a batch (none, or only IS NULL tests)."""
    if not where:
        return True
    return all(kind in _UNBOUNDED for kind, _ in walk({"root": where}))


_UNBOUNDED = frozenset({"NullTest", "BooleanTest", "ColumnRef", "String", "BoolExpr"})


@rule(
    "unbatched-backfill",
    summary="UPDATE or DELETE of a whole table in one statement: one long transaction, every row locked",
    on=("UpdateStmt", "DeleteStmt"),
    fix="""
    Batch it: one transaction per batch of a few thousand rows, by primary key, until no row is left:
      UPDATE {table} SET ... WHERE id IN (
          SELECT id FROM {table} WHERE <not yet done> ORDER BY id LIMIT 5000 FOR UPDATE SKIP LOCKED);
    Run it outside the schema migration's transaction (Alembic: autocommit_block(), or a separate job).
    `dbpatterns new backfill` writes a resumable, throttled batched backfill.
    """,
)
def unbatched_backfill(ctx, node):
    """
    ## What it does
    Flags `UPDATE` and `DELETE` on an existing table with no WHERE clause, or a WHERE clause that only
    tests for NULL (`WHERE col IS NULL`): statements that touch the whole table at once.

    ## Why is this bad?
    One statement over millions of rows is one long transaction: every row it touches stays locked until
    it commits (concurrent updates of those rows wait), it writes a new version of each row (table bloat,
    WAL volume, replication lag), and autovacuum cannot clean up behind it.

    ## Example
    ```sql
    UPDATE users SET plan = 'free' WHERE plan IS NULL;
    ```

    ## Use instead
    ```sql
    UPDATE users SET plan = 'free'
    WHERE id IN (SELECT id FROM users WHERE plan IS NULL ORDER BY id LIMIT 5000);
    -- repeated, one transaction per batch, until it updates 0 rows
    ```

    ## References
    - https://www.postgresql.org/docs/current/routine-vacuuming.html
    """
    table = qualified(node.get("relation"))
    if not _whole_table(node.get("whereClause")):
        return
    verb = "UPDATE" if "targetList" in node else "DELETE"
    if node.get("whereClause"):  # only NULL/boolean tests: every row the test matches, all of them at first
        ctx.report(
            f"{verb} of every row of {{table}} the WHERE clause matches (a NULL or boolean test bounds no "
            "batch: on a new column, every row) in one statement: one long transaction that locks each row",
            lock=ROW_EXCLUSIVE,
            table=table,
        )
        return
    ctx.report(
        f"{verb} of every row of {{table}} in one statement: one long transaction that locks each row",
        lock=ROW_EXCLUSIVE,
        table=table,
    )


@rule(
    "work-under-exclusive-lock",
    summary="Queries or data changes after DDL in the same transaction run while ACCESS EXCLUSIVE is held",
    on=("UpdateStmt", "DeleteStmt", "InsertStmt", "SelectStmt"),
    fix="""
    Commit the DDL first so its ACCESS EXCLUSIVE lock on {held} is released, then run the data change or the
    slow statement in its own transaction(s). Alembic: put the backfill in a separate revision or in an
    autocommit_block() after the DDL.
    """,
)
def work_under_exclusive_lock(ctx, node):
    """
    ## What it does
    Flags data changes (UPDATE, DELETE, INSERT ... SELECT) and queries that read tables when they run in a
    transaction already holding ACCESS EXCLUSIVE on an existing table, e.g. an `ALTER TABLE` followed by a
    backfill in one Alembic revision.

    ## Why is this bad?
    Locks are held until the transaction ends. A quick `ADD COLUMN` followed by a backfill keeps the table
    locked for reads and writes for the whole backfill.

    ## Example
    ```sql
    BEGIN;
    ALTER TABLE users ADD COLUMN plan text;
    UPDATE users SET plan = 'free';
    COMMIT;
    ```

    ## Use instead
    ```sql
    BEGIN;
    ALTER TABLE users ADD COLUMN plan text;
    COMMIT;
    -- then batches, each in its own transaction
    ```
    """
    state = ctx.state
    if not state.in_transaction:
        return
    held = state.strong_lock_held()
    if held is None:
        return
    kind = ctx.stmt.kind
    if kind in ("SelectStmt", "InsertStmt"):
        source = node.get("selectStmt", {}).get("SelectStmt", node) if kind == "InsertStmt" else node
        if not source.get("fromClause"):
            return
    ctx.report(
        "runs while this transaction holds ACCESS EXCLUSIVE on {held}: reads and writes of {held} wait "
        "until it commits",
        lock=ACCESS_EXCLUSIVE,
        table=held[0],
        held=held[0],
    )


@rule(
    "orm-data-migration",
    summary="ORM data changes in a migration run row by row in its transaction, their SQL out of sight",
    on=("orm-op",),
    severity="warning",
    fix="""
    Keep the revision to DDL and write the data change as SQL against the table, in batches committed one by
    one after the DDL has committed:
      with op.get_context().autocommit_block():
          op.execute("UPDATE {table} SET ... WHERE id BETWEEN 1 AND 5000")  -- then the next batch
    `dbpatterns new backfill` writes a resumable, throttled batched backfill. A model class copied into the
    revision drifts from the real table over time; SQL written against the table does not.
    """,
)
def orm_data_migration(ctx, node):
    """
    ## What it does
    Flags the first ORM data call (`session.query`, `add`, `merge`, `delete`, `bulk_save_objects`, ...) of
    an `upgrade()` or `downgrade()` that changes rows through a `Session` bound to the migration's
    connection (`Session(bind=op.get_bind())`): one that adds, merges, deletes or bulk-saves objects,
    deletes or updates through a query, or commits or flushes the session. Every ORM data call is counted
    in the report's `stats`, read-only ones too (analysed in part: its SQL is made at run time).

    ## Why is this bad?
    The Session joins the migration's transaction: every row it loads and changes is read and written one
    statement at a time, stays locked until the whole migration commits, and runs behind any ACCESS
    EXCLUSIVE lock the DDL before it took, so reads and writes of that table wait for the whole loop. A
    `query(...).all()` loads the table into memory. The lint cannot see the SQL, so none of its other checks
    apply. The model classes written into the revision are a copy that drifts from the application's.

    ## Example
    ```python
    def upgrade():
        op.add_column("participant_role", sa.Column("activity", sa.Integer()))
        session = Session(bind=op.get_bind())
        for participant in session.query(Participant).all():
            for role in participant.participant_roles:
                role.activity = participant.activity
                session.add(role)
        session.commit()
    ```

    ## Use instead
    ```python
    def upgrade():
        op.add_column("participant_role", sa.Column("activity", sa.Integer()))


    # a later revision, or a job, in batches:
    def upgrade():
        with op.get_context().autocommit_block():
            op.execute(
                "UPDATE participant_role AS r SET activity = p.activity FROM participant AS p "
                "WHERE r.participant_id = p.id AND r.id BETWEEN 1 AND 5000"
            )
    ```

    ## References
    - https://docs.sqlalchemy.org/en/20/orm/session_transaction.html#joining-a-session-into-an-external-transaction-such-as-for-test-suites
    - https://www.postgresql.org/docs/current/explicit-locking.html
    """
    state = ctx.state
    op = node["op"]
    if state.orm_reported or not op.orm_writes:
        return  # one finding per upgrade() or downgrade() that changes rows; the stats count every call
    held = state.strong_lock_held() if state.in_transaction else None
    where = "inside the migration's transaction" if state.in_transaction else "in an autocommit block"
    message = (
        "ORM data migration ({call}): its SQL is made at run time, out of the lint's sight; it reads and "
        "writes rows one statement at a time " + where
    )
    if held is not None:
        message += ", while ACCESS EXCLUSIVE is held on {held}: reads and writes of {held} wait for it"
    before = len(ctx.findings)
    ctx.report(message, table=op.orm_table, exempt_new=False, call=op.orm, held=held[0] if held else "")
    state.orm_reported = len(ctx.findings) > before
