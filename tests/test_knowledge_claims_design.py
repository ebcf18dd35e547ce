"""Claims of the design and operations material (autogenerate, branches, multi-tenancy, history,
operations), checked on the embedded server (PostgreSQL 18) and with Alembic's own APIs.

Each test names the claim it checks, in the words of rules/ and references/. Alembic claims run
``alembic.autogenerate.compare_metadata`` or Alembic's commands against a scratch database.
"""

from __future__ import annotations

import datetime
import io
import textwrap
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from dbpatterns.trace.database import psycopg_url

# ---- autogenerate (references/autogenerate.md) --------------------------------------------------------


def _diff(url: str, ddl: str, metadata: sa.MetaData, **opts) -> list:
    """What autogenerate finds between ``metadata`` and a database built by ``ddl``."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(ddl)
    engine = sa.create_engine(psycopg_url(url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"target_metadata": metadata, **opts})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def _kinds(diff: list) -> list[str]:
    """The operation names of a diff (``modify_*`` entries come wrapped in a list)."""
    return [(d[0][0] if isinstance(d, list) else d[0]) for d in diff]


def _table(*extra, name: str = "t", schema: str | None = None) -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table(name, metadata, sa.Column("id", sa.Integer, primary_key=True), *extra, schema=schema)
    return metadata


def test_autogenerate_sees_a_column_rename_as_drop_and_add(pg_url):
    """alembic-autogenerate: a rename is emitted as add_column + remove_column (the data would be lost)."""
    diff = _diff(
        pg_url, "CREATE TABLE t (id int PRIMARY KEY, name text)", _table(sa.Column("full_name", sa.Text))
    )
    assert sorted(_kinds(diff)) == ["add_column", "remove_column"]


def test_autogenerate_does_not_compare_column_order(pg_url):
    """references/autogenerate: columns in another order than the model's produce no operation."""
    models = _table(sa.Column("a", sa.Text), sa.Column("b", sa.Text))
    assert _diff(pg_url, "CREATE TABLE t (id int PRIMARY KEY, b text, a text)", models) == []


def test_autogenerate_ignores_check_constraints_added_or_removed(pg_url, pg_server):
    """alembic-autogenerate: CHECK constraints are not compared, neither new in the models nor gone."""
    new = _table(sa.Column("q", sa.Integer), sa.CheckConstraint("q > 0", name="ck_t_q"))
    assert _diff(pg_url, "CREATE TABLE t (id int PRIMARY KEY, q int)", new) == []
    with pg_server.scratch_database() as url:
        gone = _table(sa.Column("q", sa.Integer))
        assert _diff(url, "CREATE TABLE t (id int PRIMARY KEY, q int CHECK (q > 0))", gone) == []


def test_autogenerate_ignores_a_new_enum_value(pg_url):
    """alembic-autogenerate: a value added to a PostgreSQL enum in the models produces no operation."""
    models = _table(sa.Column("s", sa.Enum("a", "b", "c", name="st")))
    assert (
        _diff(pg_url, "CREATE TYPE st AS ENUM ('a', 'b'); CREATE TABLE t (id int PRIMARY KEY, s st)", models)
        == []
    )


def test_autogenerate_ignores_a_removed_enum_value(pg_url):
    """alembic-autogenerate: a value removed from the model's enum produces no operation either."""
    models = _table(sa.Column("s", sa.Enum("a", name="st")))
    ddl = "CREATE TYPE st AS ENUM ('a', 'b'); CREATE TABLE t (id int PRIMARY KEY, s st)"
    assert _diff(pg_url, ddl, models) == []


def test_enum_type_created_and_dropped_explicitly_in_a_revision(pg_url):
    """references/autogenerate: sa.Enum(...).create(bind, checkfirst=True) before add_column with
    postgresql.ENUM(..., create_type=False), and sa.Enum(name=...).drop(bind, checkfirst=True) in the
    downgrade: upgrade, downgrade, upgrade works."""
    from sqlalchemy.dialects import postgresql

    engine = sa.create_engine(psycopg_url(pg_url))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (id int PRIMARY KEY)")
        for _ in range(2):
            with engine.begin() as conn:  # upgrade
                op = Operations(MigrationContext.configure(conn))
                sa.Enum("a", "b", name="status").create(op.get_bind(), checkfirst=True)
                op.add_column(
                    "t", sa.Column("s", postgresql.ENUM("a", "b", name="status", create_type=False))
                )
            with engine.begin() as conn:  # downgrade
                op = Operations(MigrationContext.configure(conn))
                op.drop_column("t", "s")
                sa.Enum(name="status").drop(op.get_bind(), checkfirst=True)
                assert (
                    conn.exec_driver_sql("SELECT count(*) FROM pg_type WHERE typname = 'status'").scalar()
                    == 0
                )
    finally:
        engine.dispose()


def test_add_column_does_not_create_the_enum_type_and_drop_table_leaves_it(pg_url):
    """alembic-autogenerate: op.add_column with a new sa.Enum fails (type does not exist); op.create_table
    creates the type, op.drop_table leaves it behind, so upgrade-downgrade-upgrade fails."""
    engine = sa.create_engine(psycopg_url(pg_url))
    try:
        with engine.begin() as conn:
            Operations(MigrationContext.configure(conn)).create_table(
                "t", sa.Column("id", sa.Integer, primary_key=True)
            )
        with (
            pytest.raises(sa.exc.ProgrammingError, match='type "st" does not exist'),
            engine.begin() as conn,
        ):
            op = Operations(MigrationContext.configure(conn))
            op.add_column("t", sa.Column("s", sa.Enum("a", "b", name="st")))
        enum_table = (
            "u",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("s", sa.Enum("x", name="ut")),
        )
        with engine.begin() as conn:
            op = Operations(MigrationContext.configure(conn))
            op.create_table(*enum_table)
            op.drop_table("u")
            assert conn.exec_driver_sql("SELECT count(*) FROM pg_type WHERE typname = 'ut'").scalar() == 1
        with (
            pytest.raises(sa.exc.ProgrammingError, match='type "ut" already exists'),
            engine.begin() as conn,
        ):
            Operations(MigrationContext.configure(conn)).create_table(*enum_table)
    finally:
        engine.dispose()


def test_server_default_changes_need_compare_server_default(pg_url, pg_server):
    """alembic-autogenerate: compare_server_default is off by default (Alembic 1.x); on, it reports."""
    models = _table(sa.Column("s", sa.Text, server_default="x"))
    ddl = "CREATE TABLE t (id int PRIMARY KEY, s text DEFAULT 'y')"
    assert _diff(pg_url, ddl, models) == []
    with pg_server.scratch_database() as url:
        assert _kinds(_diff(url, ddl, models, compare_server_default=True)) == ["modify_default"]


def test_type_changes_are_compared_by_default_since_alembic_1_12(pg_url, pg_server):
    """alembic-autogenerate: compare_type defaults to True (Alembic 1.12+): int -> bigint, varchar(20)
    -> varchar(10) and numeric(12,2) -> numeric(10,2) are reported; compare_type=False hides them."""
    models = _table(
        sa.Column("a", sa.BigInteger), sa.Column("s", sa.String(10)), sa.Column("n", sa.Numeric(10, 2))
    )
    ddl = "CREATE TABLE t (id int PRIMARY KEY, a int, s varchar(20), n numeric(12, 2))"
    assert _kinds(_diff(pg_url, ddl, models)) == ["modify_type"] * 3
    with pg_server.scratch_database() as url:
        assert _diff(url, ddl, models, compare_type=False) == []


def test_index_details_autogenerate_does_not_compare(pg_url, pg_server):
    """alembic-autogenerate: a changed partial-index WHERE, access method (btree -> gin) or INCLUDE list
    is not reported; a changed column list, expression or uniqueness is (as drop + create)."""
    partial = _table(
        sa.Column("s", sa.Text), sa.Index("ix_s", "s", postgresql_where=sa.text("s IS NOT NULL"))
    )
    ddl = "CREATE TABLE t (id int PRIMARY KEY, s text); CREATE INDEX ix_s ON t (s) WHERE s IS NULL"
    assert _diff(pg_url, ddl, partial) == []
    with pg_server.scratch_database() as url:
        include = _table(sa.Column("s", sa.Text), sa.Index("ix_s", "s", postgresql_include=["id"]))
        assert (
            _diff(url, "CREATE TABLE t (id int PRIMARY KEY, s text); CREATE INDEX ix_s ON t (s)", include)
            == []
        )
    with pg_server.scratch_database() as url:
        gin = _table(
            sa.Column("s", sa.Text),
            sa.Index("ix_s", "s", postgresql_using="gin", postgresql_ops={"s": "gin_trgm_ops"}),
        )
        ddl = "CREATE EXTENSION pg_trgm; CREATE TABLE t (id int PRIMARY KEY, s text);"
        ddl += " CREATE INDEX ix_s ON t (s)"
        assert _diff(url, ddl, gin) == []
    with pg_server.scratch_database() as url:
        unique = _table(sa.Column("a", sa.Integer), sa.Index("ix_a", "a", unique=True))
        ddl = "CREATE TABLE t (id int PRIMARY KEY, a int); CREATE INDEX ix_a ON t (a)"
        assert _kinds(_diff(url, ddl, unique)) == ["remove_index", "add_index"]
    with pg_server.scratch_database() as url:
        metadata = sa.MetaData()
        table = sa.Table(
            "t", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("s", sa.Text)
        )
        sa.Index("ix_s", sa.func.lower(table.c.s))
        ddl = "CREATE TABLE t (id int PRIMARY KEY, s text); CREATE INDEX ix_s ON t (upper(s))"
        assert _kinds(_diff(url, ddl, metadata)) == ["remove_index", "add_index"]


