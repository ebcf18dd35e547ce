"""PostgreSQL engine claims of rules/ and references/, checked on the embedded server (PostgreSQL 18).

Indexes (column order, skip scan, partial, covering, index-only scans, BRIN, pgvector), a failed
CREATE INDEX CONCURRENTLY, keyset pagination, queue tables, column type changes, int to bigint keys,
partition maintenance and the release-notes features present on 18. Each test names the file whose
claim it checks. Locks, rewrites and scans come from dbpatterns.pg.lockmatrix.measure (pg_locks,
relfilenode, pg_stat_get_xact_numscans); plans from EXPLAIN (ANALYZE, FORMAT JSON).
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from dbpatterns.pg.lockmatrix import Case, measure

# --- helpers -------------------------------------------------------------------------------------------


def _connect(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _plan(conn: psycopg.Connection, sql: str, params=None) -> list[dict]:
    """The nodes of the executed plan of ``sql`` (EXPLAIN ANALYZE, BUFFERS, JSON), top first."""
    (doc,) = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params).fetchone()
    return list(_nodes(doc[0]["Plan"]))


def _filenodes(conn: psycopg.Connection, names: list[str]) -> dict[str, int]:
    return {n: conn.execute("SELECT pg_relation_filenode(%s::regclass)", (n,)).fetchone()[0] for n in names}


def _run(url: str, sql: str, setup: str = ""):
    return measure(url, Case(sql, "engine-claims", setup=setup))


def _wait_for(watcher: psycopg.Connection, query: str, params, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = watcher.execute(query, params).fetchone()
        if row and row[0]:
            return True
        time.sleep(0.01)
    return False


# --- references/type-changes.md ------------------------------------------------------------------------

# (from, to, session TimeZone, expected): "none" = catalog only, "index" = only the column's index
# rebuilt, "rewrite" = table and every index rewritten
TYPE_CHANGES = [
    ("varchar(10)", "varchar(20)", None, "none"),
    ("varchar(10)", "text", None, "none"),
    ("varchar(10)", "varchar", None, "none"),
    ("text", "varchar", None, "none"),
    ("numeric(10,2)", "numeric(12,2)", None, "none"),
    ("numeric(10,2)", "numeric", None, "none"),
    ("timestamp(3)", "timestamp(6)", None, "none"),
    ("varbit(5)", "varbit(10)", None, "none"),
    ("cidr", "inet", None, "none"),
    ("text", "free_text", None, "none"),
    ("varchar(10)", "citext", None, "index"),
    ("timestamp", "timestamptz", "UTC", "index"),
    ("timestamptz", "timestamp", "UTC", "index"),
    ("timestamp", "timestamptz", "Europe/Paris", "rewrite"),
    ("varchar(20)", "varchar(10)", None, "rewrite"),
    ("text", "varchar(10)", None, "rewrite"),
    ("numeric(10,2)", "numeric(10,3)", None, "rewrite"),
    ("numeric", "numeric(10,2)", None, "rewrite"),
    ("timestamp(6)", "timestamp(3)", None, "rewrite"),
    ("smallint", "int", None, "rewrite"),
    ("int", "bigint", None, "rewrite"),
    ("bigint", "int", None, "rewrite"),
    ("int", "numeric", None, "rewrite"),
    ("char(5)", "char(10)", None, "rewrite"),
    ("char(5)", "text", None, "rewrite"),
    ("uuid", "text", None, "rewrite"),
    ("date", "timestamp", None, "rewrite"),
    ("text", "checked_text", None, "rewrite"),
]
_VALUES = {"cidr": "'10.0.0.0/8'", "varbit(5)": "B'101'", "uuid": "gen_random_uuid()", "date": "current_date"}


@pytest.mark.parametrize(("old", "new", "tz", "expected"), TYPE_CHANGES, ids=lambda v: str(v))
def test_type_changes_rewrite_as_documented_pg18(pg_url, old, new, tz, expected):
    """references/type-changes.md: which ALTER COLUMN TYPE rewrites the table (and every index), which
    rebuilds only the column's index, which changes only the catalog (PG 18; timestamp<->timestamptz
    under UTC since PG 12)."""
    with _connect(pg_url) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS citext")
        conn.execute("CREATE DOMAIN free_text AS text")
        conn.execute("CREATE DOMAIN checked_text AS text CHECK (VALUE <> '')")
        value = "'2026-01-01 10:00'" if old.startswith("timestamp") else _VALUES.get(old, "'1'")
        conn.execute(f"CREATE TABLE t (id int PRIMARY KEY, c {old}, other int)")
        conn.execute(f"INSERT INTO t SELECT g, {value}, g FROM generate_series(1, 200) g")
        conn.execute("CREATE INDEX t_c_idx ON t (c)")
        conn.execute("CREATE INDEX t_other_idx ON t (other)")
        if tz:
            conn.execute(f"SET TimeZone = '{tz}'")
        names = ["t", "t_pkey", "t_c_idx", "t_other_idx"]
        before = _filenodes(conn, names)
        conn.execute(f"ALTER TABLE t ALTER COLUMN c TYPE {new}")
        changed = {n for n, node in _filenodes(conn, names).items() if node != before[n]}
    assert changed == {"none": set(), "index": {"t_c_idx"}, "rewrite": set(names)}[expected]


def test_alter_column_type_takes_access_exclusive_even_when_catalog_only(pg_url):
    """references/type-changes.md: every ALTER COLUMN TYPE takes ACCESS EXCLUSIVE, a widening too (PG 18)."""
    row = _run(
        pg_url,
        "ALTER TABLE t ALTER COLUMN c TYPE varchar(20)",
        setup="CREATE TABLE t (id int PRIMARY KEY, c varchar(10)); INSERT INTO t VALUES (1, 'a')",
    )
    assert row.locks == [("t", "ACCESS EXCLUSIVE")] and row.rewritten == [] and row.scanned == []


def test_type_changes_verify_block_reports_only_the_column_index(pg_url):
    """references/type-changes.md, "Verify on a server": varchar widening plus timestamp->timestamptz
    under UTC in one transaction rewrite only customers_born_idx (PG 18)."""
    with _connect(pg_url) as conn:
        conn.execute("CREATE TABLE customers (id bigint PRIMARY KEY, name varchar(100), born timestamp)")
        conn.execute("CREATE INDEX customers_born_idx ON customers (born)")
        conn.execute("INSERT INTO customers SELECT g, 'n' || g, '2000-01-01' FROM generate_series(1, 1000) g")
        conn.execute("BEGIN")
        names = ["customers", "customers_pkey", "customers_born_idx"]
        before = _filenodes(conn, names)
        conn.execute("SET LOCAL TimeZone = 'UTC'")
        conn.execute("ALTER TABLE customers ALTER COLUMN name TYPE varchar(200)")
        conn.execute("ALTER TABLE customers ALTER COLUMN born TYPE timestamptz")
        after = _filenodes(conn, names)
        conn.execute("ROLLBACK")
    assert {n for n in names if after[n] != before[n]} == {"customers_born_idx"}


# --- rules/zero-downtime-bigint-primary-keys.md --------------------------------------------------------

_ACCOUNTS = """
CREATE TABLE accounts (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text NOT NULL);
CREATE TABLE invoices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id int NOT NULL REFERENCES accounts (id),
    total_cents bigint NOT NULL
);
INSERT INTO accounts (name) SELECT 'a' || g FROM generate_series(1, 200) g;
INSERT INTO invoices (account_id, total_cents) SELECT 1 + g % 200, g FROM generate_series(1, 2000) g;
"""


@pytest.mark.parametrize(
    ("sql", "rewritten"),
    [
        ("ALTER TABLE accounts ALTER COLUMN id TYPE bigint", ["accounts"]),
        ("ALTER TABLE invoices ALTER COLUMN account_id TYPE bigint", ["invoices"]),
    ],
)
def test_int_to_bigint_of_a_referenced_key_locks_and_scans_both_tables_pg18(pg_url, sql, rewritten):
    """zero-downtime-bigint-primary-keys: the naive change takes ACCESS EXCLUSIVE on the parent and the
    referencing table, rewrites the altered one and scans both (the foreign key is re-checked)."""
    row = _run(pg_url, sql, setup=_ACCOUNTS)
    assert dict(row.locks) == {"accounts": "ACCESS EXCLUSIVE", "invoices": "ACCESS EXCLUSIVE"}
    assert row.rewritten == rewritten
    assert sorted(row.scanned) == ["accounts", "invoices"]


def test_serial_to_bigint_keeps_an_integer_sequence_identity_follows_pg18(pg_url):
    """zero-downtime-bigint-primary-keys: a serial column changed to bigint keeps an integer sequence
    (max 2147483647) until ALTER SEQUENCE ... AS bigint; an identity column's sequence follows."""
    seq = (
        "SELECT seqtypid::regtype::text, seqmax FROM pg_sequence"
        " WHERE seqrelid = pg_get_serial_sequence(%s, 'id')::regclass"
    )
    with _connect(pg_url) as conn:
        conn.execute("CREATE TABLE s (id serial PRIMARY KEY)")
        conn.execute("CREATE TABLE i (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY)")
        conn.execute("ALTER TABLE s ALTER COLUMN id TYPE bigint")
        conn.execute("ALTER TABLE i ALTER COLUMN id TYPE bigint")
        assert conn.execute(seq, ("s",)).fetchone() == ("integer", 2147483647)
        assert conn.execute(seq, ("i",)).fetchone() == ("bigint", 9223372036854775807)
        conn.execute("ALTER SEQUENCE s_id_seq AS bigint")
        assert conn.execute(seq, ("s",)).fetchone() == ("bigint", 9223372036854775807)


