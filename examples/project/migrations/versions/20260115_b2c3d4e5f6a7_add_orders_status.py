"""add orders.status (nullable, constant default: instant on PostgreSQL 11+)

Revision ID: b2c3d4e5f6a7
Revises: a1b2c3d4e5f6
Create Date: 2026-01-15 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b2c3d4e5f6a7"
down_revision: str | Sequence[str] | None = "a1b2c3d4e5f6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("SET lock_timeout = '2s'")
    op.add_column("orders", sa.Column("status", sa.Text(), server_default="new", nullable=True))


def downgrade() -> None:
    op.execute("SET lock_timeout = '2s'")
    op.drop_column("orders", "status")
