"""Idioms of real Alembic histories that the static reader must analyse, not skip: each test is a small
revision written for the construct, with what must fire and what must not."""

from __future__ import annotations

import textwrap

import pytest

from dbpatterns.alembic.static import read_revision
from dbpatterns.lint import Settings, lint_revision
from dbpatterns.sql.params import placeholders

SETTINGS = Settings(lock_timeout_in_env=True)


def revision(body: str, header: str = "", signature: str = "def upgrade():") -> str:
    """A revision whose upgrade() runs ``body``; ``header``: module-level code after the imports."""
    return (
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        'revision = "r2"\ndown_revision = "r1"\n\n'
        + textwrap.dedent(header).strip()
        + "\n\n\n"
        + signature
        + "\n"
        + textwrap.indent(textwrap.dedent(body).strip() + "\n", "    ")
        + "\n\ndef downgrade():\n    pass\n"
    )


def statements(text: str) -> list[tuple[str | None, str | None]]:
    return [(s.sql, s.note) for s in read_revision(text, "r.py").upgrade]


def rules(text: str) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for f in lint_revision(text, "r.py", SETTINGS):
        found.setdefault(f.rule, []).append(f.line)
    return found


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of the first line of ``text`` that holds ``fragment``."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def assert_read(text: str) -> None:
    """Every operation analysed: no opaque operation, no syntax error, nothing left unanalysed."""
    source = read_revision(text, "r.py")
    assert source.stats["unanalysed"] == 0, [s.note for s in source.upgrade if s.sql is None]
    assert not {"syntax-error", "opaque-operation"} & set(rules(text))


# -- op handed to upgrade() by the project's env.py ---------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [
        "def upgrade(op, tables, tester):",
        "def upgrade(operations: Operations):",
        "def upgrade(operations: 'alembic.operations.Operations'):",
    ],
)
def test_operations_handed_in_as_a_parameter(signature):
    name = signature.split("(")[1].split(":")[0].split(",")[0].rstrip(")")
    body = f"""
    {name}.create_index("ix_orders_customer", "orders", ["customer_id"])
    {name}.alter_column("orders", "total", nullable=False)
    """
    text = revision(body, signature=signature)
    found = rules(text)
    assert "create-index-non-concurrently" in found and "set-not-null" in found
    assert_read(text)


def test_a_parameter_that_is_not_the_operations_object_is_not_read_as_one():
    body = 'ctx.create_index("ix_orders_customer", "orders", ["customer_id"])'
    text = revision(body, signature="def upgrade(ctx):")
    assert statements(text) == []
    assert "create-index-non-concurrently" not in rules(text)


# -- values built by the revision's own code ---------------------------------------------------------------


def test_text_params_and_execution_options_keep_the_sql():
    body = """
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE jobs SET state = :s").params({"s": "done"}))
    conn.execute(sa.text("UPDATE jobs SET state = :s WHERE id = :id").params(s="x", id=1))
    """
    text = revision(body)
    assert [s for s, _ in statements(text)] == [
        "UPDATE jobs SET state = $1",
        "UPDATE jobs SET state = $1 WHERE id = $1",
    ]
    # the statement without WHERE, not the other one
    assert rules(text).get("unbatched-backfill") == [line_of(text, '"s": "done"')]


def test_a_function_of_the_file_that_returns_sql_is_evaluated():
    body = """
    def batch(size):
        return f"UPDATE runs SET done = true WHERE id IN (SELECT id FROM runs WHERE done LIMIT {size})"

    def everything(size):
        return "UPDATE runs SET done = true"

    conn = op.get_bind()
    for query in [batch, everything]:
        conn.execute(sa.text(query(500)))
    """
    text = revision(body)
    assert [s for s, _ in statements(text)] == [
        "UPDATE runs SET done = true WHERE id IN (SELECT id FROM runs WHERE done LIMIT 500)",
        "UPDATE runs SET done = true",
    ]


def test_a_function_with_several_returns_is_not_guessed():
    body = """
    def pick(flag):
        if flag:
            return "UPDATE a SET x = 1"
        return "UPDATE b SET x = 1"

    op.execute(pick(True))
    """
    assert statements(revision(body)) == [(None, "op.execute with a non-literal argument")]


def test_a_statement_variable_assigned_again_is_read_at_each_use():
    body = """
    conn = op.get_bind()
    statement = sa.text("UPDATE nodes SET extras = extras || '{}' WHERE kind = 'code'")
    conn.execute(statement)
    statement = sa.text("UPDATE nodes SET attributes = attributes - 'hidden'")
    conn.execute(statement)
    statement = "ALTER TABLE nodes ALTER COLUMN label SET NOT NULL"
    statement += ""
    op.execute(statement)
    """
    text = revision(body)
    found = rules(text)
    # the second UPDATE only: the first has a WHERE; each at the conn.execute that runs it
    executes = [n for n, line in enumerate(text.splitlines(), 1) if "conn.execute(statement)" in line]
    assert found.get("unbatched-backfill") == [executes[1]]
    assert found.get("set-not-null") == [line_of(text, "op.execute(statement)")]
    assert_read(text)


