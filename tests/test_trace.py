"""dbpatterns trace: a migration run statement by statement on a scratch database (real PostgreSQL).

Most tests trace on the session server through ``db=`` (the ``--db`` path: a scratch database created
and dropped on it); the CLI tests that need the embedded default run with their own run directory so
leftovers can be counted.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import psycopg
import pytest

from dbpatterns.cli import main
from dbpatterns.errors import InputError
from dbpatterns.findings import Finding
from dbpatterns.trace import cross_check, trace_revision, trace_sql
from dbpatterns.trace.execute import run_setup, split
from dbpatterns.trace.fill import fill

SETUP = "CREATE TABLE t (id int PRIMARY KEY, v varchar(100));\n"


@pytest.fixture
def server_url(pg_server):
    return pg_server.url("postgres")


def _our_run_dirs() -> set[Path]:
    """Throwaway-server directories this test process owns (the session server's among them)."""
    import os

    from dbpatterns.pg.cluster import RUN_PREFIX, run_root

    found = set()
    for path in run_root().glob(f"{RUN_PREFIX}*"):
        try:
            if (path / "owner").read_text().split()[0] == str(os.getpid()):
                found.add(path)
        except (OSError, IndexError):
            pass
    return found


def _scratch_dbs(pg_server) -> set[str]:
    with pg_server.connect(autocommit=True) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'dbpatterns_trace_%'")
        return {name for (name,) in rows}


def test_int_to_bigint_rewrites_under_access_exclusive(server_url):
    (stmt,) = trace_sql("ALTER TABLE t ALTER COLUMN id TYPE bigint;", setup=SETUP, rows=200, db=server_url)
    assert stmt.mode("t") == "ACCESS EXCLUSIVE"
    assert {"t", "t_pkey"} <= set(stmt.rewritten)
    assert ("t", True, True, "ACCESS EXCLUSIVE") in stmt.blocks()  # relation, reads, writes, mode
    assert stmt.duration_ms > 0 and stmt.line == 1


def test_varchar_widening_does_not_rewrite(server_url):
    (stmt,) = trace_sql(
        "ALTER TABLE t ALTER COLUMN v TYPE varchar(200)", setup=SETUP, rows=200, db=server_url
    )
    assert stmt.mode("t") == "ACCESS EXCLUSIVE"
    assert stmt.rewritten == []


def test_create_index_concurrently_takes_share_update_exclusive(server_url):
    change = "SET lock_timeout = '2s';\n\nCREATE INDEX CONCURRENTLY t_v ON t (v);\n"
    traces = trace_sql(change, setup=SETUP, rows=20000, db=server_url)
    index = traces[-1]
    assert index.line == 3 and not index.in_transaction
    assert index.mode("t") == "SHARE UPDATE EXCLUSIVE"
    assert index.blocks() == [] or all(b.relation != "t" for b in index.blocks())


def test_statements_in_one_block_keep_their_locks(server_url):
    change = "BEGIN;\nALTER TABLE t ADD COLUMN x int;\nCREATE INDEX t_x ON t (x);\nCOMMIT;\n"
    add, index = trace_sql(change, setup=SETUP, db=server_url)
    assert (add.line, index.line) == (2, 3)
    assert index.mode("t") == "ACCESS EXCLUSIVE"  # still held from the ADD COLUMN
    assert index.mode("t", acquired_only=True) is None or index.mode("t", acquired_only=True) == "SHARE"


def test_rows_fill_respects_foreign_keys_not_null_unique_and_checks(pg_url):
    setup = """
    CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
    CREATE TABLE a_child (
        id bigint PRIMARY KEY,
        parent_id int NOT NULL REFERENCES z_parent (id),
        status text NOT NULL CHECK (status IN ('new', 'done')),
        qty int CHECK (qty > 0),
        code varchar(20) NOT NULL UNIQUE,
        created timestamptz NOT NULL DEFAULT now(),
        token uuid UNIQUE,
        extra jsonb,
        m mood NOT NULL
    );
    CREATE TABLE only_ids (id serial PRIMARY KEY);
    """
    parent = (
        "CREATE TABLE z_parent (id serial PRIMARY KEY, name text NOT NULL UNIQUE, flag boolean NOT NULL);"
    )
    run_setup(pg_url, split(parent + setup, "setup"), "setup")
    assert fill(pg_url, 500) == {"z_parent": 500, "a_child": 500, "only_ids": 500}
    with psycopg.connect(pg_url) as conn:
        joined = conn.execute(
            "SELECT count(*) FROM a_child c JOIN z_parent p ON p.id = c.parent_id"
        ).fetchone()
        statuses = conn.execute("SELECT array_agg(DISTINCT status ORDER BY status) FROM a_child").fetchone()
    assert joined == (500,)
    assert statuses == (["done", "new"],)


def _project(tmp_path: Path) -> Path:
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    migrations = tmp_path / "migrations"
    (migrations / "versions").mkdir(parents=True)
    (migrations / "env.py").write_text(
        textwrap.dedent(
            """
            from alembic import context
            from sqlalchemy import engine_from_config, pool

            config = context.config
            engine = engine_from_config(
                config.get_section(config.config_ini_section), prefix="sqlalchemy.", poolclass=pool.NullPool
            )
            with engine.connect() as connection:
                context.configure(connection=connection, target_metadata=None)
                with context.begin_transaction():
                    context.run_migrations()
            """
        )
    )
    revisions = {
        "r1": (None, 'op.execute("CREATE TABLE t (id int PRIMARY KEY, name varchar(50))")'),
        "r2": (
            "r1",
            'op.alter_column("t", "id", type_=sa.BigInteger(), existing_type=sa.Integer())\n'
            '    op.create_index("t_name", "t", ["name"])',
        ),
    }
    for rev, (down, body) in revisions.items():
        (migrations / "versions" / f"{rev}.py").write_text(
            "import sqlalchemy as sa\nfrom alembic import op\n\n"
            f"revision = {rev!r}\ndown_revision = {down!r}\n"
            f"\n\ndef upgrade():\n    {body}\n\n\ndef downgrade():\n    pass\n"
        )
    return tmp_path


def test_revision_is_traced_on_a_database_at_its_parent(tmp_path, server_url, pg_server):
    project = _project(tmp_path)
    alter, index = trace_revision(project, "r2", rows=50, db=server_url)
    assert (alter.line, index.line) == (9, 10)  # the op lines of the revision file
    assert "BIGINT" in alter.sql.upper() and alter.mode("t") == "ACCESS EXCLUSIVE" and "t" in alter.rewritten
    assert ("t", "SHARE") in index.locks and ("t_name", "ACCESS EXCLUSIVE") in index.acquired
    assert _scratch_dbs(pg_server) == set()


def test_cli_json_contract(tmp_path, capsys, server_url):
    (tmp_path / "setup.sql").write_text(SETUP)
    (tmp_path / "change.sql").write_text("ALTER TABLE t ALTER COLUMN id TYPE bigint;\n")
    args = ["trace", str(tmp_path / "change.sql"), "--setup", str(tmp_path / "setup.sql")]
    assert main([*args, "--rows", "10", "--db", server_url, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (stmt,) = data["statements"]
    assert {"sql", "line", "locks", "rewritten", "duration_ms"} <= set(stmt)
    assert {"relation": "t", "mode": "ACCESS EXCLUSIVE"} in stmt["locks"]
    assert all(set(lock) == {"relation", "mode"} for lock in stmt["locks"])
    assert "t" in stmt["rewritten"] and isinstance(stmt["duration_ms"], float)
    assert main([*args, "--db", server_url]) == 0
    assert "ACCESS EXCLUSIVE" in capsys.readouterr().out


def test_cli_revision_on_the_embedded_server(tmp_path, capsys):
    before = _our_run_dirs()
    project = _project(tmp_path)
    assert main(["trace", "--revision", "r2", "--project", str(project), "--format", "json"]) == 0
    statements = json.loads(capsys.readouterr().out)["statements"]
    assert [s["line"] for s in statements] == [9, 10]
    from dbpatterns.pg.cluster import wait_for_cache

    wait_for_cache()  # a first run (no cached cluster) removes initdb's folder once the cache is written
    assert _our_run_dirs() == before


SAMPLE_SETUP = """
CREATE TABLE t (id int PRIMARY KEY, v varchar(100), n int);
CREATE TABLE p (id int PRIMARY KEY);
"""
SAMPLE = """
SET lock_timeout = '2s';
ALTER TABLE t ALTER COLUMN id TYPE bigint;
CREATE INDEX t_v ON t (v);
ALTER TABLE t ALTER COLUMN n SET NOT NULL;
ALTER TABLE t ADD CONSTRAINT t_n_fk FOREIGN KEY (n) REFERENCES p (id);
ALTER TABLE t ADD COLUMN c timestamptz DEFAULT clock_timestamp();
ALTER TABLE t RENAME COLUMN v TO w;
ALTER TABLE t ADD CONSTRAINT t_n_check CHECK (n > 0);
"""


def test_lint_trace_agrees_with_the_rules_on_a_sample(tmp_path, capsys, server_url, pg_server):
    (tmp_path / "setup.sql").write_text(SAMPLE_SETUP)
    (tmp_path / "change.sql").write_text(SAMPLE)
    args = ["lint", "--trace", "--setup", str(tmp_path / "setup.sql"), str(tmp_path / "change.sql")]
    assert main([*args, "--db", server_url, "--format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    rules = {f["rule"] for f in findings}
    assert {"change-column-type", "create-index-non-concurrently", "set-not-null"} <= rules
    assert sum(1 for f in findings if f["lock"]) >= 5  # claims were made, and checked
    assert "trace-disagrees" not in rules, [f["message"] for f in findings if f["rule"] == "trace-disagrees"]
    assert _scratch_dbs(pg_server) == set()


def test_a_wrong_claim_is_reported_as_a_bug(server_url):
    traces = trace_sql("ALTER TABLE t ALTER COLUMN v TYPE varchar(200);", setup=SETUP, db=server_url)
    wrong = Finding(
        "made-up", "error", "x.sql", 1, 1, "widening rewrites", lock="SHARE", table="t", rewrites=True
    )
    right = Finding("made-up", "error", "x.sql", 1, 1, "ok", lock="ACCESS EXCLUSIVE", table="public.t")
    (found,) = cross_check([wrong, right], traces)
    assert found.rule == "trace-disagrees" and found.severity == "error"
    assert (
        "takes SHARE" in found.message
        and "no rewrite" in found.message
        and "ACCESS EXCLUSIVE" in found.message
    )
    assert found.lock == "ACCESS EXCLUSIVE" and found.rewrites is False
    hedged = Finding(
        "made-up",
        "error",
        "x.sql",
        1,
        1,
        "it may rewrite t",
        lock="ACCESS EXCLUSIVE",
        table="t",
        rewrites=True,
        hedged=True,
    )
    (soft,) = cross_check([hedged], traces)
    assert soft.severity == "info"
    sure = Finding(**{**vars_of(hedged), "hedged": False})  # the field decides, not the words
    assert [f.severity for f in cross_check([sure], traces)] == ["error"]


def vars_of(f: Finding) -> dict:
    return {name: getattr(f, name) for name in Finding.__slots__}


def test_change_column_type_hedges_only_when_it_cannot_see_the_old_type():
    from dbpatterns.lint import lint_sql

    def change(sql):
        (found,) = [f for f in lint_sql(sql) if f.rule == "change-column-type"]
        return found

    unknown = change("ALTER TABLE t ALTER COLUMN v TYPE bigint;")
    known = change("ALTER TABLE t ADD COLUMN w integer;\nALTER TABLE t ALTER COLUMN w TYPE bigint;")
    assert unknown.hedged and " may " in unknown.message
    assert not known.hedged and " may " not in known.message


# ---- bad input: one line, exit 2, nothing left behind --------------------------------------------------


def _err(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_missing_file(tmp_path, capsys):
    assert main(["trace", str(tmp_path / "nope.sql")]) == 2
    assert "no such file" in _err(capsys)


def test_failing_setup_names_the_statement_and_leaves_nothing(tmp_path, capsys, pg_server):
    before = _our_run_dirs()
    (tmp_path / "setup.sql").write_text("CREATE TABLE t (id int);\n\nCREATE TABLE t (id int);\n")
    (tmp_path / "change.sql").write_text("SELECT 1;\n")
    args = ["trace", str(tmp_path / "change.sql"), "--setup", str(tmp_path / "setup.sql")]
    assert main(args) == 2
    err = _err(capsys)
    assert "setup.sql:3: setup statement failed" in err and 'relation "t" already exists' in err
    assert _our_run_dirs() == before  # the embedded server and its directory are gone
    assert main([*args, "--db", pg_server.url("postgres")]) == 2
    _err(capsys)
    assert _scratch_dbs(pg_server) == set()  # the scratch database on --db was dropped


def test_failing_change_statement_and_syntax_error(tmp_path, capsys, server_url):
    (tmp_path / "change.sql").write_text("SELECT 1;\nALTER TABLE missing ADD COLUMN x int;\n")
    assert main(["trace", str(tmp_path / "change.sql"), "--db", server_url]) == 2
    assert "change.sql:2: statement failed" in _err(capsys)
    (tmp_path / "change.sql").write_text("ALTER TABEL t;\n")
    assert main(["trace", str(tmp_path / "change.sql"), "--db", server_url]) == 2
    assert "syntax error" in _err(capsys)


def test_unknown_revision(tmp_path, capsys, server_url):
    project = _project(tmp_path)
    assert main(["trace", "--revision", "nope", "--project", str(project), "--db", server_url]) == 2
    assert "unknown revision 'nope'" in _err(capsys)


def test_env_py_that_ignores_our_url_is_refused(tmp_path, capsys, server_url):
    project = _project(tmp_path)
    (project / "migrations" / "env.py").write_text("import os\nURL = os.environ['MY_APP_DB']\n")
    assert main(["trace", "--revision", "r2", "--project", str(project), "--db", server_url]) == 2
    assert "refusing to run it" in _err(capsys)


def test_server_that_will_not_start(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("DBPATTERNS_PG_TMPDIR", str(blocker / "run"))  # under a file: cannot be created
    (tmp_path / "change.sql").write_text("SELECT 1;\n")
    assert main(["trace", str(tmp_path / "change.sql")]) == 2
    assert "PostgreSQL" in _err(capsys)


def test_password_never_appears(tmp_path, capsys):
    (tmp_path / "change.sql").write_text("SELECT 1;\n")
    url = "postgresql://someone:s3cr%40t-pw@127.0.0.1:1/db"
    assert main(["trace", str(tmp_path / "change.sql"), "--db", url]) == 2
    err = _err(capsys)
    assert "s3cr" not in err and "cannot connect" in err
    with pytest.raises(InputError) as info:
        trace_sql("SELECT 1", db="postgresql://u:hunter2@127.0.0.1:1/x")
    assert "hunter2" not in str(info.value)


def test_bundled_example_env_py_gets_our_connection(server_url, pg_server):
    """examples/project's env.py closes the connection it is given and uses autocommit_block."""
    project = Path(__file__).parent.parent / "examples" / "project"
    add, validate = [s for s in trace_revision(project, "d4e5f6a7b8c9", rows=100, db=server_url) if s.locks]
    assert add.mode("orders") == "ACCESS EXCLUSIVE"
    assert validate.mode("orders") == "SHARE UPDATE EXCLUSIVE"  # after the revision's own COMMIT
    assert _scratch_dbs(pg_server) == set()


def test_psycopg_url_keeps_everything_but_the_driver():
    from dbpatterns.trace.database import psycopg_url

    url = "postgresql://app:p%40ss@db:5433/shop?sslmode=require"
    assert psycopg_url(url) == "postgresql+psycopg://app:p%40ss@db:5433/shop?sslmode=require"
    assert psycopg_url("postgres+asyncpg://h/d") == "postgresql+psycopg://h/d"
    with pytest.raises(InputError):
        psycopg_url("mysql://h/d")


def test_a_merge_revision_is_traced_after_both_parents(tmp_path, server_url):
    from tests.alembic_builder import write_project

    create = "op.execute('CREATE TABLE {0} (id int)')", "op.execute('DROP TABLE {0}')"
    revisions = [
        ("r1", None, create[0].format("a"), create[1].format("a")),
        ("r2a", "r1", create[0].format("b"), create[1].format("b")),
        ("r2b", "r1", create[0].format("c"), create[1].format("c")),
        ("r3", ("r2a", "r2b"), "op.execute('CREATE VIEW v AS SELECT b.id FROM b, c')", "pass"),
    ]
    project = write_project(tmp_path / "p", revisions)
    (statement,) = trace_revision(project, "r3", db=server_url)
    assert statement.to_dict()["sql"].startswith("CREATE VIEW v")  # b and c both there
