"""The claims the skill's rules make about PostgreSQL, checked on the embedded server (PostgreSQL 18).

Each test names the claim it checks, in the words of rules/ and references/. Locks, rewrites and scans
come from dbpatterns.pg.lockmatrix.measure (pg_locks, relfilenode, pg_stat_get_xact_numscans).
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from dbpatterns.pg.lockmatrix import BASE, Case, measure


@pytest.fixture(scope="module")
def base_template(pg_server):
    """A database holding the lock matrix's schema, used as a template for each test's copy."""
    with pg_server.scratch_database() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(BASE)
        yield url.split("?", 1)[0].rsplit("/", 1)[1]


@pytest.fixture
def shop(pg_server, base_template):
    with pg_server.scratch_database(template=base_template) as url:
        yield url


def _run(url: str, sql: str, setup: str = ""):
    return measure(url, Case(sql, "claims", setup=setup))


@pytest.mark.parametrize(
    ("default", "volatility", "rewrites"),
    [
        ("'web'", None, False),
        ("now()", "s", False),
        ("gen_random_uuid()::text", "v", True),
        ("random()::text", "v", True),
        ("clock_timestamp()::text", "v", True),
    ],
)
def test_non_volatile_default_is_catalog_only_volatile_rewrites(shop, default, volatility, rewrites):
    """PG 11+: ADD COLUMN with a non-volatile default changes only the catalog; a volatile one rewrites."""
    with psycopg.connect(shop) as conn:
        if volatility:
            name = default.split("(")[0]
            kinds = {
                v for (v,) in conn.execute("SELECT provolatile FROM pg_proc WHERE proname = %s", (name,))
            }
            assert kinds == {volatility}
    row = _run(shop, f"ALTER TABLE orders ADD COLUMN extra text DEFAULT {default}")
    assert row.locks == [("orders", "ACCESS EXCLUSIVE")]
    assert (row.rewritten == ["orders"]) is rewrites


def test_set_not_null_scans_unless_a_validated_check_proves_it(shop):
    """SET NOT NULL scans under ACCESS EXCLUSIVE; a validated CHECK (col IS NOT NULL) skips the scan (12+)."""
    plain = _run(shop, "ALTER TABLE orders ALTER COLUMN note SET NOT NULL")
    assert plain.locks == [("orders", "ACCESS EXCLUSIVE")] and plain.scanned == ["orders"]
    proven = _run(
        shop,
        "ALTER TABLE orders ALTER COLUMN note SET NOT NULL",
        setup="ALTER TABLE orders ADD CONSTRAINT note_nn CHECK (note IS NOT NULL) NOT VALID;"
        " ALTER TABLE orders VALIDATE CONSTRAINT note_nn",
    )
    assert proven.locks == [("orders", "ACCESS EXCLUSIVE")] and proven.scanned == []


def test_not_valid_check_skips_the_scan_and_validate_takes_share_update_exclusive(shop):
    added = _run(shop, "ALTER TABLE orders ADD CONSTRAINT qty_pos CHECK (qty > 0) NOT VALID")
    assert added.scanned == []
    validated = _run(
        shop,
        "ALTER TABLE orders VALIDATE CONSTRAINT qty_pos",
        setup="ALTER TABLE orders ADD CONSTRAINT qty_pos CHECK (qty > 0) NOT VALID",
    )
    assert validated.locks == [("orders", "SHARE UPDATE EXCLUSIVE")] and validated.scanned == ["orders"]


def test_foreign_key_takes_share_row_exclusive_on_both_validate_share_update_exclusive(shop):
    fk = "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers (id)"
    added = _run(shop, fk + " NOT VALID")
    assert added.locks == [("customers", "SHARE ROW EXCLUSIVE"), ("orders", "SHARE ROW EXCLUSIVE")]
    assert added.scanned == []
    validated = _run(shop, "ALTER TABLE orders VALIDATE CONSTRAINT fk", setup=fk + " NOT VALID")
    assert dict(validated.locks)["orders"] == "SHARE UPDATE EXCLUSIVE"
    assert dict(validated.locks)["customers"] == "ROW SHARE"


def test_not_valid_foreign_key_is_enforced_for_new_rows(shop):
    with psycopg.connect(shop, autocommit=True) as conn:
        conn.execute("INSERT INTO orders (customer_id) VALUES (9999)")  # an orphan from before
        conn.execute(
            "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers (id)"
            " NOT VALID"
        )
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute("INSERT INTO orders (customer_id) VALUES (8888)")
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute("ALTER TABLE orders VALIDATE CONSTRAINT fk")  # the old orphan is found


def test_create_index_concurrently_refuses_a_transaction_and_leaves_an_invalid_index(shop):
    with psycopg.connect(shop, autocommit=True) as conn:
        conn.execute("BEGIN")
        with pytest.raises(
            psycopg.errors.ActiveSqlTransaction, match="cannot run inside a transaction block"
        ):
            conn.execute("CREATE INDEX CONCURRENTLY orders_code_idx ON orders (code)")
        conn.execute("ROLLBACK")
        conn.execute("UPDATE orders SET code = 'same' WHERE id <= 2")  # a duplicate
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY orders_code_key ON orders (code)")
        (valid,) = conn.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_code_key'::regclass"
        ).fetchone()
        assert valid is False  # left behind, INVALID: drop it (DROP INDEX CONCURRENTLY) before retrying


def test_enum_add_value_runs_in_a_transaction_but_is_unusable_before_commit(shop):
    with psycopg.connect(shop, autocommit=True) as conn:
        conn.execute("BEGIN")
        conn.execute("ALTER TYPE order_status ADD VALUE 'shipped'")  # PG 12+: allowed in a transaction
        with pytest.raises(psycopg.errors.UnsafeNewEnumValueUsage):
            conn.execute("SELECT 'shipped'::order_status")
        conn.execute("ROLLBACK")
        conn.execute("ALTER TYPE order_status ADD VALUE 'shipped'")  # committed on its own
        assert conn.execute("SELECT 'shipped'::order_status::text").fetchone() == ("shipped",)


def _waiting(conn, pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = conn.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
        if row and row[0] == "Lock":
            return True
        time.sleep(0.01)
    return False


def test_a_waiting_access_exclusive_request_blocks_every_later_reader(shop):
    """The lock queue: a long SELECT holds ACCESS SHARE, ALTER TABLE waits for ACCESS EXCLUSIVE, and a
    new SELECT queues behind the ALTER although it does not conflict with the first SELECT. With a
    lock_timeout the ALTER gives up and the reader goes on."""
    reader = psycopg.connect(shop, autocommit=True)
    migrator = psycopg.connect(shop, autocommit=True)
    late = psycopg.connect(shop, autocommit=True)
    watcher = psycopg.connect(shop, autocommit=True)
    errors: list[BaseException] = []
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM orders")  # holds ACCESS SHARE until it ends
        migrator.execute("SET lock_timeout = '3s'")  # room for the checks below on a busy machine

        def alter():
            try:
                migrator.execute("ALTER TABLE orders ADD COLUMN memo text")
            except psycopg.Error as exc:
                errors.append(exc)

        alter_thread = threading.Thread(target=alter)
        alter_thread.start()
        assert _waiting(watcher, migrator.info.backend_pid)
        late_thread = threading.Thread(target=lambda: late.execute("SELECT count(*) FROM orders"))
        late_thread.start()
        assert _waiting(watcher, late.info.backend_pid), "the later SELECT should queue behind the ALTER"
        alter_thread.join(10)
        late_thread.join(10)
        assert not late_thread.is_alive(), "the reader goes on once the ALTER gives up"
        assert errors and isinstance(errors[0], psycopg.errors.LockNotAvailable)
        assert "lock timeout" in str(errors[0])
    finally:
        for conn in (reader, migrator, late, watcher):
            conn.close()


def test_lock_timeout_also_bounds_an_advisory_lock_wait(shop):
    """versioning-drift-detection: a second migrator waiting on pg_advisory_lock gives up at lock_timeout."""
    with psycopg.connect(shop, autocommit=True) as first, psycopg.connect(shop, autocommit=True) as second:
        first.execute("SELECT pg_advisory_lock(4242424242)")
        second.execute("SET lock_timeout = '100ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            second.execute("SELECT pg_advisory_lock(4242424242)")


def test_commit_inside_do_works_only_outside_a_transaction_block(shop):
    """alembic-data-migrations: the batched backfill's DO loop commits per batch in autocommit_block()."""
    loop = """
    DO $$
    DECLARE n int;
    BEGIN
        LOOP
            UPDATE orders SET note = NULL
            WHERE id IN (SELECT id FROM orders WHERE note IS NOT NULL ORDER BY id LIMIT 1000);
            GET DIAGNOSTICS n = ROW_COUNT;
            EXIT WHEN n = 0;
            COMMIT;
        END LOOP;
    END $$"""
    with psycopg.connect(shop, autocommit=True) as conn:
        conn.execute("BEGIN")
        with pytest.raises(psycopg.errors.InvalidTransactionTermination):
            conn.execute(loop)
        conn.execute("ROLLBACK")
        conn.execute(loop)
        assert conn.execute("SELECT count(*) FROM orders WHERE note IS NOT NULL").fetchone() == (0,)


