"""orders.status NOT NULL without a long ACCESS EXCLUSIVE scan (PostgreSQL 12+)

A CHECK (status IS NOT NULL) added NOT VALID and validated under SHARE UPDATE EXCLUSIVE proves the
column has no NULL: SET NOT NULL then skips its scan. The CHECK is dropped once NOT NULL holds.

Revision ID: 4e5f60718293
Revises: 3d4e5f607182
Create Date: 2026-03-30 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4e5f60718293"
down_revision: str | Sequence[str] | None = "3d4e5f607182"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("SET lock_timeout = '2s'")
    op.create_check_constraint(
        "ck_orders_status_not_null", "orders", "status IS NOT NULL", postgresql_not_valid=True
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_status_not_null")
    op.alter_column("orders", "status", existing_type=sa.Text(), nullable=False)
    op.drop_constraint("ck_orders_status_not_null", "orders", type_="check")


def downgrade() -> None:
    op.execute("SET lock_timeout = '2s'")
    op.alter_column("orders", "status", existing_type=sa.Text(), nullable=True)