def test_sequences_views_functions_triggers_policies_are_invisible(pg_url):
    """alembic-autogenerate: objects outside tables, columns, indexes and constraints are not compared."""
    ddl = """
    CREATE TABLE t (id int PRIMARY KEY);
    CREATE SEQUENCE invoice_numbers;
    CREATE VIEW v AS SELECT id FROM t;
    CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
    CREATE TRIGGER tg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();
    ALTER TABLE t ENABLE ROW LEVEL SECURITY;
    CREATE POLICY p ON t USING (true);
    """
    assert _diff(pg_url, ddl, _table()) == []


def test_a_changed_generated_expression_and_serial_vs_identity_are_not_reported(pg_url, pg_server):
    """alembic-autogenerate: a changed GENERATED expression, and serial vs identity, produce no operation."""
    computed = _table(sa.Column("a", sa.Integer, sa.Computed("id * 2")))
    ddl = "CREATE TABLE t (id int PRIMARY KEY, a int GENERATED ALWAYS AS (id * 3) STORED)"
    assert _diff(pg_url, ddl, computed) == []
    with pg_server.scratch_database() as url:
        identity = sa.MetaData()
        sa.Table("t", identity, sa.Column("id", sa.Integer, sa.Identity(), primary_key=True))
        assert _diff(url, "CREATE TABLE t (id serial PRIMARY KEY)", identity) == []


def test_a_foreign_key_ondelete_change_is_drop_and_add(pg_url):
    metadata = sa.MetaData()
    sa.Table("p", metadata, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table(
        "t",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("p_id", sa.Integer, sa.ForeignKey("p.id", ondelete="CASCADE")),
    )
    ddl = (
        "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE t (id int PRIMARY KEY, p_id int REFERENCES p (id))"
    )
    assert sorted(_kinds(_diff(pg_url, ddl, metadata))) == ["add_fk", "remove_fk"]


def test_unknown_tables_are_dropped_unless_include_object_filters_them(pg_url, pg_server):
    """alembic-autogenerate: a table the models do not know is emitted as drop_table; include_object
    (or include_name) keeps it out of the comparison."""
    ddl = "CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE legacy_import (id int)"
    assert _kinds(_diff(pg_url, ddl, _table())) == ["remove_table"]

    def include_object(obj, name, type_, reflected, compare_to):
        return not (type_ == "table" and reflected and compare_to is None and name.startswith("legacy_"))

    with pg_server.scratch_database() as url:
        assert _diff(url, ddl, _table(), include_object=include_object) == []


def test_other_schemas_need_include_schemas(pg_url, pg_server):
    """alembic-autogenerate: a model table in another schema is reported as add_table on every run until
    include_schemas=True makes autogenerate reflect that schema."""
    ddl = "CREATE SCHEMA billing; CREATE TABLE billing.t (id int PRIMARY KEY)"
    assert _kinds(_diff(pg_url, ddl, _table(schema="billing"))) == ["add_table"]
    with pg_server.scratch_database() as url:
        assert _diff(url, ddl, _table(schema="billing"), include_schemas=True) == []


def test_anonymous_unique_constraints_are_compared_by_columns(pg_url):
    """alembic-autogenerate: an unnamed UniqueConstraint in the models is reported as new, to be created
    under a name PostgreSQL picks (t_e_key); a naming convention gives it a known name instead."""
    diff = _diff(
        pg_url,
        "CREATE TABLE t (id int PRIMARY KEY, e text)",
        _table(sa.Column("e", sa.Text), sa.UniqueConstraint("e")),
    )
    assert _kinds(diff) == ["add_constraint"] and diff[0][1].name is None
    named = sa.MetaData(naming_convention={"uq": "uq_%(table_name)s_%(column_0_N_name)s"})
    table = sa.Table("t", named, sa.Column("id", sa.Integer, primary_key=True), sa.Column("e", sa.Text))
    table.append_constraint(sa.UniqueConstraint("e"))
    assert table.constraints and {
        c.name for c in table.constraints if isinstance(c, sa.UniqueConstraint)
    } == {"uq_t_e"}


def test_an_unnamed_constraint_renders_a_downgrade_that_cannot_run(pg_url):
    """references/autogenerate: the downgrade of an unnamed unique constraint is
    op.drop_constraint(None, ...), which fails; PostgreSQL named the constraint t_e_key."""
    from alembic.autogenerate import produce_migrations, render_python_code

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, e text)")
    models = _table(sa.Column("e", sa.Text), sa.UniqueConstraint("e"))
    engine = sa.create_engine(psycopg_url(pg_url))
    try:
        with engine.begin() as conn:
            context = MigrationContext.configure(conn, opts={"target_metadata": models})
            with pytest.warns(UserWarning, match="unnamed constraint"):
                downgrade = render_python_code(produce_migrations(context, models).downgrade_ops)
            assert "op.drop_constraint(None, 't', type_='unique')" in downgrade
            op = Operations(context)
            op.create_unique_constraint(None, "t", ["e"])
            names = {
                n
                for (n,) in conn.exec_driver_sql(
                    "SELECT conname FROM pg_constraint WHERE contype = 'u' AND conrelid = 't'::regclass"
                )
            }
            assert names == {"t_e_key"}
            with pytest.raises(sa.exc.CompileError, match="it has no name"):
                op.drop_constraint(None, "t", type_="unique")
    finally:
        engine.dispose()


def test_alembic_check_fails_when_models_and_migrations_differ(tmp_path, pg_url):
    """alembic-autogenerate: `alembic check` (Alembic 1.9+) raises AutogenerateDiffsDetected when the
    models need a migration, and passes when they match."""
    from alembic import command
    from alembic.util.exc import AutogenerateDiffsDetected

    from tests.alembic_builder import alembic_config, write_project

    models = """
    import sqlalchemy as sa
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


    class Base(DeclarativeBase):
        pass


    class Account(Base):
        __tablename__ = "accounts"
        id: Mapped[int] = mapped_column(primary_key=True)
        email: Mapped[str] = mapped_column(sa.Text)
    """
    create = 'op.create_table("accounts", sa.Column("id", sa.Integer, primary_key=True))'
    project = write_project(
        tmp_path / "p",
        [("r1", None, create, 'op.drop_table("accounts")')],
        models_code=models,
        module="k2_check_models",
    )
    import sys

    sys.path.insert(0, str(project))
    try:
        config = alembic_config(project, pg_url)
        config.stdout = io.StringIO()  # Config's default stdout is the sys.stdout of its import time
        command.upgrade(config, "head")
        with pytest.raises(AutogenerateDiffsDetected, match="add_column"):
            command.check(config)
        add = 'op.add_column("accounts", sa.Column("email", sa.Text(), nullable=False))'
        (project / "migrations" / "versions" / "r2.py").write_text(
            textwrap.dedent(
                f"""
                from alembic import op
                import sqlalchemy as sa

                revision = "r2"
                down_revision = "r1"


                def upgrade():
                    {add}


                def downgrade():
                    op.drop_column("accounts", "email")
                """
            )
        )
        command.upgrade(config, "head")
        command.check(config)  # no exception: the models match the migrated database
    finally:
        sys.path.remove(str(project))


# ---- independent branches (rules/alembic-branching-merges.md) ------------------------------------------

BRANCH_ENV = """
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
engine = engine_from_config(
    config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
"""


def _revision(folder: Path, rev, down, labels, depends, up, down_sql) -> None:
    (folder / f"{rev}.py").write_text(
        "from alembic import op\n\n"
        f"revision = {rev!r}\ndown_revision = {down!r}\n"
        f"branch_labels = {labels!r}\ndepends_on = {depends!r}\n\n\n"
        f"def upgrade():\n    op.execute({up!r})\n\n\ndef downgrade():\n    op.execute({down_sql!r})\n"
    )


def test_independent_branch_with_its_own_version_location_label_and_depends_on(tmp_path, pg_url):
    """alembic-branching-merges: a labelled branch in a second version location is a second head;
    `upgrade head` refuses, `upgrade billing@head` runs the branch and what it depends_on (not the other
    branch's later revisions), `upgrade heads` runs all; alembic_version holds one row per head;
    `downgrade billing@base` removes only the branch."""
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    main, billing = tmp_path / "migrations" / "versions", tmp_path / "billing_versions"
    main.mkdir(parents=True)
    billing.mkdir()
    (tmp_path / "migrations" / "env.py").write_text(BRANCH_ENV)
    _revision(
        main, "r1", None, None, None, "CREATE TABLE accounts (id int PRIMARY KEY)", "DROP TABLE accounts"
    )
    _revision(
        main, "r2", "r1", None, None, "ALTER TABLE accounts ADD email text", "ALTER TABLE accounts DROP email"
    )
    _revision(billing, "b1", None, ("billing",), None, "CREATE SCHEMA billing", "DROP SCHEMA billing")
    invoices = "CREATE TABLE billing.invoices (id int PRIMARY KEY, account_id int REFERENCES accounts (id))"
    _revision(billing, "b2", "b1", None, "r1", invoices, "DROP TABLE billing.invoices")
    (tmp_path / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s/migrations\n"
        "version_locations = %(here)s/migrations/versions %(here)s/billing_versions\npath_separator = space\n"
    )
    config = Config(str(tmp_path / "alembic.ini"), stdout=io.StringIO())
    config.set_main_option("sqlalchemy.url", psycopg_url(pg_url).replace("%", "%%"))

    def applied() -> set[str]:
        with psycopg.connect(pg_url) as conn:
            return {v for (v,) in conn.execute("SELECT version_num FROM alembic_version")}

    def exists(name: str) -> bool:
        with psycopg.connect(pg_url) as conn:
            return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]

    assert set(ScriptDirectory.from_config(config).get_heads()) == {"r2", "b2"}
    with pytest.raises(CommandError, match="Multiple head revisions"):
        command.upgrade(config, "head")
    command.upgrade(config, "billing@head")
    assert applied() == {"b2"} and exists("billing.invoices") and exists("accounts")  # r1 came with b2
    with psycopg.connect(pg_url) as conn:
        columns = {
            c
            for (c,) in conn.execute("SELECT attname FROM pg_attribute WHERE attrelid = 'accounts'::regclass")
        }
    assert "email" not in columns  # r2 is not a dependency: not applied
    command.upgrade(config, "heads")
    assert applied() == {"b2", "r2"}
    command.downgrade(config, "billing@base")
    assert applied() == {"r2"} and not exists("billing.invoices") and exists("accounts")
    with pytest.raises(CommandError, match="Multiple heads"):
        command.revision(config, "next")  # a new revision must name its branch: --head billing@head