def test_join_and_replace_of_known_strings():
    header = """
    FORWARD = [
        "UPDATE groups SET kind = 'user' WHERE kind = '';",
        "UPDATE groups SET kind = 'auto' WHERE kind = 'import';",
    ]
    LINKS = [("membership", "group_id"), ("grant", "group_id")]
    """
    body = """
    op.execute("\\n".join(FORWARD))
    for table, column in LINKS:
        op.add_column(table, sa.Column(column, sa.Text(), sa.ForeignKey(column.replace("_", "."))))
    """
    text = revision(body, header)
    got = [s for s, _ in statements(text)]
    assert 'ALTER TABLE membership ADD FOREIGN KEY(group_id) REFERENCES "group" (id)' in got
    assert 'ALTER TABLE "grant" ADD FOREIGN KEY(group_id) REFERENCES "group" (id)' in got
    assert rules(text).get("add-foreign-key") == [line_of(text, "op.add_column")] * 2
    assert "unbatched-backfill" not in rules(text)
    assert_read(text)


def test_a_list_filled_by_append_is_not_read_as_its_first_literal():
    body = """
    cases = []
    for old, new in pairs:
        cases.append(f"WHEN urn LIKE '{old}.%' THEN '{new}'")
    op.execute(f"UPDATE resources SET urn = CASE {' '.join(cases)} ELSE urn END WHERE urn LIKE '%.%'")
    """
    text = revision(body)
    assert "syntax-error" not in rules(text)  # an empty CASE would be our error, not the revision's


def test_a_foreign_key_target_known_only_at_run_time_is_question_mark():
    text = revision('op.add_column("items", sa.Column("owner_id", sa.Integer(), sa.ForeignKey(TARGET)))')
    assert statements(text)[1] == ('ALTER TABLE items ADD FOREIGN KEY(owner_id) REFERENCES "?" ("?")', None)
    assert "add-foreign-key" in rules(text)
    assert_read(text)


# -- SQLAlchemy objects handed to op.execute and op.create_index --------------------------------------------


def test_ddl_elements_in_execute():
    body = """
    op.execute(sa.schema.DropSequence(sa.schema.Sequence("item_id_seq")))
    op.execute(sa.schema.CreateSequence(sa.Sequence("ticket_seq", schema="app")))
    op.execute(sa.schema.CreateSchema("audit"))
    op.execute(sa.schema.DropSchema("scratch", cascade=True))
    op.execute(sa.schema.DropSchema("empty"))
    """
    text = revision(body)
    assert [s for s, _ in statements(text)] == [
        "DROP SEQUENCE item_id_seq",
        "CREATE SEQUENCE app.ticket_seq",
        "CREATE SCHEMA audit",
        "DROP SCHEMA scratch CASCADE",
        "DROP SCHEMA empty",
    ]
    assert rules(text).get("drop-schema-cascade") == [line_of(text, "cascade=True")]  # that one only
    assert_read(text)


def test_column_object_in_an_index_expression():
    body = """
    op.create_index("ix_users_email_lower", "users", [sa.func.lower(sa.Column("email"))], unique=True)
    """
    text = revision(body)
    assert statements(text) == [("CREATE UNIQUE INDEX ix_users_email_lower ON users (lower(email))", None)]
    assert "create-index-non-concurrently" in rules(text)


def test_bulk_insert_is_an_insert():
    body = """
    kinds = sa.table("log_kind", sa.column("name"), schema="audit")
    op.bulk_insert(kinds, [{"name": "login"}, {"name": "logout", "id": 7}])
    op.bulk_insert(tables.log_kind, rows)
    op.bulk_insert(kinds, [])
    """
    text = revision(body)
    assert [s for s, _ in statements(text)] == [
        "INSERT INTO audit.log_kind (name, id) VALUES ($1, $1)",
        'INSERT INTO "?" ("?") VALUES ($1)',
    ]
    assert not {"unbatched-backfill", "work-under-exclusive-lock"} & set(rules(text))
    assert_read(text)


def test_server_default_from_an_application_constant():
    header = "from app.models import Kind\nfrom app.crypto import encryptor"
    body = """
    op.add_column("bill", sa.Column("kind", sa.Text(), nullable=False, server_default=Kind.EXPENSE.name))
    op.add_column("cfg", sa.Column("blob", sa.Text(), nullable=False, server_default=encryptor.seal({})))
    op.add_column("cfg", sa.Column("stamp", sa.DateTime(), nullable=False, server_default=sa.func.now()))
    """
    text = revision(body, header)
    assert [s for s, _ in statements(text)] == [
        "ALTER TABLE bill ADD COLUMN kind TEXT DEFAULT '?' NOT NULL",
        "ALTER TABLE cfg ADD COLUMN blob TEXT DEFAULT '?' NOT NULL",
        "ALTER TABLE cfg ADD COLUMN stamp TIMESTAMP WITHOUT TIME ZONE DEFAULT now() NOT NULL",
    ]
    assert "add-column-required" not in rules(text)  # every column has a default
    assert_read(text)


