"""Every lint rule, one module per family; importing this package registers them."""

from . import (  # noqa: F401
    alembic,
    checksums,
    columns,
    constraints,
    data,
    indexes,
    style,
    tables,
    trace,
    transactions,
)
