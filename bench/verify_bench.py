"""Benchmark ``dbpatterns verify`` against pytest-alembic on the same generated project, in the same run.

    python bench/verify_bench.py [--revisions 100]

A project of N revisions (tables, each with a unique column and a NOT NULL foreign key to the table before
it, nullable columns, indexes, check constraints, views, enum types, table comments; every downgrade
correct) and matching models is written to a temporary folder. Both tools run
as subprocesses against scratch databases on one embedded PostgreSQL:

- ours: ``dbpatterns verify --db SERVER --format json`` (single head, upgrade, models, downgrade,
  stairway, downgrade leaves no trace, downgrade keeps data), every table filled with generated rows
  before each revision (``--rows``, default verify's own default; 0 for the empty-table run);
- pytest-alembic: its default tests (test_single_head_revision, test_upgrade,
  test_model_definitions_match_ddl, test_up_down_consistency) plus the experimental
  test_downgrade_leaves_no_trace, each on a fresh scratch database.

Prints both wall times and the ratio (target: ours <= 0.3x pytest-alembic's).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dbpatterns.pg import throwaway_server  # noqa: E402

ENV_PY = """
from alembic import context
from sqlalchemy import engine_from_config, pool

import bench_models

config = context.config
target_metadata = bench_models.metadata


def run() -> None:
    # a Connection (dbpatterns), an Engine or a connection wrapper (pytest-alembic), or nothing
    connectable = config.attributes.get("connection")
    if connectable is None:
        connectable = engine_from_config(
            config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
        )
    with connectable.connect() if hasattr(connectable, "connect") else connectable as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run()
"""

CONFTEST = """
import psycopg
import pytest
import sqlalchemy as sa

SERVER = {server!r}  # libpq URL of the server's postgres database
_count = [0]