# -- SQL strings built at run time ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "sql"),
    [
        (
            'op.execute(f"CREATE TYPE color AS ENUM ({labels})")',
            "CREATE TYPE color AS ENUM ('?')",
        ),
        (
            'op.execute(f"INSERT INTO tasks (key, kind) VALUES {rows} ON CONFLICT DO NOTHING")',
            'INSERT INTO tasks (key, kind) VALUES ("?") ON CONFLICT DO NOTHING',
        ),
        (
            'op.get_bind().execute(sa.text(f"UPDATE orgs SET {assignments} WHERE key = :key"), params)',
            'UPDATE orgs SET "?" = NULL WHERE key = $1',
        ),
    ],
)
def test_unknown_parts_that_are_lists_of_values_or_assignments(body, sql):
    text = revision(body)
    assert statements(text) == [(sql, None)]
    assert_read(text)


def test_pyformat_parameters_glued_to_an_operator():
    assert placeholders("UPDATE t SET config=%s WHERE id=%(id)s AND n <>%s") == (
        "UPDATE t SET config=$1 WHERE id=$1 AND n <>$1"
    )
    assert placeholders("SELECT a =% b") == "SELECT a =% b"  # an operator of its own, no parameter
    body = """
    conn = op.get_bind()
    conn.execute("UPDATE triggers SET config=%s WHERE id=%s", "{}", 1)
    """
    assert_read(revision(body))


# -- sqlalchemy-searchable -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "call"),
    [
        ("import sqlalchemy_searchable as ss", 'ss.sync_trigger(conn, "notes", "search", ["title", "b"])'),
        ("from sqlalchemy_searchable import sync_trigger", 'sync_trigger(conn, "notes", "search", ["t"])'),
    ],
)
def test_sync_trigger_recreates_the_trigger_and_updates_every_row(header, call):
    text = revision(f"conn = op.get_bind()\n{call}", header)
    got = [s for s, _ in statements(text)]
    assert got[0] == "DROP TRIGGER IF EXISTS notes_search_trigger ON notes"
    assert got[3].startswith("CREATE TRIGGER notes_search_trigger BEFORE UPDATE OR INSERT ON notes")
    assert got[4] in ("UPDATE notes SET title = title", "UPDATE notes SET t = t")
    assert rules(text).get("unbatched-backfill") == [line_of(text, "sync_trigger(")]
    assert_read(text)


def test_sync_trigger_without_updating_rows_and_drop_trigger():
    header = "from sqlalchemy_searchable import drop_trigger, sync_trigger"
    body = """
    conn = op.get_bind()
    sync_trigger(conn, "notes", "search", ["title"], update_rows=False)
    drop_trigger(conn, "notes", "search")
    """
    text = revision(body, header)
    got = [s for s, _ in statements(text)]
    assert not [s for s in got if s.startswith("UPDATE")]
    assert got[-2:] == [
        "DROP TRIGGER IF EXISTS notes_search_trigger ON notes",
        "DROP FUNCTION IF EXISTS notes_search_update()",
    ]
    assert "unbatched-backfill" not in rules(text)


def test_a_function_of_the_same_name_from_elsewhere_is_not_read_as_the_library_one():
    call = 'sync_trigger(op.get_bind(), "notes", "search", ["title"])'
    text = revision(call, "from app.search import sync_trigger")
    assert statements(text) == []


def test_sql_expressions_of_sqlalchemy_searchable_create_functions_only():
    text = revision("op.execute(sql_expressions)", "from sqlalchemy_searchable import sql_expressions")
    sql = statements(text)[0][0]
    assert sql is not None and sql.count("CREATE OR REPLACE FUNCTION parse_websearch") == 2
    assert set(rules(text)) == {"missing-downgrade"}  # the fixture's empty downgrade; no table is touched
    assert_read(text)


# -- operations that cannot run ----------------------------------------------------------------------------


def test_an_operation_that_raises_is_analysed_not_opaque():
    body = """
    op.alter_column("orders", "state", type_=sa.Enum("new", "paid"), existing_type=sa.String())
    op.drop_constraint(None, "orders", type_="foreignkey")
    """
    text = revision(body)
    source = read_revision(text, "r.py")
    assert [(s.sql, bool(s.fails)) for s in source.upgrade] == [
        (None, True),
        ('ALTER TABLE orders DROP CONSTRAINT "?"', True),  # what it would send, once named
    ]
    assert source.stats["unanalysed"] == 0
    found = rules(text)
    assert found["operation-fails"] == [line_of(text, "sa.Enum("), line_of(text, "drop_constraint")]
    assert "opaque-operation" not in found


CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


@pytest.mark.parametrize("convention", [None, CONVENTION])
@pytest.mark.parametrize(
    ("call", "raises"),
    [
        ('op.drop_constraint(None, "orders", type_="foreignkey")', True),
        ('op.drop_constraint(None, "orders", type_="check")', True),
        ('op.drop_constraint(None, "orders")', True),
        ('op.drop_constraint(None, "orders", type_="primary")', None),  # named by a pk convention
        ('op.add_column("orders", sa.Column("state", sa.Enum("new", "paid")))', True),
        ('op.add_column("orders", sa.Column("state", sa.Enum("new", "paid", name="order_state")))', False),
    ],
)
def test_what_operation_fails_reports_is_what_alembic_does(call, raises, convention):
    """The claim checked against Alembic itself: each call rendered through its offline (--sql) mode on
    PostgreSQL, with and without a naming convention on the target metadata."""
    import io

    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    from sqlalchemy import MetaData

    opts: dict = {"as_sql": True, "output_buffer": io.StringIO()}
    if convention is not None:
        opts["target_metadata"] = MetaData(naming_convention=convention)
    op = Operations(MigrationContext.configure(dialect_name="postgresql", opts=opts))
    try:
        eval(call, {"op": op, "sa": __import__("sqlalchemy")})  # noqa: S307 - the test's own literals
        raised = False
    except Exception:  # noqa: BLE001 - CompileError, IndexError, InvalidRequestError: each a refusal
        raised = True
    reported = "operation-fails" in rules(revision(call))
    if raises is None:  # only a convention can name it: the lint does not claim either way
        assert raised is (convention is None) and not reported
    else:
        assert raised is raises and reported is raises


def test_a_default_known_only_at_run_time_on_a_table_being_created():
    body = """
    stamp = datetime.now().strftime("'%Y-%m-%d'")
    op.create_table("uploads", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("created", sa.DateTime(), nullable=False, server_default=sa.text(stamp)))
    op.add_column("files", sa.Column("created", sa.DateTime(), nullable=False, server_default=sa.text(stamp)))
    """
    text = revision(body, "from datetime import datetime")
    got = statements(text)
    assert got[0][0] == "CREATE TABLE uploads (id SERIAL NOT NULL, created TIMESTAMP WITHOUT TIME ZONE " + (
        "DEFAULT '?' NOT NULL, PRIMARY KEY (id))"
    )
    # on a table with rows, whether the default rewrites it depends on the unknown: not guessed
    assert got[1] == (None, "server_default is not static")


def test_a_required_argument_left_out_is_reported_as_failing():
    text = revision('op.drop_constraint("ck_no_private_names")')  # no table: Alembic raises TypeError
    source = read_revision(text, "r.py")
    assert [(s.sql, s.fails) for s in source.upgrade] == [
        (None, "op.drop_constraint() without table_name: Alembic raises TypeError (a required argument)")
    ]
    assert set(rules(text)) >= {"operation-fails"} and "opaque-operation" not in rules(text)
    # batch_op gets its table from the batch: not a missing argument
    batch = 'with op.batch_alter_table("t") as b:\n    b.drop_constraint("ck_x")'
    assert "operation-fails" not in rules(revision(batch))


# -- sizes, defaults and constructs from the application or SQLAlchemy's corners ----------------------------


def test_a_size_known_only_at_run_time_on_a_new_column():
    header = "from app import limits"
    body = """
    op.create_table("ports", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.String(length=limits.NAME_SIZE), nullable=False))
    op.add_column("nets", sa.Column("dns", sa.String(limits.DNS_SIZE), nullable=True))
    op.alter_column("nets", "label", type_=sa.String(limits.NAME_SIZE), existing_type=sa.String(64))
    """
    text = revision(body, header)
    got = statements(text)
    assert got[0][0] == 'CREATE TABLE ports (id SERIAL NOT NULL, name "string(?)" NOT NULL, PRIMARY KEY (id))'
    assert got[1] == ('ALTER TABLE nets ADD COLUMN dns "string(?)"', None)
    # a type change whose size is unknown: analysed, and whether it rewrites depends on it: "may"
    assert got[2] == ('ALTER TABLE nets ALTER COLUMN label TYPE "string(?)"', None)
    assert "add-column-required" not in rules(text)
    [change] = [f for f in lint_revision(text, "r.py", Settings()) if f.rule == "change-column-type"]
    assert change.hedged and change.rewrites and change.lock == "ACCESS EXCLUSIVE"
    assert "TYPE string(?) takes ACCESS EXCLUSIVE; its PostgreSQL type is not known here" in change.message


