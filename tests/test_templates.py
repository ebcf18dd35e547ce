"""dbpatterns new: every pattern generated into a temporary Alembic project, linted, and run on the
embedded PostgreSQL with rows in the tables (upgrade, downgrade, upgrade again, data kept), then verified
(stairway, downgrade leaves no trace)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import psycopg
import pytest

from dbpatterns.lint import Settings, lint_revision
from dbpatterns.templates import generate, list_patterns
from dbpatterns.verify import verify_empty_database
from tests.alembic_builder import alembic_config, write_project

ROWS = 1234
BASE_UP = f"""
op.execute("CREATE TYPE mood AS ENUM ('sad', 'ok')")
op.execute("CREATE TABLE accounts (id bigint PRIMARY KEY, name text)")
op.execute("INSERT INTO accounts SELECT g, 'a' || g FROM generate_series(1, 50) g")
op.execute(
    "CREATE TABLE users (id bigint PRIMARY KEY, name text, email text, plan text, score integer,"
    " account_id bigint, mood mood DEFAULT 'ok', amount integer)"
)
op.execute(
    "INSERT INTO users (id, name, email, score, account_id, amount)"
    " SELECT g, 'user ' || g, 'u' || g || '@x.org', g % 100, 1 + g % 50, g FROM generate_series(1, {ROWS}) g"
)
"""
BASE_DOWN = 'op.execute("DROP TABLE users")\nop.execute("DROP TABLE accounts")\nop.execute("DROP TYPE mood")'


def one(conn, sql: str, *params):
    return conn.execute(sql, params).fetchone()[0]


def column_exists(conn, table: str, column: str) -> bool:
    sql = "SELECT count(*) FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s"
    sql += " AND NOT attisdropped"
    return one(conn, sql, table, column) == 1


def constraint(conn, name: str):
    row = conn.execute(
        "SELECT contype, convalidated FROM pg_constraint WHERE conname = %s", (name,)
    ).fetchone()
    return row


def index_valid(conn, name: str):
    row = conn.execute(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", (name,)
    ).fetchone()
    return row[0] if row else None


@dataclass
class Case:
    pattern: str
    options: dict
    upgraded: object  # check(conn) after upgrade
    downgraded: object = None  # check(conn) after the downgrade back to the base revision
    pg_version: int = 18
    id: str = ""
    revisions: int = 1
    expanded: object = None  # check(conn) after the first of two revisions
    extra: dict = field(default_factory=dict)


def _create_table_up(conn):
    assert one(conn, "SELECT count(*) FROM orders") == 0
    conn.execute("INSERT INTO orders (user_id, note) VALUES (1, 'x')")
    ident = one(
        conn, "SELECT attidentity FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'id'"
    )
    assert ident == "a"
    kind = one(
        conn,
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = 'orders'::regclass AND attname = 'created_at'",
    )
    assert kind == "timestamp with time zone"
    assert index_valid(conn, "orders_user_id_idx") is True


def _backfilled(column: str, value):
    def check(conn):
        assert one(conn, f"SELECT count(*) FROM users WHERE {column} IS DISTINCT FROM %s", value) == 0

    return check


def _not_null_up(conn):
    assert one(conn, "SELECT count(*) FROM users WHERE plan = 'free'") == ROWS
    assert one(
        conn, "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'plan'"
    )
    with pytest.raises(psycopg.errors.NotNullViolation):
        conn.execute("UPDATE users SET plan = NULL WHERE id = 1")


def _checked_not_null_up(conn):  # before PostgreSQL 12 the validated CHECK enforces it
    assert one(conn, "SELECT count(*) FROM users WHERE plan = 'free'") == ROWS
    assert constraint(conn, "users_plan_not_null") == ("c", True)
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("UPDATE users SET plan = NULL WHERE id = 1")


def _volatile_up(conn):
    assert one(conn, "SELECT count(*) FROM users WHERE token IS NULL") == 0
    assert one(conn, "SELECT count(DISTINCT token) FROM users WHERE id <= %s", ROWS) == ROWS
    conn.execute("INSERT INTO users (id) VALUES (100000) ON CONFLICT DO NOTHING")
    assert one(conn, "SELECT token FROM users WHERE id = 100000") is not None


def _rename_up(conn):
    assert one(conn, "SELECT count(*) FROM users WHERE full_name IS DISTINCT FROM name") == 0
    assert one(conn, "SELECT count(*) FROM users WHERE full_name IS NOT NULL") == ROWS
    conn.execute("INSERT INTO users (id, name) VALUES (100001, 'old code')")
    conn.execute("INSERT INTO users (id, full_name) VALUES (100002, 'new code')")
    conn.execute("UPDATE users SET full_name = 'renamed' WHERE id = 1")
    conn.execute("UPDATE users SET name = 'old write' WHERE id = 2")
    rows = conn.execute(
        "SELECT id, name, full_name FROM users WHERE id IN (1, 2, 100001, 100002) ORDER BY id"
    )
    assert rows.fetchall() == [
        (1, "renamed", "renamed"),
        (2, "old write", "old write"),
        (100001, "old code", "old code"),
        (100002, "new code", "new code"),
    ]


def _names_kept(conn):
    assert one(conn, "SELECT count(*) FROM users WHERE name IS NULL AND id <= %s", ROWS) == 0
    assert not column_exists(conn, "users", "full_name")


def _type_up(conn):
    assert one(conn, "SELECT count(*) FROM users WHERE amount_new IS DISTINCT FROM amount::bigint") == 0
    conn.execute("UPDATE users SET amount = 7 WHERE id = 1")
    assert one(conn, "SELECT amount_new FROM users WHERE id = 1") == 7


def _amounts_kept(conn):
    assert one(conn, "SELECT pg_typeof(amount)::text FROM users LIMIT 1") == "integer"
    assert one(conn, "SELECT count(*) FROM users WHERE amount IS DISTINCT FROM id AND id > 1") == 0
    assert one(conn, "SELECT amount FROM users WHERE id = 1") == 7  # written during the expand phase
    assert not column_exists(conn, "users", "amount_new")


# a column as applications have them: NOT NULL, a default, plain and expression indexes, a CHECK, a comment
NAME_KEPT = """
op.execute("ALTER TABLE users ALTER COLUMN name SET DEFAULT 'nobody'")
op.execute("ALTER TABLE users ALTER COLUMN name SET NOT NULL")
op.execute("CREATE INDEX users_name_idx ON users (name)")
op.execute("CREATE INDEX users_lower_name_idx ON users (lower(name)) WHERE name <> ''")
op.execute("ALTER TABLE users ADD CONSTRAINT users_name_check CHECK (name <> '')")
op.execute("COMMENT ON COLUMN users.name IS 'shown to people'")
"""
AMOUNT_KEPT = """
op.execute("ALTER TABLE users ALTER COLUMN amount SET DEFAULT 0")
op.execute("ALTER TABLE users ALTER COLUMN amount SET NOT NULL")
op.execute("CREATE INDEX users_amount_idx ON users (amount)")
op.execute("ALTER TABLE users ADD CONSTRAINT users_amount_check CHECK (amount >= 0)")
"""


def _column_restored(column: str, default: str, indexes: tuple, check: str):
    def check_restored(conn):
        row = conn.execute(
            "SELECT a.attnotnull, pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a"
            " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
            " WHERE a.attrelid = 'users'::regclass AND a.attname = %s AND NOT a.attisdropped",
            (column,),
        ).fetchone()
        assert row == (True, default)
        for index in indexes:
            assert index_valid(conn, index) is True, index
        assert constraint(conn, check) == ("c", True)
        with pytest.raises(psycopg.errors.NotNullViolation):
            conn.execute(f"UPDATE users SET {column} = NULL WHERE id = 1")

    return check_restored


def _renamed_kept(conn):
    _names_kept(conn)
    _column_restored(
        "name", "'nobody'::text", ("users_name_idx", "users_lower_name_idx"), "users_name_check"
    )(conn)
    comment = "SELECT col_description(attrelid, attnum) FROM pg_attribute"
    comment += " WHERE attrelid = 'users'::regclass AND attname = 'name' AND NOT attisdropped"
    assert one(conn, comment) == "shown to people"


def _enum_up(conn):
    conn.execute("UPDATE users SET mood = 'happy' WHERE id = 1")
    conn.execute("UPDATE users SET mood = 'ok' WHERE id = 1")


def _enum_down(conn):
    labels = conn.execute("SELECT enum_range(NULL::mood)::text").fetchone()[0]
    assert labels == "{sad,ok}"
    assert one(conn, "SELECT count(*) FROM users WHERE mood = 'ok'") == ROWS
    conn.execute("INSERT INTO users (id) VALUES (100003)")
    assert one(conn, "SELECT mood::text FROM users WHERE id = 100003") == "ok"  # the default came back


CASES = [
    Case(
        "create-table",
        {"table": "orders", "column": ["user_id bigint NOT NULL REFERENCES users", "note text"]},
        _create_table_up,
        lambda conn: one(conn, "SELECT to_regclass('orders')") is None or pytest.fail("orders left"),
    ),
    Case(
        "add-column",
        {"table": "users", "column": "nickname", "type": "text"},
        lambda conn: column_exists(conn, "users", "nickname") or pytest.fail("no column"),
    ),
    Case(
        "add-column-default",
        {"table": "users", "column": "credits", "type": "integer", "default": "10"},
        _backfilled("credits", 10),
        id="add-column-default-constant",
    ),
    Case(
        "add-column-default",
        {
            "table": "users",
            "column": "token",
            "type": "uuid",
            "default": "gen_random_uuid()",
            "batch_size": 100,
        },
        _volatile_up,
        id="add-column-default-volatile",
    ),
    Case(
        "add-not-null-column",
        {"table": "users", "column": "plan", "type": "text", "default": "'free'"},
        _not_null_up,
        id="add-not-null-column-pg18",
        extra={"base": 'op.execute("ALTER TABLE users DROP COLUMN plan")'},
    ),
    Case(
        "add-not-null-column",
        {"table": "users", "column": "plan", "type": "text", "default": "'free'"},
        _not_null_up,
        pg_version=16,
        id="add-not-null-column-pg16",
        extra={"base": 'op.execute("ALTER TABLE users DROP COLUMN plan")'},
    ),
    Case(
        "add-not-null-column",
        {"table": "users", "column": "plan", "type": "text", "default": "'free'"},
        _checked_not_null_up,
        pg_version=11,
        id="add-not-null-column-pg11",
        extra={"base": 'op.execute("ALTER TABLE users DROP COLUMN plan")'},
    ),
    Case(
        "add-not-null-column",
        {
            "table": "users",
            "column": "token",
            "type": "uuid",
            "default": "gen_random_uuid()",
            "batch_size": 200,
        },
        _volatile_up,
        id="add-not-null-column-volatile",
    ),
    Case(
        "add-index",
        {"table": "users", "column": ["email"]},
        lambda conn: index_valid(conn, "users_email_idx") or pytest.fail("no valid index"),
        lambda conn: index_valid(conn, "users_email_idx") is None or pytest.fail("index left"),
    ),
    Case(
        "drop-index",
        {"table": "users", "column": ["score"], "name": "users_score_idx"},
        lambda conn: index_valid(conn, "users_score_idx") is None or pytest.fail("index left"),
        lambda conn: index_valid(conn, "users_score_idx") or pytest.fail("index not rebuilt"),
        extra={"base": 'op.execute("CREATE INDEX users_score_idx ON users (score)")'},
    ),
    Case(
        "add-foreign-key",
        {"table": "users", "column": "account_id", "references": "accounts"},
        lambda conn: constraint(conn, "users_account_id_fkey") == ("f", True) or pytest.fail("no valid fk"),
        lambda conn: constraint(conn, "users_account_id_fkey") is None or pytest.fail("fk left"),
    ),
    Case(
        "add-unique-constraint",
        {"table": "users", "column": ["email"]},
        lambda conn: constraint(conn, "users_email_key") == ("u", True) or pytest.fail("no unique"),
    ),
    Case(
        "add-check-constraint",
        {"table": "users", "check": "amount >= 0"},
        lambda conn: constraint(conn, "users_amount_check") == ("c", True) or pytest.fail("no check"),
    ),
    Case(
        "backfill",
        {"table": "users", "column": "plan", "value": "'free'", "batch_size": 100, "pause": 0},
        _backfilled("plan", "free"),
        _backfilled("plan", "free"),  # the downgrade keeps the values
    ),
    Case(
        "rename-column",
        {"table": "users", "column": "name", "new_name": "full_name", "type": "text", "batch_size": 500},
        lambda conn: (
            not column_exists(conn, "users", "name")
            and one(conn, "SELECT count(*) FROM users WHERE full_name IS NULL") == 0
            or pytest.fail("name left or full_name empty")
        ),
        _names_kept,
        revisions=2,
        expanded=_rename_up,
    ),
    Case(
        "change-column-type",
        {"table": "users", "column": "amount", "type": "bigint", "from_type": "integer", "batch_size": 500},
        lambda conn: (
            one(conn, "SELECT pg_typeof(amount)::text FROM users LIMIT 1") == "bigint"
            or pytest.fail("not bigint")
        ),
        _amounts_kept,
        revisions=2,
        expanded=_type_up,
    ),
    Case(
        "rename-column",
        {"table": "users", "column": "name", "new_name": "full_name", "type": "text", "batch_size": 500},
        lambda conn: not column_exists(conn, "users", "name") or pytest.fail("name left"),
        _renamed_kept,
        revisions=2,
        expanded=lambda conn: (
            one(conn, "SELECT count(*) FROM users WHERE full_name IS DISTINCT FROM name") == 0
            or pytest.fail("full_name not filled")
        ),
        id="rename-column-not-null-default-indexes",
        extra={"base": NAME_KEPT},
    ),
    Case(
        "change-column-type",
        {"table": "users", "column": "amount", "type": "bigint", "from_type": "integer", "batch_size": 500},
        lambda conn: (
            one(conn, "SELECT pg_typeof(amount)::text FROM users LIMIT 1") == "bigint"
            or pytest.fail("not bigint")
        ),
        _column_restored("amount", "0", ("users_amount_idx",), "users_amount_check"),
        revisions=2,
        id="change-column-type-not-null-default-indexes",
        extra={"base": AMOUNT_KEPT},
    ),
    Case(
        "drop-column",
        {"table": "users", "column": "email", "type": "text"},
        lambda conn: not column_exists(conn, "users", "email") or pytest.fail("still there"),
        lambda conn: column_exists(conn, "users", "email") or pytest.fail("not re-added"),
    ),
    Case("add-enum-value", {"type": "mood", "value": "happy"}, _enum_up, _enum_down),
]


def _base(case: Case) -> tuple:
    up = BASE_UP + ("\n" + case.extra["base"] if "base" in case.extra else "")
    return ("r0", None, up, BASE_DOWN)


def test_every_pattern_has_a_case():
    assert {c.pattern for c in CASES} | {"merge"} == {p.name for p in list_patterns()}


@pytest.mark.parametrize("case", CASES, ids=[c.id or c.pattern for c in CASES])
def test_pattern_lints_clean_runs_and_verifies(case, tmp_path, pg_server):
    from alembic import command

    project = write_project(tmp_path / "p", [_base(case)])
    made = generate(case.pattern, case.options, project, pg_version=case.pg_version)
    assert len(made) == case.revisions
    assert [g.down_revision for g in made] == ["r0", *[g.revision for g in made[:-1]]]
    settings = Settings(pg_version=case.pg_version)
    for g in made:
        assert g.path.read_text() == g.text
        assert lint_revision(g.text, str(g.path), settings) == []
    with pg_server.scratch_database() as url, psycopg.connect(url, autocommit=True) as conn:
        config = alembic_config(project, url)
        with contextlib.redirect_stdout(None):
            if case.expanded:
                command.upgrade(config, made[0].revision)
                case.expanded(conn)
            command.upgrade(config, "head")
            case.upgraded(conn)
            command.downgrade(config, "r0")
            assert one(conn, "SELECT count(*) FROM users WHERE id <= %s", ROWS) == ROWS
            if case.downgraded:
                case.downgraded(conn)
            command.upgrade(config, "head")
            case.upgraded(conn)
    with pg_server.scratch_database() as url:
        report = verify_empty_database(project, url)
    assert report.ok, report.to_dict()
    assert any(c.name == "downgrade_no_trace" and c.ok for c in report.checks)


@pytest.mark.parametrize("version", [10, 11, 12, 13, 14, 15, 16, 17, 18])
def test_every_pattern_lints_clean_for_every_target_version(version, tmp_path):
    project = write_project(tmp_path / "p", [("r0", None, BASE_UP, BASE_DOWN)])
    settings = Settings(pg_version=version)
    for case in CASES:
        for g in generate(case.pattern, case.options, project, pg_version=version, write=False):
            assert lint_revision(g.text, str(g.path), settings) == [], (case.id or case.pattern, g.text)


def test_merge_of_two_generated_branches_verifies(tmp_path, pg_server):
    """merge, the one pattern without a case above: two branches written by patterns, merged, verified."""
    project = write_project(
        tmp_path / "p",
        [("r0", None, BASE_UP, BASE_DOWN), ("a1", "r0", "pass", "pass"), ("b1", "r0", "pass", "pass")],
    )
    (left,) = generate(
        "add-column", {"table": "users", "column": "nickname", "type": "text"}, project, head="a1"
    )
    (right,) = generate("add-index", {"table": "users", "column": ["email"]}, project, head="b1")
    (merged,) = generate("merge", {}, project)
    assert set(merged.down_revision) == {left.revision, right.revision}
    assert lint_revision(merged.text, str(merged.path), Settings()) == []
    with pg_server.scratch_database() as url:
        report = verify_empty_database(project, url)
    assert report.ok, report.to_dict()
    assert any(c.name == "stairway" and c.ok for c in report.checks)