@pytest.fixture
def alembic_engine():
    _count[0] += 1
    name = f"pa_bench_{{_count[0]}}"
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {{name}}")
    url = SERVER.replace("postgresql://", "postgresql+psycopg://").replace("/postgres?", f"/{{name}}?")
    engine = sa.create_engine(url)
    yield engine
    engine.dispose()
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {{name}} WITH (FORCE)")
"""

PA_TESTS = """
from pytest_alembic.tests import (  # noqa: F401
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from pytest_alembic.tests.experimental import test_downgrade_leaves_no_trace  # noqa: F401
"""


def write_skeleton(root: Path) -> Path:
    """An Alembic project at ``root`` with ENV_PY, models in bench_models.py (written by the caller) and no
    revisions yet; its versions folder."""
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "migrations" / "env.py").write_text(ENV_PY)
    (root / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s/migrations\nprepend_sys_path = .\npath_separator = os\n"
        "sqlalchemy.url = postgresql+psycopg://localhost/unused\n"
    )
    (root / "pyproject.toml").write_text('[tool.dbpatterns]\nmodels = "bench_models:metadata"\n')
    return versions


def generate(root: Path, count: int) -> None:
    """``count`` revisions with correct downgrades, and models that match the head."""
    versions = write_skeleton(root)
    tables: dict[str, list[str]] = {}  # table -> model lines
    parent = None
    table = ""
    for i in range(count):
        kind = i % 7 if i else 0
        if kind == 0:
            previous, table = table, f"t{i:03d}"
            columns = [
                'sa.Column("id", sa.Integer, primary_key=True)',
                'sa.Column("name", sa.Text, nullable=False)',
                'sa.Column("code", sa.Text, nullable=False)',
                f'sa.UniqueConstraint("code", name="uq_{table}_code")',
            ]
            if previous:
                columns += [
                    'sa.Column("parent_id", sa.Integer, nullable=False)',
                    f'sa.ForeignKeyConstraint(["parent_id"], ["{previous}.id"], name="fk_{table}_parent")',
                ]
            up = f'op.create_table(\n    "{table}",\n' + "".join(f"    {c},\n" for c in columns) + ")"
            down = f'op.drop_table("{table}")'
            tables[table] = list(columns)
        elif kind == 1:
            up = f'op.add_column("{table}", sa.Column("c{i:03d}", sa.Integer, nullable=True))'
            down = f'op.drop_column("{table}", "c{i:03d}")'
            tables[table].append(f'sa.Column("c{i:03d}", sa.Integer, nullable=True)')
        elif kind == 2:
            up = f'op.create_index("ix_{i:03d}", "{table}", ["name"])'
            down = f'op.drop_index("ix_{i:03d}", table_name="{table}")'
            tables[table].append(f'sa.Index("ix_{i:03d}", "name")')
        elif kind == 3:
            up = f'op.create_check_constraint("ck_{i:03d}", "{table}", "id > 0")'
            down = f'op.drop_constraint("ck_{i:03d}", "{table}", type_="check")'
            tables[table].append(f'sa.CheckConstraint("id > 0", name="ck_{i:03d}")')
        elif kind == 4:
            up = f'op.execute("CREATE VIEW v{i:03d} AS SELECT id, name FROM {table}")'
            down = f'op.execute("DROP VIEW v{i:03d}")'
        elif kind == 5:
            up = f"op.execute(\"CREATE TYPE e{i:03d} AS ENUM ('a', 'b', 'c')\")"
            down = f'op.execute("DROP TYPE e{i:03d}")'
        else:
            up = f'op.create_table_comment("{table}", "table {table}")'
            down = f'op.drop_table_comment("{table}", existing_comment="table {table}")'
            tables[table].append(f'comment="table {table}"')
        rev = f"{i:04d}abcdef"
        (versions / f"{rev}.py").write_text(
            f'"""step {i}"""\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
            f"revision = {rev!r}\ndown_revision = {parent!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
            f"def upgrade():\n{textwrap.indent(up, '    ')}\n\n\ndef downgrade():\n"
            f"{textwrap.indent(down, '    ')}\n"
        )
        parent = rev
    models = ["import sqlalchemy as sa", "", "metadata = sa.MetaData()", ""]
    for name, lines in tables.items():
        body = "".join(f"    {line},\n" for line in lines)
        models.append(f'sa.Table(\n    "{name}",\n    metadata,\n{body})\n')
    (root / "bench_models.py").write_text("\n".join(models))


def run_ours(project: Path, server_url: str, rows: int | None = None) -> tuple[float, dict]:
    cmd = [sys.executable, "-m", "dbpatterns.cli", "verify", "--project", str(project)]
    cmd += ["--db", server_url, "--format", "json"]
    if rows is not None:
        cmd += ["--rows", str(rows)]
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)
    elapsed = time.perf_counter() - t
    if done.returncode not in (0, 1):
        sys.exit(f"dbpatterns verify failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return elapsed, json.loads(done.stdout)


def run_pytest_alembic(project: Path, server_url: str) -> tuple[float, str]:
    tests = project / "tests"
    tests.mkdir(exist_ok=True)
    (tests / "conftest.py").write_text(CONFTEST.format(server=server_url))
    (tests / "test_pytest_alembic.py").write_text(PA_TESTS)
    # pytest-alembic's own collector is off: its tests are imported into a test module instead
    (project / "pytest.ini").write_text(
        "[pytest]\npytest_alembic_tests_path = not-collected.py\npythonpath = .\n"
    )
    env = {**os.environ, "PYTHONPATH": str(project)}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:dbpatterns", "tests"]
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=project, env=env, check=False)
    elapsed = time.perf_counter() - t
    summary = (done.stdout.strip().splitlines() or [""])[-1]
    if done.returncode != 0:
        print(done.stdout[-4000:], file=sys.stderr)
    return elapsed, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=100)
    parser.add_argument("--rows", type=int, default=None, help="verify's --rows (default: its default)")
    parser.add_argument("--also-empty", action="store_true", help="also time ours with --rows 0")
    args = parser.parse_args()
    try:
        import pytest_alembic  # noqa: F401
    except ImportError:
        sys.exit("pytest-alembic is not installed: pip install -e '.[dev]'")
    with tempfile.TemporaryDirectory(prefix="dbpatterns-verify-bench-") as tmp, throwaway_server() as server:
        project = Path(tmp) / "project"
        generate(project, args.revisions)
        ours, report = run_ours(project, server.url(), args.rows)
        empty = run_ours(project, server.url(), 0)[0] if args.also_empty else None
        theirs, summary = run_pytest_alembic(project, server.url())
    failed = [c for c in report["checks"] if not c["ok"]]
    rows = "default rows" if args.rows is None else f"--rows {args.rows}"
    print(f"project: {args.revisions} revisions")
    print(
        f"dbpatterns verify: {ours:7.2f} s  ({rows}: {report.get('generated_rows', 0)} generated; "
        f"{len(report['checks'])} checks, {len(failed)} failed)"
    )
    for check in failed:
        print(f"  FAIL {check['name']} [{check['revision']}]: {check['detail'][:300]}")
    for note in report.get("notes", []):
        print(f"  note {note[:300]}")
    if empty is not None:
        print(f"dbpatterns verify: {empty:7.2f} s  (--rows 0)  ratio {empty / theirs:.2f}x")
    print(f"pytest-alembic:    {theirs:7.2f} s  ({summary})")
    ratio = ours / theirs
    print(f"ratio: {ratio:.2f}x (target <= 0.30x): {'met' if ratio <= 0.3 else 'NOT met'}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