def test_referenced_primary_key_cannot_be_dropped_and_old_column_keeps_not_null_pg18(pg_url):
    """zero-downtime-bigint-primary-keys: DROP CONSTRAINT of a referenced primary key fails; after it is
    dropped (foreign key first), the old column is still NOT NULL."""
    with _connect(pg_url) as conn:
        conn.execute(_ACCOUNTS)
        with pytest.raises(psycopg.errors.DependentObjectsStillExist):
            conn.execute("ALTER TABLE accounts DROP CONSTRAINT accounts_pkey")
        conn.execute("ALTER TABLE invoices DROP CONSTRAINT invoices_account_id_fkey")
        conn.execute("ALTER TABLE accounts DROP CONSTRAINT accounts_pkey")
        conn.execute("ALTER TABLE accounts ALTER COLUMN id DROP IDENTITY")
        (not_null,) = conn.execute(
            "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'id'"
        ).fetchone()
        assert not_null is True


def test_int_fk_can_reference_bigint_key_pg18(pg_url):
    """zero-downtime-bigint-primary-keys: an int foreign key column may reference a bigint key."""
    with _connect(pg_url) as conn:
        conn.execute("CREATE TABLE p (id bigint PRIMARY KEY)")
        conn.execute("CREATE TABLE c (p_id int REFERENCES p (id))")
        conn.execute("INSERT INTO p VALUES (1)")
        conn.execute("INSERT INTO c VALUES (1)")
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute("INSERT INTO c VALUES (2)")


# --- rules/zero-downtime-invalid-indexes.md ------------------------------------------------------------


def _index_state(conn, name: str) -> tuple[bool, bool]:
    return conn.execute(
        "SELECT indisvalid, indisready FROM pg_index WHERE indexrelid = %s::regclass", (name,)
    ).fetchone()


def test_cic_failing_in_its_first_build_leaves_an_invalid_unmaintained_index_pg18(pg_url):
    """zero-downtime-invalid-indexes: a unique CIC failing on existing duplicates leaves an index with
    indisvalid = indisready = false: writes do not maintain it, duplicates are accepted, and
    CREATE INDEX CONCURRENTLY IF NOT EXISTS skips the retry with a notice."""
    notices: list[str] = []
    with _connect(pg_url) as conn:
        conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        conn.execute("CREATE TABLE o (id bigint PRIMARY KEY, code text)")
        conn.execute("INSERT INTO o SELECT g, 'c' || (g % 50) FROM generate_series(1, 1000) g")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY o_code_key ON o (code)")
        assert _index_state(conn, "o_code_key") == (False, False)
        conn.execute("INSERT INTO o SELECT g, 'n' || g FROM generate_series(1001, 3000) g")
        assert conn.execute("SELECT pg_relation_size('o_code_key')").fetchone() == (0,)
        conn.execute("INSERT INTO o VALUES (5000, 'n1001')")  # a duplicate goes in
        conn.execute("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS o_code_key ON o (code)")
        assert any("already exists, skipping" in n for n in notices)
        assert _index_state(conn, "o_code_key") == (False, False)  # still invalid
        plan = conn.execute("EXPLAIN (FORMAT JSON) SELECT * FROM o WHERE code = 'c1'").fetchone()[0]
        assert "o_code_key" not in str(plan)
        # recovery: fix the data, rebuild in place
        conn.execute("UPDATE o SET code = 'u' || id")
        conn.execute("REINDEX INDEX CONCURRENTLY o_code_key")
        assert _index_state(conn, "o_code_key") == (True, True)


def _cancel_when_waiting_for_old_snapshots(url: str, statement: str) -> list[BaseException]:
    """Run ``statement`` while a repeatable-read transaction holds an old snapshot; cancel it once
    pg_stat_progress_create_index shows it waiting for old snapshots. Returns the statement's errors."""
    holder, runner, watcher = _connect(url), _connect(url), _connect(url)
    errors: list[BaseException] = []
    try:
        holder.execute("CREATE TABLE IF NOT EXISTS unrelated (x int)")
        holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        holder.execute("SELECT count(*) FROM unrelated")

        def run() -> None:
            try:
                runner.execute(statement)
            except psycopg.Error as exc:
                errors.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        assert _wait_for(
            watcher,
            "SELECT phase = 'waiting for old snapshots' FROM pg_stat_progress_create_index WHERE pid = %s",
            (runner.info.backend_pid,),
        ), "the build should wait for the old snapshot"
        watcher.execute("SELECT pg_cancel_backend(%s)", (runner.info.backend_pid,))
        thread.join(10)
        holder.execute("ROLLBACK")
    finally:
        for conn in (holder, runner, watcher):
            conn.close()
    return errors