# ---- locks of the statements these documents recommend (PostgreSQL 18) --------------------------------


@pytest.mark.parametrize(
    ("sql", "lock", "rewrites"),
    [
        ("ALTER TABLE orders ALTER COLUMN note SET DEFAULT 'n/a'", "ACCESS EXCLUSIVE", False),
        ("ALTER TABLE orders RENAME CONSTRAINT orders_pkey TO pk_orders", "ACCESS EXCLUSIVE", False),
        ("ALTER TABLE orders ENABLE ROW LEVEL SECURITY", "ACCESS EXCLUSIVE", False),
        ("ALTER TABLE orders FORCE ROW LEVEL SECURITY", "ACCESS EXCLUSIVE", False),
        ("CREATE POLICY tenant ON orders USING (customer_id = 1)", "ACCESS EXCLUSIVE", False),
        (
            "CREATE TRIGGER orders_hist AFTER UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION noop()",
            "SHARE ROW EXCLUSIVE",
            False,
        ),
        ("ALTER TABLE orders RENAME TO purchase_orders", "ACCESS EXCLUSIVE", False),
        ("ALTER TABLE orders ALTER COLUMN code TYPE varchar(40)", "ACCESS EXCLUSIVE", False),
        ("ALTER TABLE orders ALTER COLUMN code TYPE text", "ACCESS EXCLUSIVE", False),
        ("ALTER TABLE orders ALTER COLUMN qty TYPE bigint", "ACCESS EXCLUSIVE", True),
        ("ALTER TABLE orders ADD COLUMN deleted_at timestamptz", "ACCESS EXCLUSIVE", False),
    ],
)
def test_lock_and_rewrite_of_recommended_statements(pg_url, sql, lock, rewrites):
    """PG 18: SET DEFAULT, RENAME, RLS and policies are catalog-only under ACCESS EXCLUSIVE; CREATE
    TRIGGER takes SHARE ROW EXCLUSIVE; widening varchar or varchar -> text does not rewrite, int ->
    bigint does."""
    from dbpatterns.pg.lockmatrix import BASE, Case, measure

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(BASE)
        conn.execute("CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$")
    row = measure(pg_url, Case(sql, "design"))
    assert row.locks == [("orders", lock)]
    assert (row.rewritten == ["orders"]) is rewrites
    assert row.scanned == [] or rewrites


# ---- multi-tenancy (rules/schema-multi-tenancy.md, references/multi-tenancy.md) -----------------------

# roles belong to the cluster (the session's server): created once, whichever test comes first
ROLES = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'saas_owner') THEN
        CREATE ROLE saas_owner NOLOGIN;
        CREATE ROLE saas_app NOLOGIN;
        CREATE ROLE saas_support NOLOGIN BYPASSRLS;
        CREATE ROLE docs_app NOLOGIN;
    END IF;
END $$;
"""

RLS_SETUP = (
    ROLES
    + """
CREATE TABLE invoices (
    tenant_id bigint NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    number text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
INSERT INTO invoices (tenant_id, number) SELECT 1 + g % 2, 'INV-' || g FROM generate_series(1, 10) g;
ALTER TABLE invoices OWNER TO saas_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON invoices TO saas_app, saas_support;
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invoices
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint);
"""
)


def _as(conn, role: str, tenant: str | None, sql: str, params=()):
    """``sql`` run as ``role`` with app.tenant_id set for one transaction (SET LOCAL), rolled back."""
    conn.execute("BEGIN")
    try:
        conn.execute(f"SET LOCAL ROLE {role}")
        if tenant is not None:
            conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant,))
        return conn.execute(sql, params).fetchall()
    finally:
        conn.execute("ROLLBACK")


def test_rls_filters_rows_for_a_non_owner_role(pg_url):
    """schema-multi-tenancy: with a policy on app.tenant_id, the application role sees its tenant's rows
    only; with the setting missing (NULLIF(current_setting(..., true), '') gives NULL) it sees none."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(RLS_SETUP)
        assert _as(conn, "saas_app", "1", "SELECT DISTINCT tenant_id FROM invoices") == [(1,)]
        assert _as(conn, "saas_app", "1", "SELECT count(*) FROM invoices") == [(5,)]
        assert _as(conn, "saas_app", None, "SELECT count(*) FROM invoices") == [(0,)]


def test_rls_with_check_refuses_a_row_of_another_tenant(pg_url):
    """schema-multi-tenancy: WITH CHECK refuses INSERT/UPDATE of rows outside the current tenant."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(RLS_SETUP)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            _as(
                conn, "saas_app", "1", "INSERT INTO invoices (tenant_id, number) VALUES (2, 'X') RETURNING id"
            )


def test_rls_owner_bypasses_policies_unless_forced(pg_url):
    """schema-multi-tenancy: the table owner is not subject to its policies until FORCE ROW LEVEL
    SECURITY; superusers and BYPASSRLS roles always bypass them (FORCE included)."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(RLS_SETUP)
        assert _as(conn, "saas_owner", "1", "SELECT count(*) FROM invoices") == [(10,)]
        conn.execute("ALTER TABLE invoices FORCE ROW LEVEL SECURITY")
        assert _as(conn, "saas_owner", "1", "SELECT count(*) FROM invoices") == [(5,)]
        backfill = "WITH u AS (UPDATE invoices SET number = number RETURNING 1) SELECT count(*) FROM u"
        assert _as(conn, "saas_owner", None, backfill) == [(0,)]  # a FORCEd owner's backfill: no rows
        assert _as(conn, "saas_support", None, backfill) == [(10,)]  # BYPASSRLS: every row
        assert _as(conn, "saas_support", "1", "SELECT count(*) FROM invoices") == [(10,)]
        (superuser,) = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        assert superuser
        assert conn.execute("SELECT count(*) FROM invoices").fetchone() == (10,)


def test_rls_enabled_without_a_policy_denies_everything(pg_url):
    """schema-multi-tenancy: ENABLE ROW LEVEL SECURITY with no policy is default-deny for non-owners."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(RLS_SETUP)
        conn.execute("DROP POLICY tenant_isolation ON invoices")
        assert _as(conn, "saas_app", "1", "SELECT count(*) FROM invoices") == [(0,)]


def test_current_setting_without_missing_ok_raises_when_unset(pg_url):
    """schema-multi-tenancy: current_setting('app.tenant_id') without the second argument raises when the
    setting was never set in the session, so a forgotten SET LOCAL fails loudly."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(RLS_SETUP)
        conn.execute("DROP POLICY tenant_isolation ON invoices")
        conn.execute(
            "CREATE POLICY strict ON invoices USING (tenant_id = current_setting('app.tenant_id')::bigint)"
        )
        with pytest.raises(
            psycopg.errors.UndefinedObject, match='unrecognized configuration parameter "app.tenant_id"'
        ):
            _as(conn, "saas_app", None, "SELECT count(*) FROM invoices")


def test_missing_ok_setting_is_empty_not_null_once_the_session_used_it(pg_url):
    """schema-multi-tenancy: current_setting('app.tenant_id', true) is NULL in a session that never set
    it, but '' after a SET LOCAL ended; ''::bigint raises, hence NULLIF(..., '') in the policy."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT current_setting('app.tenant_id', true)").fetchone() == (None,)
        conn.execute("BEGIN")
        conn.execute("SET LOCAL app.tenant_id = '1'")
        conn.execute("COMMIT")
        assert conn.execute("SELECT current_setting('app.tenant_id', true)").fetchone() == ("",)
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            conn.execute("SELECT current_setting('app.tenant_id', true)::bigint")
        assert conn.execute(
            "SELECT NULLIF(current_setting('app.tenant_id', true), '')::bigint"
        ).fetchone() == (None,)


def test_set_local_tenant_ends_with_the_transaction(pg_url):
    """schema-multi-tenancy: set_config(..., true) / SET LOCAL lasts one transaction, which is what
    transaction-mode poolers need; a plain SET would stay on the pooled connection."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("BEGIN")
        conn.execute("SET LOCAL app.tenant_id = '7'")
        assert conn.execute("SELECT current_setting('app.tenant_id', true)").fetchone() == ("7",)
        conn.execute("COMMIT")
        assert conn.execute("SELECT current_setting('app.tenant_id', true)").fetchone() == ("",)
        conn.execute("SET app.tenant_id = '8'")
        assert conn.execute("SELECT current_setting('app.tenant_id', true)").fetchone() == ("8",)


