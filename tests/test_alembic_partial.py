"""Partial evaluation of op.* calls: what is not known reads ``?``; bind parameters of every style parse."""

from __future__ import annotations

import textwrap

import pytest

from dbpatterns.alembic.ops import statement_text
from dbpatterns.alembic.static import read_revision
from dbpatterns.lint import Settings, lint_revision
from dbpatterns.sql.params import placeholders

HEADER = """from alembic import op
import sqlalchemy as sa

revision = "b1"
down_revision = "a1"


def upgrade():
"""


def revision_of(body: str) -> str:
    return HEADER + textwrap.indent(textwrap.dedent(body).strip() + "\n", "    ")


def sqls(body: str) -> list[tuple[str | None, str | None]]:
    return [(s.sql, s.note) for s in read_revision(revision_of(body), "r.py").upgrade]


@pytest.mark.parametrize(
    ("call", "sql"),
    [
        ('batch_op.f("ix_t_a")', None),
        ('op.create_index(f"ix_{TABLE}_a", TABLE, ["a"])', 'CREATE INDEX "ix_?_a" ON "?" (a)'),
        ('op.create_index("ix_t", "t", [*COLS, "c"])', 'CREATE INDEX ix_t ON t ("?", c)'),
        ('op.create_index("ix_t", "t", columns)', 'CREATE INDEX ix_t ON t ("?")'),
        ('op.drop_constraint(None, "t", type_="foreignkey")', 'ALTER TABLE t DROP CONSTRAINT "?"'),
        (
            'op.alter_column(TABLE, "email", nullable=False)',
            'ALTER TABLE "?" ALTER COLUMN email SET NOT NULL',
        ),
        ('op.add_column("t", sa.Column(name_of(), sa.Integer()))', 'ALTER TABLE t ADD COLUMN "?" INTEGER'),
    ],
)
def test_unknown_names_read_as_question_mark(call, sql):
    body = f"TABLE = os.environ['T']\n{call}"
    if sql is None:  # batch_op.f outside a batch block is not an operation
        return
    assert sqls(body) == [(sql, None)]
    stats = read_revision(revision_of(body), "r.py").stats
    assert stats == {"seen": 1, "analysed": 1, "partial": 1, "skipped": 0, "unanalysed": 0}


def test_batch_op_f_and_stats():
    body = """
    with op.batch_alter_table("users") as batch_op:
        batch_op.create_index(batch_op.f("ix_users_email"), ["email"], unique=True)
    op.execute(build())
    """
    source = read_revision(revision_of(body), "r.py")
    assert [s.sql for s in source.upgrade] == ["CREATE UNIQUE INDEX ix_users_email ON users (email)", None]
    assert source.stats == {"seen": 2, "analysed": 1, "partial": 0, "skipped": 0, "unanalysed": 1}


def test_hazard_reported_with_unknown_name():
    body = """
    op.create_index(op.f(f"ix_{name}"), "orders", [*KEY_COLUMNS, "created_at"])
    op.alter_column(table, "email", nullable=False)
    """
    findings = lint_revision(revision_of(body), "r.py", Settings(lock_timeout_in_env=True))
    rules = {f.rule for f in findings}
    assert {"create-index-non-concurrently", "set-not-null"} <= rules
    assert "opaque-operation" not in rules
    assert any("?" in f.message for f in findings if f.rule == "set-not-null")


def test_fstring_that_is_sql_stays_opaque():
    assert sqls('op.execute(f"{verb} TABLE t")') == [
        (None, "the SQL is built at run time and does not parse with its unknown parts as ?")
    ]
    assert sqls("op.execute(f\"UPDATE t SET slug = '{slug}' WHERE id = {row[0]}\")") == [
        ("UPDATE t SET slug = '?' WHERE id = \"?\"", None)
    ]


@pytest.mark.parametrize(
    ("sql", "want"),
    [
        ("UPDATE t SET a = :a WHERE id IN :ids", "UPDATE t SET a = $1 WHERE id IN ($1)"),
        ("UPDATE t SET a = %s WHERE id = %(id)s", "UPDATE t SET a = $1 WHERE id = $1"),
        (
            "SELECT ':not_a_bind', a::text FROM t -- :nor_this",
            "SELECT ':not_a_bind', a::text FROM t -- :nor_this",
        ),
        ("SELECT 5 % 2", "SELECT 5 % 2"),
        ("UPDATE t SET a = a %% 7 WHERE id = %s", "UPDATE t SET a = a % 7 WHERE id = $1"),
        ("SELECT 5 %% 2", "SELECT 5 %% 2"),  # no pyformat parameter: not %-formatted
    ],
)
def test_placeholders_found_by_the_scanner(sql, want):
    assert placeholders(sql) == want


