"""Alembic revisions as a whole, and problems reading a migration."""

from __future__ import annotations

from ..registry import doc_only_rule, rule


@rule(
    "missing-downgrade",
    summary="An Alembic revision with no downgrade(), or one that does nothing, cannot be rolled back",
    on=("revision",),
    fix="""
    Write a downgrade() that undoes upgrade() in reverse order (drop what it created, re-create what it
    dropped). If the change truly cannot be undone (data was destroyed), raise instead of passing silently:
      def downgrade() -> None:
          raise NotImplementedError("irreversible: <why>")
    """,
)
def missing_downgrade(ctx, node):
    """
    ## What it does
    Flags an Alembic revision whose `downgrade()` is missing or empty (`pass`, `...`, only a docstring)
    while its `upgrade()` does something.

    ## Why is this bad?
    `alembic downgrade` then reports success while the schema stays upgraded: the version table and the
    schema disagree, and the next upgrade fails or silently skips work. A rollback plan that does nothing
    is worse than none.

    ## Example
    ```python
    def upgrade() -> None:
        op.add_column("users", sa.Column("plan", sa.Text()))


    def downgrade() -> None:
        pass
    ```

    ## Use instead
    ```python
    def upgrade() -> None:
        op.add_column("users", sa.Column("plan", sa.Text()))


    def downgrade() -> None:
        op.drop_column("users", "plan")
    ```
    """
    revision = node["revision"]
    if not revision.upgrade:
        return
    if revision.downgrade is None and revision.downgrade_line is None:
        ctx.location = (revision.upgrade_line or 1, 1)
        ctx.report("revision has no downgrade(): it cannot be rolled back", exempt_new=False)
    elif revision.downgrade_empty:
        ctx.report(
            "downgrade() does nothing: rolling back reports success and changes nothing", exempt_new=False
        )


@rule(
    "opaque-operation",
    summary="An Alembic operation the lint cannot read statically (op.execute with a computed string, ...)",
    on=("opaque-op",),
    severity="info",
    fix="Pass literal SQL to op.execute (or sa.text with a literal) so the migration can be reviewed, or "
    "run `dbpatterns lint --offline` to lint the SQL Alembic renders.",
)
def opaque_operation(ctx, node):
    """
    ## What it does
    Reports `op.*` calls whose SQL the lint cannot know without running Python: `op.execute` with a
    variable, an f-string whose unknown part is SQL (not a name or a value), unknown operations. An
    operation is analysed with what is known wherever its hazard does not depend on the unknown: a name or
    column computed at run time reads `?` in the messages, and only what cannot be analysed at all is
    reported here, never dropped silently.

    ## Why is this bad?
    Nothing checks what they do. `dbpatterns lint --offline` renders the revision through Alembic's
    offline mode and lints the SQL it emits.

    ## Example
    ```python
    op.execute(f"UPDATE {table} SET flag = true")
    ```

    ## Use instead
    ```python
    op.execute("UPDATE users SET flag = true WHERE id BETWEEN 1 AND 5000")
    ```
    """
    op = node["op"]
    if getattr(op, "fails", None):
        return  # analysed: operation-fails says what raises
    ctx.report(f"op.{op.op} cannot be checked statically: {op.note or 'unknown operation'}", exempt_new=False)


@rule(
    "operation-fails",
    summary="An Alembic operation that SQLAlchemy or Alembic refuses at run time: the revision stops there",
    on=("revision",),
    fix="""
    Give the object its name: op.drop_constraint("fk_orders_customer_id", "orders", type_="foreignkey")
    (the name is in the database: \\d orders, or in the revision that created it); sa.Enum("a", "b",
    name="order_state").
    """,
)
def operation_fails(ctx, node):
    """
    ## What it does
    Flags an `op.*` call that raises before any SQL is sent: `op.drop_constraint(None, ...)` (what
    autogenerate writes for a constraint it found without a name; SQLAlchemy cannot emit DROP CONSTRAINT
    without one, and a naming convention cannot name a foreign key, unique or check constraint from the
    table alone), a native `sa.Enum(...)` without `name=` (PostgreSQL types need a name).

    ## Why is this bad?
    The revision fails at that line every time it runs: an upgrade stops halfway (on PostgreSQL the
    transaction rolls back, but any `autocommit_block()` work before it stays), a downgrade cannot be used
    when it is needed.

    ## Example
    ```python
    def downgrade() -> None:
        op.drop_constraint(None, "orders", type_="foreignkey")
    ```

    ## Use instead
    ```python
    def downgrade() -> None:
        op.drop_constraint("fk_orders_customer_id_customers", "orders", type_="foreignkey")
    ```
    """
    revision = node["revision"]
    where, suppress = ctx.location, ctx.suppress
    for unit in (*(revision.upgrade or ()), *(revision.downgrade or ())):
        if unit.fails:
            ctx.location = (unit.line, unit.column)
            ctx.suppress = revision.suppressions.get(unit.line, frozenset())
            ctx.report(unit.fails + ": the revision stops here", exempt_new=False)
    ctx.location, ctx.suppress = where, suppress


doc_only_rule(
    "syntax-error",
    summary="SQL or Python that does not parse",
    fix="Fix the syntax; PostgreSQL would reject the statement (SQL is parsed with PostgreSQL's own parser).",
    doc="""
    ## What it does
    Reports SQL that PostgreSQL's parser (libpg_query, through pglast) rejects, Python that does not
    compile, and files that are not UTF-8, at the line of the error. The rest of the file and the other
    files are still linted. SQL written for MySQL (backquoted names, `ALTER TABLE ... MODIFY`,
    `UPDATE ... JOIN`) or SQLite (`PRAGMA`, `INSERT OR IGNORE`) is named as such: its fix is a dialect
    guard, not a rewrite.

    ## Why is this bad?
    The migration fails when it runs, possibly halfway through.

    ## Example
    ```text
    ALTER TABEL users ADD COLUMN plan text;
    ```

    ## Use instead
    ```sql
    ALTER TABLE users ADD COLUMN plan text;
    ```
    """,
)


doc_only_rule(
    "offline-render-failed",
    summary="`lint --offline` could not render the revision through Alembic's offline mode",
    fix="Make the revision importable without a database (offline mode runs upgrade() with no connection), "
    "or lint it statically (without --offline).",
    doc="""
    ## What it does
    With `--offline`, each revision is imported and its `upgrade()` and `downgrade()` run against Alembic's
    offline (`--sql`) context. When that raises (an import that needs the application's settings, an op
    that reads from the database), the error is reported here, once per file; the file's static findings
    stay (rendering only ever adds findings).

    ## Why is this bad?
    The revision cannot be rendered as SQL for review, and `alembic upgrade --sql` fails the same way.

    ## Example
    ```python
    def upgrade() -> None:
        rows = op.get_bind().execute(sa.text("SELECT id FROM users")).all()
    ```

    ## Use instead
    Keep data-dependent logic in SQL (`op.execute("UPDATE ...")`) so the revision renders offline.
    """,
)