def test_unique_constraints_are_checked_across_tenants_under_rls(pg_url):
    """schema-multi-tenancy: RLS does not filter constraint checks: a UNIQUE (number) makes tenant 1's
    insert fail on tenant 2's row (a leak and a bug); UNIQUE (tenant_id, number) is per tenant."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(RLS_SETUP)
        conn.execute("CREATE UNIQUE INDEX invoices_number_global ON invoices (number)")
        with pytest.raises(psycopg.errors.UniqueViolation):
            _as(
                conn,
                "saas_app",
                "1",
                "INSERT INTO invoices (tenant_id, number) VALUES (1, 'INV-1') RETURNING id",
            )
        conn.execute("DROP INDEX invoices_number_global")
        conn.execute("CREATE UNIQUE INDEX invoices_tenant_number ON invoices (tenant_id, number)")
        inserted = _as(
            conn, "saas_app", "1", "INSERT INTO invoices (tenant_id, number) VALUES (1, 'INV-1') RETURNING id"
        )
        assert len(inserted) == 1


def test_non_leakproof_operators_are_not_index_conditions_under_rls(pg_url):
    """schema-multi-tenancy: under a policy, a query condition with a non-leakproof operator (jsonb @>,
    LIKE) runs as a filter after the policy's condition, so its own index is not used; a leakproof
    one (=) still is. Checked in pg_proc and in the plans (PG 18)."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        leak = dict(
            conn.execute(
                "SELECT p.proname, p.proleakproof FROM pg_proc p"
                " WHERE p.proname IN ('int8eq', 'texteq', 'textlike', 'jsonb_contains')"
            ).fetchall()
        )
        assert leak == {"int8eq": True, "texteq": True, "textlike": False, "jsonb_contains": False}
        conn.execute(
            ROLES
            + """
            CREATE TABLE docs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                               tenant_id bigint NOT NULL, title text, data jsonb);
            INSERT INTO docs (tenant_id, title, data)
            SELECT g % 100, 't' || g, jsonb_build_object('k', g) FROM generate_series(1, 20000) g;
            CREATE INDEX docs_data_gin ON docs USING gin (data);
            CREATE INDEX docs_title ON docs (title);
            CREATE INDEX docs_title_pattern ON docs (title text_pattern_ops);
            CREATE INDEX docs_tenant ON docs (tenant_id);
            ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
            CREATE POLICY t ON docs USING (tenant_id = current_setting('app.tenant_id')::bigint);
            GRANT SELECT ON docs TO docs_app;
            ANALYZE docs;
            """
        )
        conn.execute("SET enable_seqscan = off")

        def plan(role: str, query: str) -> str:
            return "\n".join(r[0] for r in _as(conn, role, "5", "EXPLAIN " + query))

        contains = """SELECT * FROM docs WHERE data @> '{"k": 5}'"""
        assert "docs_data_gin" in plan("postgres", contains)  # the owner: no policy, the GIN index
        assert "docs_data_gin" not in plan("docs_app", contains)
        assert "Filter: (data @>" in plan("docs_app", contains)
        like = "SELECT * FROM docs WHERE title LIKE 't5%%'"
        assert "docs_title_pattern" in plan("postgres", like)
        assert "docs_title_pattern" not in plan("docs_app", like)
        assert "Index Cond: (title = " in plan("docs_app", "SELECT * FROM docs WHERE title = 't5'")
        volatility = conn.execute(
            "SELECT DISTINCT provolatile FROM pg_proc WHERE proname = 'current_setting'"
        )
        assert volatility.fetchall() == [("s",)]  # STABLE: the policy's condition can be an index condition
        assert "Index Cond: (tenant_id = (current_setting(" in plan("docs_app", contains)


TENANT_ENV = """
from alembic import context
from sqlalchemy import engine_from_config, pool, text

config = context.config
tenant = context.get_x_argument(as_dictionary=True)["tenant"]
engine = engine_from_config(
    config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
)
with engine.connect() as connection:
    connection.execute(text(f'SET search_path TO "{tenant}"'))
    connection.commit()  # SQLAlchemy 2: the SET must be committed before Alembic's transaction
    connection.dialect.default_schema_name = tenant
    context.configure(connection=connection, target_metadata=None, version_table_schema=tenant)
    with context.begin_transaction():
        context.run_migrations()
"""


def test_schema_per_tenant_runs_the_history_once_per_schema_with_x_tenant(tmp_path, pg_url):
    """references/multi-tenancy: an env.py reading `-x tenant=NAME` sets search_path and
    version_table_schema; each tenant schema gets its own tables and its own alembic_version, and a
    tenant not yet upgraded stays behind."""
    import argparse

    from alembic import command
    from alembic.config import Config

    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "migrations" / "env.py").write_text(TENANT_ENV)
    _revision(
        versions, "t1", None, None, None, "CREATE TABLE projects (id int PRIMARY KEY)", "DROP TABLE projects"
    )
    _revision(
        versions,
        "t2",
        "t1",
        None,
        None,
        "ALTER TABLE projects ADD name text",
        "ALTER TABLE projects DROP name",
    )
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA acme; CREATE SCHEMA globex")

    def config(tenant: str) -> Config:
        cfg = Config(
            str(tmp_path / "alembic.ini"),
            cmd_opts=argparse.Namespace(x=[f"tenant={tenant}"]),
            stdout=io.StringIO(),
        )
        cfg.set_main_option("sqlalchemy.url", psycopg_url(pg_url).replace("%", "%%"))
        return cfg

    command.upgrade(config("acme"), "head")
    command.upgrade(config("globex"), "t1")
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT version_num FROM acme.alembic_version").fetchall() == [("t2",)]
        assert conn.execute("SELECT version_num FROM globex.alembic_version").fetchall() == [("t1",)]
        assert conn.execute("SELECT to_regclass('public.projects')").fetchone() == (None,)
        columns = conn.execute(
            "SELECT table_schema, count(*) FROM information_schema.columns WHERE table_name = 'projects'"
            " GROUP BY 1 ORDER BY 1"
        ).fetchall()
        assert columns == [("acme", 2), ("globex", 1)]


def test_a_policy_does_nothing_until_row_level_security_is_enabled(pg_url):
    """schema-multi-tenancy: CREATE POLICY on a table without ENABLE ROW LEVEL SECURITY filters nothing,
    so on a live table the policy is created first and RLS enabled after (enabled first, with no policy,
    the application role sees no rows)."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(RLS_SETUP)
        conn.execute("ALTER TABLE invoices DISABLE ROW LEVEL SECURITY")
        assert _as(conn, "saas_app", "1", "SELECT count(*) FROM invoices") == [(10,)]
        conn.execute("ALTER TABLE invoices ENABLE ROW LEVEL SECURITY")
        assert _as(conn, "saas_app", "1", "SELECT count(*) FROM invoices") == [(5,)]


def test_composite_foreign_key_keeps_references_inside_one_tenant(pg_url):
    """references/multi-tenancy: FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
    refuses a row of tenant 1 pointing at tenant 2's customer; a plain key on customer_id accepts it."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            """
            CREATE TABLE customers (tenant_id bigint NOT NULL, id bigint NOT NULL,
                                    PRIMARY KEY (tenant_id, id), UNIQUE (id));
            CREATE TABLE orders (tenant_id bigint NOT NULL, id bigint PRIMARY KEY,
                                 customer_id bigint NOT NULL,
                                 FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id));
            CREATE TABLE loose_orders (tenant_id bigint NOT NULL, id bigint PRIMARY KEY,
                                       customer_id bigint NOT NULL REFERENCES customers (id));
            INSERT INTO customers VALUES (1, 10), (2, 20);
            """
        )
        conn.execute("INSERT INTO loose_orders VALUES (1, 1, 20)")  # tenant 1 -> tenant 2's customer
        conn.execute(ROLES)  # the check ignores RLS: a policy hiding tenant 2's customers changes nothing
        conn.execute(
            "ALTER TABLE customers ENABLE ROW LEVEL SECURITY;"
            " CREATE POLICY t ON customers USING (tenant_id = 1);"
            " GRANT SELECT ON customers TO saas_app; GRANT SELECT, INSERT ON loose_orders TO saas_app"
        )
        assert _as(conn, "saas_app", "1", "SELECT count(*) FROM customers") == [(1,)]
        assert _as(conn, "saas_app", "1", "INSERT INTO loose_orders VALUES (1, 3, 20) RETURNING id") == [(3,)]
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute("INSERT INTO orders VALUES (1, 1, 20)")
        conn.execute("INSERT INTO orders VALUES (1, 2, 10)")


def test_each_tenant_schema_adds_catalog_rows_per_table(pg_url):
    """references/multi-tenancy: one table with an identity key and a text column is five pg_class rows
    (table, sequence, primary key index, TOAST table, TOAST index); schema-per-tenant multiplies them by
    the number of tenants."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        before = conn.execute("SELECT count(*) FROM pg_class").fetchone()[0]
        for tenant in ("t1", "t2", "t3"):
            conn.execute(
                f"CREATE SCHEMA {tenant}; CREATE TABLE {tenant}.projects"
                " (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL)"
            )
        after = conn.execute("SELECT count(*) FROM pg_class").fetchone()[0]
        assert after - before == 3 * 5


# ---- history and temporal data (rules/schema-history-tables.md, references/audit-trails.md) ------------

HISTORY = """
CREATE TABLE prices (
    product_id bigint PRIMARY KEY,
    cents bigint NOT NULL,
    sys_period tstzrange NOT NULL DEFAULT tstzrange(now(), NULL)
);
CREATE TABLE prices_history (LIKE prices);
CREATE INDEX prices_history_product_period_idx ON prices_history USING gist (product_id, sys_period);

CREATE FUNCTION prices_versioning() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    OLD.sys_period := tstzrange(lower(OLD.sys_period), now());  -- closed at this transaction's start
    INSERT INTO prices_history SELECT OLD.*;
    IF TG_OP = 'UPDATE' THEN
        NEW.sys_period := tstzrange(now(), NULL);
        RETURN NEW;
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER prices_versioning BEFORE UPDATE OR DELETE ON prices
    FOR EACH ROW EXECUTE FUNCTION prices_versioning();
"""


