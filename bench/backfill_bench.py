"""Benchmark the ``backfill`` template of ``dbpatterns new`` on 1,000,000 rows, against the anchor of the
same change done the unsafe way (one ``UPDATE`` of the whole table), in the same run.

    python bench/backfill_bench.py [--rows 1000000] [--batch-size N] [--pause S]

On one embedded PostgreSQL: two identical tables of N rows (bigint primary key, a text payload, a NULL
column to fill). The anchor fills one table with a single UPDATE; the generated revision fills the other
through ``alembic upgrade`` (keyset batches in an autocommit block). A second connection samples pg_locks
every few milliseconds and records how long each transaction held a lock on the table.

Prints rows per second for both, the longest time any single lock on the table was held (sampled, and
the longest batch the revision itself measured), and the ratios. Target: no lock held longer than 1 s at
the default batch size.
"""

from __future__ import annotations

import argparse
import io
import logging
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dbpatterns.pg import throwaway_server  # noqa: E402
from dbpatterns.templates import generate  # noqa: E402
from dbpatterns.templates.patterns import DEFAULT_BATCH_SIZE, DEFAULT_PAUSE  # noqa: E402

ENV_PY = """
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                            poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
"""


class LockSampler(threading.Thread):
    """Polls pg_locks for locks on one table; per transaction, the time from first to last sighting."""

    def __init__(self, url: str, table: str, interval: float = 0.002) -> None:
        super().__init__(daemon=True)
        self.url, self.table, self.interval = url, table, interval
        self.seen: dict[str, list[float]] = {}
        self.samples = 0
        self.stop = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            oid = conn.execute("SELECT %s::regclass::oid", (self.table,)).fetchone()[0]
            query = "SELECT virtualtransaction FROM pg_locks WHERE relation = %s AND pid <> pg_backend_pid()"
            while not self.stop.is_set():
                now = time.monotonic()
                for (vxid,) in conn.execute(query, (oid,), prepare=True).fetchall():
                    span = self.seen.setdefault(vxid, [now, now])
                    span[1] = now
                self.samples += 1
                time.sleep(self.interval)

    def longest(self) -> float:
        return max((last - first for first, last in self.seen.values()), default=0.0)


def fill(conn, table: str, rows: int) -> None:
    conn.execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, payload text NOT NULL, plan text)")
    conn.execute(f"INSERT INTO {table} SELECT g, md5(g::text) FROM generate_series(1, {rows}) g")
    conn.execute(f"VACUUM ANALYZE {table}")


def write_project(root: Path, url: str) -> Path:
    (root / "migrations" / "versions").mkdir(parents=True)
    (root / "migrations" / "env.py").write_text(ENV_PY)
    (root / "alembic.ini").write_text(
        f"[alembic]\nscript_location = %(here)s/migrations\nsqlalchemy.url = {url}\n"
    )
    return root


def timed_with_sampler(url: str, table: str, work) -> tuple[float, float, int]:
    sampler = LockSampler(url, table)
    sampler.start()
    time.sleep(0.05)
    began = time.monotonic()
    work()
    elapsed = time.monotonic() - began
    sampler.stop.set()
    sampler.join()
    return elapsed, sampler.longest(), sampler.samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--pause", type=float, default=DEFAULT_PAUSE)
    args = parser.parse_args()

    import psycopg
    from alembic import command
    from alembic.config import Config

    with throwaway_server() as server, server.scratch_database() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            print(f"filling two tables of {args.rows:,} rows ...", flush=True)
            fill(conn, "anchor_items", args.rows)
            fill(conn, "items", args.rows)

            def anchor():
                conn.execute("UPDATE anchor_items SET plan = 'free' WHERE plan IS NULL")

            anchor_s, anchor_lock, _ = timed_with_sampler(url, "anchor_items", anchor)

        sa_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        with tempfile.TemporaryDirectory() as tmp:
            project = write_project(Path(tmp), sa_url.replace("%", "%%"))
            options = {"table": "items", "column": "plan", "value": "'free'"}
            options |= {"batch_size": args.batch_size, "pause": args.pause}
            (made,) = generate("backfill", options, project)
            config = Config(str(project / "alembic.ini"))
            out = io.StringIO()
            log = logging.getLogger("alembic.runtime.migration")  # the revision logs its progress there
            log.addHandler(logging.StreamHandler(out))
            log.setLevel(logging.INFO)

            def ours():
                command.upgrade(config, "head")

            ours_s, ours_lock, samples = timed_with_sampler(url, "items", ours)

        with psycopg.connect(url, autocommit=True) as conn:
            left = conn.execute("SELECT count(*) FROM items WHERE plan IS NULL").fetchone()[0]
        report = out.getvalue().strip().splitlines()[-1] if out.getvalue().strip() else ""
        match = re.search(r"longest batch ([0-9.]+) s", report)
        longest_batch = float(match.group(1)) if match else float("nan")

    print(
        f"rows: {args.rows:,}; batch size {args.batch_size}, pause {args.pause} s; lock samples: {samples:,}"
    )
    print(
        f"anchor (one UPDATE): {args.rows / anchor_s:>12,.0f} rows/s  longest lock held {anchor_lock:8.3f} s"
    )
    print(f"backfill template:   {args.rows / ours_s:>12,.0f} rows/s  longest lock held {ours_lock:8.3f} s")
    print(f"  the revision's own report: {report}")
    print(f"  rows left unfilled: {left}")
    print(f"ratio rows/s (template / anchor): {anchor_s / ours_s:.2f}x")
    print(f"ratio longest lock (template / anchor): {ours_lock / max(anchor_lock, 1e-9):.4f}x")
    ok = left == 0 and max(ours_lock, longest_batch) <= 1.0
    print(f"target (no lock held longer than 1 s): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
