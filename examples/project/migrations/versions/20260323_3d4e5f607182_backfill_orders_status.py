"""backfill orders.status where it is NULL: batches of 1,000 rows, each committed

Data only, outside the migration's transaction (autocommit_block): no long transaction, no table-wide
row lock, and a rerun continues where it stopped.

Revision ID: 3d4e5f607182
Revises: 2c3d4e5f6071
Create Date: 2026-03-23 10:00:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "3d4e5f607182"
down_revision: str | Sequence[str] | None = "2c3d4e5f6071"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = """
DO $$
DECLARE
    updated int;
BEGIN
    LOOP
        UPDATE orders SET status = 'new'
        WHERE id IN (
            SELECT id FROM orders WHERE status IS NULL ORDER BY id LIMIT 1000 FOR UPDATE SKIP LOCKED
        );
        GET DIAGNOSTICS updated = ROW_COUNT;
        EXIT WHEN updated = 0;
        COMMIT;
    END LOOP;
END $$
"""


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute(BACKFILL)


def downgrade() -> None:  # dbpatterns: ignore[missing-downgrade] data only: 'new' is valid for the old code
    pass
