"""Writing files the way a tool that shares a user's repository must: whole, and never over another."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from .errors import InputError


def cache_root() -> Path:
    """Our cache folder: ``$DBPATTERNS_CACHE_DIR``, else ``$XDG_CACHE_HOME/dbpatterns`` or
    ``~/.cache/dbpatterns``."""
    if env := os.environ.get("DBPATTERNS_CACHE_DIR"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dbpatterns"


def load_cached(path: Path):
    """The JSON value stored at ``path`` (in the cache folder), None when there is none or it is damaged."""
    import json

    try:
        return json.loads(Path(path).read_bytes())
    except (OSError, ValueError):
        return None


def store_cached(path: Path, value) -> bool:
    """Store ``value`` as JSON at ``path`` whole; best effort, as a cache that cannot be written only costs
    time: False when it could not be written."""
    import json

    data = json.dumps(value).encode()
    try:
        replace_file(path, data)
    except OSError:
        return False
    return True


def replace_file(path: Path, data: bytes) -> None:
    """Write ``path`` whole: a complete temporary file beside it, then renamed over it (a reader sees the
    old file or the new one); the temporary file is removed if anything fails."""
    with _beside(Path(path), data, sync=False) as tmp:
        os.replace(tmp, path)


@contextlib.contextmanager
def _beside(path: Path, data: bytes, *, sync: bool):
    """A complete temporary file holding ``data`` in ``path``'s folder, removed when the block ends (it is
    gone already when the block renamed it)."""
    import tempfile  # with shutil, random, bz2 and lzma: not for a command that only reads the cache

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        yield tmp
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def create_new_file(path: Path, data: bytes) -> None:
    """Create ``path`` holding ``data`` in one step (a complete temporary file, then a hard link); an input
    error when it exists: never replaces a file, never leaves a partial one."""
    path = Path(path)
    with _beside(path, data, sync=True) as tmp:
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise InputError(f"{path} already exists; never overwriting it") from None
        except OSError:  # no hard links on this file system: exclusive create
            try:
                with open(path, "xb") as handle:
                    handle.write(data)
            except FileExistsError:
                raise InputError(f"{path} already exists; never overwriting it") from None