def test_cic_cancelled_in_its_last_phase_leaves_an_invalid_index_that_still_rejects_duplicates_pg18(pg_url):
    """zero-downtime-invalid-indexes: cancelled while waiting for old snapshots, a unique CIC leaves an
    index with indisvalid = false, indisready = true: maintained on every write, enforcing uniqueness."""
    with _connect(pg_url) as conn:
        conn.execute("CREATE TABLE o (id bigint PRIMARY KEY, code text)")
        conn.execute("INSERT INTO o SELECT g, 'c' || g FROM generate_series(1, 1000) g")
    errors = _cancel_when_waiting_for_old_snapshots(
        pg_url, "CREATE UNIQUE INDEX CONCURRENTLY o_code_key ON o (code)"
    )
    assert errors and isinstance(errors[0], psycopg.errors.QueryCanceled)
    with _connect(pg_url) as conn:
        assert _index_state(conn, "o_code_key") == (False, True)
        assert conn.execute("SELECT pg_relation_size('o_code_key') > 0").fetchone() == (True,)
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO o VALUES (5000, 'c1')")
        conn.execute("DROP INDEX CONCURRENTLY IF EXISTS o_code_key")
        conn.execute("INSERT INTO o VALUES (5000, 'c1')")


def test_failed_reindex_concurrently_leaves_a_ccnew_index_pg18(pg_url):
    """zero-downtime-invalid-indexes, indexing-in-depth: a cancelled REINDEX CONCURRENTLY leaves an
    invalid <index>_ccnew next to the original, which stays valid."""
    with _connect(pg_url) as conn:
        conn.execute("CREATE TABLE o (id bigint PRIMARY KEY, code text)")
        conn.execute("INSERT INTO o SELECT g, 'c' || g FROM generate_series(1, 1000) g")
        conn.execute("CREATE INDEX o_code_idx ON o (code)")
    errors = _cancel_when_waiting_for_old_snapshots(pg_url, "REINDEX INDEX CONCURRENTLY o_code_idx")
    assert errors and isinstance(errors[0], psycopg.errors.QueryCanceled)
    with _connect(pg_url) as conn:
        assert _index_state(conn, "o_code_idx")[0] is True
        assert _index_state(conn, "o_code_idx_ccnew")[0] is False


def test_drop_index_concurrently_refuses_an_index_behind_a_constraint_pg18(pg_url):
    """zero-downtime-invalid-indexes: an index backing a constraint is dropped with DROP CONSTRAINT."""
    with _connect(pg_url) as conn:
        conn.execute("CREATE TABLE o (id bigint PRIMARY KEY, code text UNIQUE)")
        with pytest.raises(psycopg.errors.DependentObjectsStillExist):
            conn.execute("DROP INDEX CONCURRENTLY o_code_key")


# --- rules/schema-composite-and-covering-indexes.md, references/indexing-in-depth.md -------------------


def test_equality_column_first_reads_fewer_buffers_than_range_column_first_pg18(pg_url):
    """schema-composite-and-covering-indexes: for customer_id = ? AND created_at > ?, the index
    (customer_id, created_at) reads several times fewer buffers than (created_at, customer_id)."""
    with _connect(pg_url) as conn:
        conn.execute(
            "CREATE TABLE oo (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " customer_id bigint NOT NULL, created_at timestamptz NOT NULL)"
        )
        conn.execute(
            "INSERT INTO oo (customer_id, created_at) SELECT g % 1000, '2026-01-01'::timestamptz"
            " + g * interval '1 minute' FROM generate_series(1, 200000) g"
        )
        conn.execute("CREATE INDEX oo_eq_first ON oo (customer_id, created_at)")
        conn.execute("CREATE INDEX oo_range_first ON oo (created_at, customer_id)")
        conn.execute("VACUUM ANALYZE oo")
        sql = "SELECT id FROM oo WHERE customer_id = 42 AND created_at > '2026-03-01'"
        buffers = {}
        for keep, drop in (("oo_eq_first", "oo_range_first"), ("oo_range_first", "oo_eq_first")):
            conn.execute("BEGIN")
            conn.execute(f"DROP INDEX {drop}")
            top = _plan(conn, sql)[0]
            conn.execute("ROLLBACK")
            assert keep in str(_plan_names(top))
            buffers[keep] = top["Shared Hit Blocks"] + top["Shared Read Blocks"]
    assert buffers["oo_range_first"] >= 3 * buffers["oo_eq_first"], buffers


def _plan_names(top: dict) -> list[str]:
    return [n.get("Index Name") for n in _nodes(top)]


def test_skip_scan_uses_the_index_without_its_leading_column_only_when_it_has_few_values_pg18(pg_url):
    """schema-composite-and-covering-indexes: PG 18 skip scan; Index Searches in EXPLAIN ANALYZE."""
    with _connect(pg_url) as conn:
        for name, tenants in (("few", 5), ("many", 50000)):
            conn.execute(f"CREATE TABLE {name} (tenant int, email text, x text)")
            conn.execute(
                f"INSERT INTO {name} SELECT g % {tenants}, 'u' || g, 'x' FROM generate_series(1, 200000) g"
            )
            conn.execute(f"CREATE INDEX {name}_tenant_email ON {name} (tenant, email)")
            conn.execute(f"ANALYZE {name}")
        few = _plan(conn, "SELECT * FROM few WHERE email = 'u777'")
        scans = [n for n in few if n.get("Index Name") == "few_tenant_email"]
        assert scans and scans[0]["Index Searches"] > 1
        many = _plan(conn, "SELECT * FROM many WHERE email = 'u777'")
        assert not any(n.get("Index Name") for n in many)