@pytest.mark.parametrize(
    ("type_expr", "shown"),
    [
        ("db_types.JsonEncodedDict", "JsonEncodedDict"),  # a library's TypeDecorator: impl not seen
        ("db_types.JsonEncodedDict(mysql_as_long=True).impl", "?"),  # not a type expression at all
        ("sa.Enum(name=enum_name())", "?"),  # a type whose name is known only at run time
    ],
)
def test_a_type_change_to_a_type_not_known_here_is_a_hedged_rewrite(type_expr, shown):
    """The lock and the other changes of the call do not depend on the type: they are analysed; the
    rewrite does, so it "may" happen, whatever the old type."""
    header = "from oslo_db.sqlalchemy import types as db_types\nfrom app.names import enum_name"
    body = f"""
    op.alter_column("nodes", "extra", type_={type_expr}, existing_type=sa.Text(), nullable=False)
    """
    text = revision(body, header)
    source = read_revision(text, "r.py")
    assert source.stats["unanalysed"] == 0 and source.stats["partial"] == 1  # analysed, in part
    found = {f.rule: f for f in lint_revision(text, "r.py", Settings())}
    change = found["change-column-type"]
    assert change.hedged and change.rewrites and f"TYPE {shown} takes ACCESS EXCLUSIVE" in change.message
    assert "set-not-null" in found and "opaque-operation" not in found


def test_an_old_type_not_known_here_makes_the_rewrite_a_may():
    """``existing_type`` a library's class: text to text would need no rewrite, so none is claimed."""
    header = "from oslo_db.sqlalchemy import types as db_types"
    body = 'op.alter_column("nodes", "extra", type_=sa.Text(), existing_type=db_types.JsonEncodedDict())'
    [change] = [
        f for f in lint_revision(revision(body, header), "r.py", Settings()) if f.rule == "change-column-type"
    ]
    assert change.hedged and "the old type is not known here" in change.message


def test_defaults_made_by_python_builtins_and_sqlalchemy_false():
    header = "from app.const import DEFAULT_MTU, Mode\nfrom sqlalchemy import sql"
    body = """
    op.alter_column("networks", "mtu", nullable=False, server_default=str(DEFAULT_MTU))
    op.add_column("rooms", sa.Column("mode", sa.Integer(), nullable=False, server_default=str(Mode.a.value)))
    op.add_column("roles", sa.Column("managed", sa.Boolean(), nullable=False, server_default=sa.sql.False_()))
    op.add_column("scopes", sa.Column("shared", sa.Boolean(), nullable=False, server_default=sql.false()))
    """
    text = revision(body, header)
    got = [s for s, _ in statements(text)]
    assert got == [
        "ALTER TABLE networks ALTER COLUMN mtu SET NOT NULL",
        "ALTER TABLE networks ALTER COLUMN mtu SET DEFAULT '?'",
        "ALTER TABLE rooms ADD COLUMN mode INTEGER DEFAULT '?' NOT NULL",
        "ALTER TABLE roles ADD COLUMN managed BOOLEAN DEFAULT false NOT NULL",
        "ALTER TABLE scopes ADD COLUMN shared BOOLEAN DEFAULT false NOT NULL",
    ]
    assert "add-column-required" not in rules(text)
    assert_read(text)


def test_create_table_with_a_metadata_argument_and_a_check_built_from_a_constant():
    header = "from app.models import State"
    body = """
    op.create_table(
        "exports", sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("state", sa.Enum(State, native_enum=False), nullable=False),
        sa.CheckConstraint(f"state != {State.done.value} OR file_id IS NOT NULL", name="done_has_file"),
    )
    """
    text = revision(body, header)
    sql = statements(text)[0][0]
    assert sql == (
        "CREATE TABLE exports (id SERIAL NOT NULL, state VARCHAR NOT NULL, PRIMARY KEY (id), "
        'CONSTRAINT done_has_file CHECK (state != "?" OR file_id IS NOT NULL))'
    )
    assert_read(text)


def test_a_tuple_parameter_after_in_and_case_branches_joined_at_run_time():
    body = """
    conn = op.get_bind()
    conn.execute("UPDATE comments SET revision_id = %s WHERE id IN %s", (1, (2, 3)))
    whens = " ".join(f"WHEN {k} THEN '{v}'" for k, v in KINDS)
    op.execute(f"UPDATE items SET label = CASE kind {whens} END WHERE kind IS NOT NULL")
    """
    text = revision(body)
    assert [s for s, _ in statements(text)] == [
        "UPDATE comments SET revision_id = $1 WHERE id IN ($1)",
        "UPDATE items SET label = CASE kind WHEN NULL THEN NULL END WHERE kind IS NOT NULL",
    ]
    assert_read(text)


