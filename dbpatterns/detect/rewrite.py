"""Autogenerate's operations, rewritten into their safe forms with Alembic's ``Rewriter``.

Upgrade and downgrade are rewritten alike (each side's ops follow the same rules), except what is left out:

* CREATE/DROP INDEX on an existing table: CONCURRENTLY, in ``autocommit_block()``;
* ADD FOREIGN KEY: ``NOT VALID``, then VALIDATE CONSTRAINT in an autocommit block (its own transaction);
* ADD UNIQUE: a unique index built CONCURRENTLY, then ``ADD CONSTRAINT ... UNIQUE USING INDEX``;
* ADD COLUMN ... NOT NULL without a default (or with a volatile one): added nullable (the default set for
  new rows only), with a backfill note; a second revision adds CHECK (col IS NOT NULL) NOT VALID, validates
  it, SETs NOT NULL (PostgreSQL 12+ skips the scan) and drops the CHECK; SET NOT NULL of an existing column
  moves there too;
* CHECK constraints and enum values (which autogenerate does not see): NOT VALID + VALIDATE, and
  ``ALTER TYPE ... ADD VALUE`` in an autocommit block;
* left out, with a note: DROP COLUMN, DROP TABLE, type changes that rewrite, identity/generated columns,
  enum values to remove or reorder (they need expand-contract over several releases);
* ``SET lock_timeout`` first, unless ``[tool.dbpatterns] lock_timeout_in_env`` says env.py sets it.
"""

from __future__ import annotations

import textwrap
import zlib

from alembic.autogenerate import Rewriter, renderers
from alembic.autogenerate.render import render_op
from alembic.operations import ops

from ..sql.knowledge import parse_type
from ..sql.names import truncate
from .classify import type_sql
from .model import REWRITES, Change

LOCK_TIMEOUT = "SET lock_timeout = '2s'"
DEFERRED_KINDS = {
    "drop_table",
    "drop_column",
    "rename_column",
    "drop_enum_value",
    "reorder_enum",
}


class AutocommitBlockOp(ops.MigrateOperation):
    """``with op.get_context().autocommit_block():`` around ``ops`` (they run outside a transaction)."""

    def __init__(self, inner: list) -> None:
        self.ops = list(inner)


class NoteOp(ops.MigrateOperation):
    """A comment line in the revision."""

    def __init__(self, text: str) -> None:
        self.text = text

    def to_diff_tuple(self):
        return ("note", self.text)


@renderers.dispatch_for(AutocommitBlockOp)
def _render_autocommit_block(autogen_context, op: AutocommitBlockOp) -> list[str]:
    lines = ["with op.get_context().autocommit_block():"]
    for inner in op.ops:
        lines.extend(render_op(autogen_context, inner))
    return [*lines, ""]  # the blank line ends the block (Alembic's printer indents by colons)


@renderers.dispatch_for(NoteOp)
def _render_note(autogen_context, op: NoteOp) -> list[str]:
    return [f"# {line}" for line in op.text.splitlines()]


def deferred_changes(changes: list[Change], names: set[str] = frozenset()) -> list[Change]:
    """The changes ``--write`` leaves out: they need expand-contract over more than one release. ``names``:
    indexes and constraints left out with their columns."""
    return [c for c in changes if _deferred(c) or (c.name in names and c.kind != "add_enum_value")]


def _deferred(c: Change) -> bool:
    if c.kind in DEFERRED_KINDS:
        return True
    if c.kind == "change_type":
        return REWRITES in c.risks
    return c.kind == "add_column" and c.template == "add-column" and REWRITES in c.risks