def test_statement_text_falls_back_to_a_literal_where_no_parameter_parses():
    assert statement_text("ALTER TABLE t ALTER COLUMN c SET DEFAULT :d") == (
        "ALTER TABLE t ALTER COLUMN c SET DEFAULT $1"
    )
    got = statement_text("CREATE TABLE t (c text DEFAULT 'x') WITH (fillfactor = :f)")
    assert "$1" not in got


@pytest.mark.parametrize(
    "call",
    [
        'op.get_bind().execute(sa.text("UPDATE users SET plan = :p WHERE id IN :ids"), {"p": 1})',
        'op.get_bind().exec_driver_sql("UPDATE users SET plan = %s WHERE id = %(id)s", (1,))',
        'op.execute("UPDATE users SET plan = :plan")',
    ],
)
def test_parameter_styles_are_no_syntax_error(call):
    findings = lint_revision(revision_of(call), "r.py", Settings(lock_timeout_in_env=True))
    rules = {f.rule for f in findings}
    assert not rules & {"syntax-error", "opaque-operation"}
    assert ("unbatched-backfill" in rules) == ("WHERE" not in call)  # linted as the statement it is


@pytest.mark.parametrize(
    ("guard", "linted"),
    [
        ('if op.get_bind().dialect.name == "mysql":', False),
        ('if op.get_bind().dialect.name == "postgresql":', True),
        ('if context.get_context().dialect.name != "postgresql":', False),
        ('if op.get_context().dialect.name in ("sqlite", "mysql"):', False),
        ('if not url.startswith("postgresql"):', False),
        ('if url.startswith("mysql"):', False),
        ('dialect = op.get_bind().dialect.name\nif dialect == "sqlite":', False),
        ("if context.is_offline_mode():", False),
        ("if some_flag():", True),
    ],
)
def test_dialect_guards(guard, linted):
    body = f'{guard}\n    op.drop_column("users", "legacy")\nop.execute("SELECT 1")'
    source = read_revision(revision_of(body), "r.py")
    got = [s.sql for s in source.upgrade]
    assert ("ALTER TABLE users DROP COLUMN legacy" in got) is linted
    skipped = 0 if linted or "offline" in guard else 1
    assert source.stats["skipped"] == skipped
    assert source.stats["seen"] == source.stats["analysed"] + skipped


def test_dialect_guard_else_branch_is_linted():
    body = """
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA foreign_keys=OFF")
    else:
        op.alter_column("users", "email", nullable=False)
    """
    findings = lint_revision(revision_of(body), "r.py", Settings(lock_timeout_in_env=True))
    rules = {f.rule for f in findings}
    assert "set-not-null" in rules and "syntax-error" not in rules


@pytest.mark.parametrize(
    ("guard", "rest_linted"),
    [
        ('if op.get_bind().dialect.name != "mysql":\n    return', False),  # the rest is MySQL's
        (
            'bind = op.get_bind()\nif bind.dialect.name != "mysql":\n    op.execute("SELECT 1")\n    return',
            False,
        ),
        ('if op.get_bind().dialect.name == "mysql":\n    return', True),  # PostgreSQL goes on
        ('if op.get_bind().dialect.name != "mysql":\n    op.execute("SELECT 1")', True),  # no return
        ("if some_flag():\n    return", True),  # not about the dialect: read on
    ],
)
def test_an_early_return_under_a_dialect_guard_ends_what_postgresql_runs(guard, rest_linted):
    """`if bind.dialect.name != "mysql": return` at the top of upgrade(): what follows runs on MySQL only,
    so it is counted as skipped, not linted (MySQL's ALTER TABLE ... MODIFY was a syntax error)."""
    body = (
        f'{guard}\nop.execute("ALTER TABLE users MODIFY COLUMN note TEXT")\nop.drop_column("users", "legacy")'
    )
    source = read_revision(revision_of(body), "r.py")
    got = [s.sql for s in source.upgrade]
    assert ("ALTER TABLE users DROP COLUMN legacy" in got) is rest_linted
    assert source.stats["skipped"] == (0 if rest_linted else 2)
    assert source.stats["seen"] == source.stats["analysed"] + source.stats["skipped"]


