"""Benchmark ``dbpatterns drift`` against ``alembic check`` on the same database, in the same run.

    python bench/drift_bench.py [--tables 500] [--per-revision 10] [--repeat 3]

A project whose history builds N tables (each with an identity key, five more columns, two indexes and a
foreign key to the table before it), ten tables a revision, and models that match it, is written to a
temporary folder; a database on one embedded PostgreSQL is migrated to head. Then, each as a subprocess
(end to end: interpreter start, imports, everything):

- ours: ``dbpatterns drift --db URL --format json`` (revision status, the live catalog against the schema
  the history produces on a throwaway embedded server, the models, the checksums);
- anchor: ``alembic check`` (autogenerate's comparison of the models with the same database).

drift keeps the history's schema (and the models' comparison with it) in a cache keyed by the project's
files (see dbpatterns/drift/history.py); the bench gives it an empty cache folder, so its first run is cold
(it runs the whole history on a scratch database) and the next ones are warm, as in CI or a cron job once
the history is unchanged. Prints the cold time, the median of ``--repeat`` warm runs, alembic check's median,
and the ratios (target: ours >= 3x faster than alembic check, and under 3 s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from verify_bench import write_skeleton  # noqa: E402  (the same project layout, env.py and models file)

from dbpatterns.pg import throwaway_server  # noqa: E402


def _table_code(i: int) -> tuple[str, str]:
    """(the op.create_table + op.create_index calls, the sa.Table of the models) of table i."""
    name = f"t{i:04d}"
    fk = f', sa.ForeignKey("t{i - 1:04d}.id")' if i else ""
    columns = [
        'sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True)',
        'sa.Column("name", sa.Text, nullable=False)',
        'sa.Column("amount", sa.Numeric(12, 2), nullable=False, server_default="0")',
        'sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())',
        'sa.Column("note", sa.String(200))',
        f'sa.Column("parent_id", sa.BigInteger{fk})',
    ]
    indexes = [(f"ix_{name}_name", "name"), (f"ix_{name}_parent_id", "parent_id")]
    op = (
        f'    op.create_table(\n        "{name}",\n' + "".join(f"        {c},\n" for c in columns) + "    )\n"
    )
    op += "".join(f'    op.create_index("{ix}", "{name}", ["{col}"])\n' for ix, col in indexes)
    model = f'sa.Table(\n    "{name}",\n    metadata,\n' + "".join(f"    {c},\n" for c in columns)
    model += "".join(f'    sa.Index("{ix}", "{col}"),\n' for ix, col in indexes) + ")\n"
    return op, model


def generate(root: Path, tables: int, per_revision: int) -> None:
    versions = write_skeleton(root)
    models = ["import sqlalchemy as sa", "", "metadata = sa.MetaData()", ""]
    parent = None
    for start in range(0, tables, per_revision):
        ups, downs = [], []
        for i in range(start, min(start + per_revision, tables)):
            op, model = _table_code(i)
            ups.append(op)
            downs.insert(0, f'    op.drop_table("t{i:04d}")\n')
            models.append(model)
        rev = f"{start:06d}abcdef"
        (versions / f"{rev}.py").write_text(
            f'"""tables {start}+"""\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
            f"revision = {rev!r}\ndown_revision = {parent!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
            f"def upgrade():\n{''.join(ups)}\n\ndef downgrade():\n{''.join(downs)}"
        )
        parent = rev
    (root / "bench_models.py").write_text("\n".join(models))


def _run(cmd: list[str], cwd: Path, env: dict, ok=(0,)) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, check=False)
    elapsed = time.perf_counter() - t
    if done.returncode not in ok:
        sys.exit(f"{' '.join(cmd[:4])}... failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return elapsed, done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=500)
    parser.add_argument("--per-revision", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dbpatterns-drift-bench-") as tmp, throwaway_server() as server:
        env = {**os.environ, "PYTHONPATH": str(REPO), "DBPATTERNS_CACHE_DIR": str(Path(tmp) / "cache")}
        project = Path(tmp) / "project"
        generate(project, args.tables, args.per_revision)
        url = server.create_database("live")
        sa_url = server.url("live", driver="psycopg")
        ini = project / "alembic.ini"
        ini.write_text(
            ini.read_text().replace("postgresql+psycopg://localhost/unused", sa_url.replace("%", "%%"))
        )
        alembic = [sys.executable, "-m", "alembic", "-c", str(ini)]
        setup, _ = _run([*alembic, "upgrade", "head"], project, env)
        print(
            f"setup: {args.tables} tables in {-(-args.tables // args.per_revision)} revisions, {setup:.2f} s"
        )

        ours_cmd = [sys.executable, "-m", "dbpatterns.cli", "drift", "--project", str(project), "--db", url]
        ours_cmd += ["--format", "json"]
        ours, anchor = [], []
        for run in range(args.repeat + 1):  # run 0: cold cache
            elapsed, done = _run(ours_cmd, project, env)
            report = json.loads(done.stdout)
            if not report["in_sync"]:
                sys.exit(f"drift found differences on a freshly migrated database: {done.stdout[:2000]}")
            ours.append(elapsed)
            if run:
                elapsed, done = _run([*alembic, "check"], project, env)
                anchor.append(elapsed)
        cold, warm, anchor_s = ours[0], statistics.median(ours[1:]), statistics.median(anchor)
        print(f"dbpatterns drift, cold cache: {cold:.2f} s (runs the history on a scratch database)")
        print(f"dbpatterns drift, warm cache: {warm:.2f} s (runs: {', '.join(f'{t:.2f}' for t in ours[1:])})")
        print(
            f"alembic check:                {anchor_s:.2f} s (runs: {', '.join(f'{t:.2f}' for t in anchor)})"
        )
        print(
            f"ratio warm: dbpatterns drift is {anchor_s / warm:.2f}x faster than alembic check (target >= 3x)"
        )
        print(f"ratio cold: {anchor_s / cold:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
