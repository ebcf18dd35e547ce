"""The one exception type of the throwaway PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path

from dbpatterns.errors import InputError


class PgError(InputError):
    """The throwaway PostgreSQL could not be set up, started or used.

    The message is one line (the CLI prints it and exits 2); when a server log exists its last lines are
    appended. ``log_tail`` carries the same tail for callers that want it separately.
    """

    def __init__(self, message: str, *, log_tail: str = "") -> None:
        self.log_tail = log_tail
        text = " ".join(message.split())
        if log_tail:
            text = f"{text} (server log: {log_tail})"
        super().__init__(text)


# "2026-01-02 10:11:12.345 UTC [4459] " in front of every server log line
_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[\d+\] ")


def log_tail(path: Path, lines: int = 3, limit: int = 400) -> str:
    """The last ``lines`` non-empty lines of a log file, joined on one line, at most ``limit`` chars."""
    try:
        data = path.read_bytes()[-8192:].decode("utf-8", "replace")
    except OSError:
        return ""
    kept = [_PREFIX.sub("", " ".join(line.split())) for line in data.splitlines() if line.strip()][-lines:]
    text = " | ".join(kept)
    return text if len(text) <= limit else "..." + text[-limit:]