def test_history_trigger_keeps_old_versions_queryable_as_of_a_time(pg_url):
    """schema-history-tables: a BEFORE UPDATE/DELETE trigger copies the old row into the history table
    with its period closed; "as of" is a UNION of current and history rows whose period contains t."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        conn.execute(HISTORY)
        conn.execute("INSERT INTO prices (product_id, cents) VALUES (1, 100)")
        (t_100,) = conn.execute("SELECT clock_timestamp()").fetchone()
        conn.execute("UPDATE prices SET cents = 120 WHERE product_id = 1")
        conn.execute("UPDATE prices SET cents = 150 WHERE product_id = 1")
        history = conn.execute(
            "SELECT cents, upper_inf(sys_period) FROM prices_history ORDER BY lower(sys_period)"
        )
        assert history.fetchall() == [(100, False), (120, False)]
        as_of = """
            SELECT cents FROM prices WHERE product_id = 1 AND sys_period @> %(t)s::timestamptz
            UNION ALL
            SELECT cents FROM prices_history WHERE product_id = 1 AND sys_period @> %(t)s::timestamptz
        """
        assert conn.execute(as_of, {"t": t_100}).fetchall() == [(100,)]
        conn.execute("DELETE FROM prices WHERE product_id = 1")
        assert conn.execute("SELECT count(*) FROM prices_history").fetchone() == (3,)


def test_two_updates_in_one_transaction_leave_an_empty_period(pg_url):
    """schema-history-tables: now() is the transaction's start, so a row updated twice in one transaction
    gets a history version whose period [now(), now()) is empty: it matches no "as of" query."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        conn.execute(HISTORY)
        conn.execute("INSERT INTO prices (product_id, cents) VALUES (1, 100)")
        conn.execute("BEGIN")
        conn.execute("UPDATE prices SET cents = 120 WHERE product_id = 1")
        conn.execute("UPDATE prices SET cents = 150 WHERE product_id = 1")
        conn.execute("COMMIT")
        rows = conn.execute("SELECT cents, isempty(sys_period) FROM prices_history ORDER BY cents").fetchall()
        assert rows == [(100, False), (120, True)]


def test_exclusion_constraint_refuses_overlapping_validity_before_18_style(pg_url):
    """schema-history-tables: EXCLUDE USING gist (product_id WITH =, valid_at WITH &&) (btree_gist, any
    version since 9.x) refuses overlapping periods for one key and accepts adjacent '[)' periods."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        conn.execute(
            "CREATE TABLE tariffs (product_id bigint NOT NULL, valid_at tstzrange NOT NULL, cents bigint,"
            " EXCLUDE USING gist (product_id WITH =, valid_at WITH &&))"
        )
        conn.execute("INSERT INTO tariffs VALUES (1, '[2026-01-01,2026-07-01)', 100)")
        conn.execute("INSERT INTO tariffs VALUES (1, '[2026-07-01,)', 120)")  # adjacent: accepted
        conn.execute("INSERT INTO tariffs VALUES (2, '[2026-03-01,2026-09-01)', 90)")  # another key
        with pytest.raises(psycopg.errors.ExclusionViolation):
            conn.execute("INSERT INTO tariffs VALUES (1, '[2026-06-01,2026-08-01)', 130)")


def test_pg18_temporal_keys_foreign_keys_and_their_limits(pg_url):
    """schema-history-tables, PG 18: PRIMARY KEY (..., valid_at WITHOUT OVERLAPS) builds a GiST index and
    refuses empty ranges; FOREIGN KEY (..., PERIOD valid_at) needs the referenced periods to cover the
    child's, across adjacent rows; ON DELETE CASCADE is not supported with PERIOD; UPDATE ... FOR
    PORTION OF is not in 18 (a syntax error)."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        conn.execute(
            "CREATE TABLE rooms (id bigint, valid_at daterange, name text,"
            " PRIMARY KEY (id, valid_at WITHOUT OVERLAPS))"
        )
        conn.execute(
            "CREATE TABLE bookings (id bigint, room_id bigint, valid_at daterange,"
            " PRIMARY KEY (id, valid_at WITHOUT OVERLAPS),"
            " FOREIGN KEY (room_id, PERIOD valid_at) REFERENCES rooms (id, PERIOD valid_at))"
        )
        method = conn.execute(
            "SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam"
            " WHERE c.relname = 'rooms_pkey'"
        ).fetchone()
        assert method == ("gist",)
        conn.execute(
            "INSERT INTO rooms VALUES (1, '[2026-01-01,2026-06-01)', 'a'),"
            " (1, '[2026-06-01,2027-01-01)', 'b')"
        )
        conn.execute("INSERT INTO bookings VALUES (1, 1, '[2026-05-01,2026-07-01)')")  # covered by two rows
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute("INSERT INTO bookings VALUES (2, 1, '[2026-12-01,2027-02-01)')")
        with pytest.raises(psycopg.errors.CheckViolation, match="empty WITHOUT OVERLAPS"):
            conn.execute("INSERT INTO rooms VALUES (2, 'empty', 'x')")
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="PERIOD"):
            conn.execute(
                "CREATE TABLE b2 (room_id bigint, valid_at daterange, FOREIGN KEY (room_id, PERIOD valid_at)"
                " REFERENCES rooms (id, PERIOD valid_at) ON DELETE CASCADE)"
            )
        with pytest.raises(psycopg.errors.SyntaxError):
            conn.execute(
                "UPDATE rooms FOR PORTION OF valid_at FROM '2026-02-01' TO '2026-03-01'"
                " SET name = 'z' WHERE id = 1"
            )


def test_statement_trigger_with_transition_table_writes_one_insert_per_statement(pg_url):
    """references/audit-trails: an AFTER ... FOR EACH STATEMENT trigger with REFERENCING NEW TABLE (10+)
    sees all rows a bulk UPDATE changed at once."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            """
            CREATE TABLE items (id int PRIMARY KEY, qty int);
            CREATE TABLE items_audit (changed int, at timestamptz DEFAULT now());
            CREATE FUNCTION items_audit_stmt() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO items_audit (changed) SELECT count(*) FROM new_rows;
                RETURN NULL;
            END $$;
            CREATE TRIGGER items_audit AFTER UPDATE ON items
                REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION items_audit_stmt();
            INSERT INTO items SELECT g, 0 FROM generate_series(1, 500) g;
            UPDATE items SET qty = qty + 1;
            """
        )
        assert conn.execute("SELECT changed FROM items_audit").fetchall() == [(500,)]


def test_history_table_made_with_like_does_not_follow_later_columns(pg_url):
    """schema-history-tables: CREATE TABLE ... (LIKE t) copies the columns once; a column added to t
    later makes the trigger's INSERT ... SELECT OLD.* fail until the same migration adds it to the
    history table."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        conn.execute(HISTORY)
        conn.execute("INSERT INTO prices (product_id, cents) VALUES (1, 100)")
        conn.execute("ALTER TABLE prices ADD COLUMN currency text")
        with pytest.raises(psycopg.errors.SyntaxError, match="more expressions than target columns"):
            conn.execute("UPDATE prices SET cents = 120 WHERE product_id = 1")
        conn.execute("ALTER TABLE prices_history ADD COLUMN currency text")
        conn.execute("UPDATE prices SET cents = 120 WHERE product_id = 1")


def test_exclusion_constraint_on_a_live_table_takes_access_exclusive_and_has_no_not_valid(pg_url):
    """references/audit-trails: ADD CONSTRAINT ... EXCLUDE builds its index under ACCESS EXCLUSIVE (PG 18);
    NOT VALID is refused for exclusion constraints."""
    from dbpatterns.pg.lockmatrix import BASE, Case, measure

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(BASE)
        conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        with pytest.raises(psycopg.errors.FeatureNotSupported):
            conn.execute("ALTER TABLE orders ADD CONSTRAINT ex EXCLUDE USING gist (id WITH =) NOT VALID")
    row = measure(
        pg_url, Case("ALTER TABLE orders ADD CONSTRAINT ex EXCLUDE USING gist (id WITH =)", "design")
    )
    assert ("orders", "ACCESS EXCLUSIVE") in row.locks


# ---- running migrations (rules/zero-downtime-running-migrations.md) ------------------------------------


def test_lock_timeout_bounds_only_the_wait_statement_timeout_bounds_the_statement(pg_url):
    """zero-downtime-running-migrations: lock_timeout does not stop a statement that holds its locks and
    runs long; statement_timeout cancels it (QueryCanceled)."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '50ms'")
        conn.execute("SELECT pg_sleep(0.3)")  # no lock to wait for: lock_timeout never fires
        conn.execute("SET statement_timeout = '50ms'")
        with pytest.raises(psycopg.errors.QueryCanceled, match="statement timeout"):
            conn.execute("SELECT pg_sleep(0.3)")


def test_set_in_a_rolled_back_transaction_is_undone_set_local_ends_at_commit(pg_url):
    """zero-downtime-running-migrations: SET inside a transaction that rolls back is undone; SET LOCAL
    lasts until the transaction ends; a plain SET after COMMIT stays for the session."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        default = conn.execute("SHOW lock_timeout").fetchone()
        conn.execute("BEGIN")
        conn.execute("SET lock_timeout = '2s'")
        conn.execute("ROLLBACK")
        assert conn.execute("SHOW lock_timeout").fetchone() == default
        conn.execute("BEGIN")
        conn.execute("SET LOCAL lock_timeout = '2s'")
        assert conn.execute("SHOW lock_timeout").fetchone() == ("2s",)
        conn.execute("COMMIT")
        assert conn.execute("SHOW lock_timeout").fetchone() == default
        conn.execute("BEGIN")
        conn.execute("SET lock_timeout = '2s'")
        conn.execute("COMMIT")
        assert conn.execute("SHOW lock_timeout").fetchone() == ("2s",)


