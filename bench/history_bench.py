"""Benchmark a one-file lint inside a long Alembic history (issue 17).

    python bench/history_bench.py [--revisions N] [--runs N] [--editable]

Generates (in a temporary folder) an Alembic project of N linear revisions (default 450): tables created,
columns added, some type changes, and a head revision that changes the type of a column an early revision
created (so the lint needs its ancestors' state). Times `dbpatterns lint HEAD.py --format json` end to end,
with this checkout pip-installed as lint_bench installs it (``--editable``: the development install),
from the command line: the first run (the ancestors' state computed and cached), then the best of --runs
warm runs (read from the cache), with `python -c pass` as the floor. Target: warm < 150 ms. Exits 0 either
way: it is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from lint_bench import dbpatterns_command, python_of  # bench/ is on sys.path when run as a script

TARGET_MS = 150.0

REVISION = '''"""revision {n}"""
from alembic import op
import sqlalchemy as sa

revision = "r{n:04d}"
down_revision = {parent}
branch_labels = None
depends_on = None


def upgrade():
{body}


def downgrade():
    pass
'''


def body(n: int) -> str:
    table = f"t{n // 5}"
    if n % 5 == 0:
        return (
            f'    op.create_table("{table}", sa.Column("id", sa.Integer(), primary_key=True), '
            f'sa.Column("name", sa.String(100)), sa.Column("amount", sa.Numeric(10, 2)), '
            f'sa.Column("n", sa.Integer()))'
        )
    if n % 5 == 1:
        return f'    op.add_column("{table}", sa.Column("c{n}", sa.Text()))'
    if n % 5 == 2:
        return f'    op.alter_column("{table}", "name", type_=sa.String(200))'
    if n % 5 == 3:
        return f'    op.create_index("ix_{table}_n", "{table}", ["n"])'
    return f'    op.execute("UPDATE {table} SET n = 0 WHERE n IS NULL")'


def generate(root: Path, count: int) -> Path:
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "migrations" / "env.py").write_text("")
    (root / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    for n in range(count):
        parent = f'"r{n - 1:04d}"' if n else "None"
        text = body(n) if n < count - 1 else '    op.alter_column("t0", "n", type_=sa.BigInteger())'
        (versions / f"r{n:04d}_step.py").write_text(REVISION.format(n=n, parent=parent, body=text))
    return versions / f"r{count - 1:04d}_step.py"


def timed(cmd: list[str], env: dict) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    return (time.perf_counter() - start) * 1000, done.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--revisions", type=int, default=450)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--editable", action="store_true", help="time the development install (see lint_bench)")
    a = ap.parse_args()
    command, note = dbpatterns_command(a.editable)  # pip-installed as a user installs it, as lint_bench does
    python = python_of(command)
    with tempfile.TemporaryDirectory(prefix="history-bench-") as tmp:
        head = generate(Path(tmp) / "project", a.revisions)
        env = dict(os.environ, DBPATTERNS_CACHE_DIR=str(Path(tmp) / "cache"))
        cmd = [*command, "lint", str(head), "--format", "json"]
        cold, out = timed(cmd, env)
        findings = json.loads(out)["findings"]
        certain = [f["message"] for f in findings if f["rule"] == "change-column-type"]
        warm = min(timed(cmd, env)[0] for _ in range(a.runs))
        floor = min(timed([python, "-c", "pass"], env)[0] for _ in range(a.runs))
    print(f"one revision in a {a.revisions}-revision history")
    print(f"  first run (ancestors' state computed, cached): {cold:.1f} ms")
    print(
        f"  warm (best of {a.runs}):                      {warm:.1f} ms  target < {TARGET_MS:g} ms "
        f"{'MET' if warm < TARGET_MS else 'NOT MET'}"
    )
    print(f"  python -c pass:                                {floor:.1f} ms")
    print(f"  head's type change: {certain[0] if certain else 'not reported'}")
    if note:
        print(f"note: {note}")


if __name__ == "__main__":
    main()