def test_create_table_with_columns_from_helpers_or_a_spread_list():
    header = "from app.migration_utils import id_column"
    body = """
    op.create_table("settings", id_column(op, "settings_seq"), sa.Column("key", sa.Text(), nullable=False))
    op.create_table("metrics", *extra_columns, sa.UniqueConstraint("name", name="uq_metrics_name"))
    """
    text = revision(body, header)
    got = statements(text)
    assert got == [
        ("CREATE TABLE settings (key TEXT NOT NULL)", None),
        ("CREATE TABLE metrics (CONSTRAINT uq_metrics_name UNIQUE (name))", None),
    ]
    assert read_revision(text, "r.py").stats["partial"] == 2
    assert_read(text)


def test_batch_drops_with_every_name_known_are_not_partial():
    """batch_op.drop_* gets the block's table with no schema (None: the search path), a known name."""
    body = """
    with op.batch_alter_table("incident") as batch_op:
        batch_op.drop_column("summary")
        batch_op.drop_index("ix_incident_tenant")
        batch_op.drop_constraint("incident_rule_fk", type_="foreignkey")
    """
    source = read_revision(revision(body), "r.py")
    assert [s.sql for s in source.upgrade] == [
        "ALTER TABLE incident DROP COLUMN summary",
        "DROP INDEX ix_incident_tenant",
        "ALTER TABLE incident DROP CONSTRAINT incident_rule_fk",
    ]
    assert (source.stats["analysed"], source.stats["partial"]) == (3, 0)


@pytest.mark.parametrize(
    ("guard", "linted"),
    [
        ('is_postgres = op.get_bind().dialect.name == "postgresql"\nif is_postgres:', True),
        ('is_sqlite = op.get_bind().dialect.name == "sqlite"\nif is_sqlite:', False),
        ("if op.get_bind().dialect.supports_sequences:", True),
        ("if not op.get_bind().dialect.supports_sequences:", False),
    ],
)
def test_dialect_tests_through_a_name_and_dialect_capabilities(guard, linted):
    create = 'op.execute(sa.schema.CreateSequence(sa.Sequence("ticket_seq")))'
    body = f'{guard}\n    {create}\nop.execute("SELECT 1")'
    got = [s for s, _ in statements(revision(body))]
    assert ("CREATE SEQUENCE ticket_seq" in got) is linted


def test_a_conditional_expression_on_the_dialect_takes_the_postgresql_value():
    """A type picked by a dialect test (through a name, or the revision's own helper that returns the test),
    in an argument: the value PostgreSQL gets, not an unknown type."""
    header = """
    def is_postgres():
        bind = op.get_bind()
        return bind.engine.name == "postgresql"
    """
    body = """
    mysql_dl = op.get_context().bind.dialect.name == "mysql"
    stamp = sa.dialects.mysql.DATETIME(fsp=6) if mysql_dl else sa.DateTime
    op.create_table("transfers", sa.Column("id", sa.Integer()), sa.Column("created_at", stamp))
    op.add_column("incident", sa.Column("digest", sa.TEXT(length=36) if not is_postgres() else sa.TEXT()))
    if not is_postgres():
        op.execute("ALTER TABLE incident MODIFY fingerprint TEXT")
    op.add_column("incident", sa.Column("note", sa.Text() if some_flag else sa.String(10)))
    """
    text = revision(body, header)
    source = read_revision(text, "r.py")
    assert [s.sql for s in source.upgrade] == [
        "CREATE TABLE transfers (id INTEGER, created_at TIMESTAMP WITHOUT TIME ZONE)",
        "ALTER TABLE incident ADD COLUMN digest TEXT",
        'ALTER TABLE incident ADD COLUMN note "?"',  # a test that is not about the dialect: not known
    ]
    assert {k: source.stats[k] for k in ("seen", "analysed", "partial", "skipped")} == {
        "seen": 4,
        "analysed": 3,
        "partial": 1,
        "skipped": 1,
    }


def test_batch_operations_under_a_false_guard_are_counted_skipped():
    body = """
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("provider") as batch_op:
            batch_op.add_column(sa.Column("enabled", sa.Boolean(), nullable=True))
            batch_op.alter_column("enabled", nullable=False)
    else:
        op.add_column("provider", sa.Column("enabled", sa.Boolean(), nullable=True))
    """
    stats = read_revision(revision(body), "r.py").stats
    assert {k: stats[k] for k in ("seen", "analysed", "skipped")} == {"seen": 3, "analysed": 1, "skipped": 2}


def test_sqlmodel_types_are_what_postgresql_gets():
    """sqlmodel's AutoString is a String (a length only on MySQL), its GUID a UUID: a later change to text
    is no rewrite."""
    header = "import sqlmodel"
    body = """
    op.create_table(
        "topology",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=20)),
        sa.Column("id", sqlmodel.sql.sqltypes.GUID()),
    )
    op.alter_column("topology", "name", type_=sa.Text())
    """
    text = revision(body, header)
    assert statements(text)[0][0] == "CREATE TABLE topology (name VARCHAR, code VARCHAR(20), id UUID)"
    assert "change-column-type" not in rules(text)


