"""The env.py helpers on the embedded server: the advisory migration lock between two concurrent
connections, and the migration log in online and offline mode."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from dbpatterns.env import MigrationLocked, lock_key, migration_lock
from dbpatterns.trace.database import psycopg_url
from tests.alembic_builder import linear, write_project


@pytest.fixture
def engine(pg_url):
    engine = create_engine(psycopg_url(pg_url), poolclass=NullPool)
    yield engine
    engine.dispose()


def test_second_deploy_waits_then_gives_up(engine):
    with engine.connect() as first, engine.connect() as second:
        with migration_lock(first, timeout=1):
            holder = first.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            first.commit()
            started = time.monotonic()
            with (
                pytest.raises(MigrationLocked, match="another migration is running") as caught,
                migration_lock(second, timeout=0.3, poll=0.05),
            ):
                pass
            assert time.monotonic() - started >= 0.3
            assert caught.value.holder == holder
            assert not second.in_transaction()  # the failed tries left no transaction open
        with migration_lock(second, timeout=0.3):  # released: the next deploy gets it
            assert not second.in_transaction()


def test_waiting_deploy_gets_the_lock_when_the_first_finishes(engine):
    order = []
    with engine.connect() as first, engine.connect() as second:

        def deploy_two():
            with migration_lock(second, timeout=5, poll=0.02):
                order.append("two")

        with migration_lock(first):
            thread = threading.Thread(target=deploy_two)
            thread.start()
            time.sleep(0.2)
            order.append("one")
        thread.join(5)
    assert order == ["one", "two"]


def test_lock_does_not_hold_a_transaction_open(engine):
    with engine.connect() as conn, migration_lock(conn):
        assert not conn.in_transaction()  # env.py's begin_transaction() owns the migration's transaction
        locks = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        ).scalar()
        conn.commit()
        assert locks == 1
    assert isinstance(lock_key(), int) and lock_key() == lock_key() != lock_key("other")


OFFLINE_ENV = """
from alembic import context

from dbpatterns.env import record_applied

context.configure(url="postgresql://", literal_binds=True, on_version_apply=record_applied)
with context.begin_transaction():
    context.run_migrations()
"""


def test_migration_log_in_offline_mode(tmp_path, capsys):
    from alembic import command
    from alembic.config import Config

    project = write_project(
        tmp_path / "p",
        linear(("op.execute('CREATE TABLE t (id int)')", "op.execute('DROP TABLE t')")),
        env_text=OFFLINE_ENV,
    )
    command.upgrade(Config(str(project / "alembic.ini")), "head", sql=True)
    out = capsys.readouterr().out
    assert "CREATE TABLE IF NOT EXISTS dbpatterns_migration_log" in out
    assert "INSERT INTO dbpatterns_migration_log" in out and "'r1', 'upgrade', 'h1:" in out