def test_partial_index_is_not_used_by_a_generic_plan_pg18(pg_url):
    """schema-composite-and-covering-indexes: status = $1 in a generic plan cannot prove the partial
    index's predicate; the custom plan (a known value) uses it."""
    with _connect(pg_url) as conn:
        conn.execute(
            "CREATE TABLE o (id bigint PRIMARY KEY, status text NOT NULL, created_at timestamptz NOT NULL)"
        )
        conn.execute(
            "INSERT INTO o SELECT g, CASE WHEN g % 50 = 0 THEN 'pending' ELSE 'shipped' END,"
            " now() - g * interval '1 minute' FROM generate_series(1, 50000) g"
        )
        conn.execute("CREATE INDEX o_pending ON o (created_at) WHERE status = 'pending'")
        conn.execute("CREATE INDEX o_created ON o (created_at)")
        conn.execute("ANALYZE o")
        conn.execute("PREPARE q(text) AS SELECT id FROM o WHERE status = $1 ORDER BY created_at LIMIT 10")
        conn.execute("SET plan_cache_mode = force_generic_plan")
        generic = str(conn.execute("EXPLAIN (FORMAT JSON) EXECUTE q('pending')").fetchone()[0])
        conn.execute("SET plan_cache_mode = force_custom_plan")
        custom = str(conn.execute("EXPLAIN (FORMAT JSON) EXECUTE q('pending')").fetchone()[0])
    assert "o_pending" not in generic
    assert "o_pending" in custom


def test_include_columns_are_not_part_of_uniqueness_pg18(pg_url):
    """schema-composite-and-covering-indexes: a UNIQUE index's INCLUDE columns are not in its key."""
    with _connect(pg_url) as conn:
        conn.execute("CREATE TABLE c (email text, name text)")
        conn.execute("CREATE UNIQUE INDEX c_email_key ON c (email) INCLUDE (name)")
        conn.execute("INSERT INTO c VALUES ('a@x', 'A')")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO c VALUES ('a@x', 'B')")


def test_index_only_scan_heap_fetches_follow_the_visibility_map_pg18(pg_url):
    """schema-composite-and-covering-indexes, indexing-in-depth: heap fetches equal the rows before
    VACUUM, zero after, non-zero again after an UPDATE of some of the rows."""
    sql = "SELECT customer_id, total FROM io WHERE customer_id BETWEEN 100 AND 120"
    with _connect(pg_url) as conn:
        conn.execute("SET synchronous_commit = on")  # hint bits (and so all-visible) wait for the WAL flush
        conn.execute(
            "CREATE TABLE io (id bigint PRIMARY KEY, customer_id bigint, total bigint, status text)"
            " WITH (autovacuum_enabled = off)"
        )
        conn.execute("INSERT INTO io SELECT g, g / 100, g, 'new' FROM generate_series(1, 100000) g")
        conn.execute("CREATE INDEX io_customer_total ON io (customer_id) INCLUDE (total)")
        conn.execute("ANALYZE io")

        def scan():
            (node,) = [n for n in _plan(conn, sql) if n["Node Type"] == "Index Only Scan"]
            return node["Heap Fetches"], node["Actual Rows"]

        fetches, rows = scan()
        assert rows == 2100 and fetches == rows
        conn.execute("VACUUM io")
        assert scan() == (0, 2100)
        conn.execute("UPDATE io SET status = 'x' WHERE customer_id = 110")
        assert scan()[0] > 0


@pytest.mark.parametrize(
    ("index", "update", "hot"),
    [
        ("CREATE INDEX h_at ON h (at)", "UPDATE h SET note = 'x'", True),
        ("CREATE INDEX h_p ON h (at) WHERE status = 'pending'", "UPDATE h SET status = 'done'", False),
        ("CREATE INDEX h_i ON h (id) INCLUDE (note)", "UPDATE h SET note = 'x'", False),
        ("CREATE INDEX h_b ON h USING brin (at)", "UPDATE h SET at = now()", True),
    ],
    ids=["unindexed-column", "partial-predicate-column", "include-column", "brin-only-column-pg16"],
)
def test_hot_updates_blocked_by_predicate_and_include_columns_not_by_brin(pg_url, index, update, hot):
    """schema-queue-tables, indexing-in-depth: an UPDATE of a column in a partial index's predicate or
    an INCLUDE list is never HOT; one of a column indexed only by BRIN is (16+, measured on 18)."""
    with _connect(pg_url) as conn:
        conn.execute(
            "CREATE TABLE h (id bigint PRIMARY KEY, status text, note text, at timestamptz)"
            " WITH (fillfactor = 50)"
        )
        conn.execute("INSERT INTO h SELECT g, 'pending', 'n', now() FROM generate_series(1, 100) g")
        conn.execute(index)
        conn.execute(update)
        conn.execute("SELECT pg_stat_force_next_flush()")
        assert _wait_for(conn, "SELECT n_tup_upd = 100 FROM pg_stat_user_tables WHERE relname = 'h'", None), (
            "statistics not flushed"
        )
        (hot_updates,) = conn.execute(
            "SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'h'"
        ).fetchone()
    assert (hot_updates == 100) is hot and (hot_updates == 0) is (not hot)


def test_brin_works_on_correlated_rows_and_fails_on_random_order_pg18(pg_url):
    """indexing-in-depth (BRIN): on rows in column order BRIN reads 128 lossy blocks for a one-hour
    range (64 with pages_per_range = 16), is hundreds of times smaller than a B-tree; on random order
    the planner prefers a sequential scan and a forced BRIN scan reads most of the table; an outlier
    per range defeats minmax, not minmax_multi (14+); appended pages wait for summarization."""
    sql = "SELECT count(*) FROM {} WHERE at BETWEEN '2026-01-02' AND '2026-01-02 01:00'"
    fill = "INSERT INTO {} SELECT g, {}, repeat('x', 50) FROM generate_series(1, 300000) g {}"
    ordered = "'2026-01-01'::timestamptz + g * interval '1 second'"
    with _connect(pg_url) as conn:
        for table, value, order in (
            ("logs", ordered, ""),
            ("shuffled", ordered, "ORDER BY random()"),
            ("outliers", f"CASE WHEN g % 1000 = 0 THEN '2030-01-01'::timestamptz ELSE {ordered} END", ""),
        ):
            conn.execute(
                f"CREATE TABLE {table} (id bigint, at timestamptz, msg text) WITH (autovacuum_enabled = off)"
            )
            conn.execute(fill.format(table, value, order))
        conn.execute("SET max_parallel_workers_per_gather = 0")  # EXPLAIN counts the leader's blocks only
        conn.execute("CREATE INDEX logs_brin ON logs USING brin (at)")
        conn.execute("CREATE INDEX shuffled_brin ON shuffled USING brin (at)")
        conn.execute("CREATE INDEX outliers_minmax ON outliers USING brin (at)")
        conn.execute("CREATE INDEX outliers_multi ON outliers USING brin (at timestamptz_minmax_multi_ops)")
        conn.execute("ANALYZE")

        def lossy(table: str, only: str | None = None, drop: str | None = None) -> int:
            conn.execute("BEGIN")
            if drop:
                conn.execute(f"DROP INDEX {drop}")
            nodes = _plan(conn, sql.format(table))
            conn.execute("ROLLBACK")
            heap = [n for n in nodes if n["Node Type"] == "Bitmap Heap Scan"]
            assert heap, f"no bitmap scan on {table}"
            return heap[0]["Lossy Heap Blocks"]

        assert conn.execute(
            "SELECT correlation > 0.99 FROM pg_stats WHERE tablename = 'logs' AND attname = 'at'"
        ).fetchone() == (True,)
        assert lossy("logs") == 128
        conn.execute("CREATE INDEX logs_brin16 ON logs USING brin (at) WITH (pages_per_range = 16)")
        assert lossy("logs", drop="logs_brin") < 128
        conn.execute("CREATE INDEX logs_btree ON logs (at)")
        (ratio,) = conn.execute(
            "SELECT pg_relation_size('logs_btree') / pg_relation_size('logs_brin')"
        ).fetchone()
        assert ratio > 100

        random_plan = _plan(conn, sql.format("shuffled"))
        assert not any(n.get("Index Name") == "shuffled_brin" for n in random_plan)
        conn.execute("SET enable_seqscan = off")
        (pages,) = conn.execute("SELECT relpages FROM pg_class WHERE relname = 'shuffled'").fetchone()
        assert lossy("shuffled") == pages
        assert lossy("outliers", drop="outliers_multi") > 5 * lossy("outliers", drop="outliers_minmax")
        conn.execute("RESET enable_seqscan")

        conn.execute(
            "INSERT INTO logs SELECT g, '2026-02-01'::timestamptz + g * interval '1 second', 'x'"
            " FROM generate_series(1, 50000) g"
        )
        (summarized,) = conn.execute("SELECT brin_summarize_new_values('logs_brin16')").fetchone()
        assert summarized > 0
        assert conn.execute("SELECT brin_summarize_new_values('logs_brin16')").fetchone() == (0,)


