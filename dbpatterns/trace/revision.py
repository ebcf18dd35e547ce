"""An Alembic revision to trace: its upgrade's SQL (offline rendering) and a scratch database migrated to
its parent through the project's own env.py.

Our scratch URL reaches env.py every way Alembic allows: ``sqlalchemy.url`` (``Config.set_main_option``),
``config.attributes["connection"]`` (a connection we own), ``-x url=...``, and the usual environment
variables (``DATABASE_URL``...), set for the duration of the upgrade. An env.py that mentions none of them
could migrate another database, so it is refused before it runs; afterwards the scratch database must be
at the parent revision, or the command says which way env.py must take the URL.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from ..alembic.project import env_takes_url, importable_in, url_in_environment
from ..findings import InputError, first_line
from .database import Scratch
from .execute import Piece, split


@dataclass
class Target:
    config: object  # alembic.config.Config
    root: Path
    env_py: Path
    path: Path  # the revision file
    revision: str
    parents: tuple[str, ...]
    pieces: list[Piece]


def load(project_dir: Path, revision: str) -> Target:
    """Find ``revision`` in the project at ``project_dir`` and render its upgrade as statements."""
    from ..alembic.project import alembic_config, load_script, require_project

    project = require_project(project_dir)
    config = alembic_config(project)
    scripts = load_script(project, config)  # Alembic is importable: alembic_config checked it
    from alembic.util import CommandError

    with importable_in(project.root):
        try:
            script = scripts.get_revision(revision)
        except CommandError as exc:
            raise InputError(f"unknown revision {revision!r}: {first_line(exc)}") from None
    if script is None or isinstance(script, tuple):
        raise InputError(f"unknown revision {revision!r}")
    parents = script.down_revision or ()
    path = Path(script.path)
    return Target(config, project.root, project.env_py, path, script.revision, _tuple(parents), _render(path))


def _render(path: Path) -> list[Piece]:
    from ..alembic.offline import render

    try:
        chunks = render(path, "upgrade")
    except Exception as exc:  # noqa: BLE001 - any error in user code is reported, not raised
        why = f"{type(exc).__name__}: {first_line(exc)}"
        raise InputError(f"{path}: cannot render upgrade() in Alembic's offline mode: {why}") from None
    pieces = []
    for chunk in chunks:
        for piece in split(chunk.sql, str(path)):
            piece.line = piece.end_line = chunk.line
            pieces.append(piece)
    return pieces


def migrate_to_parent(target: Target, scratch: Scratch) -> None:
    """Upgrade the scratch database to the revision's parent(s) with the project's env.py."""
    if not target.parents:
        return
    if not env_takes_url(target.env_py):
        raise InputError(
            f"{target.env_py} reads its database URL neither from config.get_main_option('sqlalchemy.url'), "
            "config.attributes['connection'] nor -x arguments; refusing to run it (it could migrate another "
            "database). Make env.py prefer one of those"
        )
    from alembic import command
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    config = target.config
    config.set_main_option("sqlalchemy.url", scratch.sa_url.replace("%", "%%"))
    xs = [f"{key}={scratch.sa_url}" for key in ("url", "db_url", "database_url", "sqlalchemy.url")]
    config.cmd_opts = argparse.Namespace(x=xs)
    engine = create_engine(scratch.sa_url, poolclass=NullPool)
    try:
        with importable_in(target.root), url_in_environment(scratch.sa_url):
            for parent in target.parents:
                # not in a transaction: env.py's context.begin_transaction() commits (and autocommit_block
                # works); some env.py files close the connection they are given
                with engine.connect() as connection:
                    config.attributes["connection"] = connection
                    command.upgrade(config, parent)
                    if not connection.closed and connection.in_transaction():
                        connection.commit()
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - the project's code: report any error on one line
        raise InputError(_upgrade_error(exc, target)) from None
    finally:
        config.attributes.pop("connection", None)
        engine.dispose()
    _check_migrated(target, scratch)


def _upgrade_error(exc: BaseException, target: Target) -> str:
    text = f"{type(exc).__name__}: {first_line(exc)}"
    if "greenlet" in text:
        text = "the project's env.py is async and needs greenlet: pip install 'sqlalchemy[asyncio]'"
    parents = ", ".join(target.parents)
    return f"migrating the scratch database to {parents} (the parent of {target.revision}) failed: {text}"


def _check_migrated(target: Target, scratch: Scratch) -> None:
    import psycopg

    with psycopg.connect(scratch.url, autocommit=True) as conn:
        try:
            heads = {row[0] for row in conn.execute("SELECT version_num FROM alembic_version")}
        except psycopg.Error:
            heads = set()
    if not set(target.parents) <= heads:
        raise InputError(
            f"{target.env_py} did not migrate the scratch database (found {sorted(heads) or 'no version'}):"
            " env.py must take the URL from config.get_main_option('sqlalchemy.url') or "
            "config.attributes['connection']"
        )


def _tuple(value) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)