class SafeRewrite:
    """Called as a ``process_revision_directives`` hook: rewrites ``directives[0]`` in place and appends
    the NOT NULL follow-up revision when one is needed."""

    def __init__(self, changes: list[Change], dialect, *, lock_timeout: bool = True) -> None:
        self.changes = changes
        self.dialect = dialect
        self.preparer = dialect.identifier_preparer
        self.lock_timeout = lock_timeout
        self.side = "up"
        self.new_tables: set[tuple] = set()
        self.left_out_tables: set[tuple] = set()
        self.left_out_columns: set[tuple] = set()
        self.left_out_types: set[tuple] = set()
        self.not_null: dict[tuple, object] = {}  # (schema, table, column) -> type, for the follow-up
        self.notes: list[str] = []
        self.left_out_names: set[str] = set()  # indexes and constraints left as they are
        self.rewriter = self._rewriter()

    def __call__(self, context, revision, directives) -> None:
        if not directives:
            return
        script = directives[0]
        upgrade = list(_walk(script.upgrade_ops))
        self.new_tables = {(o.schema, o.table_name) for o in upgrade if isinstance(o, ops.CreateTableOp)}
        # known before the rewrite: an index or constraint on a column that stays (or never comes) goes too
        self.left_out_tables = {(o.schema, o.table_name) for o in upgrade if isinstance(o, ops.DropTableOp)}
        self.left_out_columns = {
            (o.schema, o.table_name, o.column_name) for o in upgrade if isinstance(o, ops.DropColumnOp)
        } | {
            (o.schema, o.table_name, o.column.name)
            for o in upgrade
            if isinstance(o, ops.AddColumnOp) and self._rewrites_table(o.column)
        }
        self.rewriter(context, revision, directives)
        self._catalog_ops(script)
        if not _does_something(script.upgrade_ops) and not self.not_null:
            directives[:] = []  # every change is left out: no revision of comments only
            return
        for change in deferred_changes(self.changes, self.left_out_names):
            self.notes.append(_deferred_note(change))
        if self.notes:
            wrapped = [textwrap.fill(n, 100, subsequent_indent="  ") for n in self.notes]
            script.upgrade_ops.ops.append(NoteOp("\n".join(wrapped)))
        if self.not_null:
            directives.append(self._not_null_revision(script))
        for each in directives:
            self._lock_timeout_first(each)

    # -- the Rewriter --------------------------------------------------------------------------------

    def _rewriter(self) -> Rewriter:
        rewriter = Rewriter()

        @rewriter.rewrites(ops.UpgradeOps)
        def _upgrade(context, revision, op):
            self.side = "up"
            return op

        @rewriter.rewrites(ops.DowngradeOps)
        def _downgrade(context, revision, op):
            self.side = "down"
            return op

        rewriter.rewrites(ops.CreateIndexOp)(self._create_index)
        rewriter.rewrites(ops.DropIndexOp)(self._drop_index)
        rewriter.rewrites(ops.CreateForeignKeyOp)(self._create_foreign_key)
        rewriter.rewrites(ops.CreateUniqueConstraintOp)(self._create_unique)
        rewriter.rewrites(ops.AddColumnOp)(self._add_column)
        rewriter.rewrites(ops.DropColumnOp)(self._drop_column)
        rewriter.rewrites(ops.AlterColumnOp)(self._alter_column)
        rewriter.rewrites(ops.DropConstraintOp)(self._drop_constraint)
        rewriter.rewrites(ops.CreateTableOp)(self._create_table)
        rewriter.rewrites(ops.DropTableOp)(self._drop_table)
        return rewriter

    def _existing(self, schema, table) -> bool:
        return (schema, table) not in self.new_tables

    def _create_table(self, context, revision, op):
        if self.side == "down" and (op.schema, op.table_name) in self.left_out_tables:
            return []
        return op

    def _drop_table(self, context, revision, op):
        if self.side == "up":
            self.left_out_tables.add((op.schema, op.table_name))
            return []
        return op

    def _left_out(self, schema, table, columns, name=None) -> bool:
        """On a table or a column the revision leaves as it is (``name``: remembered as left out too)."""
        if (schema, table) in self.left_out_tables:
            return True
        if any((schema, table, _column_name(c)) in self.left_out_columns for c in columns):
            if name:
                self.left_out_names.add(str(name))
            return True
        return False

    def _create_index(self, context, revision, op):
        if self._left_out(op.schema, op.table_name, op.columns, op.index_name):
            return []
        if not self._existing(op.schema, op.table_name):
            return op
        op.kw["postgresql_concurrently"] = True
        op.if_not_exists = True
        return AutocommitBlockOp([op])

    def _drop_index(self, context, revision, op):
        known = getattr(op, "_reverse", None) is not None  # autogenerate knows the index's columns
        if known and self._left_out(op.schema, op.table_name, op.to_index().expressions, op.index_name):
            return []
        if not self._existing(op.schema, op.table_name):
            return op
        op.kw["postgresql_concurrently"] = True
        op.if_exists = True
        return AutocommitBlockOp([op])

    def _create_foreign_key(self, context, revision, op):
        schema = op.kw.get("source_schema")
        if self._left_out(schema, op.source_table, op.local_cols, op.constraint_name):
            return []
        if not self._existing(schema, op.source_table):
            return op
        name = op.constraint_name or _default_name(op.source_table, op.local_cols, "fkey")
        op.constraint_name = name
        op.kw["postgresql_not_valid"] = True
        validate = f"ALTER TABLE {self._table(schema, op.source_table)} VALIDATE CONSTRAINT "
        return [op, AutocommitBlockOp([ops.ExecuteSQLOp(validate + self.preparer.quote(name))])]

    def _create_unique(self, context, revision, op):
        if self._left_out(op.schema, op.table_name, op.columns, op.constraint_name):
            return []
        if not self._existing(op.schema, op.table_name):
            return op
        name = op.constraint_name or _default_name(op.table_name, op.columns, "key")
        index = ops.CreateIndexOp(
            name,
            op.table_name,
            list(op.columns),
            schema=op.schema,
            unique=True,
            if_not_exists=True,
            postgresql_concurrently=True,
        )
        quoted = self.preparer.quote(name)
        table = self._table(op.schema, op.table_name)
        attach = f"ALTER TABLE {table} ADD CONSTRAINT {quoted} UNIQUE USING INDEX {quoted}"
        return [AutocommitBlockOp([index]), ops.ExecuteSQLOp(attach)]

    def _drop_constraint(self, context, revision, op):
        """Left out with its columns; the reverse of an unnamed FOREIGN KEY or UNIQUE is dropped by the
        name the add gave it."""
        if op.constraint_type not in ("foreignkey", "unique"):
            return op
        try:
            constraint = op.to_constraint()
        except Exception:  # noqa: BLE001 - nothing to name it from: Alembic warns about it
            return op
        if getattr(op, "_reverse", None) is not None:
            columns = constraint.column_keys if op.constraint_type == "foreignkey" else constraint.columns
            if self._left_out(op.schema, op.table_name, columns, op.constraint_name):
                return []
        if op.constraint_name is not None:
            return op
        if op.constraint_type == "foreignkey":
            op.constraint_name = _default_name(op.table_name, constraint.column_keys, "fkey")
        else:
            op.constraint_name = _default_name(op.table_name, [c.name for c in constraint.columns], "key")
        return op

    def _add_column(self, context, revision, op):
        from sqlalchemy import Column

        key = (op.schema, op.table_name, op.column.name)
        if self.side == "down":
            return [] if key in self.left_out_columns else op
        column = op.column
        if self._rewrites_table(column):
            self.left_out_columns.add(key)
            return []
        default = column.server_default
        volatile = default is not None and self._volatile(op.table_name, column.name)
        if column.nullable and not volatile:
            return op
        if not column.nullable and default is not None and not volatile:
            return op  # a non-volatile default: stored in the catalog, no rewrite (PostgreSQL 11+)
        plain = Column(column.name, column.type, nullable=True, comment=column.comment)
        out: list = [ops.AddColumnOp(op.table_name, plain, schema=op.schema)]
        where = f"{_qualified(op.schema, op.table_name)}.{column.name}"
        if volatile:
            out.append(
                ops.AlterColumnOp(
                    op.table_name,
                    column.name,
                    schema=op.schema,
                    existing_type=column.type,
                    existing_nullable=True,
                    modify_server_default=default,
                )
            )
            self.notes.append(f"{where}: the default applies to new rows; backfill existing rows in batches")
        if not column.nullable:
            self.not_null[key] = column.type
            self.notes.append(
                f"{where} is added nullable: backfill it in batches (dbpatterns new backfill) before the "
                "next revision sets NOT NULL"
            )
        return out

    def _drop_column(self, context, revision, op):
        key = (op.schema, op.table_name, op.column_name)
        if self.side == "up":
            self.left_out_columns.add(key)
            return []
        return [] if key in self.left_out_columns else op  # the upgrade left out its add_column

    def _alter_column(self, context, revision, op):
        key = (op.schema, op.table_name, op.column_name)
        out: list = []
        if op.modify_type is not None:
            coercible = _coercible(op.existing_type, op.modify_type, self.dialect)
            if self.side == "up" and not coercible:
                self.left_out_types.add(key)
            if key in self.left_out_types:
                if self.side == "down":  # the column keeps its old type
                    op.existing_type = op.modify_type
                op.modify_type = None
            elif self.side == "down" and not coercible:  # undoing a safe widening narrows: say so
                old, new = type_sql(op.existing_type, self.dialect), type_sql(op.modify_type, self.dialect)
                out.append(
                    NoteOp(
                        f"the downgrade restores {new} from {old}: a rewrite under ACCESS EXCLUSIVE\n"
                        "dbpatterns: ignore[change-column-type]"
                    )
                )
        set_not_null = op.modify_nullable is False
        if set_not_null or (self.side == "down" and op.modify_nullable is True and key in self.not_null):
            op.modify_nullable = None
        if set_not_null and self.side == "up":
            self.not_null[key] = op.modify_type if op.modify_type is not None else op.existing_type
        if not _modifies(op):
            out = []
        else:
            out.append(op)
        if set_not_null and self.side == "down":
            type_ = op.modify_type if op.modify_type is not None else op.existing_type
            out.extend(self._set_not_null([(key, type_)]))
        return out

    # -- what autogenerate does not write --------------------------------------------------------------

    def _catalog_ops(self, script) -> None:
        up_first, up_last, down_first, down_last = [], [], [], []
        for change in self.changes:
            table = self._table_of(change)
            if change.kind == "add_enum_value":
                value = _literal(change.extra["value"])
                position = ""
                if change.extra.get("after"):
                    position = f" AFTER {_literal(change.extra['after'])}"
                elif change.extra.get("before"):
                    position = f" BEFORE {_literal(change.extra['before'])}"
                sql = f"ALTER TYPE {self._type(change.name)} ADD VALUE IF NOT EXISTS {value}{position}"
                up_first.append(AutocommitBlockOp([ops.ExecuteSQLOp(sql)]))
                down_last.extend(self._enum_value_unused(change, value))
            elif change.kind == "add_enum":
                values = ", ".join(_literal(v) for v in change.extra["values"])
                up_first.append(ops.ExecuteSQLOp(f"CREATE TYPE {self._type(change.name)} AS ENUM ({values})"))
                down_last.append(ops.ExecuteSQLOp(f"DROP TYPE {self._type(change.name)}"))
            elif change.kind == "drop_enum":  # no column uses it (catalog.py checks)
                values = ", ".join(_literal(v) for v in change.extra["values"])
                up_last.append(ops.ExecuteSQLOp(f"DROP TYPE {self._type(change.name)}"))
                down_first.append(
                    ops.ExecuteSQLOp(f"CREATE TYPE {self._type(change.name)} AS ENUM ({values})")
                )
            elif change.kind in ("add_check", "change_check", "drop_check"):
                name = change.name or _check_name(change)
                new = change.extra.get("definition") if change.kind != "drop_check" else None
                old = change.extra.get("old_definition") or (
                    change.extra.get("definition") if change.kind == "drop_check" else None
                )
                drop = self._drop_check(change, name)
                if old:
                    up_last.append(drop)
                    down_last.extend(self._add_check(table, name, old))
                if new:
                    up_last.extend(self._add_check(table, name, new))
                    down_first.append(drop)
        script.upgrade_ops.ops[:0] = up_first
        script.upgrade_ops.ops.extend(up_last)
        script.downgrade_ops.ops[:0] = down_first
        script.downgrade_ops.ops.extend(down_last)

    def _enum_value_unused(self, change: Change, value: str) -> list:
        """The downgrade of an added enum value: PostgreSQL cannot drop it (it stays, unused), so the
        downgrade fails while rows still hold it: code rolled back would not know the value."""
        used = " OR ".join(
            f"EXISTS (SELECT FROM {self._table(u['schema'], u['table'])} "
            f"WHERE {self.preparer.quote(u['column'])} = {value})"
            for u in change.extra.get("columns", ())
        )
        if not used:
            return []
        message = f"{change.name} value {value[1:-1]} is still used: update those rows first"
        sql = f"DO $$ BEGIN IF {used} THEN RAISE EXCEPTION '{message}'; END IF; END $$"
        return [
            NoteOp(f"PostgreSQL cannot drop enum value {value} of {change.name}: it stays, unused"),
            ops.ExecuteSQLOp(sql),
        ]

    def _add_check(self, table: str, name: str, definition: str) -> list:
        quoted = self.preparer.quote(name)
        add = ops.ExecuteSQLOp(f"ALTER TABLE {table} ADD CONSTRAINT {quoted} {definition} NOT VALID")
        validate = ops.ExecuteSQLOp(f"ALTER TABLE {table} VALIDATE CONSTRAINT {quoted}")
        return [add, AutocommitBlockOp([validate])]

    def _drop_check(self, change: Change, name: str):
        schema, _, table = (change.table or "").rpartition(".")
        return ops.DropConstraintOp(name, table, type_="check", schema=schema or None)

    def _set_not_null(self, columns: list) -> list:
        """CHECK (col IS NOT NULL) NOT VALID, VALIDATE in an autocommit block, SET NOT NULL (PostgreSQL 12+
        uses the validated CHECK instead of scanning), then the CHECK is dropped."""
        add, validate, finish = [], [], []
        for (schema, table, column), type_ in columns:
            name = self.preparer.quote(truncate(f"ck_{table}_{column}_not_null"))  # not PG 18's own name
            quoted_table = self._table(schema, table)
            check = f"CHECK ({self.preparer.quote(column)} IS NOT NULL)"
            add.append(
                ops.ExecuteSQLOp(f"ALTER TABLE {quoted_table} ADD CONSTRAINT {name} {check} NOT VALID")
            )
            validate.append(ops.ExecuteSQLOp(f"ALTER TABLE {quoted_table} VALIDATE CONSTRAINT {name}"))
            finish.append(
                ops.AlterColumnOp(
                    table,
                    column,
                    schema=schema,
                    existing_type=type_,
                    existing_nullable=True,
                    modify_nullable=False,
                )
            )
            finish.append(ops.DropConstraintOp(name.strip('"'), table, type_="check", schema=schema))
        return [*add, AutocommitBlockOp(validate), *finish]

    def _not_null_revision(self, first):
        from alembic.util import rev_id

        down = [
            ops.AlterColumnOp(
                table,
                column,
                schema=schema,
                existing_type=type_,
                existing_nullable=False,
                modify_nullable=True,
            )
            for (schema, table, column), type_ in self.not_null.items()
        ]
        note = NoteOp(
            "Run this revision once the previous one is deployed and the columns are backfilled.\n"
            "SET NOT NULL after a validated CHECK (col IS NOT NULL): PostgreSQL 12+ skips the scan."
        )
        return ops.MigrationScript(
            rev_id=rev_id(),
            message=f"{first.message} (set NOT NULL)",
            upgrade_ops=ops.UpgradeOps(
                [note, *self._set_not_null(list(self.not_null.items()))],
                upgrade_token=first.upgrade_ops.upgrade_token,
            ),
            downgrade_ops=ops.DowngradeOps(down, downgrade_token=first.downgrade_ops.downgrade_token),
            head=first.rev_id,
        )

    def _lock_timeout_first(self, script) -> None:
        if not self.lock_timeout:
            return
        for container in (script.upgrade_ops, script.downgrade_ops):
            if any(not isinstance(o, NoteOp) for o in container.ops):
                container.ops.insert(0, ops.ExecuteSQLOp(LOCK_TIMEOUT))

    # -- helpers ---------------------------------------------------------------------------------------

    def _rewrites_table(self, column) -> bool:
        """An identity, serial or stored generated column: filled for every row when added."""
        identity = getattr(column, "identity", None) is not None
        computed = getattr(column, "computed", None) is not None
        return identity or computed or type_sql(column.type, self.dialect).upper().endswith("SERIAL")

    def _volatile(self, table: str, column: str) -> bool:
        return any(
            c.kind == "add_column"
            and c.column == column
            and c.table
            and c.table.rpartition(".")[2] == table
            and c.template == "add-column-default"
            and REWRITES in c.risks
            for c in self.changes
        )

    def _table(self, schema, table) -> str:
        quoted = self.preparer.quote(table)
        return f"{self.preparer.quote_schema(schema)}.{quoted}" if schema else quoted

    def _table_of(self, change: Change) -> str:
        schema, _, table = (change.table or "").rpartition(".")
        return self._table(schema or None, table)

    def _type(self, label: str | None) -> str:
        schema, _, name = (label or "").rpartition(".")
        return self._table(schema or None, name)