# --- rules/schema-keyset-pagination.md -----------------------------------------------------------------


def test_offset_reads_the_skipped_rows_keyset_reads_one_page_pg18(pg_url):
    """schema-keyset-pagination: OFFSET 10000 LIMIT 20 reads 10,020 index entries; the row comparison
    (created_at, id) < (...) is an Index Cond behind tenant_id = ? and reads 20."""
    with _connect(pg_url) as conn:
        conn.execute(
            "CREATE TABLE posts (id bigint PRIMARY KEY, tenant_id bigint NOT NULL,"
            " created_at timestamptz NOT NULL)"
        )
        conn.execute(
            "INSERT INTO posts SELECT g, g % 10, '2026-01-01'::timestamptz + (g / 3) * interval '1 second'"
            " FROM generate_series(1, 200000) g"
        )
        conn.execute("CREATE INDEX posts_tenant_created_id ON posts (tenant_id, created_at DESC, id DESC)")
        conn.execute("VACUUM ANALYZE posts")
        offset = _plan(
            conn,
            "SELECT id FROM posts WHERE tenant_id = 3"
            " ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET 10000",
        )
        scan = [n for n in offset if n.get("Index Name") == "posts_tenant_created_id"][0]
        assert scan["Actual Rows"] == 10020
        keyset = _plan(
            conn,
            "SELECT id FROM posts WHERE tenant_id = 3 AND (created_at, id) < ('2026-01-01 10:00+00', 10803)"
            " ORDER BY created_at DESC, id DESC LIMIT 20",
        )
        scan = [n for n in keyset if n.get("Index Name") == "posts_tenant_created_id"][0]
        assert scan["Actual Rows"] == 20
        assert "ROW(created_at, id) < ROW(" in scan["Index Cond"]
        assert not any(n["Node Type"] in ("Sort", "Incremental Sort") for n in keyset)


def test_mixed_direction_keyset_needs_the_expanded_form_pg18(pg_url):
    """schema-keyset-pagination: with ORDER BY created_at DESC, id ASC the row comparison returns other
    rows than the expanded form; the expanded form uses the (created_at DESC, id ASC) index, bounded by
    created_at <= :c."""
    with _connect(pg_url) as conn:
        conn.execute("CREATE TABLE p (id bigint PRIMARY KEY, created_at timestamptz NOT NULL)")
        conn.execute(
            "INSERT INTO p SELECT g, '2026-01-01'::timestamptz + (g / 3) * interval '1 second'"
            " FROM generate_series(1, 50000) g"
        )
        conn.execute("CREATE INDEX p_mixed ON p (created_at DESC, id ASC)")
        conn.execute("ANALYZE p")
        cursor = ("2026-01-01 01:00:00+00", 10800)  # rows 10800..10802 share this timestamp
        order = " ORDER BY created_at DESC, id ASC LIMIT 5"
        expanded_sql = "SELECT id FROM p WHERE created_at <= %s AND (created_at < %s OR id > %s)" + order
        expanded = [r[0] for r in conn.execute(expanded_sql, (cursor[0], cursor[0], cursor[1]))]
        row_cmp = [
            r[0] for r in conn.execute("SELECT id FROM p WHERE (created_at, id) < (%s, %s)" + order, cursor)
        ]
        assert expanded[:2] == [10801, 10802]  # the rest of the cursor's timestamp comes first
        assert row_cmp != expanded
        nodes = _plan(
            conn,
            "SELECT id FROM p WHERE created_at <= '2026-01-01 01:00+00' AND "
            "(created_at < '2026-01-01 01:00+00' OR id > 10800)" + order,
        )
        scan = [n for n in nodes if n.get("Index Name") == "p_mixed"][0]
        assert "created_at <=" in scan["Index Cond"]
        # indexing-in-depth: an index in one direction, (created_at, id), cannot give the mixed order
        conn.execute("BEGIN")
        conn.execute("DROP INDEX p_mixed")
        conn.execute("CREATE INDEX p_same ON p (created_at, id)")
        nodes = _plan(conn, "SELECT id FROM p" + order)
        conn.execute("ROLLBACK")
        assert any(n["Node Type"] in ("Sort", "Incremental Sort") for n in nodes)


def test_row_comparison_with_null_is_null_pg18(pg_url):
    """schema-keyset-pagination: a NULL sort key makes the comparison NULL: the row never matches."""
    with _connect(pg_url) as conn:
        assert conn.execute("SELECT (NULL::timestamptz, 1) < (now(), 2)").fetchone() == (None,)


# --- rules/schema-queue-tables.md ----------------------------------------------------------------------


def test_skip_locked_gives_concurrent_workers_disjoint_rows_pg18(pg_url):
    """schema-queue-tables: two workers running the same FOR UPDATE SKIP LOCKED query get other rows."""
    with _connect(pg_url) as conn:
        conn.execute("CREATE TABLE q (id bigint PRIMARY KEY, status text)")
        conn.execute("INSERT INTO q SELECT g, 'pending' FROM generate_series(1, 10) g")
    first, second = psycopg.connect(pg_url), psycopg.connect(pg_url)
    try:
        take = "SELECT id FROM q WHERE status = 'pending' ORDER BY id LIMIT 3 FOR UPDATE SKIP LOCKED"
        a = {r[0] for r in first.execute(take)}
        b = {r[0] for r in second.execute(take)}
        assert len(a) == len(b) == 3 and not a & b
    finally:
        first.close()
        second.close()


