"""A 20 MB SQL file through the command line (issue 18): refused by the default size cap, then linted with
the cap raised (``max_file_mb = 30`` in [tool.dbpatterns]): peak memory (ru_maxrss of the child, from
os.wait4) and wall time per output format, against the 500 MiB target. Also the size of the SARIF written.

    .venv/bin/python bench/big_file_bench.py [--mb 20]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_MIB = 500

STATEMENTS = [
    "ALTER TABLE t{i} ADD COLUMN c{i} int NOT NULL DEFAULT 0;\n",
    "CREATE INDEX ix_{i} ON t{i} (c);\n",
    "UPDATE t{i} SET c = c + 1 WHERE id > {i};\n",
    "INSERT INTO t{i} (id, name) VALUES ({i}, 'row number {i} with some text in it');\n",
]


def write_sql(path: Path, megabytes: float) -> int:
    size, i = 0, 0
    with path.open("w") as out:
        while size < megabytes * 1_000_000:
            line = STATEMENTS[i % len(STATEMENTS)].format(i=i)
            out.write(line)
            size += len(line)
            i += 1
    return i


def run(args: list[str], cwd: Path, stdout) -> tuple[int, float, float, str]:
    """(exit code, peak MiB, seconds, stderr's first line) of ``dbpatterns ARGS``."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dbpatterns.cli", *args], cwd=cwd, stdout=stdout, stderr=subprocess.PIPE
    )
    err = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    return code, usage.ru_maxrss / 1024, seconds, (err.strip().splitlines() or [""])[0][:160]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=20.0)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sql = root / "big.sql"
        count = write_sql(sql, opts.mb)
        print(f"{sql.stat().st_size / 1e6:.1f} MB, {count} statements")
        with open(os.devnull, "wb") as null:
            code, peak, seconds, err = run(["lint", str(sql)], root, null)
        print(f"default cap:  exit {code}  peak {peak:7.1f} MiB  {seconds:6.2f} s  {err}")
        (root / "pyproject.toml").write_text(f"[tool.dbpatterns]\nmax_file_mb = {opts.mb + 10:g}\n")
        worst = 0.0
        for fmt in ("text", "json", "sarif", "github"):
            out = root / f"out.{fmt}"
            with out.open("wb") as handle:
                code, peak, seconds, err = run(["lint", str(sql), "--format", fmt], root, handle)
            worst = max(worst, peak)
            size = out.stat().st_size / 1e6
            line = f"exit {code}  peak {peak:7.1f} MiB  {seconds:6.2f} s  output {size:.1f} MB"
            print(f"cap raised, {fmt:6}: {line}")
        verdict = "ok" if worst < TARGET_MIB else "OVER"
        print(f"worst peak {worst:.1f} MiB against the {TARGET_MIB} MiB target: {verdict}")
        return 0 if worst < TARGET_MIB else 1


if __name__ == "__main__":
    sys.exit(main())