def test_an_orm_session_on_the_connection_executes_in_the_migration():
    header = "from sqlalchemy.orm import Session"
    body = """
    session = Session(op.get_bind())
    session.execute(sa.text("UPDATE lastalert SET first_timestamp = now()"))
    conn = op.get_bind()
    Session(bind=conn).execute(sa.text("DELETE FROM lastalert WHERE id = :id"), {"id": 1})
    other = Session(some_engine)
    other.execute(sa.text("UPDATE elsewhere SET x = 1"))
    """
    text = revision(body, header)
    assert [s for s, _ in statements(text)] == [
        "UPDATE lastalert SET first_timestamp = now()",
        "DELETE FROM lastalert WHERE id = $1",
    ]
    assert rules(text)["unbatched-backfill"] == [12]


def test_a_helper_called_several_times_reports_its_statement_once():
    header = """
    def commit():
        op.execute(sa.text("commit"))
    """
    body = """
    for bits in (1024, 2048):
        op.execute(f"UPDATE certificates SET key_type = 'RSA{bits}' WHERE bits = {bits}")
        commit()
    commit()
    """
    text = revision(body, header)
    assert [s for s, _ in statements(text)].count("commit") == 3
    assert len(rules(text)["transaction-nesting"]) == 1


def test_keyword_arguments_spread_from_a_known_dict():
    body = """
    dt_args = {"existing_type": sa.DateTime(), "nullable": False}
    op.alter_column("accounts_role", "created", **dt_args)
    op.alter_column("accounts_user", "created", **dt_args)
    op.alter_column("accounts_user", "updated", **options_from_elsewhere)
    """
    text = revision(body)
    assert statements(text) == [
        ("ALTER TABLE accounts_role ALTER COLUMN created SET NOT NULL", None),
        ("ALTER TABLE accounts_user ALTER COLUMN created SET NOT NULL", None),
        (None, "op.alter_column with *args or **kwargs"),
    ]


def test_a_helper_shared_by_upgrade_and_downgrade_is_reported_once_where_it_is():
    """Each of upgrade() and downgrade() first takes a strong lock in the helper: one missing-lock-timeout
    finding at the helper's line, not a second one at the downgrade's next statement."""
    text = (
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        'revision = "r2"\ndown_revision = "r1"\n\n\n'
        "def _drop_check():\n"
        '    op.drop_constraint("ck_status", "user_file", type_="check")\n\n\n'
        "def upgrade():\n"
        "    _drop_check()\n"
        '    op.create_check_constraint("ck_status", "user_file", "status IN (1, 2)")\n\n\n'
        "def downgrade():\n"
        "    _drop_check()\n"
        '    op.create_check_constraint("ck_status", "user_file", "status IN (1)")\n'
    )
    found = [f for f in lint_revision(text, "r.py") if f.rule == "missing-lock-timeout"]
    assert [f.line for f in found] == [9]


def test_conditions_on_the_columns_of_a_core_table():
    """t.c.name in .where() and sa.select(): the column; a NULL test on a column just added bounds no
    batch (every row is updated)."""
    header = """
    user_table = sa.table("user", sa.column("id", sa.Uuid), sa.column("email"), sa.column("kind"))
    """
    body = """
    op.add_column("user", sa.Column("kind", sa.String(), nullable=True))
    op.execute(sa.update(user_table).where(user_table.c.kind.is_(None)).values(kind="HUMAN"))
    op.execute(user_table.update().where(user_table.c.email.ilike("%@bots"), user_table.c.id == 5))
    op.get_bind().execute(sa.select(user_table.c.id).where(user_table.c.kind != "HUMAN"))
    """
    text = revision(body, header)
    assert [s for s, _ in statements(text)][1:] == [
        'UPDATE "user" SET kind = $1 WHERE (kind IS NULL)',
        'UPDATE "user" SET "?" = $1 WHERE (email ILIKE \'%@bots\') AND (id = 5)',
        "SELECT * FROM \"user\" WHERE (kind <> 'HUMAN')",
    ]
    assert rules(text)["unbatched-backfill"] == [12]


def test_indexes_dropped_in_a_batch_block_before_their_table_are_dropped_with_it():
    """Autogenerate's downgrade: the table's indexes dropped in a batch block, then the table."""
    body = """
    with op.batch_alter_table("facet", schema=None) as batch_op:
        batch_op.drop_index("ix_facet_tenant_id")
        batch_op.drop_index("ix_entity_type")
    op.drop_table("facet")
    """
    source = read_revision(revision(body), "r.py")
    assert [s.table_dropped_next for s in source.upgrade] == [True, True, False]
    assert "drop-index-non-concurrently" not in rules(revision(body))


