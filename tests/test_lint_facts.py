"""What the lint says about PRIMARY KEY USING INDEX, CHECK constraints and type changes, checked on the
real server (PostgreSQL 18): the scans (pg_stat_get_xact_numscans in the statement's transaction), the
rewrites (relfilenode), the locks (pg_locks) and the names PostgreSQL chooses."""

from __future__ import annotations

import psycopg
import pytest

from dbpatterns.lint import Settings, lint_sql
from dbpatterns.lint.state import check_constraint_name
from dbpatterns.sql.parse import parse

SCANS = "SELECT pg_stat_get_xact_numscans('t'::regclass)"
NODE = "SELECT relfilenode FROM pg_class WHERE oid = 't'::regclass"
LOCKS = (
    "SELECT mode FROM pg_locks WHERE locktype = 'relation' AND relation = 't'::regclass"
    " AND pid = pg_backend_pid() AND granted"
)


@pytest.fixture(scope="module")
def scratch(pg_server):
    with pg_server.scratch_database() as url:
        yield url


def run(url: str, setup: str, statement: str) -> tuple[int, bool, set[str]]:
    """(table scans the statement made, whether t was rewritten, the lock modes held on t after it)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS t")
        conn.execute(setup)
        conn.execute("BEGIN")
        scans, node = conn.execute(SCANS).fetchone()[0], conn.execute(NODE).fetchone()[0]
        conn.execute(statement)
        scans = conn.execute(SCANS).fetchone()[0] - scans
        rewritten = conn.execute(NODE).fetchone()[0] != node
        locks = {m for (m,) in conn.execute(LOCKS).fetchall()}
        conn.execute("ROLLBACK")
    return scans, rewritten, locks


ROWS = "INSERT INTO t SELECT g, g FROM generate_series(1, 50) g;"
USING_INDEX = "ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_id_idx"


@pytest.mark.parametrize(
    ("id_column", "extra", "scans"),
    [
        ("id int", "", 1),  # the implicit SET NOT NULL scans
        ("id int NOT NULL", "", 0),
        # a validated CHECK (id IS NOT NULL) proves it: no scan
        ("id int", "ALTER TABLE t ADD CONSTRAINT t_id_nn CHECK (id IS NOT NULL);", 0),
    ],
)
def test_primary_key_using_index_scans_unless_not_null(scratch, id_column, extra, scans):
    setup = f"CREATE TABLE t ({id_column}, c int); {ROWS} {extra} CREATE UNIQUE INDEX t_id_idx ON t (id);"
    assert run(scratch, setup, USING_INDEX) == (scans, False, {"AccessExclusiveLock"})
    migration = (
        f"ALTER TABLE t ADD COLUMN {id_column}; {extra}"
        f" CREATE UNIQUE INDEX t_id_idx ON t (id); {USING_INDEX};"
    )
    fired = [f for f in lint_sql(migration, "m.sql", Settings()) if f.rule == "add-primary-key"]
    assert bool(fired) == bool(scans)  # the lint reads the same migration: created NOT NULL, or proven


def test_primary_key_using_index_checks_every_row_for_nulls(scratch):
    """The scan is a NOT NULL check: a NULL row makes the statement fail."""
    setup = f"CREATE TABLE t (id int, c int); {ROWS} INSERT INTO t VALUES (NULL, 0);"
    setup += " CREATE UNIQUE INDEX t_id_idx ON t (id);"
    with pytest.raises(psycopg.errors.NotNullViolation):
        run(scratch, setup, USING_INDEX)


@pytest.mark.parametrize(
    ("column", "new", "check", "scans", "rewrites"),
    [
        ("varchar(100)", "varchar(200)", True, 1, False),  # no rewrite, but the CHECK is verified again
        ("varchar(100)", "text", True, 1, False),
        ("varchar(100)", "text", False, 0, False),
        ("int", "bigint", True, 1, True),  # the rewrite checks it in the same pass
        ("int", "bigint", False, 1, True),
    ],
)
def test_type_change_and_the_check_on_its_column(scratch, column, new, check, scans, rewrites):
    constraint = " CONSTRAINT t_c_check CHECK (c IS DISTINCT FROM NULL OR id > 0)" if check else ""
    setup = f"CREATE TABLE t (id int, c {column}{constraint}); {ROWS}"
    statement = f"ALTER TABLE t ALTER COLUMN c TYPE {new}"
    seen = run(scratch, setup, statement)
    assert seen == (scans, rewrites, seen[2]) and "AccessExclusiveLock" in seen[2]
    findings = [
        f
        for f in lint_sql(
            f"ALTER TABLE t ADD COLUMN c {column}{constraint};\n{statement};", "m.sql", Settings()
        )
        if f.rule == "change-column-type"
    ]
    if check:
        assert [("t_c_check" in f.message, f.rewrites) for f in findings] == [(True, rewrites)]
    else:
        assert [f.rewrites for f in findings] == ([True] if rewrites else [])


@pytest.mark.parametrize(
    "constraint",
    [
        "CHECK (c > 0)",
        "CHECK (c > 0 AND c < 10)",
        "CHECK (c > id)",
        "CHECK (true)",
    ],
)
def test_check_names_are_the_ones_postgresql_chooses(scratch, constraint):
    with psycopg.connect(scratch, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS t")
        conn.execute("CREATE TABLE t (id int, c int)")
        statement = f"ALTER TABLE t ADD {constraint}"
        conn.execute(statement)
        (chosen,) = conn.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 't'::regclass"
        ).fetchone()
    con = parse(statement).statements[0].body["cmds"][0]["AlterTableCmd"]["def"]["Constraint"]
    assert check_constraint_name("t", con) == chosen
    (finding,) = [
        f for f in lint_sql(statement + ";", "m.sql", Settings()) if f.rule == "add-check-constraint"
    ]
    assert f"CHECK constraint {chosen} " in finding.message


def test_column_check_names_are_the_ones_postgresql_chooses(scratch):
    with psycopg.connect(scratch, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS t")
        conn.execute("CREATE TABLE t (id int, c int CHECK (c > 0), d int CHECK (true))")
        names = {
            n for (n,) in conn.execute("SELECT conname FROM pg_constraint WHERE conrelid = 't'::regclass")
        }
    body = parse("CREATE TABLE t (id int, c int CHECK (c > 0), d int CHECK (true))").statements[0].body
    cols = [e["ColumnDef"] for e in body["tableElts"]]
    got = {check_constraint_name("t", c["constraints"][0]["Constraint"]) for c in cols[1:]}
    assert got == names


@pytest.mark.parametrize(("column", "scans"), [("id int", 1), ("id int NOT NULL", 0)])
def test_set_not_null_scans_only_a_column_not_null_already(scratch, column, scans):
    """SET NOT NULL on a column that is NOT NULL already is a no-op: no scan (the lint's history drops
    the finding then, see test_lint_history)."""
    setup = f"CREATE TABLE t ({column}, c int); {ROWS}"
    assert run(scratch, setup, "ALTER TABLE t ALTER COLUMN id SET NOT NULL") == (
        scans,
        False,
        {"AccessExclusiveLock"},
    )
