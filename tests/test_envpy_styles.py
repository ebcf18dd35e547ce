"""verify (the command line and the pytest plugin) on env.py files written the ways projects write them,
with generated rows in the tables (the default):

- ``async_template``: what ``alembic init -t async`` writes (``async_engine_from_config``,
  ``connection.run_sync``), ignoring ``config.attributes``;
- ``pytest_alembic``: ``config.attributes.get("connection")`` holds an engine-like object whose
  ``.connect()`` is entered (pytest-alembic's convention);
- ``cookbook``: the Alembic cookbook's "sharing a connection": a Connection in ``config.attributes``;
- ``environment_url``: the URL read from ``os.environ["DATABASE_URL"]``, not from alembic.ini;
- ``generic_nullpool``: what ``alembic init`` writes (``engine_from_config(..., poolclass=pool.NullPool)``,
  ``fileConfig`` of the ini's logging sections);
- ``schemas``: the tables and the version table in a schema of their own (``version_table_schema``,
  ``include_schemas``, an ``include_name`` hook), the schema made by env.py;
- ``transaction_per_migration``: one transaction per revision;
- ``async_shared_connection``: the cookbook's asyncio recipe (``asyncio.run`` unless a connection is
  shared in ``config.attributes``);
- ``async_engine_wrapper``: the older async template, ``AsyncEngine(engine_from_config(...))``;
- ``engine_begin``: ``os.getenv("DATABASE_URL", <alembic.ini's URL>)``, ``engine.begin()`` and no
  ``begin_transaction()``;
- ``x_argument``: the URL from ``-x url=...``, with an ``include_object`` hook.

Each passes every check, models included; a revision that only fails on rows (a NOT NULL column with no
default) fails naming that revision.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dbpatterns.cli import main

pytest_plugins = ["pytester"]

INI = """\
[alembic]
script_location = %(here)s/migrations
sqlalchemy.url = postgresql+psycopg://nobody@localhost/never_used

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
datefmt = %H:%M:%S
"""

HEAD = """
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

from MODULE import Base

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)
target_metadata = Base.metadata
"""

OFFLINE = """
def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()
"""

ENVS = {
    "async_template": HEAD
    + OFFLINE
    + """
import asyncio

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    connectable = async_engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    async with connectable.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await connectable.dispose()


def run_migrations_online() -> None:
    asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
""",
    "pytest_alembic": HEAD
    + """
def run_migrations_online():
    connectable = context.config.attributes.get("connection", None)
    if connectable is None:
        connectable = engine_from_config(
            context.config.get_section(context.config.config_ini_section),
            prefix="sqlalchemy.",
            poolclass=pool.NullPool,
        )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
""",
    "cookbook": HEAD
    + """
def run_migrations_online():
    connectable = config.attributes.get("connection", None)
    if connectable is None:
        connectable = engine_from_config(
            config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
        )
        with connectable.connect() as connection:
            do_run(connection)
    else:
        do_run(connectable)


def do_run(connection):
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
""",
    "environment_url": HEAD
    + """
from sqlalchemy import create_engine


