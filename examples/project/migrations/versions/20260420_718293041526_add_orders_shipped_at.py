"""orders.shipped_at and a partial index of the orders still to ship, built concurrently

Revision ID: 718293041526
Revises: 607182930415
Create Date: 2026-04-20 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "718293041526"
down_revision: str | Sequence[str] | None = "607182930415"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("SET lock_timeout = '2s'")
    op.add_column("orders", sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True))
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_orders_unshipped",
            "orders",
            ["created_at"],
            postgresql_where=sa.text("shipped_at IS NULL"),
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_orders_unshipped", table_name="orders", postgresql_concurrently=True, if_exists=True
        )
    op.execute("SET lock_timeout = '2s'")
    op.drop_column("orders", "shipped_at")
