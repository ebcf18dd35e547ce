"""Run the project's own env.py against a scratch database, with Alembic's own machinery.

One :class:`Runner` reads the project once (``Config`` and ``ScriptDirectory``: every revision file is
imported once, not once per command) and then runs env.py as ``alembic.command.upgrade`` does, through
``EnvironmentContext`` and ``ScriptDirectory.run_env``, with a step function of ours. Steps come from a
generator, so between two steps we can look at the database through the migration's own connection (inside
its transaction).

Our URL reaches env.py every way Alembic allows: ``config.attributes["connection"]`` (a connection we own,
not in a transaction, so env.py's ``begin_transaction()`` commits and ``autocommit_block()`` works; an
env.py that calls ``.connect()`` on it, as pytest-alembic's convention has it, gets our Engine there
instead, over the same single database connection),
``sqlalchemy.url``, ``-x url=...`` and the usual environment variables. The ``postgresql+psycopg`` URL
serves sync and async env.py alike (``async_engine_from_config`` picks psycopg's async mode).

A password never travels in those URLs: it is taken out of the URL (user information or ``?password=``)
and given to libpq as ``PGPASSWORD`` while env.py runs (and to our own engines directly). A percent-encoded
password (``%40`` for ``@``) would otherwise reach an env.py that writes the URL back with
``config.set_main_option`` (the common pattern), where configparser reads ``%`` as interpolation and
fails; and env.py code that prints its URL cannot show a password it was never given.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from ..errors import InputError, first_line
from ..masking import mask
from ..pg.sandbox import explain
from .project import (
    Project,
    alembic_config,
    env_takes_url,
    importable_in,
    load_script,
    url_in_environment,
)

HOW_TO_PASS_URL = (
    "env.py must use config.attributes['connection'] when it is set, or take the URL from "
    "config.get_main_option('sqlalchemy.url') (engine_from_config for a sync env.py; "
    "async_engine_from_config with asyncio.run for an async one)"
)


def without_password(url: str) -> tuple[str, str | None]:
    """``url`` without its password (in the user information or a ``password`` query parameter), and the
    password decoded (None when there is none)."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    user, colon, secret = userinfo.partition(":")
    password = unquote(secret) if at and colon else None
    netloc = f"{user}@{host}" if at else parts.netloc
    query = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(key, value) for key, value in query if key != "password"]
    if len(kept) != len(query):
        password = next(value for key, value in query if key == "password")
    if netloc == parts.netloc and len(kept) == len(query):
        return url, None
    rest = urlencode(kept, safe="/") if len(kept) != len(query) else parts.query
    return urlunsplit(parts._replace(netloc=netloc, query=rest)), password


@contextlib.contextmanager
def password_in_environment(password: str | None):
    """``PGPASSWORD`` (read by libpq, so psycopg, and by asyncpg) set to ``password`` while the block runs
    (unless None), restored after."""
    if password is None:
        yield
        return
    saved = os.environ.get("PGPASSWORD")
    os.environ["PGPASSWORD"] = password
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PGPASSWORD", None)
        else:
            os.environ["PGPASSWORD"] = saved


class StepFailed(Exception):
    """A migration step raised: ``what`` says which (e.g. ``upgrade to ab12``), ``error`` the message."""

    def __init__(self, what: str, revision: str | None, error: str) -> None:
        super().__init__(f"{what}: {error}")
        self.what, self.revision, self.error = what, revision, error