def test_session_advisory_lock_survives_commit_xact_lock_does_not(pg_url):
    """zero-downtime-running-migrations: pg_advisory_lock is held until unlock or disconnect (across
    commits: on a transaction-mode pooler it stays on a server connection others reuse);
    pg_advisory_xact_lock ends with the transaction; pg_try_advisory_lock tells a second migrator."""
    with (
        psycopg.connect(pg_url, autocommit=True) as first,
        psycopg.connect(pg_url, autocommit=True) as second,
    ):
        first.execute("BEGIN")
        first.execute("SELECT pg_advisory_lock(77)")
        first.execute("COMMIT")
        assert second.execute("SELECT pg_try_advisory_lock(77)").fetchone() == (False,)
        first.execute("SELECT pg_advisory_unlock(77)")
        first.execute("BEGIN")
        first.execute("SELECT pg_advisory_xact_lock(78)")
        assert second.execute("SELECT pg_try_advisory_lock(78)").fetchone() == (False,)
        first.execute("COMMIT")
        assert second.execute("SELECT pg_try_advisory_lock(78)").fetchone() == (True,)


# ---- operations and design questions (references/operations.md, references/design-choices.md) ---------


def test_identity_sequence_is_behind_after_a_copy_with_explicit_ids_until_setval(pg_url):
    """references/operations: rows copied with their ids (OVERRIDING SYSTEM VALUE, or COPY) do not move
    the identity's sequence; the next insert collides until setval(pg_get_serial_sequence(...), max)."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text)")
        conn.execute(
            "INSERT INTO accounts (id, email) OVERRIDING SYSTEM VALUE"
            " SELECT g, 'u' || g FROM generate_series(1, 100) g"
        )
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO accounts (email) VALUES ('new')")
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('accounts', 'id'), (SELECT max(id) FROM accounts))"
        )
        assert conn.execute("INSERT INTO accounts (email) VALUES ('new') RETURNING id").fetchone() == (101,)
        conn.execute("BEGIN")
        conn.execute("SELECT setval('accounts_id_seq', 500)")
        conn.execute("ROLLBACK")  # sequence changes are not transactional
        assert conn.execute("SELECT last_value FROM accounts_id_seq").fetchone() == (500,)
    from dbpatterns.pg.lockmatrix import Case, measure

    row = measure(pg_url, Case("SELECT setval('accounts_id_seq', (SELECT max(id) FROM accounts))", "design"))
    assert [lock for lock in row.locks if lock[0] == "accounts"] == [("accounts", "ACCESS SHARE")]


def test_renamed_table_keeps_working_for_old_code_through_an_updatable_view(pg_url):
    """references/operations: RENAME + a simple view under the old name (auto-updatable, 9.3+) lets old
    code read, insert (RETURNING included), update and delete through the old name."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL)"
        )
        conn.execute("INSERT INTO users (email) VALUES ('a@example.com')")
        conn.execute("BEGIN")
        conn.execute("SET LOCAL lock_timeout = '2s'")
        conn.execute("ALTER TABLE users RENAME TO accounts")
        conn.execute("CREATE VIEW users AS SELECT * FROM accounts")
        conn.execute("COMMIT")
        (new_id,) = conn.execute("INSERT INTO users (email) VALUES ('b@example.com') RETURNING id").fetchone()
        conn.execute("UPDATE users SET email = 'c@example.com' WHERE id = %s", (new_id,))
        assert conn.execute("SELECT email FROM accounts WHERE id = %s", (new_id,)).fetchone() == (
            "c@example.com",
        )
        conn.execute("DELETE FROM users WHERE id = %s", (new_id,))
        assert conn.execute("SELECT count(*) FROM accounts").fetchone() == (1,)
        conn.execute("ALTER TABLE accounts ADD COLUMN plan text")  # SELECT * was expanded at CREATE VIEW
        view_columns = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'users' ORDER BY 1"
        ).fetchall()
        assert view_columns == [("email",), ("id",)]


def test_soft_delete_uniqueness_needs_a_partial_unique_index(pg_url):
    """references/design-choices: UNIQUE (email) refuses re-registering a soft-deleted email; a partial
    unique index WHERE deleted_at IS NULL allows it, and ON CONFLICT names the same predicate."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE members (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL,"
            " deleted_at timestamptz)"
        )
        conn.execute("CREATE UNIQUE INDEX members_email_live_key ON members (email) WHERE deleted_at IS NULL")
        conn.execute("INSERT INTO members (email, deleted_at) VALUES ('a@example.com', now())")
        conn.execute("INSERT INTO members (email, deleted_at) VALUES ('a@example.com', now())")
        conn.execute("INSERT INTO members (email) VALUES ('a@example.com')")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO members (email) VALUES ('a@example.com')")
        inserted = conn.execute(
            "INSERT INTO members (email) VALUES ('a@example.com')"
            " ON CONFLICT (email) WHERE deleted_at IS NULL DO NOTHING RETURNING id"
        ).fetchall()
        assert inserted == []
        with pytest.raises(psycopg.errors.InvalidColumnReference):
            conn.execute(
                "INSERT INTO members (email) VALUES ('b@example.com') ON CONFLICT (email) DO NOTHING"
            )


def test_uuid_is_twice_the_size_of_bigint_and_v7_carries_its_time(pg_url):
    """references/design-choices: uuid is 16 bytes, bigint 8; uuidv7() (PG 18) is time-ordered and
    uuid_extract_timestamp (PG 17+) reads its time; gen_random_uuid() is version 4."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        sizes = conn.execute("SELECT pg_column_size(uuidv7()), pg_column_size(1::bigint)").fetchone()
        assert sizes == (16, 8)
        row = conn.execute(
            "SELECT uuid_extract_version(uuidv7()), uuid_extract_version(gen_random_uuid()),"
            " abs(extract(epoch FROM uuid_extract_timestamp(uuidv7()) - now())) < 60"
        ).fetchone()
        assert row == (7, 4, True)


def test_timestamptz_stores_an_instant_timestamp_stores_wall_clock_text(pg_url):
    """references/design-choices: the same instant written under two TimeZone settings is one value in
    timestamptz and two different values in timestamp (without time zone)."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE ev (tz timestamptz, naive timestamp)")
        conn.execute("SET TimeZone = 'Europe/Paris'")
        conn.execute("INSERT INTO ev VALUES (now(), now())")
        conn.execute("SET TimeZone = 'America/New_York'")
        conn.execute("INSERT INTO ev SELECT tz, tz FROM ev")  # the same instant
        (tz_count, naive_count) = conn.execute(
            "SELECT count(DISTINCT tz), count(DISTINCT naive) FROM ev"
        ).fetchone()
        assert (tz_count, naive_count) == (1, 2)


def test_float_is_inexact_numeric_and_integer_cents_are_exact(pg_url):
    """references/design-choices: 0.1 + 0.2 is not 0.3 in double precision; numeric is exact."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT 0.1::float8 + 0.2::float8 = 0.3::float8, 0.1::numeric + 0.2::numeric = 0.3::numeric,"
            " 10 + 20 = 30"
        ).fetchone()
        assert row == (False, True, True)


