"""env.py read statically: the timeouts and transaction mode it sets for every revision."""

from __future__ import annotations

import textwrap

import pytest

from dbpatterns.alembic.envpy import EnvFacts, read_env
from dbpatterns.lint import Settings, lint_revision

ENV = """
from alembic import context
from sqlalchemy import create_engine, text

engine = create_engine(URL{connect})


def process_revision_directives(context, revision, directives):
    context.execute("SET lock_timeout = '9s'")  # a hook: not what runs around the revisions


def run_migrations_online():
    with engine.connect() as connection:
        {statement}
        context.configure(connection=connection{configure})
        with context.begin_transaction():
            context.run_migrations()
"""


def env_file(tmp_path, statement="pass", connect="", configure=""):
    path = tmp_path / "env.py"
    path.write_text(textwrap.dedent(ENV).format(statement=statement, connect=connect, configure=configure))
    return path


@pytest.mark.parametrize(
    ("statement", "connect", "facts"),
    [
        ("connection.execute(text(\"SET lock_timeout = '5s'\"))", "", EnvFacts(lock_timeout="5s")),
        ("connection.exec_driver_sql(\"SET LOCAL lock_timeout TO '3s'\")", "", EnvFacts(lock_timeout="3s")),
        ("connection.execute(text(\"SELECT set_config('lock_timeout', '4s', false)\"))", "", EnvFacts("4s")),
        (
            "connection.execute(text('SET statement_timeout = 30000'))",
            "",
            EnvFacts(statement_timeout="30000"),
        ),
        (
            "pass",
            ', connect_args={"options": "-c lock_timeout=2s -c statement_timeout=1min"}',
            EnvFacts("2s", "1min"),
        ),
        ('connection.execute(text("SET lock_timeout = 0"))', "", EnvFacts()),
        ("pass", "", EnvFacts()),
    ],
)
def test_timeouts(tmp_path, statement, connect, facts):
    assert read_env(env_file(tmp_path, statement, connect)) == facts


def test_transaction_per_migration_and_a_missing_file(tmp_path):
    facts = read_env(env_file(tmp_path, configure=", transaction_per_migration=True"))
    assert facts.transaction_per_migration is True and facts.lock_timeout is None
    assert read_env(tmp_path / "nowhere.py") == EnvFacts()
    (tmp_path / "broken.py").write_text("def (:\n")
    assert read_env(tmp_path / "broken.py") == EnvFacts()


def test_settings_from_env_silence_missing_lock_timeout_and_feed_statement_timeout(tmp_path):
    facts = read_env(
        env_file(
            tmp_path, connect=', connect_args={"options": "-c lock_timeout=2s -c statement_timeout=30s"}'
        )
    )
    settings = facts.settings(Settings())
    assert settings.lock_timeout_in_env is True and settings.statement_timeout_in_env == "30s"
    revision = textwrap.dedent(
        """
        from alembic import op

        revision = "b2"
        down_revision = "a1"


        def upgrade():
            op.drop_column("orders", "note")
            with op.get_context().autocommit_block():
                op.create_index("ix_o_c", "orders", ["customer_id"], postgresql_concurrently=True)
        """
    )
    plain = {f.rule for f in lint_revision(revision, "r.py", Settings())}
    with_env = {f.rule for f in lint_revision(revision, "r.py", settings)}
    assert "missing-lock-timeout" in plain and "missing-lock-timeout" not in with_env
    assert "statement-timeout-cancels-work" not in plain and "statement-timeout-cancels-work" in with_env
    # explicit settings stay: a declared statement timeout is not replaced by env.py's
    assert facts.settings(Settings(statement_timeout_in_env="5s")).statement_timeout_in_env == "5s"