ENTITIES = """
fn = PGFunction(
    schema="public", signature="touch()", definition="RETURNS trigger AS $$ SELECT 1 $$ LANGUAGE x"
)
trg = PGTrigger(
    schema="public",
    signature="orders_touch",
    on_entity="public.orders",
    definition="BEFORE UPDATE ON public.orders FOR EACH ROW EXECUTE FUNCTION public.touch()",
)
view = PGView(schema="public", signature="active_users", definition="SELECT id FROM users WHERE active")
op.create_entity(fn)
op.create_entity(trg)
op.replace_entity(view)
op.replace_entity(fn)
op.drop_entity(trg)
op.create_entity(PGExtension(schema="public", signature="uuid-ossp"))
"""


def test_alembic_utils_entities():
    source = read_revision("from alembic_utils.pg_trigger import PGTrigger\n" + revision_of(ENTITIES), "r.py")
    assert [s.sql for s in source.upgrade] == [
        "CREATE FUNCTION public.touch() RETURNS trigger AS $$ SELECT 1 $$ LANGUAGE x",
        "CREATE TRIGGER orders_touch BEFORE UPDATE ON public.orders FOR EACH ROW"
        " EXECUTE FUNCTION public.touch()",
        "CREATE OR REPLACE VIEW public.active_users AS SELECT id FROM users WHERE active",
        "CREATE OR REPLACE FUNCTION public.touch() RETURNS trigger AS $$ SELECT 1 $$ LANGUAGE x",
        "DROP TRIGGER orders_touch ON public.orders",
        'CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA public',
    ]
    assert source.stats["unanalysed"] == 0
    findings = lint_revision(
        "from alembic_utils.pg_trigger import PGTrigger\n" + revision_of(ENTITIES), "r.py"
    )
    line = ENTITIES.splitlines().index("op.create_entity(trg)") + 9  # the header's lines before upgrade()
    trigger = [f for f in findings if f.rule == "missing-lock-timeout" and f.line == line]
    assert trigger and trigger[0].lock == "SHARE ROW EXCLUSIVE"  # CREATE TRIGGER's lock on its table


def test_sync_enum_values_recreates_the_type_and_rewrites_the_columns():
    body = """
    op.sync_enum_values(
        "public",
        "status",
        ["new", "paid", "void"],
        [TableReference(table_schema="public", table_name="orders", column_name="status")],
        enum_values_to_rename=[],
    )
    """
    source = read_revision(revision_of(body), "r.py")
    assert [s.sql for s in source.upgrade] == [
        "ALTER TYPE public.status RENAME TO status_old",
        "CREATE TYPE public.status AS ENUM ('new', 'paid', 'void')",
        "ALTER TABLE public.orders ALTER COLUMN status TYPE public.status USING status::text::public.status",
        "DROP TYPE public.status_old",
    ]
    findings = lint_revision(revision_of(body), "r.py", Settings(lock_timeout_in_env=True))
    assert any(f.rule == "change-column-type" and f.lock == "ACCESS EXCLUSIVE" for f in findings)


def test_sync_enum_values_of_alembic_autogenerate_enums_adds_the_new_labels():
    """The older library's (schema, name, old_values, new_values): labels are added, never removed."""
    body = """
    op.sync_enum_values("public", "log_type", ["create", "revoke"], ["create", "delete", "revoke", "view"])
    op.sync_enum_values("public", "log_type", ["create", "delete"], ["create"])
    op.sync_enum_values("public", "kind", old_values=["a"], new_values=["a", "b"])
    """
    source = read_revision(revision_of(body), "r.py")
    assert [s.sql for s in source.upgrade] == [
        "ALTER TYPE public.log_type ADD VALUE 'delete'",
        "ALTER TYPE public.log_type ADD VALUE 'view'",
        "ALTER TYPE public.kind ADD VALUE 'b'",
    ]
    assert source.stats["analysed"] == 3


def test_core_statements_on_a_table():
    body = """
    queries = sa.table("queries", sa.column("id"), sa.column("schedule"))
    op.execute(queries.update().values({"old_schedule": queries.c.schedule}))
    conn = op.get_bind()
    for q in conn.execute(queries.select()):
        conn.execute(queries.update().where(queries.c.id == q.id).values(schedule=None))
    op.execute(queries.delete())
    op.add_column("queries", sa.Column("options", sa.Text(), server_default=json.dumps({})))
    """
    source = read_revision(revision_of(body), "r.py")
    assert [s.sql for s in source.upgrade] == [
        "UPDATE queries SET old_schedule = $1",
        "SELECT * FROM queries",
        'UPDATE queries SET schedule = $1 WHERE "?" = $1',
        "DELETE FROM queries",
        "ALTER TABLE queries ADD COLUMN options TEXT DEFAULT '?'",
    ]
    findings = lint_revision(revision_of(body), "r.py", Settings(lock_timeout_in_env=True))
    backfills = sorted(f.line for f in findings if f.rule == "unbatched-backfill")
    assert backfills == [10, 14]  # every row; the per-row UPDATE in the loop is not one