def test_naming_convention_names_constraints_and_requires_names_for_constraint_name_token(pg_url):
    """references/design-choices: with a MetaData naming convention, unnamed indexes, unique and foreign
    keys get predictable names; a CHECK under a convention using %(constraint_name)s must be named."""
    convention = {
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
    metadata = sa.MetaData(naming_convention=convention)
    sa.Table("teams", metadata, sa.Column("id", sa.BigInteger, primary_key=True))
    sa.Table(
        "users",
        metadata,
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("email", sa.Text, unique=True),
        sa.Column("team_id", sa.BigInteger, sa.ForeignKey("teams.id"), index=True),
        sa.CheckConstraint("length(email) > 3", name="email_length"),
    )
    engine = sa.create_engine(psycopg_url(pg_url))
    try:
        metadata.create_all(engine)
        inspector = sa.inspect(engine)
        names = {uq["name"] for uq in inspector.get_unique_constraints("users")}
        names |= {fk["name"] for fk in inspector.get_foreign_keys("users")}
        names |= {ix["name"] for ix in inspector.get_indexes("users")}
        names |= {ck["name"] for ck in inspector.get_check_constraints("users")}
        names.add(inspector.get_pk_constraint("users")["name"])
        expected = {"uq_users_email", "fk_users_team_id_teams", "ix_users_team_id", "ck_users_email_length"}
        assert names == expected | {"pk_users"}
    finally:
        engine.dispose()
    unnamed = sa.MetaData(naming_convention=convention)
    with pytest.raises(sa.exc.InvalidRequestError, match="constraint_name"):
        sa.Table("t", unnamed, sa.Column("a", sa.Integer), sa.CheckConstraint("a > 0"))


# ---- old code on the new schema (rules/versioning-rollback.md) -----------------------------------------


def test_old_orm_code_survives_an_added_column_but_not_a_dropped_one(pg_url):
    """versioning-rollback: the ORM names every mapped column in its SELECT and INSERT. A column added by
    an expand step is invisible to old code; a dropped column breaks every query of the old model, even
    those that never use it; a NOT NULL column without a default breaks old inserts."""

    class Base(DeclarativeBase):
        pass

    class Order(Base):  # the previous release's model
        __tablename__ = "orders"
        id: Mapped[int] = mapped_column(primary_key=True)
        note: Mapped[str | None]

    engine = sa.create_engine(psycopg_url(pg_url))
    try:
        Base.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE orders ADD COLUMN gift_note text")  # expand
        with Session(engine) as session:
            session.add(Order(id=1, note="a"))
            session.commit()
            assert session.scalars(sa.select(Order)).one().note == "a"
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu'")
            conn.exec_driver_sql("ALTER TABLE orders ADD COLUMN channel text")
            conn.exec_driver_sql("UPDATE orders SET channel = 'web'")
            conn.exec_driver_sql("ALTER TABLE orders ALTER COLUMN channel SET NOT NULL")
        with Session(engine) as session, pytest.raises(sa.exc.IntegrityError, match="channel"):
            session.add(Order(id=2, note="b"))
            session.commit()
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE orders DROP COLUMN channel")
            conn.exec_driver_sql("ALTER TABLE orders DROP COLUMN note")  # contract, too early
        with Session(engine) as session:
            assert session.scalars(sa.select(Order.id)).all() == [1]  # names only id: works
        with Session(engine) as session, pytest.raises(sa.exc.ProgrammingError, match="note"):
            session.get(Order, 1)  # loads every mapped column: fails
    finally:
        engine.dispose()


def test_seed_rows_with_bulk_insert_and_an_ad_hoc_table(pg_url):
    """references/operations: op.bulk_insert with sa.table() (not the application's models) seeds
    reference rows; explicit ids into a GENERATED ALWAYS identity are refused, so seed by natural key
    (or declare the identity BY DEFAULT); ON CONFLICT DO NOTHING makes a re-run harmless."""
    from sqlalchemy.dialects.postgresql import insert

    engine = sa.create_engine(psycopg_url(pg_url))
    countries = sa.table("countries", sa.column("id", sa.BigInteger), sa.column("code", sa.Text))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE TABLE countries (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                " code text NOT NULL UNIQUE)"
            )
        with (
            pytest.raises(sa.exc.ProgrammingError, match="non-DEFAULT value"),
            engine.begin() as conn,
        ):
            Operations(MigrationContext.configure(conn)).bulk_insert(countries, [{"id": 1, "code": "FR"}])
        with engine.begin() as conn:
            op = Operations(MigrationContext.configure(conn))
            op.bulk_insert(countries, [{"code": "FR"}, {"code": "DE"}])
            rows = [{"code": "FR"}, {"code": "IT"}]
            op.execute(insert(countries).values(rows).on_conflict_do_nothing(index_elements=["code"]))
            assert conn.exec_driver_sql("SELECT count(*) FROM countries").scalar() == 3
    finally:
        engine.dispose()


def test_timestamp_to_timestamptz_rewrites_unless_the_session_is_utc(pg_url, pg_server):
    """references/design-choices: ALTER COLUMN ... TYPE timestamptz from timestamp is catalog-only when
    TimeZone is UTC (PG 12+), a rewrite otherwise; both under ACCESS EXCLUSIVE."""
    from dbpatterns.pg.lockmatrix import BASE, Case, measure

    for zone, rewrites in (("UTC", False), ("Europe/Paris", True)):
        with pg_server.scratch_database() as url:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(BASE)
                conn.execute("ALTER TABLE orders ADD COLUMN placed timestamp DEFAULT now()")
                name = conn.execute("SELECT current_database()").fetchone()[0]
                conn.execute(f"ALTER DATABASE {name} SET TimeZone = '{zone}'")  # for measure's session
            row = measure(url, Case("ALTER TABLE orders ALTER COLUMN placed TYPE timestamptz", "design"))
            assert row.locks == [("orders", "ACCESS EXCLUSIVE")]
            assert (row.rewritten == ["orders"]) is rewrites, zone


def test_alter_index_rename_takes_share_update_exclusive_on_the_index_only(pg_url):
    """references/design-choices: renaming an index locks only the index, SHARE UPDATE EXCLUSIVE (PG 18)."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, a int); CREATE INDEX t_a_idx ON t (a)")
        conn.execute("BEGIN")
        conn.execute("ALTER INDEX t_a_idx RENAME TO ix_t_a")
        locks = conn.execute(
            "SELECT relation::regclass::text, mode FROM pg_locks"
            " WHERE pid = pg_backend_pid() AND locktype = 'relation' AND relation <> 'pg_locks'::regclass"
        ).fetchall()
        conn.execute("ROLLBACK")
        assert locks == [("ix_t_a", "ShareUpdateExclusiveLock")]


def test_a_partial_unique_index_is_not_a_constraint(pg_url):
    """references/design-choices: a partial unique index cannot be referenced by a foreign key nor named
    in ON CONFLICT ON CONSTRAINT."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE members (id bigint PRIMARY KEY, email text NOT NULL, deleted_at timestamptz);"
            " CREATE UNIQUE INDEX members_email_live_key ON members (email) WHERE deleted_at IS NULL"
        )
        with pytest.raises(psycopg.errors.InvalidForeignKey):
            conn.execute("CREATE TABLE invites (email text REFERENCES members (email))")
        with pytest.raises(psycopg.errors.UndefinedObject):
            conn.execute(
                "INSERT INTO members VALUES (1, 'a@example.com')"
                " ON CONFLICT ON CONSTRAINT members_email_live_key DO NOTHING"
            )


def test_history_insert_by_position_shifts_values_after_a_dropped_column(pg_url):
    """references/audit-trails: INSERT INTO h SELECT OLD.* matches by position; after a column is dropped
    from the table only, the next values land in the history's wrong columns."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            """
            CREATE TABLE notes (id int PRIMARY KEY, title text, body text, tag text);
            CREATE TABLE notes_history (LIKE notes);
            CREATE FUNCTION notes_hist() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN INSERT INTO notes_history SELECT OLD.*; RETURN NEW; END $$;
            CREATE TRIGGER notes_hist BEFORE UPDATE ON notes FOR EACH ROW EXECUTE FUNCTION notes_hist();
            INSERT INTO notes VALUES (1, 't', 'b', 'x');
            ALTER TABLE notes DROP COLUMN body;
            UPDATE notes SET title = 't2';
            """
        )
        assert conn.execute("SELECT id, title, body, tag FROM notes_history").fetchone() == (
            1,
            "t",
            "x",
            None,
        )


def test_exclusion_constraint_over_two_timestamp_columns_uses_a_range_expression(pg_url):
    """schema-history-tables: with separate start/end columns, EXCLUDE USING gist (id WITH =,
    tstzrange(starts, ends) WITH &&) still refuses overlaps."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        conn.execute(
            "CREATE TABLE shifts (id bigint, starts timestamptz, ends timestamptz,"
            " EXCLUDE USING gist (id WITH =, tstzrange(starts, ends) WITH &&))"
        )
        conn.execute("INSERT INTO shifts VALUES (1, '2026-01-01 08:00Z', '2026-01-01 12:00Z')")
        conn.execute("INSERT INTO shifts VALUES (1, '2026-01-01 12:00Z', '2026-01-01 16:00Z')")
        with pytest.raises(psycopg.errors.ExclusionViolation):
            conn.execute("INSERT INTO shifts VALUES (1, '2026-01-01 11:00Z', '2026-01-01 13:00Z')")


def test_stamp_adopts_an_existing_database_without_running_the_baseline(tmp_path, pg_url):
    """references/operations: on a database whose tables already exist, `alembic upgrade head` of the
    baseline fails; `alembic stamp head` records the revision without running it, and a later
    upgrade has nothing to do."""
    from alembic import command
    from alembic.config import Config
    from alembic.util.exc import CommandError

    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "migrations" / "env.py").write_text(BRANCH_ENV)
    _revision(
        versions,
        "base1",
        None,
        None,
        None,
        "CREATE TABLE accounts (id int PRIMARY KEY)",
        "DROP TABLE accounts",
    )
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    config = Config(str(tmp_path / "alembic.ini"), stdout=io.StringIO())
    config.set_main_option("sqlalchemy.url", psycopg_url(pg_url).replace("%", "%%"))
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE accounts (id int PRIMARY KEY)")  # built by hand, long ago
    with pytest.raises((sa.exc.ProgrammingError, CommandError), match="already exists"):
        command.upgrade(config, "head")
    command.stamp(config, "head")
    command.upgrade(config, "head")  # nothing to run
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("base1",)]


def test_schema_translate_map_routes_unqualified_tables_to_the_tenant_schema(pg_url):
    """references/multi-tenancy: execution_options(schema_translate_map={None: "acme"}) makes the ORM
    query acme.projects without touching search_path (nothing left on a pooled connection)."""

    class TenantBase(DeclarativeBase):
        pass

    class Project(TenantBase):
        __tablename__ = "projects"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]

    with psycopg.connect(pg_url, autocommit=True) as conn:
        for tenant in ("acme", "globex"):
            conn.execute(
                f"CREATE SCHEMA {tenant}; CREATE TABLE {tenant}.projects (id int PRIMARY KEY, name text)"
            )
            conn.execute(f"INSERT INTO {tenant}.projects VALUES (1, '{tenant} project')")
    engine = sa.create_engine(psycopg_url(pg_url))
    try:
        for tenant in ("acme", "globex"):
            tenant_engine = engine.execution_options(schema_translate_map={None: tenant})
            with Session(tenant_engine) as session:
                assert session.scalars(sa.select(Project.name)).all() == [f"{tenant} project"]
                assert session.execute(sa.text("SHOW search_path")).scalar() == '"$user", public'
    finally:
        engine.dispose()


