"""enum payment_method and a nullable orders.payment_method (no default: catalog-only)

Revision ID: 5f6071829304
Revises: 4e5f60718293
Create Date: 2026-04-06 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5f6071829304"
down_revision: str | Sequence[str] | None = "4e5f60718293"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

payment_method = sa.Enum("card", "invoice", name="payment_method")


def upgrade() -> None:
    op.execute("SET lock_timeout = '2s'")
    payment_method.create(op.get_bind(), checkfirst=False)
    op.add_column(
        "orders",
        sa.Column("payment_method", sa.Enum(name="payment_method", create_type=False), nullable=True),
    )


def downgrade() -> None:
    op.execute("SET lock_timeout = '2s'")
    op.drop_column("orders", "payment_method")
    payment_method.drop(op.get_bind(), checkfirst=False)
