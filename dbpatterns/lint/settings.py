"""Lint settings: defaults, `[tool.dbpatterns]` in pyproject.toml, and command-line overrides."""

from __future__ import annotations

import contextlib
import fnmatch
import functools
from pathlib import Path

from ..findings import InputError
from ..records import FrozenRecord

CURRENT_PG_VERSION = 18  # the newest PostgreSQL release the rules are checked against
OLDEST_PG_VERSION = 9

_KEYS = {
    "pg_version",
    "select",
    "ignore",
    "extend_select",
    "per_path_ignores",
    "sql_in_transaction",
    "lock_timeout_in_env",
    "models",
    "templates",
    "exclude",
    "targets",
}


class Settings(FrozenRecord):
    __slots__ = (
        "pg_version", "pg_minor", "select", "extend_select", "ignore", "per_path_ignores",
        "sql_in_transaction", "lock_timeout_in_env", "exclude", "root", "models", "templates", "targets",
    )  # fmt: skip

    def __init__(
        self,
        pg_version: int = CURRENT_PG_VERSION,
        pg_minor: int | None = None,  # known only when the version is given as e.g. "14.3"
        select: frozenset[str] | None = None,  # None: the default set
        extend_select: frozenset[str] = frozenset(),
        ignore: frozenset[str] = frozenset(),
        per_path_ignores: tuple[tuple[str, frozenset[str]], ...] = (),
        sql_in_transaction: bool = False,  # SQL files run inside one transaction (as migration runners do)
        lock_timeout_in_env: bool = False,  # env.py / the runner sets lock_timeout before every migration
        exclude: tuple[str, ...] = (),
        root: Path | None = None,  # None: the working directory
        # read by other commands: the models (``package.module:Base``), the templates folder (relative
        # to ``root``) and named databases (name, URL or ``${VAR}``)
        models: str | None = None,
        templates: str | None = None,
        targets: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self._fill(
            pg_version,
            pg_minor,
            select,
            extend_select,
            ignore,
            per_path_ignores,
            sql_in_transaction,
            lock_timeout_in_env,
            exclude,
            Path.cwd() if root is None else root,
            models,
            templates,
            targets,
        )

    def with_overrides(self, **values) -> Settings:
        return self.replace(**{k: v for k, v in values.items() if v is not None})

    def ignored_for(self, path: str) -> frozenset[str]:
        out: set[str] = set()
        for pattern, ids in self.per_path_ignores:
            if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(Path(path).name, pattern):
                out |= ids
        return frozenset(out)


def find_pyproject(start: Path) -> Path | None:
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_settings(project: Path | None = None) -> Settings:
    """Settings from the nearest pyproject.toml's ``[tool.dbpatterns]`` (defaults when there is none)."""
    where = find_pyproject(project or Path.cwd())
    if where is None:
        return Settings(root=(project or Path.cwd()).resolve())
    try:
        text = where.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{where}: cannot read pyproject.toml: {exc}") from None
    if "dbpatterns" not in text:  # no spelling of the table lacks the word: spare reading the TOML
        return settings_from_table({}, where)
    return _parsed(where, text)


@functools.lru_cache(maxsize=8)
def _parsed(where: Path, text: str) -> Settings:
    """The settings of one pyproject.toml text, read once (a command asks several times)."""
    return settings_from_table(_table(where, text), where)


SETTINGS_CACHE_ENTRIES = 64  # pyproject.toml files remembered; the oldest go when there are twice as many


def _table(where: Path, text: str) -> dict:
    """The ``[tool.dbpatterns]`` table of pyproject.toml ``where`` holding ``text``: remembered in the cache
    folder with the whole text it came from, so an unchanged file is not parsed again (importing tomllib
    is 21M of a one-file lint's 174M instructions)."""
    import zlib

    from ..files import cache_root, load_cached

    entry = cache_root() / "settings" / f"{zlib.crc32(str(where).encode()):08x}.json"
    cached = load_cached(entry)
    if isinstance(cached, dict) and (cached.get("path"), cached.get("text")) == (str(where), text):
        table = cached.get("table")
        if isinstance(table, dict):
            return table
    import tomllib

    try:
        tool = tomllib.loads(text).get("tool", {})
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{where}: cannot read pyproject.toml: {exc}") from None
    table = tool.get("dbpatterns", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise InputError(f"{where}: [tool.dbpatterns] must be a table")
    _remember(entry, where, text, table)
    return table


def _remember(entry: Path, where: Path, text: str, table: dict) -> None:
    """Store a parsed table, and let the oldest entries go when there are too many."""
    from ..files import store_cached

    try:
        stored = store_cached(entry, {"path": str(where), "text": text, "table": table})
    except (TypeError, ValueError):  # a TOML date or time in the table: parsed every time
        return
    if stored:
        with contextlib.suppress(OSError):
            entries = sorted(entry.parent.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in entries[SETTINGS_CACHE_ENTRIES:] if len(entries) > 2 * SETTINGS_CACHE_ENTRIES else ():
                old.unlink(missing_ok=True)


def settings_from_table(table: dict, where: Path) -> Settings:
    def bad(key: str, expected: str):
        return InputError(f"{where}: [tool.dbpatterns] {key} must be {expected}")

    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise InputError(f"{where}: unknown key(s) in [tool.dbpatterns]: {', '.join(unknown)}")
    values: dict = {"root": where.parent.resolve()}
    if "pg_version" in table:
        values["pg_version"] = parse_pg_version(table["pg_version"], f"{where}: [tool.dbpatterns] pg_version")
        values["pg_minor"] = pg_minor_of(table["pg_version"])
    for key in ("select", "ignore", "extend_select"):
        if key in table:
            ids = table[key]
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise bad(key, "a list of rule ids")
            values[key] = frozenset(validate_rule_ids(ids, f"{where}: [tool.dbpatterns] {key}"))
    if "per_path_ignores" in table:
        ppi = table["per_path_ignores"]
        if not isinstance(ppi, dict) or not all(
            isinstance(v, list) and all(isinstance(i, str) for i in v) for v in ppi.values()
        ):
            raise bad("per_path_ignores", 'a table of glob = ["rule-id", ...]')
        values["per_path_ignores"] = tuple(
            (glob, frozenset(validate_rule_ids(ids, f"{where}: per_path_ignores {glob!r}")))
            for glob, ids in ppi.items()
        )
    for key in ("sql_in_transaction", "lock_timeout_in_env"):
        if key in table:
            if not isinstance(table[key], bool):
                raise bad(key, "true or false")
            values[key] = table[key]
    if "exclude" in table:
        if not isinstance(table["exclude"], list) or not all(isinstance(i, str) for i in table["exclude"]):
            raise bad("exclude", "a list of glob patterns")
        values["exclude"] = tuple(table["exclude"])
    for key in ("models", "templates"):
        if key in table:
            if not isinstance(table[key], str):
                raise bad(key, "a string")
            values[key] = table[key]
    targets = table.get("targets", {})  # named databases (name = URL; ${VAR} reads the environment)
    if not isinstance(targets, dict) or not all(isinstance(v, str) for v in targets.values()):
        raise InputError(f'{where}: [tool.dbpatterns] targets must be a table of name = "URL or ${{VAR}}"')
    values["targets"] = tuple(targets.items())
    return Settings(**values)


def load_targets(pyproject: Path) -> dict[str, str]:
    """The ``[tool.dbpatterns] targets`` table of ``pyproject`` (validated like every other key)."""
    return dict(load_settings(pyproject.parent).targets)


def parse_pg_version(value, where: str) -> int:
    text = str(value).strip()
    major = text.split(".", 1)[0]
    if not major.isdigit() or not OLDEST_PG_VERSION <= int(major) <= 99:
        raise InputError(f"{where}: {value!r} is not a PostgreSQL major version (e.g. 16)")
    return int(major)


def pg_minor_of(value) -> int | None:
    """The minor release of a version written as "14.3" (None for "14" or 14)."""
    parts = str(value).strip().split(".")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def validate_rule_ids(ids, where: str) -> list[str]:
    from .registry import all_rules

    known = {r.id for r in all_rules()}
    aliases = {a: r.id for r in all_rules() for a in r.aliases}
    out = []
    for i in ids:
        if i in known or i == "ALL":
            out.append(i)
        elif i in aliases:
            out.append(aliases[i])
        else:
            raise InputError(f"{where}: unknown rule id {i!r} (see `dbpatterns rules`)")
    return out
