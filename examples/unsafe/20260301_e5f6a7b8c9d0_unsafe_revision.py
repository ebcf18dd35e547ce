"""an unsafe Alembic revision: a foreign key with a full validating scan, and no way back

Revision ID: e5f6a7b8c9d0
Revises: d4e5f6a7b8c9
Create Date: 2026-03-01 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e5f6a7b8c9d0"
down_revision = "d4e5f6a7b8c9"


def upgrade() -> None:
    op.add_column("orders", sa.Column("coupon_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key("fk_orders_coupon", "orders", "coupons", ["coupon_id"], ["id"])
    op.create_index("ix_orders_coupon_id", "orders", ["coupon_id"], postgresql_concurrently=True)
    op.alter_column("orders", "total_cents", existing_type=sa.Integer(), type_=sa.BigInteger())


def downgrade() -> None:
    pass
