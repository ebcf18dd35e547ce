"""Shared pytest fixtures. Keep one section per area; add new fixtures under their own heading."""

from __future__ import annotations

import pytest

# --- PostgreSQL ----------------------------------------------------------------------------------------
# One throwaway server per test session, shared by every Postgres test; each test that asks for `pg_url`
# gets its own fresh, empty database, dropped afterwards.


@pytest.fixture(scope="session")
def pg_server():
    """The session's throwaway PostgreSQL server (a ``dbpatterns.pg.Server``)."""
    from dbpatterns.pg import throwaway_server

    with throwaway_server() as server:
        yield server


@pytest.fixture
def pg_url(pg_server):
    """URL (``postgresql://...``) of a fresh scratch database on the session server."""
    with pg_server.scratch_database() as url:
        yield url


# --- caches --------------------------------------------------------------------------------------------
# drift keeps the history's schema, and checksums the revisions' hashes, in a cache folder: the session's.


@pytest.fixture(scope="session", autouse=True)
def _dbpatterns_cache(tmp_path_factory):
    """Caches (drift's history, revision checksums) in the session's temporary folder, not in ~/.cache."""
    mp = pytest.MonkeyPatch()
    mp.setenv("DBPATTERNS_CACHE_DIR", str(tmp_path_factory.mktemp("dbpatterns-cache")))
    yield
    mp.undo()
