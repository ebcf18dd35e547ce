"""orders.total_cents >= 0: CHECK added NOT VALID, validated after a commit

Revision ID: d4e5f6a7b8c9
Revises: c3d4e5f6a7b8
Create Date: 2026-02-15 10:00:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "d4e5f6a7b8c9"
down_revision: str | Sequence[str] | None = "c3d4e5f6a7b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("SET lock_timeout = '2s'")
    op.execute(
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_total_not_negative CHECK (total_cents >= 0) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_total_not_negative")


def downgrade() -> None:
    op.execute("SET lock_timeout = '2s'")
    op.drop_constraint("ck_orders_total_not_negative", "orders", type_="check")
