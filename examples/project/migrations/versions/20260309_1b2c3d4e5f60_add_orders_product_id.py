"""orders.product_id: nullable column, index built concurrently, foreign key NOT VALID then validated

Expand step of the add-foreign-key pattern: each lock is short, the scans run under weak locks.

Revision ID: 1b2c3d4e5f60
Revises: 0a1b2c3d4e5f
Create Date: 2026-03-09 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1b2c3d4e5f60"
down_revision: str | Sequence[str] | None = "0a1b2c3d4e5f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("SET lock_timeout = '2s'")
    op.add_column("orders", sa.Column("product_id", sa.BigInteger(), nullable=True))
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_orders_product_id",
            "orders",
            ["product_id"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )
    # SHARE ROW EXCLUSIVE on orders and products for an instant: NOT VALID skips the scan
    op.create_foreign_key(
        "fk_orders_product_id", "orders", "products", ["product_id"], ["id"], postgresql_not_valid=True
    )
    with op.get_context().autocommit_block():
        # SHARE UPDATE EXCLUSIVE on orders while it scans: reads and writes go on
        op.execute("ALTER TABLE orders VALIDATE CONSTRAINT fk_orders_product_id")


def downgrade() -> None:
    op.execute("SET lock_timeout = '2s'")
    op.drop_constraint("fk_orders_product_id", "orders", type_="foreignkey")
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_orders_product_id", table_name="orders", postgresql_concurrently=True, if_exists=True
        )
    op.drop_column("orders", "product_id")