def test_an_open_snapshot_keeps_dead_tuples_after_vacuum_pg18(pg_url):
    """schema-queue-tables: while a repeatable-read transaction is open, VACUUM cannot remove the rows
    deleted after its snapshot; the next VACUUM after it ends does."""
    with _connect(pg_url) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        conn.execute("SET synchronous_commit = on")
        conn.execute(
            "CREATE TABLE jobs (id bigint PRIMARY KEY, payload text) WITH (autovacuum_enabled = off)"
        )
        conn.execute("INSERT INTO jobs SELECT g, 'p' FROM generate_series(1, 1000) g")
        with _connect(pg_url) as holder:
            holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            holder.execute("SELECT 1 FROM pg_class LIMIT 1")
            conn.execute("DELETE FROM jobs WHERE id <= 500")
            conn.execute("VACUUM jobs")
            assert conn.execute("SELECT dead_tuple_count FROM pgstattuple('jobs')").fetchone() == (500,)
            holder.execute("ROLLBACK")
        conn.execute("VACUUM jobs")
        assert conn.execute("SELECT dead_tuple_count FROM pgstattuple('jobs')").fetchone() == (0,)


def test_storage_parameters_take_share_update_exclusive_without_rewrite_pg18(pg_url):
    """schema-queue-tables: ALTER TABLE ... SET (autovacuum_*, fillfactor) takes SHARE UPDATE EXCLUSIVE."""
    row = _run(
        pg_url,
        "ALTER TABLE jobs SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,"
        " autovacuum_vacuum_cost_delay = 0, fillfactor = 90)",
        setup="CREATE TABLE jobs (id bigint PRIMARY KEY, payload text); INSERT INTO jobs VALUES (1, 'p')",
    )
    assert row.locks == [("jobs", "SHARE UPDATE EXCLUSIVE")] and row.rewritten == [] and row.scanned == []


# --- rules/schema-vector-indexes.md --------------------------------------------------------------------


def test_pgvector_defaults_concurrent_builds_and_operator_classes(pg_url):
    """schema-vector-indexes: pgvector's query settings default to hnsw.ef_search = 40,
    ivfflat.probes = 1, hnsw.iterative_scan = off; IVFFlat on an empty table warns; both build
    CONCURRENTLY; a cosine index serves <=> and not <#>."""
    notices: list[str] = []
    with _connect(pg_url) as conn:
        conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        (version,) = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
        assert tuple(int(p) for p in version.split(".")[:2]) >= (0, 8)
        settings = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]
            for name in ("hnsw.ef_search", "ivfflat.probes", "hnsw.iterative_scan")
        }
        assert settings == {"hnsw.ef_search": "40", "ivfflat.probes": "1", "hnsw.iterative_scan": "off"}
        conn.execute(
            "CREATE TABLE docs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, embedding vector(8))"
        )
        conn.execute(
            "CREATE INDEX CONCURRENTLY docs_ivf_empty ON docs"
            " USING ivfflat (embedding vector_l2_ops) WITH (lists = 10)"
        )
        assert any("little data" in n for n in notices)
        conn.execute("DROP INDEX docs_ivf_empty")
        conn.execute(
            "INSERT INTO docs (embedding) SELECT (SELECT array_agg(random())::vector(8)"
            " FROM generate_series(1, 8) WHERE g > 0) FROM generate_series(1, 3000) g"
        )
        conn.execute(
            "CREATE INDEX CONCURRENTLY docs_hnsw ON docs"
            " USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
        )
        conn.execute(
            "CREATE INDEX CONCURRENTLY docs_ivf ON docs"
            " USING ivfflat (embedding vector_l2_ops) WITH (lists = 50)"
        )
        conn.execute("ANALYZE docs")
        valid = dict(
            conn.execute(
                "SELECT indexrelid::regclass::text, indisvalid FROM pg_index"
                " WHERE indrelid = 'docs'::regclass"
            )
        )
        assert valid["docs_hnsw"] and valid["docs_ivf"]

        def uses(op: str) -> str:
            return str(
                conn.execute(
                    "EXPLAIN (FORMAT JSON) SELECT id FROM docs"
                    f" ORDER BY embedding {op} '[1,0,0,0,0,0,0,0]' LIMIT 5"
                ).fetchone()[0]
            )

        assert "docs_hnsw" in uses("<=>")
        assert "docs_ivf" in uses("<->")
        assert "docs_hnsw" not in uses("<#>") and "docs_ivf" not in uses("<#>")


def test_hnsw_build_reports_when_the_graph_outgrows_maintenance_work_mem(pg_url):
    """schema-vector-indexes: 'hnsw graph no longer fits into maintenance_work_mem after N tuples'."""
    notices: list[str] = []
    with _connect(pg_url) as conn:
        conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute(
            "CREATE TABLE docs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, embedding vector(64))"
        )
        conn.execute(
            "INSERT INTO docs (embedding) SELECT (SELECT array_agg(random())::vector(64)"
            " FROM generate_series(1, 64) WHERE g > 0) FROM generate_series(1, 2500) g"
        )
        conn.execute("SET maintenance_work_mem = '1MB'")
        conn.execute(
            "CREATE INDEX docs_hnsw ON docs USING hnsw (embedding vector_l2_ops)"
            " WITH (m = 4, ef_construction = 8)"
        )
    assert any("hnsw graph no longer fits into maintenance_work_mem" in n for n in notices)


# --- rules/schema-partition-maintenance.md -------------------------------------------------------------

_EVENTS = """
CREATE TABLE ev (id bigint NOT NULL, at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE ev_2026 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE ev_default PARTITION OF ev DEFAULT;
INSERT INTO ev SELECT g, '2026-03-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 500) g;
INSERT INTO ev SELECT g, '2030-03-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 50) g;
CREATE TABLE ev_2027 (id bigint NOT NULL, at timestamptz NOT NULL);
INSERT INTO ev_2027 SELECT g, '2027-03-01'::timestamptz + g * interval '1 minute'
FROM generate_series(1, 500) g;
"""
_ATTACH = "ALTER TABLE ev ATTACH PARTITION ev_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')"
_BOUNDS = "ALTER TABLE ev_2027 ADD CONSTRAINT b CHECK (at >= '2027-01-01' AND at < '2028-01-01');"
_EXCLUDE = "ALTER TABLE ev_default ADD CONSTRAINT nb CHECK (NOT (at >= '2027-01-01' AND at < '2028-01-01'));"


@pytest.mark.parametrize(
    ("setup", "scanned"),
    [("", ["ev_2027", "ev_default"]), (_BOUNDS, ["ev_default"]), (_BOUNDS + _EXCLUDE, [])],
    ids=["plain", "bounds-check", "bounds-and-default-check"],
)
def test_attach_with_a_default_partition_locks_and_scans_the_default_pg18(pg_url, setup, scanned):
    """schema-partition-maintenance: ATTACH takes SHARE UPDATE EXCLUSIVE on the parent, ACCESS EXCLUSIVE
    on the new and the default partition, and scans the default unless a CHECK on it excludes the range."""
    row = _run(pg_url, _ATTACH, setup=_EVENTS + setup)
    assert dict(row.locks) == {
        "ev": "SHARE UPDATE EXCLUSIVE",
        "ev_2027": "ACCESS EXCLUSIVE",
        "ev_default": "ACCESS EXCLUSIVE",
    }
    assert sorted(row.scanned) == scanned


