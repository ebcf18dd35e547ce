"""Write small Alembic projects into temporary folders for tests: sync or async env.py, alembic.ini or
``[tool.alembic]``, optional models. Revisions are (id, parent, upgrade body, downgrade body)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from dbpatterns.trace.database import psycopg_url

SYNC_ENV = """
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
target_metadata = TARGET


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        connectable = engine_from_config(
            config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
        )
        with connectable.connect() as connection:
            context.configure(connection=connection, target_metadata=target_metadata)
            with context.begin_transaction():
                context.run_migrations()
        return
    context.configure(connection=connectable, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
"""

# what `alembic init -t async` writes: it ignores config.attributes["connection"]
ASYNC_ENV = """
import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import async_engine_from_config

config = context.config
target_metadata = TARGET


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


asyncio.run(run_async_migrations())
"""

REVISION = '''
"""{rev}"""
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


def alembic_config(project: Path, url: str):
    """Alembic's Config of the project at ``project``, pointed at ``url`` (a libpq URL) through psycopg."""
    from alembic.config import Config

    config = Config(str(project / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", psycopg_url(url).replace("%", "%%"))
    return config


def write_project(
    root: Path,
    revisions: list[tuple[str, str | None, str, str]],
    *,
    env: str = "sync",
    toml: bool = False,
    models: str | None = None,
    models_code: str | None = None,
    env_text: str | None = None,
    module: str = "app_models",
) -> Path:
    """Write the project into ``root`` and return it. ``models_code`` goes to ``{module}.py`` (modules stay
    imported for the whole session: give each project's models their own name)."""
    root.mkdir(parents=True, exist_ok=True)
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    target = "None"
    if models_code is not None:
        (root / f"{module}.py").write_text(textwrap.dedent(models_code))
        target = f"__import__({module!r}).Base.metadata" if env_text is None else target
    text = env_text if env_text is not None else (ASYNC_ENV if env == "async" else SYNC_ENV)
    (root / "migrations" / "env.py").write_text(text.replace("TARGET", target))
    for rev, parent, up, down in revisions:
        body = REVISION.format(rev=rev, parent=parent, up=_indent(up), down=_indent(down))
        (versions / f"{rev}.py").write_text(body)
    url = "postgresql+psycopg://localhost/never_used"
    tool = f'[tool.dbpatterns]\nmodels = "{models}"\n' if models else ""
    if toml:
        (root / "pyproject.toml").write_text(
            f'[tool.alembic]\nscript_location = "%(here)s/migrations"\n\n{tool}'
        )
        (root / "alembic.ini").unlink(missing_ok=True)
    else:
        (root / "alembic.ini").write_text(
            f"[alembic]\nscript_location = %(here)s/migrations\nsqlalchemy.url = {url}\n"
        )
        if tool:
            (root / "pyproject.toml").write_text(tool)
    return root


def _indent(body: str) -> str:
    body = textwrap.dedent(body).strip() or "pass"
    return textwrap.indent(body, "    ")


def linear(*bodies: tuple[str, str]) -> list[tuple[str, str | None, str, str]]:
    """Revisions r1, r2, ... each on top of the previous one."""
    out, parent = [], None
    for i, (up, down) in enumerate(bodies, 1):
        rev = f"r{i}"
        out.append((rev, parent, up, down))
        parent = rev
    return out
