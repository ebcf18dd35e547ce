"""customers.email unique: unique index built concurrently, then attached as the constraint

ADD CONSTRAINT ... UNIQUE USING INDEX only renames the finished index: an instant ACCESS EXCLUSIVE.

Revision ID: 2c3d4e5f6071
Revises: 1b2c3d4e5f60
Create Date: 2026-03-16 10:00:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "2c3d4e5f6071"
down_revision: str | Sequence[str] | None = "1b2c3d4e5f60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(
            "uq_customers_email",
            "customers",
            ["email"],
            unique=True,
            postgresql_concurrently=True,
            if_not_exists=True,
        )
    op.execute("SET lock_timeout = '2s'")
    op.execute(
        "ALTER TABLE customers ADD CONSTRAINT uq_customers_email UNIQUE USING INDEX uq_customers_email"
    )


def downgrade() -> None:
    op.execute("SET lock_timeout = '2s'")
    op.drop_constraint("uq_customers_email", "customers", type_="unique")
