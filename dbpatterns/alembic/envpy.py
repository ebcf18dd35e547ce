"""What a project's env.py sets for every revision, read statically (parsed, never imported or run).

Alembic runs every revision through env.py, so a ``lock_timeout`` or ``statement_timeout`` set there is in
effect for each revision's statements. Found:

* SQL strings that PostgreSQL's parser reads as ``SET [LOCAL] lock_timeout`` / ``statement_timeout`` (or
  ``SELECT set_config('lock_timeout', ...)``), wherever env.py executes them
  (``connection.execute(text(...))``, ``exec_driver_sql``, ``op.execute``): parsed with pglast;
* libpq ``options`` in ``connect_args`` (``{"options": "-c lock_timeout=5s"}``) or in the URL's query;
* ``context.configure(transaction_per_migration=True)``.

Code inside ``on_version_apply`` and ``process_revision_directives`` hooks is not what runs around a
revision's statements and is not read. A value of ``0`` turns the timeout off and counts as not set.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from ..settings import Settings
from ..sql.parse import parse_tree

_HOOKS = {"on_version_apply", "process_revision_directives"}
_TIMEOUTS = ("lock_timeout", "statement_timeout")


@dataclass(frozen=True, slots=True)
class EnvFacts:
    """What env.py sets for every revision: the timeouts (as written, e.g. ``"5s"``; None when not set or
    set to 0) and ``transaction_per_migration`` (None when env.py does not say)."""

    lock_timeout: str | None = None
    statement_timeout: str | None = None
    transaction_per_migration: bool | None = None

    def settings(self, settings: Settings) -> Settings:
        """``settings`` with what env.py says applied; explicit settings win (``lock_timeout_in_env``
        already true stays true; a project that declares it keeps it)."""
        return settings.with_overrides(
            lock_timeout_in_env=True if self.lock_timeout else None,
            statement_timeout_in_env=self.statement_timeout
            if settings.statement_timeout_in_env is None
            else None,
            transaction_per_migration=self.transaction_per_migration
            if settings.transaction_per_migration is None
            else None,
        )


def read_env(env_py: Path) -> EnvFacts:
    """The facts of one env.py; an env.py that is missing or does not parse says nothing."""
    try:
        tree = ast.parse(env_py.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return EnvFacts()
    found: dict[str, str | None] = {}
    per_migration: bool | None = None
    for node in _walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for name, value in _timeouts_in(node.value):
                found.setdefault(name, value)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "configure"
        ):
            for keyword in node.keywords:
                if keyword.arg == "transaction_per_migration" and isinstance(keyword.value, ast.Constant):
                    per_migration = bool(keyword.value.value)
    return EnvFacts(
        lock_timeout=_on(found.get("lock_timeout")),
        statement_timeout=_on(found.get("statement_timeout")),
        transaction_per_migration=per_migration,
    )


def _walk(tree: ast.AST):
    """Every node, without entering the hook functions."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in _HOOKS:
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _on(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip().strip("'\"").strip()
    return None if text in ("", "0", "0s", "0ms", "DEFAULT", "default") else text


def _timeouts_in(text: str) -> list[tuple[str, str]]:
    """(name, value) of the timeouts a string sets: as SQL, or as libpq options (``-c name=value``)."""
    if "timeout" not in text:
        return []
    found = _libpq_options(text)
    tree = parse_tree(text)
    for item in tree or ():
        stmt = item.get("stmt", {})
        setting = stmt.get("VariableSetStmt")
        if setting and setting.get("name") in _TIMEOUTS and setting.get("kind") == "VAR_SET_VALUE":
            found.append((setting["name"], _const(setting.get("args", [{}])[0])))
        select = stmt.get("SelectStmt")
        if select:
            for target in select.get("targetList") or ():
                call = target.get("ResTarget", {}).get("val", {}).get("FuncCall")
                if call and [n.get("String", {}).get("sval") for n in call.get("funcname", [])][-1:] == [
                    "set_config"
                ]:
                    args = call.get("args") or []
                    if len(args) >= 2 and _const(args[0]) in _TIMEOUTS:
                        found.append((_const(args[0]), _const(args[1])))
    return found


def _const(node: dict) -> str:
    const = node.get("A_Const", {})
    for key in ("sval", "ival", "fval"):
        if key in const:
            return str(const[key].get(key, 0))  # an absent ival is 0
    return "?"


def _libpq_options(text: str) -> list[tuple[str, str]]:
    """``-c lock_timeout=5s -c statement_timeout=0`` (also ``-clock_timeout=5s``, %-escaped in a URL)."""
    words = unquote(text).replace("options=", " ").split()
    found = []
    for index, word in enumerate(words):
        setting = (
            words[index + 1]
            if word == "-c" and index + 1 < len(words)
            else word[2:]
            if word.startswith("-c")
            else ""
        )
        name, _, value = setting.partition("=")
        if name in _TIMEOUTS and value:
            found.append((name, value))
    return found
