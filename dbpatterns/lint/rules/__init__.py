"""Every lint rule, one module per family; importing this package registers them."""

from . import alembic, columns, constraints, data, indexes, style, tables, trace, transactions  # noqa: F401
