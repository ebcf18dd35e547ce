"""Settings: defaults, ``[tool.dbpatterns]`` in the nearest pyproject.toml, and command-line overrides.

Rule ids in the settings are kept as written (ids or squawk aliases); the lint checks and resolves them
against its rule registry when it runs (:func:`dbpatterns.lint.registry.resolve_ids`).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError

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
    "server_url",
    "start_after",
    "max_file_mb",
    "verify_rows",
    "verify_hooks",
    "verify_downgrade_to",
    "verify_not_implemented",
    "verify_heads",
}


@dataclass(frozen=True, slots=True)
class Settings:
    pg_version: int = CURRENT_PG_VERSION
    pg_minor: int | None = None  # known only when the version is given as e.g. "14.3"
    select: frozenset[str] | None = None  # None: the default set
    extend_select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    per_path_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    sql_in_transaction: bool = False  # SQL files run inside one transaction (as migration runners do)
    lock_timeout_in_env: bool = False  # env.py / the runner sets lock_timeout before every migration
    # read from env.py (dbpatterns.alembic.envpy.read_env): the statement_timeout it sets for every
    # revision (as written, e.g. "30s"; None: not set), and context.configure(transaction_per_migration=)
    statement_timeout_in_env: str | None = None
    transaction_per_migration: bool | None = None
    exclude: tuple[str, ...] = ()
    root: Path = field(default_factory=Path.cwd)
    # read by other commands: the models (``package.module:Base``), the templates folder (relative to
    # ``root``) and named databases (name, URL or ``${VAR}``)
    models: str | None = None
    templates: str | None = None
    targets: tuple[tuple[str, str], ...] = ()
    source: Path | None = None  # the pyproject.toml they came from
    # a PostgreSQL server to create scratch databases on (verify, detect, drift, trace) instead of the
    # embedded one: a URL or ``${VAR}`` (the DBPATTERNS_SERVER_URL environment variable wins)
    server_url: str | None = None
    alembic_section: str | None = None  # the alembic.ini section of the projects linted (--name), not a key
    # lint reports nothing for these revisions (or SQL file names) and everything before them: the history
    # a project had when it adopted the tool (`dbpatterns baseline` records it)
    start_after: tuple[str, ...] = ()
    start_after_by_section: tuple[tuple[str, tuple[str, ...]], ...] = ()  # start_after = {core = "..."}
    max_file_mb: float = 10.0  # a migration file larger than this is not read (a finding says so)
    # verify's policies: generated rows per table before each revision (and per revision), data hooks
    # (revision -> {"before": SQL or module:function, "after": ...}), the lowest revision to downgrade
    # to, NotImplementedError downgrades ("fail" or "stop"), the intended heads (ids or branch labels)
    verify_rows: int = 3
    verify_rows_per_revision: tuple[tuple[str, int], ...] = ()
    verify_hooks: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    verify_downgrade_to: str | None = None
    verify_not_implemented: str = "fail"
    verify_heads: tuple[str, ...] = ()

    def replace(self, **changes) -> Settings:
        return dataclasses.replace(self, **changes)

    def with_overrides(self, **values) -> Settings:
        return self.replace(**{k: v for k, v in values.items() if v is not None})

    def start_after_for(self, section: str | None) -> tuple[str, ...]:
        """``start_after`` of an alembic.ini section (``start_after = {core = "rev", tenant = [...]}``; the
        default section is ``alembic``), else the plain ``start_after``."""
        by_section = dict(self.start_after_by_section)
        return by_section.get(section or "alembic", self.start_after)

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
    if "dbpatterns" not in text:  # another tool's file (which may not even parse): our defaults
        return Settings(root=where.parent.resolve())
    return _parsed(where, text)


@functools.lru_cache(maxsize=8)
def _parsed(where: Path, text: str) -> Settings:
    """The settings of one pyproject.toml text, read once per process (a command asks several times)."""
    try:
        tool = tomllib.loads(text).get("tool", {})
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{where}: cannot read pyproject.toml: {exc}") from None
    table = tool.get("dbpatterns", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise InputError(f"{where}: [tool.dbpatterns] must be a table")
    return settings_from_table(table, where)


def settings_from_table(table: dict, where: Path) -> Settings:
    def bad(key: str, expected: str):
        return InputError(f"{where}: [tool.dbpatterns] {key} must be {expected}")

    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise InputError(f"{where}: unknown key(s) in [tool.dbpatterns]: {', '.join(unknown)}")
    values: dict = {"root": where.parent.resolve(), "source": where}
    if "pg_version" in table:
        values["pg_version"] = parse_pg_version(table["pg_version"], f"{where}: [tool.dbpatterns] pg_version")
        values["pg_minor"] = pg_minor_of(table["pg_version"])
    for key in ("select", "ignore", "extend_select"):
        if key in table:
            ids = table[key]
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise bad(key, "a list of rule ids")
            values[key] = frozenset(ids)
    if "per_path_ignores" in table:
        ppi = table["per_path_ignores"]
        if not isinstance(ppi, dict) or not all(
            isinstance(v, list) and all(isinstance(i, str) for i in v) for v in ppi.values()
        ):
            raise bad("per_path_ignores", 'a table of glob = ["rule-id", ...]')
        values["per_path_ignores"] = tuple((glob, frozenset(ids)) for glob, ids in ppi.items())
    for key in ("sql_in_transaction", "lock_timeout_in_env"):
        if key in table:
            if not isinstance(table[key], bool):
                raise bad(key, "true or false")
            values[key] = table[key]
    if "max_file_mb" in table:
        value = table["max_file_mb"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 4096:
            raise bad("max_file_mb", "a number of megabytes between 0 and 4096")
        values["max_file_mb"] = float(value)
    if "exclude" in table:
        if not isinstance(table["exclude"], list) or not all(isinstance(i, str) for i in table["exclude"]):
            raise bad("exclude", "a list of glob patterns")
        values["exclude"] = tuple(table["exclude"])
    for key in ("models", "templates", "server_url"):
        if key in table:
            if not isinstance(table[key], str):
                raise bad(key, "a string")
            values[key] = table[key]
    if "start_after" in table:

        def revisions(value, key: str) -> tuple[str, ...]:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise bad(
                    key, "a revision (or SQL file name), a list of them, or a table of those per section"
                )
            return tuple(value)

        value = table["start_after"]
        if isinstance(value, dict):  # per alembic.ini section
            values["start_after_by_section"] = tuple(
                (str(section), revisions(v, f"start_after.{section}")) for section, v in value.items()
            )
        else:
            values["start_after"] = revisions(value, "start_after")
    targets = table.get("targets", {})  # named databases (name = URL; ${VAR} reads the environment)
    if not isinstance(targets, dict) or not all(isinstance(v, str) for v in targets.values()):
        raise InputError(f'{where}: [tool.dbpatterns] targets must be a table of name = "URL or ${{VAR}}"')
    values["targets"] = tuple(targets.items())
    values.update(_verify_values(table, bad))
    return Settings(**values)


def _verify_values(table: dict, bad) -> dict:
    values: dict = {}
    rows = table.get("verify_rows")
    if isinstance(rows, dict):
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in rows.values()):
            raise bad("verify_rows", 'a count or a table of "revision" = count (and default = count)')
        if "default" in rows:
            values["verify_rows"] = rows["default"]
        values["verify_rows_per_revision"] = tuple((k, v) for k, v in rows.items() if k != "default")
    elif rows is not None:
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
            raise bad("verify_rows", "a count of rows (0 turns the rows off)")
        values["verify_rows"] = rows
    hooks = table.get("verify_hooks", {})
    if not isinstance(hooks, dict) or not all(
        isinstance(v, dict) and set(v) <= {"before", "after"} and all(isinstance(x, str) for x in v.values())
        for v in hooks.values()
    ):
        raise bad(
            "verify_hooks", 'a table of "revision" = { before = "SQL or module:function", after = ... }'
        )
    values["verify_hooks"] = tuple((rev, tuple(sorted(v.items()))) for rev, v in hooks.items())
    if "verify_downgrade_to" in table:
        if not isinstance(table["verify_downgrade_to"], str):
            raise bad("verify_downgrade_to", "a revision id")
        values["verify_downgrade_to"] = table["verify_downgrade_to"]
    if "verify_not_implemented" in table:
        if table["verify_not_implemented"] not in ("fail", "stop"):
            raise bad("verify_not_implemented", '"fail" or "stop"')
        values["verify_not_implemented"] = table["verify_not_implemented"]
    heads = table.get("verify_heads", [])
    heads = [heads] if isinstance(heads, str) else heads
    if not isinstance(heads, list) or not all(isinstance(h, str) for h in heads):
        raise bad("verify_heads", "a branch label or a list of head revisions or branch labels")
    values["verify_heads"] = tuple(heads)
    return values


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