def run_migrations_online():
    engine = create_engine(os.environ["DATABASE_URL"], poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
""",
    "generic_nullpool": HEAD
    + OFFLINE
    + """
def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
""",
    "schemas": HEAD
    + """
from sqlalchemy import text


def include_name(name, type_, parent_names):
    if type_ == "schema":
        return name == "app"
    return True


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        connection.execute(text("CREATE SCHEMA IF NOT EXISTS app"))
        connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table_schema="app",
            include_schemas=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
""",
    "async_shared_connection": HEAD
    + """
import asyncio

from sqlalchemy.ext.asyncio import async_engine_from_config


def do_run_migrations(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    connectable = async_engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    async with connectable.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await connectable.dispose()


# the Alembic cookbook's asyncio recipe for a connection shared by the caller
connectable = config.attributes.get("connection", None)
if connectable is None:
    asyncio.run(run_async_migrations())
else:
    do_run_migrations(connectable)
""",
    "async_engine_wrapper": HEAD
    + """
import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine


def do_run_migrations(connection):
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online():
    connectable = AsyncEngine(
        engine_from_config(
            config.get_section(config.config_ini_section), prefix="sqlalchemy.", poolclass=pool.NullPool
        )
    )
    async with connectable.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await connectable.dispose()


asyncio.run(run_migrations_online())
""",
    "engine_begin": HEAD
    + """
from sqlalchemy import create_engine


def run_migrations_online():
    url = os.getenv("DATABASE_URL", config.get_main_option("sqlalchemy.url"))
    engine = create_engine(url)
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, compare_server_default=True)
        context.run_migrations()


run_migrations_online()
""",
    "x_argument": HEAD
    + """
from sqlalchemy import create_engine


def run_migrations_online():
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    connectable = create_engine(url, poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=lambda obj, name, type_, reflected, compare_to: name != "spatial_ref_sys",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
""",
    "transaction_per_migration": HEAD
    + """
def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, transaction_per_migration=True
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
""",
}

MODELS = """
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


class T(Base):
    __tablename__ = "t"
    __table_args__ = (sa.Index("ix_t_z", "z"), {"schema": SCHEMA})
    id = sa.Column(sa.Integer, primary_key=True)
    x = sa.Column(sa.Text)
    z = sa.Column(sa.Text)
"""

# the models of the history whose r2 adds a NOT NULL column with no default (it fails only on rows)
MODELS_Y = """
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


class T(Base):
    __tablename__ = "t"
    __table_args__ = {"schema": SCHEMA}
    id = sa.Column(sa.Integer, primary_key=True)
    x = sa.Column(sa.Text)
    y = sa.Column(sa.Integer, nullable=False)
    z = sa.Column(sa.Text)
"""

REVISION = '''"""{rev}"""
from alembic import op
import sqlalchemy as sa

revision = {rev!r}
down_revision = {parent!r}
branch_labels = None
depends_on = None


def upgrade():
    {up}


def downgrade():
    {down}
'''


def _revisions(schema: str | None, fails_on_rows: bool) -> list[tuple[str, str]]:
    s = repr(schema)
    second = (
        f'op.add_column("t", sa.Column("y", sa.Integer, nullable=False), schema={s})'
        if fails_on_rows
        else f'op.add_column("t", sa.Column("z", sa.Text), schema={s})'
    )
    return [
        (
            f'op.create_table("t", sa.Column("id", sa.Integer, primary_key=True), sa.Column("x", sa.Text),'
            f" schema={s})",
            f'op.drop_table("t", schema={s})',
        ),
        (second, f'op.drop_column("t", "{"y" if fails_on_rows else "z"}", schema={s})'),
        (
            f'op.create_index("ix_t_z", "t", ["z"], schema={s})'
            if not fails_on_rows
            else f'op.add_column("t", sa.Column("z", sa.Text), schema={s})',
            f'op.drop_index("ix_t_z", table_name="t", schema={s})'
            if not fails_on_rows
            else f'op.drop_column("t", "z", schema={s})',
        ),
    ]


def write_style(root: Path, style: str, *, fails_on_rows: bool = False) -> Path:
    """The project of ``style``: three revisions (r2 adds a NOT NULL column with no default when
    ``fails_on_rows``), models that match the good history, in their own module."""
    module = f"envstyle_{style}_{'y' if fails_on_rows else 'ok'}_models"
    schema = "app" if style == "schemas" else None
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "alembic.ini").write_text(INI)
    (root / "migrations" / "env.py").write_text(ENVS[style].replace("MODULE", module))
    (root / "migrations" / "script.py.mako").write_text("")
    (root / f"{module}.py").write_text(
        (MODELS_Y if fails_on_rows else MODELS).replace("SCHEMA", repr(schema))
    )
    parent = None
    for i, (up, down) in enumerate(_revisions(schema, fails_on_rows), 1):
        rev = f"r{i}"
        (versions / f"{rev}.py").write_text(REVISION.format(rev=rev, parent=parent, up=up, down=down))
        parent = rev
    return root


STYLES = sorted(ENVS)


def _verify(root: Path, server, capsys) -> tuple[int, dict]:
    code = main(["verify", "--project", str(root), "--db", server.url(), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("style", STYLES)
def test_verify_passes_every_check_with_rows(style, tmp_path, pg_server, capsys):
    code, data = _verify(write_style(tmp_path / "p", style), pg_server, capsys)
    failed = [c for c in data["checks"] if not c["ok"]]
    assert code == 0 and not failed, failed
    assert {c["name"] for c in data["checks"]} >= {
        "single_head",
        "upgrade",
        "models_match",
        "downgrade",
        "stairway",
        "downgrade_no_trace",
        "downgrade_keeps_data",
    }, data
    assert data["generated_rows"] > 0 and data["skipped"] == [], data
    assert data["run_as"]["mode"] == "restricted"


@pytest.mark.parametrize("style", STYLES)
def test_a_revision_that_fails_only_on_rows_is_named(style, tmp_path, pg_server, capsys):
    root = write_style(tmp_path / "p", style, fails_on_rows=True)
    code, data = _verify(root, pg_server, capsys)
    failed = {c["name"]: c for c in data["checks"] if not c["ok"]}
    assert code == 1 and set(failed) == {"upgrade", "stairway"}, data
    for name in ("upgrade", "stairway"):
        assert failed[name]["revision"] == "r2"
        assert 'column "y" of relation "t" contains null values' in failed[name]["detail"]
    assert main(["verify", "--project", str(root), "--db", pg_server.url(), "--rows", "0"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize("style", STYLES)
def test_the_pytest_plugin_on_each_style(style, pytester, pg_server):
    write_style(pytester.path / "db", style)
    write_style(pytester.path / "bad", style, fails_on_rows=True)
    for project, outcomes, failing in (
        ("db", {"passed": 7}, []),
        ("bad", {"passed": 3, "failed": 2, "skipped": 2}, ["stairway", "upgrade"]),
    ):
        pytester.makeini(
            f"[pytest]\ndbpatterns_verify = true\ndbpatterns_project = {project}\n"
            f"dbpatterns_db = {pg_server.url()}\n"
        )
        result = pytester.runpytest_subprocess("-p", "no:pytest_alembic", "-p", "no:cacheprovider", "-rA")
        out = result.stdout.str()
        result.assert_outcomes(**outcomes)
        names = sorted(
            line.split("::")[2].split()[0] for line in out.splitlines() if line.startswith("FAILED")
        )
        assert names == failing, out
        if failing:
            assert "[r2]" in out and "contains null values" in out
