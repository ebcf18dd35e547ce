"""The PostgreSQL lock matrix of references/postgres-lock-matrix.md, measured on a real server.

    python -m dbpatterns.pg.lockmatrix > references/postgres-lock-matrix.md

Every statement of :data:`CASES` runs on a fresh copy of a small schema (:data:`BASE`, a few thousand
rows) in a transaction that is rolled back: the locks come from ``pg_locks``, the rewrites from
``relfilenode`` (:mod:`dbpatterns.pg.locks`), the full-table reads from ``pg_stat_get_xact_numscans``.
Statements that cannot run in a transaction block are observed in autocommit (locks sampled from a
second connection). Which lock modes conflict is measured too, with ``LOCK TABLE ... NOWAIT`` from two
connections. What other PostgreSQL versions do is not measured: those notes (``since``) are written by
hand and marked in the table.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass

import psycopg

from dbpatterns.pg import throwaway_server
from dbpatterns.pg.locks import LOCK_MODES, mode_name, observe

BASE = """
CREATE TYPE order_status AS ENUM ('new', 'paid');
CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL,
    code varchar(20),
    qty int NOT NULL DEFAULT 1,
    note text,
    status order_status NOT NULL DEFAULT 'new'
);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE TABLE events (id bigint NOT NULL, at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE events_2027 (id bigint NOT NULL, at timestamptz NOT NULL);
CREATE MATERIALIZED VIEW customer_domains AS SELECT id, split_part(email, '@', 2) AS domain FROM customers;
INSERT INTO customers (email) SELECT 'c' || g || '@example.com' FROM generate_series(1, 200) g;
INSERT INTO orders (customer_id, code, note)
SELECT 1 + g % 200, 'A' || g, 'n' FROM generate_series(1, 3000) g;
INSERT INTO events SELECT g, '2026-03-01'::timestamptz + g * interval '1 minute'
FROM generate_series(1, 500) g;
INSERT INTO events_2027 SELECT g, '2027-03-01'::timestamptz + g * interval '1 minute'
FROM generate_series(1, 500) g;
REFRESH MATERIALIZED VIEW customer_domains;
CREATE UNIQUE INDEX customer_domains_id_idx ON customer_domains (id);
ANALYZE;
"""


@dataclass(frozen=True)
class Case:
    sql: str
    group: str
    setup: str = ""  # run (committed) on top of BASE before the statement
    since: str = ""  # what other versions do: written by hand, not measured


CASES: tuple[Case, ...] = (
    # -- reading and writing --------------------------------------------------------------------------
    Case("SELECT * FROM orders", "Queries"),
    Case("SELECT * FROM orders WHERE id = 1 FOR UPDATE", "Queries"),
    Case("UPDATE orders SET qty = 2 WHERE id = 1", "Queries"),
    # -- columns ---------------------------------------------------------------------------------------
    Case("ALTER TABLE orders ADD COLUMN memo text", "Columns"),
    Case(
        "ALTER TABLE orders ADD COLUMN channel text DEFAULT 'web'",
        "Columns",
        since="PG 10 and older rewrite the table: a non-volatile default is catalog-only since PG 11",
    ),
    Case(
        "ALTER TABLE orders ADD COLUMN priority int NOT NULL DEFAULT 0",
        "Columns",
        since="PG 10 and older rewrite the table (catalog-only since PG 11)",
    ),
    Case(
        "ALTER TABLE orders ADD COLUMN added_at timestamptz DEFAULT now()",
        "Columns",
        since="now() is STABLE: catalog-only since PG 11 (evaluated once); PG 10 and older rewrite",
    ),
    Case("ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid()", "Columns"),
    Case("ALTER TABLE orders ADD COLUMN jitter float8 DEFAULT random()", "Columns"),
    Case("ALTER TABLE orders ADD COLUMN seen_at timestamptz DEFAULT clock_timestamp()", "Columns"),
    Case("ALTER TABLE orders ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY", "Columns"),
    Case("ALTER TABLE orders ADD COLUMN qty2 int GENERATED ALWAYS AS (qty * 2) STORED", "Columns"),
    Case(
        "ALTER TABLE orders ADD COLUMN qty3 int GENERATED ALWAYS AS (qty * 3) VIRTUAL",
        "Columns",
        since="PG 18+ (virtual generated columns are new in 18; older versions only have STORED)",
    ),
    Case("ALTER TABLE orders ADD COLUMN customer2_id bigint REFERENCES customers (id)", "Columns"),
    Case("ALTER TABLE orders ALTER COLUMN qty SET DEFAULT 5", "Columns"),
    Case("ALTER TABLE orders ALTER COLUMN note SET NOT NULL", "Columns"),
    Case(
        "ALTER TABLE orders ALTER COLUMN note SET NOT NULL",
        "Columns",
        setup="ALTER TABLE orders ADD CONSTRAINT orders_note_not_null CHECK (note IS NOT NULL)",
        since="with a validated CHECK (note IS NOT NULL) already in place: no scan since PG 12; "
        "PG 11 and older scan anyway",
    ),
    Case(
        "ALTER TABLE orders ADD CONSTRAINT orders_note_nn NOT NULL note NOT VALID",
        "Columns",
        since="PG 18+ (NOT NULL constraints marked NOT VALID are new in 18)",
    ),
    Case(
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_note_nn",
        "Columns",
        setup="ALTER TABLE orders ADD CONSTRAINT orders_note_nn NOT NULL note NOT VALID",
        since="PG 18+",
    ),
    Case(
        "ALTER TABLE orders ALTER COLUMN note DROP NOT NULL", "Columns", setup="UPDATE orders SET note = 'x'"
    ),
    Case("ALTER TABLE orders ALTER COLUMN qty TYPE bigint", "Columns"),
    Case("ALTER TABLE orders ALTER COLUMN code TYPE varchar(40)", "Columns"),
    Case("ALTER TABLE orders ALTER COLUMN code TYPE text", "Columns"),
    Case("ALTER TABLE orders ALTER COLUMN code TYPE varchar(10)", "Columns"),
    Case("ALTER TABLE orders RENAME COLUMN note TO remark", "Columns"),
    Case("ALTER TABLE orders DROP COLUMN note", "Columns"),
    # -- constraints -----------------------------------------------------------------------------------
    Case("ALTER TABLE orders ADD CONSTRAINT orders_qty_positive CHECK (qty > 0)", "Constraints"),
    Case("ALTER TABLE orders ADD CONSTRAINT orders_qty_positive CHECK (qty > 0) NOT VALID", "Constraints"),
    Case(
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_qty_positive",
        "Constraints",
        setup="ALTER TABLE orders ADD CONSTRAINT orders_qty_positive CHECK (qty > 0) NOT VALID",
    ),
    Case(
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) "
        "REFERENCES customers (id)",
        "Constraints",
    ),
    Case(
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) "
        "REFERENCES customers (id) NOT VALID",
        "Constraints",
    ),
    Case(
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk",
        "Constraints",
        setup="ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) "
        "REFERENCES customers (id) NOT VALID",
    ),
    Case("ALTER TABLE orders ADD CONSTRAINT orders_code_key UNIQUE (code)", "Constraints"),
    Case(
        "ALTER TABLE orders ADD CONSTRAINT orders_code_key UNIQUE USING INDEX orders_code_idx",
        "Constraints",
        setup="CREATE UNIQUE INDEX orders_code_idx ON orders (code)",
    ),
    Case("ALTER TABLE orders DROP CONSTRAINT orders_pkey CASCADE", "Constraints"),
    # -- indexes ---------------------------------------------------------------------------------------
    Case("CREATE INDEX orders_code_idx ON orders (code)", "Indexes"),
    Case(
        "CREATE INDEX CONCURRENTLY orders_code_idx ON orders (code)",
        "Indexes",
        since="cannot run in a transaction block; PG 14.0-14.3 could corrupt the index (fixed in 14.4)",
    ),
    Case("DROP INDEX orders_customer_id_idx", "Indexes"),
    Case("DROP INDEX CONCURRENTLY orders_customer_id_idx", "Indexes"),
    Case("REINDEX INDEX orders_customer_id_idx", "Indexes"),
    Case("REINDEX INDEX CONCURRENTLY orders_customer_id_idx", "Indexes", since="PG 12+"),
    # -- tables ----------------------------------------------------------------------------------------
    Case("CREATE TABLE payments (id bigint PRIMARY KEY, order_id bigint REFERENCES orders (id))", "Tables"),
    Case("CREATE TABLE orders_copy (LIKE orders INCLUDING ALL)", "Tables"),
    Case("ALTER TABLE orders RENAME TO purchases", "Tables"),
    Case("ALTER TABLE orders SET (fillfactor = 90)", "Tables"),
    Case("ALTER TABLE orders ALTER COLUMN qty SET STATISTICS 500", "Tables"),
    Case("ALTER TABLE orders SET UNLOGGED", "Tables"),
    Case(
        "CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW "
        "EXECUTE FUNCTION suppress_redundant_updates_trigger()",
        "Tables",
    ),
    Case("COMMENT ON TABLE orders IS 'one row per order'", "Tables"),
    Case("LOCK TABLE orders", "Tables"),
    Case("TRUNCATE orders", "Tables"),
    Case("DROP TABLE orders", "Tables"),
    # -- maintenance -----------------------------------------------------------------------------------
    Case("ANALYZE orders", "Maintenance"),
    Case("VACUUM orders", "Maintenance"),
    Case("VACUUM FULL orders", "Maintenance"),
    Case("CLUSTER orders USING orders_pkey", "Maintenance"),
    Case("REFRESH MATERIALIZED VIEW customer_domains", "Maintenance"),
    Case("REFRESH MATERIALIZED VIEW CONCURRENTLY customer_domains", "Maintenance"),
    # -- types and partitions --------------------------------------------------------------------------
    Case(
        "ALTER TYPE order_status ADD VALUE 'shipped'",
        "Enums and partitions",
        since="allowed in a transaction block since PG 12, but the new value cannot be used before COMMIT; "
        "PG 11 and older refuse it in a transaction block",
    ),
    Case(
        "ALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')",
        "Enums and partitions",
        since="SHARE UPDATE EXCLUSIVE on the parent since PG 12; ACCESS EXCLUSIVE before",
    ),
    Case(
        "ALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')",
        "Enums and partitions",
        setup="ALTER TABLE events_2027 ADD CONSTRAINT events_2027_bounds "
        "CHECK (at >= '2027-01-01' AND at < '2028-01-01')",
        since="a validated CHECK that implies the bounds skips the scan (since PG 10)",
    ),
    Case(
        "CREATE TABLE events_2028 PARTITION OF events FOR VALUES FROM ('2028-01-01') TO ('2029-01-01')",
        "Enums and partitions",
    ),
    Case("CREATE INDEX events_id_idx ON ONLY events (id)", "Enums and partitions"),
    Case("ALTER TABLE events DETACH PARTITION events_2026", "Enums and partitions"),
    Case(
        "ALTER TABLE events DETACH PARTITION events_2026 CONCURRENTLY",
        "Enums and partitions",
        since="PG 14+; cannot run in a transaction block",
    ),
)

# which lock modes block which everyday statement
BLOCKS_READS = {"ACCESS EXCLUSIVE"}
BLOCKS_WRITES = {"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"}

_TABLES_SQL = """
SELECT oid, relname::text FROM pg_class
WHERE relkind IN ('r', 'p', 'm') AND relnamespace = 'public'::regnamespace
"""
_HELD_SQL = "SELECT relation, mode FROM pg_locks WHERE locktype = 'relation' AND pid = pg_backend_pid()"


@dataclass(frozen=True)
class Row:
    case: Case
    locks: list[tuple[str, str]]  # on tables that existed before the statement, strongest first
    rewritten: list[str]  # tables given a new relfilenode
    scanned: list[str]  # tables read in full (sequential scans) by the statement
    in_transaction: bool  # False: it must run in autocommit (and its locks were sampled)


def measure(url: str, case: Case) -> Row:
    """Run ``case`` on the database at ``url`` (BASE already in it) and read what it did."""
    with psycopg.connect(url, autocommit=True) as conn:
        if case.setup:
            conn.execute(case.setup)
        tables = dict(conn.execute(_TABLES_SQL).fetchall())  # oid -> name, before the statement
        conn.execute("BEGIN")
        try:
            nodes_before = _filenodes(conn, tables)
            scans_before = _scans(conn, tables)
            conn.execute(case.sql)
        except psycopg.errors.ActiveSqlTransaction:
            conn.execute("ROLLBACK")
        else:
            held = conn.execute(_HELD_SQL).fetchall()
            locks = [(tables[oid], mode_name(mode)) for oid, mode in held if oid in tables]
            nodes_after = _filenodes(conn, tables)
            scans_after = _scans(conn, tables)
            conn.execute("ROLLBACK")
            changed = [t for t, node in nodes_after.items() if node is not None and node != nodes_before[t]]
            scanned = [t for t, n in scans_after.items() if n > scans_before[t]]
            return _row(case, locks, changed, scanned, True)
    return _row(case, *_observe_autocommit(url, case.sql, tables), [], False)


def _filenodes(conn: psycopg.Connection, tables: dict[int, str]) -> dict[str, int | None]:
    rows = conn.execute("SELECT oid, pg_relation_filenode(oid) FROM unnest(%s::oid[]) oid", (list(tables),))
    return {tables[oid]: node for oid, node in rows}


def _scans(conn: psycopg.Connection, tables: dict[int, str]) -> dict[str, int]:
    rows = conn.execute(
        "SELECT oid, pg_stat_get_xact_numscans(oid) FROM unnest(%s::oid[]) oid", (list(tables),)
    )
    return {tables[oid]: n for oid, n in rows}


def _observe_autocommit(url: str, sql: str, tables: dict[int, str]):
    """Locks and rewrites of a statement that must run in autocommit, sampled from a second connection.

    Sampling alone can miss a brief lock, so two other transactions make the statement wait where it
    locks: one holds SHARE UPDATE EXCLUSIVE on every table (the first lock request of every such
    statement conflicts with it), one ACCESS SHARE on every plain table and partition (a later ACCESS
    EXCLUSIVE waits for it). Each lets go 50 ms after the statement is seen waiting, or when it ends.
    """
    result: dict = {}
    first = psycopg.connect(url, autocommit=True)
    second = psycopg.connect(url, autocommit=True)
    with first, second:
        _hold(first, "('r', 'p')", "SHARE UPDATE EXCLUSIVE")
        _hold(second, "('r')", "ACCESS SHARE")

        def run() -> None:
            try:
                result["seen"] = observe(url, None, sql, autocommit=True)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                result["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        for blocker in (first, second):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and thread.is_alive():
                if blocker.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()[0]:
                    time.sleep(0.05)  # long enough for the sampler to see the wait
                    break
                time.sleep(0.002)
            blocker.execute("ROLLBACK")
        thread.join()
    if "error" in result:
        raise result["error"]
    seen = result["seen"]
    names = set(tables.values())
    return [(rel, mode) for rel, mode in seen.locks if rel in names], sorted(seen.rewritten & names)


def _hold(conn: psycopg.Connection, kinds: str, mode: str) -> None:
    conn.execute("BEGIN")
    query = f"SELECT relname FROM pg_class WHERE relkind IN {kinds} AND relnamespace = 'public'::regnamespace"
    for (name,) in sorted(conn.execute(query).fetchall()):
        conn.execute(f"LOCK TABLE {name} IN {mode} MODE")


def _row(case, locks, changed, scanned, in_transaction) -> Row:
    strongest: dict[str, str] = {}
    for rel, mode in locks:
        if rel not in strongest or LOCK_MODES.index(mode) > LOCK_MODES.index(strongest[rel]):
            strongest[rel] = mode
    return Row(case, sorted(strongest.items()), sorted(changed), sorted(scanned), in_transaction)


def conflicts(url: str) -> dict[tuple[str, str], bool]:
    """(held, requested) -> True when a transaction holding ``held`` makes ``requested`` wait."""
    out = {}
    with psycopg.connect(url, autocommit=True) as a, psycopg.connect(url, autocommit=True) as b:
        a.execute("CREATE TABLE lock_probe (id int)")
        try:
            for held in LOCK_MODES:
                a.execute("BEGIN")
                a.execute(f"LOCK TABLE lock_probe IN {held} MODE")
                for requested in LOCK_MODES:
                    b.execute("BEGIN")
                    try:
                        b.execute(f"LOCK TABLE lock_probe IN {requested} MODE NOWAIT")
                        out[held, requested] = False
                    except psycopg.errors.LockNotAvailable:
                        out[held, requested] = True
                    b.execute("ROLLBACK")
                a.execute("ROLLBACK")
        finally:
            a.execute("DROP TABLE lock_probe")
    return out


def collect(server) -> tuple[list[Row], dict[tuple[str, str], bool]]:
    """Measure every case on ``server`` (a :class:`dbpatterns.pg.Server`), each on a fresh copy of BASE."""
    with server.scratch_database() as template_url:
        with psycopg.connect(template_url, autocommit=True) as conn:
            conn.execute(BASE)
        template = template_url.split("?", 1)[0].rsplit("/", 1)[1]
        rows = []
        for case in CASES:
            with server.scratch_database(template=template) as url:
                rows.append(measure(url, case))
        with server.scratch_database() as url:
            table = conflicts(url)
    return rows, table


def _blocks(modes) -> str:
    modes = set(modes)
    if BLOCKS_READS & modes:
        return "reads and writes"
    if BLOCKS_WRITES & modes:
        return "writes"
    return "no reads or writes" if modes else "nothing"


def render(rows: list[Row], table: dict[tuple[str, str], bool], major: int) -> str:
    out = [
        "# PostgreSQL lock matrix",
        "",
        "<!-- generated by `python -m dbpatterns.pg.lockmatrix`; tests/test_lock_matrix.py checks it -->",
        "",
        f"Measured on PostgreSQL {major} (the embedded server). Each statement ran on a fresh copy of a "
        "small schema (`orders`: 3,000 rows with a `customer_id` for `customers`; an enum; a partitioned "
        "`events`; a materialized view) in a transaction that was rolled back. **Locks**: the strongest "
        "mode per existing table, from `pg_locks`. **Rewrites**: the table got a new `relfilenode` (a full "
        "copy of the table and its indexes; for `TRUNCATE`, an empty new file). **Full scan**: the tables "
        "the statement read sequentially (`pg_stat_get_xact_numscans`): a validation or a rewrite reads "
        "every row; `TRUNCATE`'s scan is the index rebuild over its empty new file. Statements marked "
        "*autocommit* cannot run in a transaction block: their locks were sampled from a second connection "
        "while other sessions held conflicting locks, so each lock request was seen waiting.",
        "",
        "The **other versions** column is written by hand, not measured: rows with a note there are "
        "version-dependent. PostgreSQL 19 was released on 2026-11-19; nothing here was measured on it. "
        "Check a statement on your own server with `dbpatterns trace FILE.sql --db URL`.",
        "",
        "Reading the table: a lock that **blocks reads** (ACCESS EXCLUSIVE) stops even `SELECT`; a lock "
        "that **blocks writes** stops `INSERT`/`UPDATE`/`DELETE`. Either way, while the statement *waits* "
        "for its lock, every later statement that conflicts with it queues behind it: see "
        "[rules/zero-downtime-lock-levels.md](../rules/zero-downtime-lock-levels.md).",
        "",
    ]
    group = None
    for row in rows:
        if row.case.group != group:
            group = row.case.group
            out += [
                f"## {group}",
                "",
                "| Statement | Locks | Blocks | Rewrites | Full scan | Other versions |",
                "| --- | --- | --- | --- | --- | --- |",
            ]
        sql = f"`{row.case.sql}`"
        if row.case.setup:
            sql += f" after `{row.case.setup}`"
        if not row.in_transaction:
            sql += " *autocommit*"
        locks = "; ".join(f"`{rel}` {mode}" for rel, mode in row.locks) or "none on a table"
        rewrites = ", ".join(f"`{t}`" for t in row.rewritten) or "no"
        scanned = ", ".join(f"`{t}`" for t in row.scanned) if row.in_transaction else "not measured"
        scanned = scanned or "no"
        note = f"**version-dependent:** {row.case.since}" if row.case.since else ""
        cells = [sql, locks, _blocks(m for _, m in row.locks)]
        cells += [rewrites, scanned, note]
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        if row.case is CASES[-1] or (rows[rows.index(row) + 1].case.group != group):
            out.append("")
    out += [
        "## Which modes conflict",
        "",
        "Measured with `LOCK TABLE ... NOWAIT` from a second connection: **X** means a transaction "
        "holding the row's mode makes a request for the column's mode wait.",
        "",
        "| held \\ requested | " + " | ".join(_short(m) for m in LOCK_MODES) + " |",
        "| --- |" + " --- |" * len(LOCK_MODES),
    ]
    for held in LOCK_MODES:
        marks = ["X" if table[held, req] else "" for req in LOCK_MODES]
        out.append(f"| {held} | " + " | ".join(marks) + " |")
    out += [
        "",
        "Everyday statements take: `SELECT` ACCESS SHARE; `SELECT ... FOR UPDATE/SHARE` ROW SHARE; "
        "`INSERT`/`UPDATE`/`DELETE`/`MERGE` ROW EXCLUSIVE; autovacuum SHARE UPDATE EXCLUSIVE.",
        "",
    ]
    return "\n".join(out)


def _short(mode: str) -> str:
    return "".join(word[0] for word in mode.split())


def main() -> int:
    with throwaway_server() as server:
        rows, table = collect(server)
        sys.stdout.write(render(rows, table, server.version // 10000))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
