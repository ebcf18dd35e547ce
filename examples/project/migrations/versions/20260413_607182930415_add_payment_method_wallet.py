"""payment_method gets 'wallet': ALTER TYPE ... ADD VALUE, committed before anything uses it

PostgreSQL 12+ allows ADD VALUE in a transaction block, but the new value cannot be used until that
transaction commits: the autocommit block commits it at once. PostgreSQL cannot drop an enum value, so
the downgrade rebuilds the type without it (safe only once no row holds 'wallet').

Revision ID: 607182930415
Revises: 5f6071829304
Create Date: 2026-04-13 10:00:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "607182930415"
down_revision: str | Sequence[str] | None = "5f6071829304"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("ALTER TYPE payment_method ADD VALUE IF NOT EXISTS 'wallet'")


def downgrade() -> None:
    op.execute("SET lock_timeout = '2s'")
    op.execute("ALTER TYPE payment_method RENAME TO payment_method_old")
    op.execute("CREATE TYPE payment_method AS ENUM ('card', 'invoice')")
    # a rewrite of orders, accepted for a rollback: the column is new and small at this point
    op.execute(  # dbpatterns: ignore[change-column-type]
        "ALTER TABLE orders ALTER COLUMN payment_method TYPE payment_method"
        " USING payment_method::text::payment_method"
    )
    op.execute("DROP TYPE payment_method_old")