def test_uuidv7_and_temporal_keys_exist_on_postgresql_18(shop):
    """references: uuidv7() and WITHOUT OVERLAPS keys are PostgreSQL 18 features."""
    with psycopg.connect(shop, autocommit=True) as conn:
        first, second = (conn.execute("SELECT uuidv7()").fetchone()[0] for _ in range(2))
        assert first.version == 7 and first < second  # time-ordered
        conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        conn.execute(
            "CREATE TABLE prices (product_id bigint, valid_at tstzrange, cents bigint,"
            " PRIMARY KEY (product_id, valid_at WITHOUT OVERLAPS))"
        )
        conn.execute("INSERT INTO prices VALUES (1, '[2026-01-01,2026-06-01)', 100)")
        with pytest.raises(psycopg.errors.ExclusionViolation):
            conn.execute("INSERT INTO prices VALUES (1, '[2026-03-01,2026-09-01)', 120)")


def test_generated_columns_are_virtual_by_default_on_18(shop):
    """zero-downtime-columns-and-constraints: virtual generated columns (the default kind in 18) do not
    rewrite; STORED ones do (the lock matrix measures both)."""
    with psycopg.connect(shop, autocommit=True) as conn:
        conn.execute("ALTER TABLE orders ADD COLUMN qty_twice int GENERATED ALWAYS AS (qty * 2)")
        (kind,) = conn.execute(
            "SELECT attgenerated FROM pg_attribute"
            " WHERE attrelid = 'orders'::regclass AND attname = 'qty_twice'"
        ).fetchone()
        assert kind == "v"


def test_partitioned_parent_refuses_concurrent_index_and_concurrent_detach_with_default(shop):
    """schema-partitioning: CREATE INDEX CONCURRENTLY on the parent is refused; so is DETACH ...
    CONCURRENTLY while the table has a default partition."""
    with psycopg.connect(shop, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.FeatureNotSupported):
            conn.execute("CREATE INDEX CONCURRENTLY events_id_idx ON events (id)")
        conn.execute("CREATE TABLE events_default PARTITION OF events DEFAULT")
        with pytest.raises(psycopg.Error, match="default partition"):
            conn.execute("ALTER TABLE events DETACH PARTITION events_2026 CONCURRENTLY")
