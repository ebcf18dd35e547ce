"""Data directories for throwaway servers: a cached initdb template, copied fresh for every server.

``initdb`` is much slower than copying its result. The first start
runs initdb into a staging directory, copies it for its own server and publishes it in the cache (in a
background thread, so the server is ready before the cache is written) by an atomic rename: two processes
building at once both succeed and one of the two results is kept.

Where things live:

- the cache: ``$DBPATTERNS_CACHE_DIR``, else ``$XDG_CACHE_HOME/dbpatterns``, else ``~/.cache/dbpatterns``,
  one ``pgcluster-<version>-<hash>`` directory per binary, initdb options and owner;
- servers: a fresh ``dbpatterns-pg-*`` directory (data directory, socket, log) under
  ``$DBPATTERNS_PG_TMPDIR``, else ``/dev/shm`` when it is a roomy tmpfs (memory, not a disk, holds the
  throwaway data), else the system temporary directory. Each holds an ``owner``
  file with the creating process's id and start time (:mod:`dbpatterns.pg.owner`); directories whose owner
  is gone (a crashed or killed run; a reused process id does not count as the owner) are never reused:
  their server, if still running, is stopped and the directory removed at the next start of a server.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from dbpatterns.files import cache_root
from dbpatterns.pg.binaries import Binaries, RunAs
from dbpatterns.pg.errors import PgError, log_tail
from dbpatterns.pg.owner import alive as _alive
from dbpatterns.pg.owner import my_mark, owner_alive

log = logging.getLogger("dbpatterns.pg")

RUN_PREFIX = "dbpatterns-pg-"
INITDB_ARGS = (
    "--no-sync",
    "--no-instructions",
    "--no-data-checksums",
    "--auth=trust",
    "--username=postgres",
    "--encoding=UTF8",
    "--locale=C",
    "--wal-segsize=1",
)
_SHM_MIN_FREE = 1 << 30  # use /dev/shm only with at least 1 GiB free


def run_root() -> Path:
    if env := os.environ.get("DBPATTERNS_PG_TMPDIR"):
        return Path(env)
    shm = Path("/dev/shm")
    with contextlib.suppress(OSError):
        st = os.statvfs(shm)
        if os.access(shm, os.W_OK | os.X_OK) and st.f_bavail * st.f_frsize >= _SHM_MIN_FREE:
            return shm
    return Path(tempfile.gettempdir())


def cache_key(bins: Binaries, user: RunAs) -> str:
    postgres = Path(bins.exe("postgres"))
    st = postgres.stat()
    ident = [str(postgres.resolve()), str(st.st_size), str(st.st_mtime_ns), bins.version, *INITDB_ARGS]
    ident += [str(user.uid if user.uid is not None else os.geteuid())]
    return f"pgcluster-{bins.version}-{hashlib.sha256(chr(0).join(ident).encode()).hexdigest()[:12]}"


def make_run_dir(user: RunAs) -> Path:
    """A fresh private directory owned by the server's user, marked with our process id."""
    root = run_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=RUN_PREFIX, dir=root))
        (path / "owner").write_text(my_mark() + "\n")
        user.chown(path)
    except OSError as exc:
        raise PgError(f"cannot create a directory for PostgreSQL under {root}: {exc.strerror}") from None
    return path