class Runner:
    def __init__(self, project: Project, sa_url: str, script=None) -> None:
        """``script``: the project's ScriptDirectory (:func:`~dbpatterns.alembic.project.load_script`), when
        the caller already loaded it; the Config is the runner's own (it carries the runner's URL)."""
        self.project = project
        self.sa_url, self.password = without_password(sa_url)
        # libpq keywords for our own engines: the password, given apart from the URL (see the module)
        self._connect_args = {} if self.password is None else {"password": self.password}
        self.log = io.StringIO()  # what env.py and Alembic printed while running
        self.config = alembic_config(project)
        self.env_url = self.sa_url  # the URL env.py is given (an async dialect for an async-only env.py)
        self._give_url(self.sa_url)
        self.script = script if script is not None else load_script(project, self.config)
        from sqlalchemy import create_engine
        from sqlalchemy.pool import StaticPool

        # one DB-API connection for the whole run, even when env.py closes the Connection it is given:
        # no reconnects, and the driver's prepared statements (the snapshot query) are kept
        self.engine = create_engine(self.sa_url, poolclass=StaticPool, connect_args=self._connect_args)
        self.connection = None
        self.version_table: tuple[str | None, str] = (None, "alembic_version")
        self.current = ""  # the step being run, for messages
        self.current_revision: str | None = None
        self.hand = "connection"  # what config.attributes["connection"] holds: our Connection or Engine
        self.progress: Callable[[str], None] | None = None  # told each step, for a terminal

    def _give_url(self, url: str) -> None:
        """``url`` where env.py looks for it: ``sqlalchemy.url`` and ``-x url=...`` (and, while env.py runs,
        the usual environment variables)."""
        self.env_url = url
        self.config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        xs = [f"{key}={url}" for key in ("url", "db_url", "database_url", "sqlalchemy.url")]
        self.config.cmd_opts = argparse.Namespace(x=xs)

    def say(self, text: str) -> None:
        """Tell the progress callback (if any) what runs now."""
        if self.progress is not None:
            self.progress(text)

    # -- the project ---------------------------------------------------------------------------------

    def revisions(self) -> list:
        """Every revision, base first (parents before children)."""
        return list(reversed(list(self.script.walk_revisions())))

    def check_env_takes_url(self) -> None:
        env_py = self.project.env_py
        if not env_takes_url(env_py):
            raise InputError(
                f"{env_py} reads its database URL from nothing verify can set; refusing to run it (it could "
                f"migrate another database): {HOW_TO_PASS_URL}"
            )

    # -- running env.py ------------------------------------------------------------------------------

    def run(self, steps: Callable[[tuple, object], Iterable], destination: str | None = None) -> None:
        """Run env.py once; ``steps(heads, migration_context)`` yields Alembic revision steps.

        Raises :class:`StepFailed` when a step (or our code between steps) fails, :class:`InputError` when
        env.py fails before it reaches ``context.run_migrations()``.
        """
        from alembic.runtime.environment import EnvironmentContext

        started = False

        def fn(heads, context):
            nonlocal started
            started = True
            self.version_table = (context.version_table_schema, context.version_table)
            return steps(heads, context)

        connection = self._connection()
        self.config.attributes["connection"] = self._handed(connection)
        self.current, self.current_revision = "", None
        retry = None
        try:
            with (
                self.in_project(),
                url_in_environment(self.env_url),
                password_in_environment(self.password),
                EnvironmentContext(
                    self.config, self.script, fn=fn, as_sql=False, destination_rev=destination, tag=None
                ),
                contextlib.redirect_stdout(self.log),  # env.py's prints and Alembic's INFO logging: kept
                contextlib.redirect_stderr(self.log),  # out of our output (and out of an MCP stdio stream)
            ):
                self.script.run_env()
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - the project's code: report whatever it raises
            self._end(connection, ok=False)
            retry = None if started else _other_hand(self.hand, exc)
            if retry is None and not started and self.env_url == self.sa_url and _wants_async_dialect(exc):
                retry = "async_url"
            if retry is None:
                if not started:
                    raise InputError(self._env_error(exc)) from None
                raise StepFailed(self.current or "running env.py", self.current_revision, _why(exc)) from None
        finally:
            self.config.attributes.pop("connection", None)
            self._dispose_async()
        if retry == "async_url":  # env.py wraps a sync Engine in AsyncEngine: give it an async dialect
            self._give_url(_async_url(self.sa_url))
            return self.run(steps, destination)
        if retry is not None:  # outside the except block: a bare `raise` in a revision finds nothing
            self.hand = retry
            return self.run(steps, destination)
        self._end(connection, ok=True)

    def _handed(self, connection):
        """What config.attributes["connection"] holds: our Connection (the Alembic cookbook), our Engine
        or an AsyncEngine (pytest-alembic's convention, for an env.py that calls ``.connect()`` on it)."""
        if self.hand == "connection":
            return connection
        if self.hand == "engine":
            return self.engine
        from sqlalchemy.ext.asyncio import create_async_engine
        from sqlalchemy.pool import NullPool

        self._async_engine = create_async_engine(
            self.sa_url, poolclass=NullPool, connect_args=self._connect_args
        )
        return self._async_engine

    def _dispose_async(self) -> None:
        engine = getattr(self, "_async_engine", None)
        if engine is not None:
            self._async_engine = None
            with contextlib.suppress(Exception):
                engine.sync_engine.dispose()

    def upgrade_steps(self, destination: str, heads) -> list:
        # what alembic.command.upgrade's step function returns (the method is Alembic's, underscored)
        return self.script._upgrade_revs(destination, heads)

    def downgrade_steps(self, destination: str, heads) -> list:
        return self.script._downgrade_revs(destination, heads)

    def downgrade_one(self, revision: str) -> list:
        """The step that downgrades exactly ``revision`` (a merge goes back to its parents as heads)."""
        from alembic.runtime.migration import MigrationStep

        script = self.script.get_revision(revision)
        return [MigrationStep.downgrade_from_script(self.script.revision_map, script)]

    def database_heads(self) -> set[str]:
        """The revisions the scratch database is at, read on our own connection."""
        from sqlalchemy import MetaData, Table, select
        from sqlalchemy.exc import SQLAlchemyError

        schema, name = self.version_table
        connection = self._connection()
        try:
            table = Table(name, MetaData(), autoload_with=connection, schema=schema)
            return {row[0] for row in connection.execute(select(table.c.version_num))}
        except SQLAlchemyError:
            return set()
        finally:
            connection.rollback()

    def schemas(self) -> list[tuple[str, str, str]]:
        """The database's own schemas: (name, owner, ACL as text), read on our own connection."""
        return self._query(
            "SELECT nspname, pg_get_userbyid(nspowner), coalesce(nspacl::text, '') FROM pg_namespace "
            "WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY 1"
        )

    def reset(self, schemas: list[tuple[str, str, str]]) -> None:
        """Back to an empty database: every schema dropped (with all it holds), ``schemas`` (taken from
        :meth:`schemas` while the database was empty) made again with their owners and PUBLIC's rights."""
        from psycopg import sql

        statements = [
            sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)) for name, _, _ in self.schemas()
        ]
        for name, owner, acl in schemas:
            statements.append(
                sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(
                    sql.Identifier(name), sql.Identifier(owner)
                )
            )
            public = next(
                (item.split("/")[0][1:] for item in acl.strip("{}").split(",") if item.startswith("=")), ""
            )
            rights = [r for flag, r in (("U", "USAGE"), ("C", "CREATE")) if flag in public]
            if rights:
                statements.append(
                    sql.SQL("GRANT {} ON SCHEMA {} TO PUBLIC").format(
                        sql.SQL(", ".join(rights)), sql.Identifier(name)
                    )
                )
        self._query(*(q.as_string(None) for q in statements), commit=True)

    def _query(self, *statements: str, commit: bool = False) -> list:
        """Run statements on our own connection; the last one's rows."""
        raw = self._connection().connection  # the DB-API connection: no SQLAlchemy transaction around it
        cursor = raw.cursor()
        rows: list = []
        try:
            for statement in statements:
                cursor.execute(statement)
                rows = cursor.fetchall() if cursor.description else []
        except Exception:
            raw.rollback()
            raise
        finally:
            cursor.close()
        raw.commit() if commit else raw.rollback()
        return rows

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.close()
            self.connection = None
        self.engine.dispose()

    def in_project(self):
        """In the project's folder and first on ``sys.path``, as Alembic's own command line runs it."""
        return importable_in(self.project.root)

    # -- helpers -------------------------------------------------------------------------------------

    def _connection(self):
        from sqlalchemy.exc import SQLAlchemyError

        if self.connection is None or self.connection.closed:
            try:
                self.connection = self.engine.connect()
            except SQLAlchemyError as exc:
                why = first_line(exc)
                raise InputError(f"cannot connect to the scratch database: {why}") from None
        return self.connection

    def _end(self, connection, ok: bool) -> None:
        if connection.closed:  # some env.py files close the connection they are given
            self.connection = None
            return
        with contextlib.suppress(Exception):
            if connection.in_transaction():
                connection.commit() if ok else connection.rollback()

    def _env_error(self, exc: BaseException) -> str:
        text = _why(exc)
        if "greenlet" in text:
            return (
                f"{self.project.env_py} is async and needs greenlet: pip install 'sqlalchemy[asyncio]' "
                "(and the project's async driver)"
            )
        return f"{self.project.env_py} failed before running migrations: {text}"


