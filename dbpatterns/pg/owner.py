"""Who owns a run folder, a per-run role or a scratch database: a process named by its id *and* its start
time, so that a process id reused by an unrelated process after a crash is not mistaken for a live owner.

The mark is one line, ``"<pid> <start>"``; ``<start>`` is the process's start time in clock ticks since boot
(``/proc/<pid>/stat``, field 22), or ``-`` where there is no ``/proc`` (then the process id alone decides).
Marks written by older versions (the process id alone) are read as ``(pid, None)``.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path


def start_time(pid: int) -> str | None:
    """The start time of process ``pid`` (clock ticks since boot) or None when it cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    # after the command name: state is field 3, starttime field 22 -> index 22 - 3 = 19
    return fields[19] if len(fields) > 19 else None


@functools.cache
def _my_mark(pid: int) -> str:
    return f"{pid} {start_time(pid) or '-'}"


def my_mark() -> str:
    """This process's mark (recomputed in a forked child, whose id differs)."""
    return _my_mark(os.getpid())


def parse_mark(text: str) -> tuple[int, str | None] | None:
    """``"123 4567"`` -> (123, "4567"); ``"123"`` or ``"123 -"`` -> (123, None); anything else None."""
    parts = text.split()
    if not parts or not parts[0].isdigit():
        return None
    start = parts[1] if len(parts) > 1 and parts[1] != "-" else None
    return int(parts[0]), start


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie left unreaped by a container's init counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def owner_alive(mark: str) -> bool | None:
    """Whether the process of ``mark`` still runs: False when it is gone or its id now names another
    process (a different start time), None when the mark cannot be read."""
    parsed = parse_mark(mark)
    if parsed is None:
        return None
    pid, start = parsed
    if not alive(pid):
        return False
    if start is not None:
        now = start_time(pid)
        if now is not None and now != start:
            return False  # the id was reused
    return True
