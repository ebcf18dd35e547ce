"""Benchmark the throwaway PostgreSQL: cold start, cached start, scratch databases.

    python bench/pg_bench.py [--rounds N]

Each figure is a median over rounds, next to its target and to an anchor measured in the same run:
cold start against a bare ``initdb``, cached start against ``pg_ctl -w start`` on the same copied cluster
(the usual way to start a server), scratch databases against PostgreSQL's default ``STRATEGY WAL_LOG``.
The cold starts use empty temporary cache directories; the user's cache is not touched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dbpatterns.pg import cluster, start  # noqa: E402
from dbpatterns.pg.binaries import binaries, run_as  # noqa: E402


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def median_time(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def line(label: str, value: float, target: float | None, anchor_label: str, anchor: float) -> None:
    verdict = "" if target is None else ("  ok" if value < target else "  OVER TARGET")
    target_text = "" if target is None else f" (target < {ms(target).strip()})"
    anchor_text = f"{anchor_label}: {ms(anchor)}  ratio {value / anchor:5.2f}"
    print(f"{label:<26}{ms(value)}{target_text:<22} {anchor_text}{verdict}")


def bench_cold(rounds: int) -> tuple[float, float, Path]:
    bins, user = binaries(), run_as()
    caches = [
        Path(tempfile.mkdtemp(prefix="dbpatterns-bench-cache-", dir=cluster.run_root()))
        for _ in range(rounds)
    ]
    cold, initdb = [], []
    try:
        for cache in caches:
            os.environ["DBPATTERNS_CACHE_DIR"] = str(cache)
            t = time.perf_counter()
            server = start()
            cold.append(time.perf_counter() - t)
            server.stop()
            cluster.wait_for_cache()
            scratch = cluster.make_run_dir(user)
            t = time.perf_counter()
            cluster.initdb(bins, user, scratch / "data")
            initdb.append(time.perf_counter() - t)
            shutil.rmtree(scratch)
        os.environ["DBPATTERNS_CACHE_DIR"] = str(caches[0])  # for the cached starts
    finally:
        for cache in caches[1:]:
            shutil.rmtree(cache, ignore_errors=True)
    return statistics.median(cold), statistics.median(initdb), caches[0]


def bench_cached(rounds: int) -> tuple[float, float, float]:
    bins, user = binaries(), run_as()
    starts, stops = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        server = start()
        starts.append(time.perf_counter() - t)
        assert server.from_cache
        t = time.perf_counter()
        server.stop()
        stops.append(time.perf_counter() - t)

    def pg_ctl_start() -> None:
        run_dir = cluster.make_run_dir(user)
        cluster.prepare_data_dir(bins, user, run_dir / "data")
        opts = f"-k {run_dir} -p 5432 -c listen_addresses= -c fsync=off -c shared_buffers=16MB"
        ctl = [bins.exe("pg_ctl"), "-D", str(run_dir / "data"), "-w", "-l", str(run_dir / "log"), "-o", opts]
        try:
            subprocess.run([*ctl, "start"], check=True, capture_output=True, **user.popen_kwargs())
        finally:
            subprocess.run([*ctl, "-m", "immediate", "stop"], capture_output=True, **user.popen_kwargs())
            shutil.rmtree(run_dir, ignore_errors=True)

    anchor = median_time(pg_ctl_start, max(3, rounds // 2))
    return statistics.median(starts), statistics.median(stops), anchor


def bench_scratch(rounds: int) -> dict[str, float]:
    result = {}
    with start() as server:
        t = time.perf_counter()
        import psycopg  # noqa: F401

        result["import psycopg"] = time.perf_counter() - t
        t = time.perf_counter()
        first = server.create_database()
        result["first (connects)"] = time.perf_counter() - t
        server.drop_database(first)
        for strategy in ("FILE_COPY", "WAL_LOG"):
            names, times = [], []
            for _ in range(rounds):
                t = time.perf_counter()
                names.append(server.create_database(strategy=strategy))
                times.append(time.perf_counter() - t)
            result[strategy] = statistics.median(times)
            result[strategy + " p90"] = sorted(times)[int(len(times) * 0.9) - 1]
            t = time.perf_counter()
            for name in names:
                server.drop_database(name)
            result["drop " + strategy] = (time.perf_counter() - t) / len(names)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    bins = binaries()
    print(f"PostgreSQL {bins.version}, servers under {cluster.run_root()}, {os.cpu_count()} CPUs")

    cold, initdb, cache = bench_cold(max(2, args.rounds // 2))
    try:
        cached, stop, pg_ctl = bench_cached(args.rounds)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        os.environ.pop("DBPATTERNS_CACHE_DIR", None)
    scratch = bench_scratch(max(10, args.rounds * 4))

    print()
    line("cold start (no cache)", cold, 1.5, "bare initdb", initdb)
    line("cached start", cached, 0.3, "pg_ctl -w start", pg_ctl)
    line("scratch database", scratch["FILE_COPY"], 0.1, "WAL_LOG strategy", scratch["WAL_LOG"])
    print()
    print(f"{'stop (fast shutdown+rm)':<26}{ms(stop)}")
    print(f"{'scratch db p90':<26}{ms(scratch['FILE_COPY p90'])}   WAL_LOG p90 {ms(scratch['WAL_LOG p90'])}")
    print(f"{'drop database':<26}{ms(scratch['drop FILE_COPY'])}")
    print(f"{'first scratch db':<26}{ms(scratch['first (connects)'])}   (opens the admin connection)")
    print(f"{'import psycopg':<26}{ms(scratch['import psycopg'])}   (once per process)")


if __name__ == "__main__":
    main()