def test_a_select_over_a_join_of_tables_is_a_read():
    """connection.execute(a.join(b, cond).select().where(...)): a SELECT, with tables known or not."""
    body = """
    conn = op.get_bind()
    members = sa.table("members", sa.column("id"), sa.column("share_id"))
    for row in conn.execute(load_table("snapshots", conn).join(members, members.c.id == 1).select().where(
        members.c.share_id == 5
    )):
        pass
    conn.execute(members.outerjoin(load_table("shares", conn)).select())
    """
    source = read_revision(revision_of(body), "r.py")
    assert [s.sql for s in source.upgrade] == [
        'SELECT * FROM "?" JOIN members ON TRUE WHERE (share_id = 5)',
        'SELECT * FROM members JOIN "?" ON TRUE',
    ]
    assert source.stats["unanalysed"] == 0


@pytest.mark.parametrize(
    "name",
    [
        "ix_customer_subscription_billing_period_started_at_and_plan_identifier",
        "uq_short",
        "fk_" + "x" * 61,
    ],
)
def test_names_shortened_as_sqlalchemy_does(name):
    sa = pytest.importorskip("sqlalchemy")
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex
    from sqlalchemy.sql.elements import conv

    from dbpatterns.alembic.values import sqlalchemy_name

    table = sa.Table("subs", sa.MetaData(), sa.Column("a", sa.Integer))
    compiled = str(CreateIndex(sa.Index(conv(name), table.c.a)).compile(dialect=postgresql.dialect()))
    assert compiled.split()[2] == sqlalchemy_name(name)
    [statement] = read_revision(
        revision_of(f'op.create_index(op.f("{name}"), "subs", ["a"])'), "r.py"
    ).upgrade
    assert statement.sql.split()[2] == sqlalchemy_name(name)


def test_statements_of_one_execute_each_on_its_own_line():
    body = '''
    op.execute(
        """
        ALTER TABLE users ADD COLUMN plan text;
        UPDATE users SET plan = 'free';
        """
    )
    op.execute("""
        UPDATE users SET plan = 'paid';
        UPDATE users SET plan = 'gold';
    """)  # dbpatterns: ignore[unbatched-backfill]
    '''
    source = read_revision(revision_of(body), "r.py")
    assert [(s.line, s.sql) for s in source.upgrade] == [
        (11, "ALTER TABLE users ADD COLUMN plan text"),
        (12, "UPDATE users SET plan = 'free'"),
        (16, "UPDATE users SET plan = 'paid'"),
        (17, "UPDATE users SET plan = 'gold'"),
    ]
    findings = lint_revision(revision_of(body), "r.py", Settings(lock_timeout_in_env=True))
    assert [f.line for f in findings if f.rule == "unbatched-backfill"] == [12]  # the comment covers the call


def test_core_statement_on_a_table_assigned_twice():
    body = """
    t = sa.table("queries", sa.column("id"))
    t = sa.table("queries", sa.column("id"), sa.column("schedule"))
    op.execute(t.update().values({"schedule": None}))
    op.execute(sa.select([t.c.id]).select_from(t))
    """
    assert [s.sql for s in read_revision(revision_of(body), "r.py").upgrade] == [
        "UPDATE queries SET schedule = $1",  # the table as the second assignment made it
        'SELECT * FROM "?"',
    ]


def test_unknown_parts_never_reach_the_sql_as_holes():
    from dbpatterns.alembic.values import HOLE

    body = """
    with op.batch_alter_table(f"t_{x}", recreate="always") as b:
        b.add_column(sa.Column(f"c_{y}", sa.Integer(), sa.ForeignKey(f"{s}.users.id")))
    t = sa.table(f"q_{z}")
    op.execute(t.delete())
    op.add_column("t", sa.Column("c", sa.Text(), server_default=sa.text(f"'{v}'")))
    op.create_check_constraint(f"ck_{n}", "t", f"c > {m}")
    op.create_index("ix", "t", [sa.text(f"lower({col})")])
    """
    statements = read_revision(revision_of(body), "r.py").upgrade
    assert len(statements) == 10 and all(s.sql is not None for s in statements)
    assert not [s.sql for s in statements if HOLE in s.sql]
    assert 'ALTER TABLE t ADD CONSTRAINT "ck_?" CHECK (c > "?")' in [s.sql for s in statements]
