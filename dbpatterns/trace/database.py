"""A scratch database to trace in: on a throwaway embedded server (as a role made for the run), or created
on the user's server (``--db URL``, else the ``DBPATTERNS_SERVER_URL`` environment variable, else
``server_url`` in ``[tool.dbpatterns]``; as the URL's role) and dropped afterwards, even on errors. An
existing database is never written to.

Passwords never leave this module in a message: :func:`mask` removes them from any text.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from .. import masking
from ..errors import InputError, first_line
from ..pg.sandbox import Access, Sandbox, sandbox, time_limit, watched
from ..pg.server import serving, throwaway_server
from ..settings import load_settings
from .extensions import history_extensions


@dataclass(frozen=True, slots=True)
class Scratch:
    """A scratch database: ``url`` for psycopg (libpq), ``sa_url`` for SQLAlchemy (psycopg driver);
    ``access`` says whom the SQL runs as there (:class:`~dbpatterns.pg.sandbox.Access`)."""

    url: str
    sa_url: str
    name: str
    access: Access | None = None


def mask(text: str, url: str | None = None) -> str:
    """``text`` with the password of ``url`` (and of any URL or libpq string in it) replaced by ``***``."""
    return masking.mask(text, url)


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+asyncpg://``) as a libpq one (``postgresql://``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise InputError("--db must be a postgresql:// URL (it does not parse as a URL)") from None
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in ("postgresql", "postgres"):
        # never the value itself: a libpq "host=... password=..." string or a secret read from a variable
        what = f"a {parts.scheme}:// URL" if parts.scheme and "://" in url else "not a URL"
        raise InputError(f"--db must be a postgresql:// URL (the value given is {what})")
    return urlunsplit(parts._replace(scheme="postgresql"))


def psycopg_url(url: str) -> str:
    """``url`` as a SQLAlchemy URL for psycopg 3 (``postgresql+psycopg://``)."""
    return urlunsplit(urlsplit(libpq_url(url))._replace(scheme="postgresql+psycopg"))


def with_database(url: str, name: str) -> str:
    """The libpq URL of the database ``name`` on the server of ``url``."""
    return urlunsplit(urlsplit(libpq_url(url))._replace(path="/" + quote(name, safe="")))


SERVER_URL_VARIABLE = "DBPATTERNS_SERVER_URL"
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def configured_server(settings=None) -> str | None:
    """The server to create scratch databases on when no ``--db`` is given: the ``DBPATTERNS_SERVER_URL``
    environment variable, else ``server_url`` of ``settings`` (default: the nearest pyproject.toml's
    ``[tool.dbpatterns]``; ``${VAR}`` read from the environment); None for the embedded server."""
    value = os.environ.get(SERVER_URL_VARIABLE, "").strip()
    if value:
        return value
    if settings is None:
        settings = load_settings()
    value = settings.server_url
    if not value:
        return None

    def variable(match: re.Match) -> str:
        found = os.environ.get(match[1])
        if found is None:
            raise InputError(f"[tool.dbpatterns] server_url: the environment variable {match[1]} is not set")
        return found

    return _VARIABLE.sub(variable, value)


def missing_extension_hint(message: str) -> str:
    """What to do when a history needs an extension the server lacks (``extension "x" is not available``):
    empty for any other message."""
    match = re.search(r'extension "([^"]+)" is not available', message)
    if match is None:
        return ""
    return (
        f"the history needs the extension {match[1]!r}, which this PostgreSQL server does not have (the "
        "embedded one ships most contrib extensions and pgvector, not uuid-ossp or pgcrypto): run on a "
        f"server that has it with --db URL, or set {SERVER_URL_VARIABLE} or server_url in "
        "[tool.dbpatterns] once for every command"
    )


class UserServer:
    """A server named by URL (``DBPATTERNS_SERVER_URL``, ``server_url``) with what drift's history uses of
    a :class:`dbpatterns.pg.Server`: ``version``, ``create_database``, ``drop_database``; never stopped."""

    running = True

    def __init__(self, url: str) -> None:
        self.admin_url = libpq_url(url)

    def _execute(self, query, what: str):
        import psycopg

        try:
            with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=15) as admin:
                return admin.execute(query).fetchall() if what == "read" else admin.execute(query)
        except psycopg.Error as exc:
            raise InputError(
                f"{what} on the scratch server: {mask(first_line(exc), self.admin_url)}"
            ) from None

    @functools.cached_property
    def version(self) -> int:
        """``server_version_num``, e.g. 180006."""
        return int(self._execute("SHOW server_version_num", "read")[0][0])

    def create_database(self) -> str:
        from psycopg import sql

        name = f"dbpatterns_scratch_{secrets.token_hex(4)}"
        self._execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)), "cannot create a database")
        return with_database(self.admin_url, name)

    def drop_database(self, name: str) -> None:
        from psycopg import sql

        if "://" in name:
            name = unquote(urlsplit(name).path.lstrip("/"))
        query = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        self._execute(query, "cannot drop a database")

    def stop(self) -> None:
        """Nothing: the server is the user's."""


@contextlib.contextmanager
def scratch_database(db: str | None = None, *, extensions=(), project=None) -> Iterator[Scratch]:
    """A fresh empty database for the duration of the block; dropped (and the server stopped) after.
    Without ``db``: on :func:`configured_server`, else on a throwaway embedded server.

    On the embedded server (no ``db``, or ``db`` pointing at a throwaway server of this process) the SQL
    runs as a role made for the run (:mod:`dbpatterns.pg.sandbox`); the ``extensions`` it cannot create
    and those the revisions of ``project`` create are created beforehand. On a user's server (``db``) the
    SQL runs as the URL's role. Either way a statement running past the time limit is cancelled.
    """
    if db is None:
        db = configured_server()
    server = serving(db) if db is not None else None
    if db is not None and server is None:
        yield from _on_user_server(db)
        return
    names = set(extensions)
    if project is not None:
        names |= history_extensions(project)
    with contextlib.ExitStack() as stack:
        if server is None:
            server = stack.enter_context(throwaway_server())
        box = stack.enter_context(sandbox(server.url("postgres"), extensions=names))
        yield Scratch(box.url, psycopg_url(box.url), box.name, box.access)


def _on_user_server(db: str) -> Iterator[Scratch]:
    import psycopg
    from psycopg import sql

    admin_url = libpq_url(db)
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=15)
    except psycopg.Error as exc:
        raise InputError(f"cannot connect to --db: {mask(first_line(exc), db)}") from None
    name = f"dbpatterns_trace_{secrets.token_hex(4)}"
    with admin:
        try:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            message = mask(first_line(exc), db)
            raise InputError(f"cannot create a scratch database on --db: {message}") from None
        try:
            url = with_database(db, name)
            access = Access("given", admin.info.user)
            with watched(admin_url, Sandbox(url, name, access, time_limit())):
                yield Scratch(url, psycopg_url(url), name, access)
        finally:
            with contextlib.suppress(psycopg.Error):
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
