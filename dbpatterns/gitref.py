"""Git plumbing for ``--since GIT_REF`` (lint, check, detect): the work tree, the ref, the files changed.

Only the ``git`` command is run (no library); a missing git, a folder outside a repository and a ref the
clone does not have are input errors that say what to do.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

from .errors import InputError

_SHALLOW_HINT = (
    "fetch it first (`git fetch origin <branch>`; in a shallow clone `git fetch --deepen=100` or, in "
    "GitHub Actions, `actions/checkout` with `fetch-depth: 0`)"
)


def git(where: Path | str, *args: str) -> str | None:
    """The output of ``git -C where args...``, None when git fails (or is not installed)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(where), *args], capture_output=True, text=True, check=False, timeout=60
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def check_ref(root: Path | str, ref: str) -> Path:
    """The git work tree holding ``root``; an InputError when there is none or ``ref`` is unknown (a
    shallow clone is told how to fetch it)."""
    top = git(root, "rev-parse", "--show-toplevel")
    if top is None:
        raise InputError(f"--since: {root} is not in a git repository")
    if git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}") is None:
        shallow = (git(root, "rev-parse", "--is-shallow-repository") or "").strip() == "true"
        where = "this shallow clone does not have it" if shallow else "this clone does not have it"
        raise InputError(f"--since: unknown git ref {ref!r} ({where}): {_SHALLOW_HINT}")
    return Path(top.strip())


def changed_since(paths: Iterable[str], ref: str) -> set[str]:
    """The absolute paths of the files under ``paths`` added or changed since ``ref``: committed since the
    point where the current branch left ``ref`` (its merge base, as a pull request's diff), changed in the
    work tree, or new and not ignored."""
    paths = [p for p in paths if p != "-"] or ["."]
    first = Path(paths[0])
    top = check_ref(first if first.is_dir() else first.parent, ref)
    base = git(top, "merge-base", ref, "HEAD")
    if base is None:
        shallow = (git(top, "rev-parse", "--is-shallow-repository") or "").strip() == "true"
        why = "the history between them is not in this shallow clone" if shallow else "no common history"
        raise InputError(f"--since: cannot find where HEAD left {ref!r} ({why}): {_SHALLOW_HINT}")
    where = [os.path.abspath(p) for p in paths]
    changed = git(top, "diff", "--name-only", "--no-renames", "--diff-filter=AM", base.strip(), "--", *where)
    new = git(top, "ls-files", "--others", "--exclude-standard", "--full-name", "--", *where)
    if changed is None or new is None:
        raise InputError(f"--since: git cannot compare the files with {ref!r}")
    return {os.path.abspath(top / name) for name in (changed + new).splitlines() if name}