def test_copy_text_format_mangles_json_escapes_write_row_does_not(pg_url):
    """database-selection-document-databases: loading exported JSON lines with COPY's text format turns
    the JSON escape \\n into a raw newline (invalid JSON); psycopg's write_row with Jsonb keeps it."""
    import json

    from psycopg.types.json import Jsonb

    line = '{"name": "Lamp", "note": "line1\\nline2"}\n'  # one exported document, as in the file
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE staging (doc jsonb NOT NULL)")
        with (
            pytest.raises(psycopg.errors.InvalidTextRepresentation),
            conn.cursor().copy("COPY staging (doc) FROM STDIN") as copy,
        ):
            copy.write(line)
        with conn.cursor().copy("COPY staging (doc) FROM STDIN") as copy:
            copy.write_row((Jsonb(json.loads(line)),))
        assert conn.execute("SELECT doc ->> 'note' FROM staging").fetchone() == ("line1\nline2",)


def test_alembic_timestamp_to_timestamptz_under_set_local_utc_keeps_the_table_file(pg_url):
    """references/design-choices: the revision's SET LOCAL TimeZone = 'UTC' makes op.alter_column to
    DateTime(timezone=True) catalog-only (same relfilenode), values read as UTC."""
    engine = sa.create_engine(psycopg_url(pg_url))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE events (id int PRIMARY KEY, at timestamp)")
            conn.exec_driver_sql("INSERT INTO events VALUES (1, '2026-03-01 12:00')")
            before = conn.exec_driver_sql("SELECT pg_relation_filenode('events')").scalar()
        with engine.begin() as conn:
            op = Operations(MigrationContext.configure(conn))
            op.execute("SET LOCAL lock_timeout = '2s'")
            op.execute("SET LOCAL TimeZone = 'UTC'")
            op.alter_column(
                "events",
                "at",
                type_=sa.DateTime(timezone=True),
                existing_type=sa.DateTime(),
                postgresql_using=None,
            )
        with engine.begin() as conn:
            assert conn.exec_driver_sql("SELECT pg_relation_filenode('events')").scalar() == before
            conn.exec_driver_sql("SET TimeZone = 'UTC'")
            assert str(conn.exec_driver_sql("SELECT at FROM events").scalar()) == "2026-03-01 12:00:00+00:00"
    finally:
        engine.dispose()


def test_after_begin_listener_sets_the_tenant_for_each_transaction(pg_url):
    """schema-multi-tenancy: a Session after_begin listener running set_config('app.tenant_id', ...,
    true) scopes every transaction of that session to its tenant under RLS."""
    from sqlalchemy import event

    class TenantSession(Session):  # the listener on a subclass, so no other test's sessions see it
        pass

    @event.listens_for(TenantSession, "after_begin")
    def set_tenant(session, transaction, connection) -> None:
        connection.execute(sa.text("SET LOCAL ROLE saas_app"))  # the application's role, for the test
        tenant_id = session.info.get("tenant_id")
        if tenant_id is not None:
            connection.execute(sa.text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(RLS_SETUP)
    engine = sa.create_engine(psycopg_url(pg_url))
    try:
        for tenant, expected in ((1, 5), (2, 5), (None, 0)):
            with TenantSession(engine, info={"tenant_id": tenant}) as session:
                count = session.execute(sa.text("SELECT count(*) FROM invoices")).scalar()
                tenants = session.execute(sa.text("SELECT DISTINCT tenant_id FROM invoices")).scalars().all()
            assert count == expected and tenants == ([tenant] if tenant else [])
    finally:
        engine.dispose()


def test_models_not_imported_means_autogenerate_drops_every_table(pg_url):
    """references/autogenerate: an empty target_metadata (the model modules were never imported in
    env.py) makes autogenerate emit drop_table for every table of the database."""
    ddl = "CREATE TABLE accounts (id int PRIMARY KEY); CREATE TABLE orders (id int PRIMARY KEY)"
    assert sorted(_kinds(_diff(pg_url, ddl, sa.MetaData()))) == ["remove_table", "remove_table"]


def test_psycopg_prepares_statements_after_five_executions_unless_disabled(pg_url):
    """references/operations: psycopg 3 prepares a statement server-side from its 5th execution
    (prepare_threshold = 5); prepare_threshold=None turns that off (for poolers without prepared
    statement support)."""
    with psycopg.connect(pg_url) as conn:
        assert conn.prepare_threshold == 5
        for _ in range(6):
            conn.execute("SELECT 1 WHERE %s::int = 1", (1,))
        assert conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()[0] >= 1
    with psycopg.connect(pg_url, prepare_threshold=None) as conn:
        for _ in range(6):
            conn.execute("SELECT 1 WHERE %s::int = 1", (1,))
        assert conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone() == (0,)


def test_a_prepared_select_star_breaks_after_an_added_column(pg_url):
    """versioning-rollback: a running application whose driver prepared `SELECT * FROM t` (psycopg from
    the 5th execution, asyncpg's statement cache) gets "cached plan must not change result type" after
    ADD COLUMN, on every later execution; a statement naming its columns keeps working."""
    with (
        psycopg.connect(pg_url, autocommit=True, prepare_threshold=0) as app,
        psycopg.connect(pg_url, autocommit=True) as migrator,
    ):
        migrator.execute("CREATE TABLE t (id int PRIMARY KEY, a text); INSERT INTO t VALUES (1, 'x')")
        app.execute("SELECT * FROM t").fetchall()
        app.execute("SELECT id, a FROM t").fetchall()
        migrator.execute("ALTER TABLE t ADD COLUMN b text")  # an expand step
        for _ in range(2):
            with pytest.raises(
                psycopg.errors.FeatureNotSupported, match="cached plan must not change result type"
            ):
                app.execute("SELECT * FROM t")
        assert app.execute("SELECT id, a FROM t").fetchall() == [(1, "x")]


def test_a_published_table_without_replica_identity_refuses_updates(pg_url):
    """references/operations: once a table without a primary key is in a publication (CDC, logical
    replication), INSERT works but UPDATE and DELETE fail until REPLICA IDENTITY is set (PG 18)."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE logs (at timestamptz, msg text); INSERT INTO logs VALUES (now(), 'a')")
        conn.execute("CREATE PUBLICATION cdc FOR TABLE logs")
        conn.execute("INSERT INTO logs VALUES (now(), 'b')")
        for statement in ("UPDATE logs SET msg = 'c'", "DELETE FROM logs"):
            with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="replica identity"):
                conn.execute(statement)
        conn.execute("ALTER TABLE logs REPLICA IDENTITY FULL")
        conn.execute("UPDATE logs SET msg = 'c'")
        conn.execute("DROP PUBLICATION cdc")


@pytest.mark.parametrize(
    ("sql", "lock"),
    [
        ("CREATE PUBLICATION p FOR TABLE orders", "SHARE UPDATE EXCLUSIVE"),
        ("ALTER TABLE orders REPLICA IDENTITY FULL", "ACCESS EXCLUSIVE"),
    ],
)
def test_publication_and_replica_identity_locks(pg_url, sql, lock):
    """references/operations: CREATE PUBLICATION FOR TABLE takes SHARE UPDATE EXCLUSIVE; REPLICA IDENTITY
    takes ACCESS EXCLUSIVE (catalog-only, no rewrite), PG 18."""
    from dbpatterns.pg.lockmatrix import BASE, Case, measure

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(BASE)
    row = measure(pg_url, Case(sql, "design"))
    assert row.locks == [("orders", lock)] and row.rewritten == []


def test_with_loader_criteria_hides_soft_deleted_rows_from_every_orm_select(pg_url):
    """references/design-choices: a do_orm_execute listener adding with_loader_criteria filters
    deleted rows out of every ORM SELECT of that session class, unless the statement opts out."""
    from sqlalchemy import event
    from sqlalchemy.orm import with_loader_criteria

    class SoftBase(DeclarativeBase):
        pass

    class Member(SoftBase):
        __tablename__ = "members"
        id: Mapped[int] = mapped_column(primary_key=True)
        email: Mapped[str]
        deleted_at: Mapped[datetime.datetime | None]

    class LiveSession(Session):
        pass

    @event.listens_for(LiveSession, "do_orm_execute")
    def _live_rows_only(execute_state) -> None:
        if execute_state.is_select and not execute_state.execution_options.get("include_deleted", False):
            execute_state.statement = execute_state.statement.options(
                with_loader_criteria(Member, lambda cls: cls.deleted_at.is_(None), include_aliases=True)
            )

    engine = sa.create_engine(psycopg_url(pg_url))
    try:
        SoftBase.metadata.create_all(engine)
        with LiveSession(engine) as session:
            session.add_all([Member(id=1, email="a"), Member(id=2, email="b", deleted_at=sa.func.now())])
            session.commit()
            assert session.scalars(sa.select(Member.email)).all() == ["a"]
            everyone = session.scalars(sa.select(Member.email).execution_options(include_deleted=True)).all()
            assert sorted(everyone) == ["a", "b"]
    finally:
        engine.dispose()


def test_version_table_schema_must_exist_before_the_first_upgrade(tmp_path, pg_url):
    """references/autogenerate: context.configure(version_table_schema="meta") does not create the
    schema: the first upgrade fails until CREATE SCHEMA meta has run."""
    from alembic import command
    from alembic.config import Config

    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    env = BRANCH_ENV.replace("target_metadata=None)", 'target_metadata=None, version_table_schema="meta")')
    assert "version_table_schema" in env
    (tmp_path / "migrations" / "env.py").write_text(env)
    _revision(
        versions, "m1", None, None, None, "CREATE TABLE accounts (id int PRIMARY KEY)", "DROP TABLE accounts"
    )
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    config = Config(str(tmp_path / "alembic.ini"), stdout=io.StringIO())
    config.set_main_option("sqlalchemy.url", psycopg_url(pg_url).replace("%", "%%"))
    with pytest.raises(sa.exc.ProgrammingError, match='schema "meta" does not exist'):
        command.upgrade(config, "head")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA meta")
    command.upgrade(config, "head")
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT version_num FROM meta.alembic_version").fetchall() == [("m1",)]