def copy_tree(src: Path, dst: Path) -> None:
    """Copy a data directory keeping modes and owners (with ``cp -a`` when there is one)."""
    if shutil.which("cp"):
        done = subprocess.run(["cp", "-a", str(src), str(dst)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise PgError(f"cannot copy {src} to {dst}: {done.stderr.strip()}")
        return

    def copy(s: str, d: str) -> None:
        shutil.copy2(s, d)
        st = os.stat(s)
        os.chown(d, st.st_uid, st.st_gid)

    shutil.copytree(src, dst, symlinks=True, copy_function=copy)
    for root, dirs, _ in os.walk(src):
        for name in [".", *dirs]:
            st = os.stat(os.path.join(root, name))
            os.chown(os.path.join(dst, os.path.relpath(root, src), name), st.st_uid, st.st_gid)


def initdb(bins: Binaries, user: RunAs, data_dir: Path) -> None:
    log_path = data_dir.parent / "initdb.log"
    with open(log_path, "wb") as out:
        try:
            done = subprocess.run(
                [bins.exe("initdb"), "-D", str(data_dir), *INITDB_ARGS],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=300,
                check=False,
                **user.popen_kwargs(),
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise PgError(f"cannot run initdb: {exc}") from None
    if done.returncode != 0:
        raise PgError(f"initdb failed with exit code {done.returncode}", log_tail=log_tail(log_path))


_publishers: list[threading.Thread] = []


def prepare_data_dir(bins: Binaries, user: RunAs, data_dir: Path, *, use_cache: bool = True) -> bool:
    """Fill ``data_dir`` (which must not exist) with a fresh cluster; True when it came from the cache."""
    if not use_cache:
        initdb(bins, user, data_dir)
        return False
    cached = cache_root() / cache_key(bins, user)
    missing = _missing(cached)
    if not missing:
        copy_tree(cached, data_dir)
        return True
    if cached.exists():  # never published half: someone damaged it; a new one cannot be published over it
        discard_cache(bins, user, f"{missing} is missing")
    staging = make_run_dir(user)
    try:
        initdb(bins, user, staging / "data")
        copy_tree(staging / "data", data_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # not a daemon: the interpreter waits for it at exit, so a short-lived command still fills the cache
    thread = threading.Thread(target=_publish, args=(staging, cached), name="dbpatterns-pg-cache")
    _publishers.append(thread)
    thread.start()
    return False


def _missing(data_dir: Path) -> str | None:
    """The first part of a cluster missing from ``data_dir`` (the server would start without its
    databases' folders and fail at the first connection), or None."""
    for part in ("PG_VERSION", "global/pg_control", "postgresql.conf", "base/1"):
        if not (data_dir / part).exists():
            return part
    with contextlib.suppress(OSError):
        if sum(1 for _ in (data_dir / "base").iterdir()) >= 3:  # template1, template0, postgres
            return None
    return "base/ (a database folder)"


def _say(line: str) -> None:
    """One line on stderr, not through logging: a project's env.py (logging.config.fileConfig) disables
    the loggers that exist when it runs, ours among them, and the MCP server reuses its process."""
    with contextlib.suppress(OSError, ValueError):
        print(" ".join(line.split()), file=sys.stderr, flush=True)


def discard_cache(bins: Binaries, user: RunAs, why: str) -> None:
    """Remove a damaged cached cluster (the next start builds it again), saying so in one warning."""
    cached = cache_root() / cache_key(bins, user)
    if not cached.exists():
        return
    _say(f"dbpatterns: the cached PostgreSQL cluster {cached} is damaged ({why}); rebuilding it")
    aside = cached.parent / f".{cached.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        os.rename(cached, aside)  # atomic: another process sees the old cluster or none
    except OSError:
        aside = cached
    shutil.rmtree(aside, ignore_errors=True)


def set_aside(bins: Binaries, user: RunAs) -> Path | None:
    """Move the cached cluster out of the way (the next start builds a new one); returns where it went."""
    cached = cache_root() / cache_key(bins, user)
    aside = cached.parent / f".{cached.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        os.rename(cached, aside)
    except OSError:
        return None
    return aside


def put_back(bins: Binaries, user: RunAs, aside: Path | None) -> None:
    """Undo :func:`set_aside` (unless a new cache was published meanwhile: then drop the old one)."""
    if aside is None:
        return
    wait_for_cache()
    with contextlib.suppress(OSError):
        os.rename(aside, cache_root() / cache_key(bins, user))
    shutil.rmtree(aside, ignore_errors=True)


def discard_aside(aside: Path | None, why: str) -> None:
    """Remove a cached cluster set aside because it is damaged, saying so in one warning."""
    if aside is None:
        return
    cached = aside.parent / aside.name[1:].partition(".tmp-")[0]
    _say(f"dbpatterns: the cached PostgreSQL cluster {cached} was damaged ({why}); rebuilt it")
    shutil.rmtree(aside, ignore_errors=True)


def wait_for_cache(timeout: float | None = None) -> None:
    """Wait until caches being written in the background are published."""
    for thread in list(_publishers):
        thread.join(timeout)


def _publish(staging: Path, cached: Path) -> None:
    tmp = cached.parent / f".{cached.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(staging / "data", tmp)
        except OSError:  # another filesystem
            copy_tree(staging / "data", tmp)
        try:
            os.rename(tmp, cached)
        except OSError:
            log.debug("cluster cache %s was published by another process", cached)
    except (OSError, PgError) as exc:
        log.debug("cannot write the cluster cache %s: %s", cached, exc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(ValueError):
            _publishers.remove(threading.current_thread())


def _owner_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _stop_orphan(data_dir: Path) -> None:
    """Stop a server left running on ``data_dir`` by a crashed process (Linux: checked via /proc)."""
    pid = _owner_pid(data_dir / "postmaster.pid")
    if pid is None or not _alive(pid):
        return
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return
    if str(data_dir).encode() not in cmdline:
        return  # the pid was reused by something else
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGQUIT)  # immediate shutdown: the data is thrown away anyway
        for _ in range(200):
            if not _alive(pid):
                break
            time.sleep(0.01)


_reaped = False
_reap_lock = threading.Lock()


def reap_stale() -> None:
    """Once per process: remove directories left by crashed runs (their owner process is gone)."""
    global _reaped
    with _reap_lock:
        if _reaped:
            return
        _reaped = True
    with contextlib.suppress(OSError):
        for path in run_root().glob(RUN_PREFIX + "*"):
            try:
                live = owner_alive((path / "owner").read_text())
            except OSError:
                live = None
            if live is None:
                # a directory just being created has no owner file yet: leave young ones alone
                if time.time() - path.stat().st_mtime < 60:
                    continue
            elif live:
                continue
            _stop_orphan(path / "data")
            shutil.rmtree(path, ignore_errors=True)
    with contextlib.suppress(OSError):
        for path in cache_root().glob(".pgcluster-*.tmp-*"):
            pid = int(path.name.rsplit("-", 2)[-2]) if path.name.rsplit("-", 2)[-2].isdigit() else None
            if pid is not None and not _alive(pid):
                shutil.rmtree(path, ignore_errors=True)