def _other_hand(hand: str, exc: BaseException) -> str | None:
    """What to hand env.py next when it failed, before running migrations, on what it was given: an
    Engine when it called ``.connect()`` on our Connection, an AsyncEngine when it used ``async with``
    on what ``.connect()`` returned; None when the failure is something else."""
    text = str(exc)
    wants_async = (isinstance(exc, TypeError) and "asynchronous context manager" in text) or (
        isinstance(exc, AttributeError) and "__aenter__" in text
    )
    if wants_async and hand != "async_engine":
        return "async_engine"
    if hand == "connection" and isinstance(exc, AttributeError) and "'connect'" in text:
        return "engine"
    return None


def _wants_async_dialect(exc: BaseException) -> bool:
    """Whether env.py failed because it made an ``AsyncEngine`` of a sync Engine built from our URL (the
    older async template: ``AsyncEngine(engine_from_config(...))``)."""
    return "requires an async driver" in str(exc)


def _async_url(sa_url: str) -> str:
    """``postgresql+psycopg://...`` as ``postgresql+psycopg_async://...`` (the same driver's async dialect,
    which both ``create_engine`` and ``create_async_engine`` accept)."""
    scheme, sep, rest = sa_url.partition("://")
    return f"{scheme.split('+', 1)[0]}+psycopg_async{sep}{rest}"


def _why(exc: BaseException) -> str:
    """The error as one line, no password in it (a revision's exception may quote a URL)."""
    return mask(_error_text(exc))


def _error_text(exc: BaseException) -> str:
    """The error as one line: the server's error (its detail, which names the row or key, and the
    statement) for a database error, ``Type: message`` for anything else, the type alone when it has no
    text."""
    orig = getattr(exc, "orig", None) or exc
    diag = getattr(orig, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if primary:
        text = f"{type(orig).__name__}: {primary}"
        if detail := getattr(diag, "message_detail", None):
            text += f" ({' '.join(detail.split())})"
        statement = " ".join(str(getattr(exc, "statement", "") or "").split())
        if statement:
            text += f"; statement: {statement[:300]}{'...' if len(statement) > 300 else ''}"
        return text + explain(exc)
    message = str(exc).strip()
    if not message:
        return type(exc).__name__ + explain(exc)
    return f"{type(exc).__name__}: {first_line(exc)}{explain(exc)}"


def error_type(error: str) -> str:
    """The exception type a :class:`StepFailed` error text starts with."""
    return error.split(":", 1)[0]