def test_create_partition_of_scans_the_default_and_fails_on_its_rows_pg18(pg_url):
    """schema-partition-maintenance: CREATE TABLE ... PARTITION OF takes ACCESS EXCLUSIVE on the parent
    and the default partition and scans the default; it fails if the default holds rows of the range."""
    row = _run(
        pg_url,
        "CREATE TABLE ev_2028 PARTITION OF ev FOR VALUES FROM ('2028-01-01') TO ('2029-01-01')",
        setup=_EVENTS,
    )
    assert dict(row.locks) == {"ev": "ACCESS EXCLUSIVE", "ev_default": "ACCESS EXCLUSIVE"}
    assert row.scanned == ["ev_default"]
    with _connect(pg_url) as conn, pytest.raises(psycopg.errors.CheckViolation, match="default partition"):
        conn.execute("CREATE TABLE ev_2030 PARTITION OF ev FOR VALUES FROM ('2030-01-01') TO ('2031-01-01')")


def test_detach_concurrently_refuses_a_default_partition_even_itself_pg18(pg_url):
    """schema-partition-maintenance: no DETACH ... CONCURRENTLY while a default partition exists."""
    with _connect(pg_url) as conn:
        conn.execute(_EVENTS)
        for partition in ("ev_2026", "ev_default"):
            with pytest.raises(psycopg.Error, match="default partition"):
                conn.execute(f"ALTER TABLE ev DETACH PARTITION {partition} CONCURRENTLY")


def test_drop_of_an_attached_partition_locks_the_parent_detach_concurrently_does_not_pg18(pg_server):
    """schema-partition-maintenance: DROP TABLE of an attached partition takes ACCESS EXCLUSIVE on the
    parent; DETACH ... CONCURRENTLY takes SHARE UPDATE EXCLUSIVE on it (sampled: outside a transaction)."""
    setup = (
        "CREATE TABLE ev (id bigint NOT NULL, at timestamptz NOT NULL) PARTITION BY RANGE (at);"
        " CREATE TABLE ev_2025 PARTITION OF ev FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');"
        " CREATE TABLE ev_2026 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"
    )
    with pg_server.scratch_database() as url:
        dropped = _run(url, "DROP TABLE ev_2025", setup=setup)
    assert dict(dropped.locks)["ev"] == "ACCESS EXCLUSIVE"
    with pg_server.scratch_database() as url:
        detached = _run(url, "ALTER TABLE ev DETACH PARTITION ev_2025 CONCURRENTLY", setup=setup)
    assert not detached.in_transaction
    assert dict(detached.locks)["ev"] == "SHARE UPDATE EXCLUSIVE"


def test_interrupted_detach_concurrently_stays_pending_until_finalize_pg18(pg_url):
    """schema-partition-maintenance: a cancelled DETACH ... CONCURRENTLY leaves the partition "detach
    pending": its range rejects new rows, no other concurrent detach is allowed, FINALIZE completes it."""
    with _connect(pg_url) as conn:
        conn.execute(
            "CREATE TABLE ev (id bigint NOT NULL, at timestamptz NOT NULL) PARTITION BY RANGE (at);"
            " CREATE TABLE ev_2025 PARTITION OF ev FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');"
            " CREATE TABLE ev_2026 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"
        )
    reader, runner, watcher = _connect(pg_url), _connect(pg_url), _connect(pg_url)
    errors: list[BaseException] = []
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM ev")

        def run() -> None:
            try:
                runner.execute("ALTER TABLE ev DETACH PARTITION ev_2025 CONCURRENTLY")
            except psycopg.Error as exc:
                errors.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        assert _wait_for(
            watcher,
            "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s",
            (runner.info.backend_pid,),
        )
        watcher.execute("SELECT pg_cancel_backend(%s)", (runner.info.backend_pid,))
        thread.join(10)
        reader.execute("ROLLBACK")
        assert errors and isinstance(errors[0], psycopg.errors.QueryCanceled)
        pending = "SELECT inhdetachpending FROM pg_inherits WHERE inhrelid = 'ev_2025'::regclass"
        assert watcher.execute(pending).fetchone() == (True,)
        with pytest.raises(psycopg.Error, match="no partition of relation"):
            watcher.execute("INSERT INTO ev VALUES (1, '2025-06-01')")
        with pytest.raises(psycopg.Error, match="pending detach"):
            watcher.execute("ALTER TABLE ev DETACH PARTITION ev_2026 CONCURRENTLY")
        watcher.execute("ALTER TABLE ev DETACH PARTITION ev_2025 FINALIZE")
        assert watcher.execute(pending).fetchone() is None
    finally:
        for conn in (reader, runner, watcher):
            conn.close()


def test_partitioned_index_is_valid_only_when_every_partition_index_is_attached_pg18(pg_url):
    """schema-partition-maintenance: CREATE INDEX ON ONLY parent is invalid until each partition's
    index is attached; new partitions get the index; ATTACH builds a missing one."""
    index_of = "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = %s::regclass"
    valid = "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ev_id_idx'::regclass"
    with _connect(pg_url) as conn:
        conn.execute(
            "CREATE TABLE ev (id bigint NOT NULL, at timestamptz NOT NULL) PARTITION BY RANGE (at);"
            " CREATE TABLE ev_2025 PARTITION OF ev FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');"
            " CREATE TABLE ev_2026 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"
        )
        conn.execute("CREATE INDEX ev_id_idx ON ONLY ev (id)")
        assert conn.execute(valid).fetchone() == (False,)
        conn.execute("CREATE INDEX CONCURRENTLY ev_2025_id_idx ON ev_2025 (id)")
        conn.execute("ALTER INDEX ev_id_idx ATTACH PARTITION ev_2025_id_idx")
        assert conn.execute(valid).fetchone() == (False,)
        conn.execute("CREATE INDEX CONCURRENTLY ev_2026_id_idx ON ev_2026 (id)")
        conn.execute("ALTER INDEX ev_id_idx ATTACH PARTITION ev_2026_id_idx")
        assert conn.execute(valid).fetchone() == (True,)
        conn.execute("CREATE TABLE ev_2027 PARTITION OF ev FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')")
        assert [r[0] for r in conn.execute(index_of, ("ev_2027",))] == ["ev_2027_id_idx"]
        conn.execute("CREATE TABLE ev_2028 (LIKE ev)")
        assert list(conn.execute(index_of, ("ev_2028",))) == []
        conn.execute(
            "ALTER TABLE ev ATTACH PARTITION ev_2028 FOR VALUES FROM ('2028-01-01') TO ('2029-01-01')"
        )
        assert [r[0] for r in conn.execute(index_of, ("ev_2028",))] == ["ev_2028_id_idx"]


