"""Lint results cached by content, as ruff caches them: a SQL migration linted before, with the same text,
the same effective settings and the same lint code, is not linted again.

An entry is what linting one file gave before any history settled it: the findings, the file's effect on
the schema (``delta``) and its questions to the earlier migrations (``questions``). The ancestors' state is
deliberately not part of the key: the history replays the deltas and settles the questions on every run
(:mod:`dbpatterns.lint.history`), so a file whose predecessors changed gets the right answer from its own
unchanged entry.

The key is a hash of the file's display path, its text, the settings in effect for it (canonical, so two
processes agree), whether findings carry their source line and whether the history wants the delta. The
whole cache is dropped when the lint's code changes (its files' modification times) or the cache format
does. One folder per settings root (``files.cache_root()/lint/<root>``), read once before the worker
processes start (they inherit it); each process that linted something new writes it as a shard of its own
when it is done, and the shards are merged into one once they are many. Alembic revisions are not cached:
their reading may depend on other files of the project.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import secrets
from operator import attrgetter
from pathlib import Path

import orjson

from ..files import cache_root, replace_file
from ..findings import Finding
from ..settings import Settings

FORMAT = 5  # 5: a CREATE TABLE is one delta operation with its columns
_CODE_FOLDERS = ("lint", "lint/rules", "sql", "alembic")  # the code whose change makes entries stale


class ResultCache:
    """The cached lint results of one settings root: a folder of shards, one written by each process of a
    run that linted something new."""

    def __init__(self, folder: Path, stamp: str, entries: dict, shards: list[Path]) -> None:
        self.folder = folder
        self.stamp = stamp
        self.entries = entries  # key -> [findings as lists, delta, questions, operation counts]
        self.shards = shards  # the shards ``entries`` were read from
        self.added: dict[str, list] = {}  # entries made by this process, not yet stored
        self.used: set[str] = set()
        self._prints: dict[int, tuple[Settings, str]] = {}

    @classmethod
    def open(cls, settings: Settings) -> ResultCache:
        root = str(Path(settings.root).resolve())
        folder = cache_root() / "lint" / hashlib.blake2b(root.encode(), digest_size=12).hexdigest()
        stamp = "-".join(map(str, [FORMAT, *code_stamp()]))
        entries: dict = {}
        shards = []
        try:
            found = sorted(folder.iterdir(), key=lambda p: p.name)
        except OSError:
            found = []
        for shard in found:
            if not shard.name.endswith(".json"):
                continue
            if not shard.name.startswith(stamp + "."):  # made by other code: never valid again
                with contextlib.suppress(OSError):
                    shard.unlink()
                continue
            try:
                stored = orjson.loads(shard.read_bytes())
            except (OSError, ValueError):
                continue
            if isinstance(stored, dict):
                entries.update(stored)
                shards.append(shard)
        return cls(folder, stamp, entries, shards)

    def key(self, display: str, text: str, settings: Settings, *, sources: bool, record: bool) -> str:
        digest = hashlib.blake2b(digest_size=16)
        digest.update(f"{display}\0{self._print(settings)}\0{int(sources)}{int(record)}\0".encode())
        digest.update(text.encode(errors="surrogateescape"))
        return digest.hexdigest()

    def get(self, key: str) -> tuple[list[Finding], list, list, dict] | None:
        """(findings, delta, questions, operation counts) of an entry, with Finding objects of their own,
        or None."""
        found = self.entries.get(key)
        if found is None:
            return None
        self.used.add(key)
        findings, delta, questions, counts = found
        asked = [(q[0], q[1], q[2], _tuples(q[3]), *q[4:]) for q in questions]
        return [Finding(*values) for values in findings], delta, asked, counts

    def put(
        self, key: str, findings: list[Finding], delta: list | None, questions: list, counts: dict
    ) -> None:
        """Keep what linting a file gave (before any settling changes the findings)."""
        self.added[key] = [[_values(f) for f in findings], delta or [], questions, counts]
        self.used.add(key)

    def store(self) -> None:
        """Write what this process added as a shard of its own (each process of a run writes its own,
        so none waits for another)."""
        if not self.added:
            return
        name = f"{self.stamp}.{os.getpid()}.{secrets.token_hex(4)}.json"
        with contextlib.suppress(OSError, TypeError, ValueError):  # a cache not written only costs time
            replace_file(self.folder / name, orjson.dumps(self.added))
        self.added = {}

    def compact(self) -> None:
        """Once the shards are many, or hold mostly entries no run uses any more: one shard of the used
        entries replaces the shards this run read (a shard written meanwhile is left alone)."""
        used = self.used  # this process's and, sent back, the workers'
        if len(self.shards) <= 16 and len(self.entries) <= 2 * len(used) + 1000:
            return
        keep = {k: v for k, v in self.entries.items() if k in used}
        old, self.shards = self.shards, []
        name = f"{self.stamp}.{os.getpid()}.{secrets.token_hex(4)}.json"
        try:
            replace_file(self.folder / name, orjson.dumps(keep))
        except (OSError, TypeError, ValueError):
            return
        for shard in old:
            with contextlib.suppress(OSError):
                shard.unlink()

    def _print(self, settings: Settings) -> str:
        found = self._prints.get(id(settings))
        if found is None or found[0] is not settings:
            fields = dataclasses.fields(settings)
            text = repr(tuple((f.name, _canonical(getattr(settings, f.name))) for f in fields))
            found = self._prints[id(settings)] = (settings, text)
        return found[1]


_values = attrgetter(*Finding.__slots__)  # a finding as the tuple Finding(*values) makes again


def _tuples(value):
    """JSON arrays back as the tuples they were written from (a question's type or columns)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _canonical(value):
    """A value as a repr that does not depend on the process (sets sorted, paths as text)."""
    if isinstance(value, (set, frozenset)):
        return tuple(sorted(_canonical(v) for v in value))
    if isinstance(value, (tuple, list)):
        return tuple(_canonical(v) for v in value)
    if isinstance(value, Path):
        return str(value)
    return value


def code_stamp() -> list[int]:
    """The newest modification time and the number of the code files that read and lint a migration: a
    cached result or delta made by other code is stale (not the package version: a plain lint does not
    load importlib.metadata)."""
    package = Path(__file__).resolve().parent.parent
    newest = count = 0
    for folder in _CODE_FOLDERS:
        try:
            with os.scandir(package / folder) as entries:
                for entry in entries:
                    if entry.name.endswith(".py"):
                        newest = max(newest, entry.stat().st_mtime_ns)
                        count += 1
        except OSError:
            continue
    for name in ("findings.py", "settings.py"):
        with contextlib.suppress(OSError):
            newest = max(newest, os.stat(package / name).st_mtime_ns)
    return [newest, count]
