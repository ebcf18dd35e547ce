"""The schema the migration history produces: the project's own env.py run on scratch databases of a
throwaway embedded PostgreSQL, one per destination (most often the heads), then a catalog snapshot."""

from __future__ import annotations

import contextlib
from urllib.parse import unquote, urlsplit

from ..env import LOG_TABLE
from ..findings import InputError
from ..schema import Snapshot, snapshot


class History:
    """Expected snapshots, computed on demand and kept per destination (a tuple of revisions)."""

    def __init__(self, project, server=None) -> None:
        self.project = project
        self.server = server  # a running dbpatterns.pg.Server to use (and leave running), or None
        self._own_server = server is None
        self.version_table: tuple[str | None, str] = (None, "alembic_version")
        self._shots: dict[tuple[str, ...], Snapshot] = {}

    def start(self) -> None:
        if self.server is None:
            from ..pg import start

            self.server = start()

    def expected(self, destination: tuple[str, ...]) -> Snapshot:
        """The snapshot of a scratch database migrated from base to ``destination`` (empty: base)."""
        if destination not in self._shots:
            self._shots[destination] = self._build(destination)
        return self._shots[destination]

    def _build(self, destination: tuple[str, ...]) -> Snapshot:
        import psycopg

        from ..verify.runner import Runner, StepFailed

        self.start()
        url = self.server.create_database()
        try:
            if destination:
                name = unquote(urlsplit(url).path.lstrip("/"))
                runner = Runner(self.project, self.server.url(name, driver="psycopg"))
                try:
                    runner.check_env_takes_url()
                    for revision in destination:
                        runner.run(lambda heads, ctx, r=revision: runner.upgrade_steps(r, heads), revision)
                    self.version_table = runner.version_table
                except StepFailed as failed:
                    why = f"{failed.what} failed: {failed.error}"
                    raise InputError(f"the history does not apply on a scratch database: {why}") from None
                finally:
                    runner.close()
            with psycopg.connect(url) as conn:
                return snapshot(conn, skip=(self.version_table[1], LOG_TABLE))
        finally:
            with contextlib.suppress(Exception):
                self.server.drop_database(url)

    def close(self) -> None:
        if self.server is not None and self._own_server:
            self.server.stop()
            self.server = None