def _walk(container):
    for op in container.ops:
        yield op
        if isinstance(op, ops.OpContainer):
            yield from _walk(op)


def _column_name(column) -> str:
    return column if isinstance(column, str) else str(getattr(column, "name", column))


def _does_something(container) -> bool:
    for op in container.ops:
        if isinstance(op, ops.OpContainer):
            if _does_something(op):
                return True
        elif not isinstance(op, NoteOp):
            return True
    return False


def _modifies(op) -> bool:
    return not (
        op.modify_type is None
        and op.modify_nullable is None
        and op.modify_server_default is False
        and op.modify_comment is False
        and op.modify_name is None
    )


def _coercible(old, new, dialect) -> bool:
    from ..sql.knowledge import binary_coercible

    if old is None:
        return False
    a, b = parse_type(type_sql(old, dialect)), parse_type(type_sql(new, dialect))
    return bool(a and b and binary_coercible(a, b))


def _deferred_note(change: Change) -> str:
    where = _where(change)
    if change.kind == "rename_column":
        old, new = change.extra["old_column"], change.column
        return (
            f"{where}: probably {old} renamed. {new} is added; {old} is kept (no DROP COLUMN here): copy its "
            f"values into {new} (dbpatterns new backfill), switch the code to {new}, then drop {old} in a "
            "later release (dbpatterns new drop-column)"
        )
    return f"not written: {where} ({change.kind.replace('_', ' ')}): {change.detail}"


def _where(change: Change) -> str:
    if change.column:
        return f"{change.table}.{change.column}"
    return change.table or change.name or ""


def _check_name(change: Change) -> str:
    table = (change.table or "t").rpartition(".")[2]
    digest = zlib.crc32(change.extra.get("definition", "").encode()) & 0xFFFFFF
    return truncate(f"{table}_check_{digest:06x}")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _qualified(schema, table) -> str:
    return f"{schema}.{table}" if schema else table


def _default_name(table: str, columns, suffix: str) -> str:
    """The name PostgreSQL itself would pick (``orders_customer_id_fkey``)."""
    return truncate(f"{table}_{'_'.join(str(c) for c in columns)}_{suffix}")
