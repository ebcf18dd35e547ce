"""Compare models with the schema the history builds: autogenerate plus the catalog reads it lacks."""

from __future__ import annotations

from .catalog import catalog_changes
from .classify import classify


def comparison_context(ctx, metadata):
    """A MigrationContext on env.py's connection with env.py's options (include_object, render_item, ...),
    types and server defaults compared, and ``metadata`` as the target."""
    from alembic.runtime.migration import MigrationContext

    opts = dict(ctx.opts)
    opts.update(compare_type=True, compare_server_default=True, target_metadata=metadata)
    return MigrationContext.configure(
        connection=ctx.connection, environment_context=ctx.environment_context, opts=opts
    )


def metadatas(target) -> list:
    return list(target) if isinstance(target, (list, tuple)) else [target]


def table_filter(opts: dict):
    """env.py's ``include_object`` applied to tables (None when it has none)."""
    include_object = opts.get("include_object")
    if include_object is None:
        return None
    return lambda table: include_object(table, table.name, "table", False, None)


def find_changes(mc, diffs: list) -> list:
    """Changes from autogenerate's ``diffs`` and from the catalog (CHECK constraints, enum values)."""
    changes = classify(diffs, mc.dialect)
    include = table_filter(mc.opts)
    for metadata in metadatas(mc.opts["target_metadata"]):
        changes += catalog_changes(mc.connection, metadata, mc.dialect, include)
    return changes


def autogenerate_diffs(mc) -> list:
    from alembic.autogenerate import produce_migrations

    return produce_migrations(mc, mc.opts["target_metadata"]).upgrade_ops.as_diffs()