def test_a_list_or_string_built_by_an_unrolled_loop_is_known_after_it():
    header = 'BUCKETS = ["le_10", "le_100"]'
    body = """
    columns = [sa.Column("id", sa.Integer(), primary_key=True)]
    for bucket in BUCKETS:
        columns.append(sa.Column(bucket, sa.BigInteger(), nullable=False, server_default="0"))
    columns += [sa.Column("total", sa.BigInteger())]
    op.create_table("histogram", *columns)
    sql = "UPDATE histogram SET total = 0"
    for bucket in BUCKETS:
        sql += f", {bucket} = 0"
    op.execute(sql)
    for bucket in BUCKETS:
        if bucket == "le_10":
            break
        sql = "UPDATE other SET x = 1"
    op.execute(sql)
    """
    got = [s for s, _ in statements(revision(body, header))]
    assert got == [
        "CREATE TABLE histogram (id SERIAL NOT NULL, le_10 BIGINT DEFAULT '0' NOT NULL, "
        "le_100 BIGINT DEFAULT '0' NOT NULL, total BIGINT, PRIMARY KEY (id))",
        "UPDATE histogram SET total = 0, le_10 = 0, le_100 = 0",
        None,  # a pass that may break early: what the loop assigned is not known after it
    ]


def test_the_capabilities_read_as_true_on_postgresql_are_true_in_sqlalchemys_dialect():
    from sqlalchemy.dialects import postgresql

    from dbpatterns.alembic.dialect import POSTGRESQL_CAPABILITIES

    dialect = postgresql.dialect()
    assert all(getattr(dialect, name) is True for name in POSTGRESQL_CAPABILITIES)


# -- ORM data migrations -----------------------------------------------------------------------------------


def test_orm_data_calls_are_counted_analysed_in_part():
    """Each ORM data call on a Session bound to the migration's connection is seen and analysed in part
    (its SQL is made at run time); one under a false dialect guard is skipped; the function writes."""
    body = """
    session = Session(bind=op.get_bind())
    rows = session.query(User).all()
    session.add(User(name="x"))
    if op.get_bind().dialect.name == "mysql":
        session.merge(User(id=1))
    """
    source = read_revision(revision(body, "from sqlalchemy.orm import Session"), "r.py")
    assert source.stats == {"seen": 3, "analysed": 2, "partial": 2, "skipped": 1, "unanalysed": 0}
    assert [u.orm for u in source.upgrade] == ["session.query(User)", "session.add(User(name='x'))"]
    assert all(u.orm_writes and u.sql is None for u in source.upgrade)


def test_a_read_only_orm_function_does_not_write():
    body = """
    with Session(bind=op.get_bind()) as session:
        names = [row.name for row in session.query(Setting)]
    """
    source = read_revision(revision(body, "from sqlalchemy.orm import Session"), "r.py")
    assert [(u.orm, u.orm_writes) for u in source.upgrade] == [("session.query(Setting)", False)]


def test_a_server_default_chosen_between_python_strings_reads_as_a_constant():
    """indico: the default is the id of a row the revision looked up, made a string in Python (or None,
    when the revision has emptied the table first)."""
    body = """
    row_id = conn.execute(sa.text("SELECT id FROM locations WHERE is_default")).scalar()
    default = str(row_id) if row_id is not None else None
    op.add_column("aspects", sa.Column("location_id", sa.Integer, nullable=False, server_default=default))
    op.add_column("rooms", sa.Column("kind", sa.String, nullable=False, server_default="a" if FLAG else "b"))
    """
    text = revision(body)
    source = read_revision(text, "r.py")
    assert source.stats["unanalysed"] == 0
    assert [s.sql for s in source.upgrade][-2:] == [
        "ALTER TABLE aspects ADD COLUMN location_id INTEGER DEFAULT '?' NOT NULL",
        "ALTER TABLE rooms ADD COLUMN kind VARCHAR DEFAULT '?' NOT NULL",
    ]
    assert "add-column-required" not in rules(text) and "opaque-operation" not in rules(text)


def test_openstack_idioms_a_dialect_test_as_a_value_and_foreign_keys_by_keyword():
    """cinder: ``nullable=is_nullable`` with ``is_nullable = connection.engine.name == 'sqlite'`` (False on
    PostgreSQL); nova: ``sa.ForeignKeyConstraint(columns=[...], refcolumns=[...])``."""
    body = """
    connection = op.get_bind()
    is_nullable = connection.engine.name == 'sqlite'
    op.create_table(
        'encryption',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('cipher', sa.String(255), nullable=is_nullable),
        sa.Column('cell_id', sa.Integer, nullable=False),
        sa.ForeignKeyConstraint(columns=['cell_id'], refcolumns=['cell_mappings.id']),
    )
    """
    text = revision(body)
    source = read_revision(text, "r.py")
    assert source.stats["unanalysed"] == 0
    assert source.upgrade[-1].sql == (
        "CREATE TABLE encryption (id SERIAL NOT NULL, cipher VARCHAR(255) NOT NULL, "
        "cell_id INTEGER NOT NULL, PRIMARY KEY (id), FOREIGN KEY(cell_id) REFERENCES cell_mappings (id))"
    )