# --- references/postgres-release-notes.md --------------------------------------------------------------

RELEASE_NOTE_FEATURES = [
    ("13: insert-triggered autovacuum", "SHOW autovacuum_vacuum_insert_threshold"),
    ("13: gen_random_uuid built in", "SELECT gen_random_uuid()"),
    ("14: multirange types", "SELECT '{[1,2],[5,6]}'::int4multirange"),
    (
        "14: BRIN minmax_multi and bloom",
        "CREATE INDEX ON t USING brin (a int4_minmax_multi_ops, b int4_bloom_ops)",
    ),
    ("14: DETACH ... CONCURRENTLY", "ALTER TABLE pt DETACH PARTITION pt_1 CONCURRENTLY"),
    ("14: REINDEX of a partitioned table, concurrently", "REINDEX TABLE CONCURRENTLY pt"),
    (
        "15: MERGE",
        "MERGE INTO t USING (SELECT 1 AS a) s ON t.a = s.a WHEN NOT MATCHED THEN INSERT (a) VALUES (s.a)",
    ),
    ("15: UNIQUE NULLS NOT DISTINCT", "CREATE TABLE u (a int UNIQUE NULLS NOT DISTINCT)"),
    ("16: last_idx_scan", "SELECT last_idx_scan, last_seq_scan FROM pg_stat_user_tables LIMIT 1"),
    ("16: pg_input_is_valid", "SELECT pg_input_is_valid('12x', 'integer')"),
    (
        "17: identity on partitioned tables",
        "CREATE TABLE ip (id bigint GENERATED ALWAYS AS IDENTITY, k int) PARTITION BY RANGE (k)",
    ),
    (
        "17: exclusion constraints on partitioned tables",
        "CREATE TABLE xp (k int, r int4range, EXCLUDE USING gist (k WITH =, r WITH &&))"
        " PARTITION BY LIST (k)",
    ),
    ("17: SET EXPRESSION", "ALTER TABLE g ALTER COLUMN b SET EXPRESSION AS (a * 3)"),
    (
        "17: MERGE ... RETURNING merge_action()",
        "MERGE INTO t USING (SELECT 2 AS a) s ON t.a = s.a"
        " WHEN NOT MATCHED BY SOURCE THEN DELETE"
        " WHEN NOT MATCHED THEN INSERT (a) VALUES (s.a) RETURNING merge_action()",
    ),
    ("17: transaction_timeout", "SHOW transaction_timeout"),
    ("17: MAINTAIN privilege", "GRANT MAINTAIN ON t TO PUBLIC"),
    (
        "18: virtual generated columns by default",
        "ALTER TABLE t ADD COLUMN v int GENERATED ALWAYS AS (a + 1)",
    ),
    ("18: NOT NULL ... NOT VALID", "ALTER TABLE t ADD CONSTRAINT t_b_not_null NOT NULL b NOT VALID"),
    ("18: NOT ENFORCED", "ALTER TABLE t ADD CONSTRAINT t_a_pos CHECK (a > 0) NOT ENFORCED"),
    (
        "18: temporal foreign keys",
        "CREATE TABLE tr (id bigint, valid_at tstzrange,"
        " FOREIGN KEY (id, PERIOD valid_at) REFERENCES tk (id, PERIOD valid_at))",
    ),
    ("18: uuidv7", "SELECT uuidv7(), uuidv4()"),
    ("18: RETURNING old/new", "UPDATE t SET a = a + 1 RETURNING old.a, new.a"),
    ("18: VACUUM ONLY", "VACUUM (ANALYZE) ONLY pt"),
    ("18: autovacuum_vacuum_max_threshold", "SHOW autovacuum_vacuum_max_threshold"),
]


@pytest.mark.parametrize(("feature", "sql"), RELEASE_NOTE_FEATURES, ids=[f for f, _ in RELEASE_NOTE_FEATURES])
def test_release_note_features_exist_on_18(pg_url, feature, sql):
    """references/postgres-release-notes.md: each feature marked (18 ✓) runs on the embedded 18."""
    with _connect(pg_url) as conn:
        assert conn.execute("SELECT current_setting('server_version_num')::int >= 180000").fetchone() == (
            True,
        )
        conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        conn.execute("CREATE TABLE t (a int, b int)")
        conn.execute("INSERT INTO t VALUES (1, NULL)")
        conn.execute("CREATE TABLE g (a int, b int GENERATED ALWAYS AS (a * 2) STORED)")
        conn.execute("CREATE TABLE pt (k int) PARTITION BY RANGE (k)")
        conn.execute("CREATE TABLE pt_1 PARTITION OF pt FOR VALUES FROM (0) TO (10)")
        conn.execute(
            "CREATE TABLE tk (id bigint, valid_at tstzrange, PRIMARY KEY (id, valid_at WITHOUT OVERLAPS))"
        )
        conn.execute(sql)


def test_release_notes_claims_about_18_defaults(pg_url):
    """references/postgres-release-notes.md: on 18 a generated column is virtual by default, a NOT NULL
    added NOT VALID is a pg_constraint row with convalidated = false, NULLS NOT DISTINCT admits one NULL,
    autovacuum_vacuum_max_threshold defaults to 100,000,000, and SPLIT/MERGE PARTITIONS do not parse."""
    with _connect(pg_url) as conn:
        conn.execute("CREATE TABLE t (a int, b int)")
        conn.execute("INSERT INTO t VALUES (1, NULL)")
        conn.execute("ALTER TABLE t ADD COLUMN v int GENERATED ALWAYS AS (a + 1)")
        assert conn.execute(
            "SELECT attgenerated FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'v'"
        ).fetchone() == ("v",)
        conn.execute("ALTER TABLE t ADD CONSTRAINT t_b_not_null NOT NULL b NOT VALID")
        assert conn.execute(
            "SELECT contype, convalidated FROM pg_constraint WHERE conname = 't_b_not_null'"
        ).fetchone() == ("n", False)
        with pytest.raises(psycopg.errors.NotNullViolation):
            conn.execute("ALTER TABLE t VALIDATE CONSTRAINT t_b_not_null")
        conn.execute("CREATE TABLE u (a int UNIQUE NULLS NOT DISTINCT)")
        conn.execute("INSERT INTO u VALUES (NULL)")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO u VALUES (NULL)")
        assert conn.execute(
            "SELECT boot_val FROM pg_settings WHERE name = 'autovacuum_vacuum_max_threshold'"
        ).fetchone() == ("100000000",)
        conn.execute("CREATE TABLE pt (k int) PARTITION BY RANGE (k)")
        with pytest.raises(psycopg.errors.SyntaxError):
            conn.execute("ALTER TABLE pt MERGE PARTITIONS (a, b) INTO c")
