"""``--since GIT_REF``: the model classes whose definitions changed since a git ref.

The files come from the mapped classes themselves (the modules they live in, under the project's folder)
and from git (model files deleted since the ref). The old text comes from ``git show REF:path``; classes
are compared as ASTs (``ast.dump`` without positions), so formatting and comments do not count.
"""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

from ..gitref import check_ref
from ..gitref import git as _git
from .model import ModelEdit

__all__ = ["changed_models", "check_ref", "model_classes"]

_MODEL_MARKERS = ("__tablename__", "__table__")


def model_classes(root: Path) -> list[tuple[type, str]]:
    """(class, qualified table name) of every mapped class defined in a module under ``root``."""
    from sqlalchemy import Table

    root = Path(root).resolve()
    installed = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix)}  # a .venv inside the project
    resolve = _resolver()
    found: list[tuple[type, str]] = []
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        real = resolve(file) if file else None
        if real is None or not real.is_relative_to(root) or any(real.is_relative_to(p) for p in installed):
            continue
        for value in list(vars(module).values()):
            table = getattr(value, "__table__", None) if isinstance(value, type) else None
            if isinstance(table, Table) and value.__module__ == module.__name__:
                name = f"{table.schema}.{table.name}" if table.schema else table.name
                found.append((value, name))
    return found


def changed_models(top: Path, root: Path, classes: list[tuple[type, str]], ref: str) -> list[ModelEdit]:
    """The model classes (and deleted model files) under ``root`` changed since ``ref``; ``top``: the git
    work tree (:func:`check_ref`)."""
    tables: dict[tuple[Path, str], str] = {}
    for cls, table in classes:
        source = _source_file(cls)
        if source is not None:
            tables[(source, cls.__name__)] = table
    files = {path for path, _ in tables}
    deleted = _git(top, "diff", "--name-only", "--diff-filter=D", ref, "--", str(Path(root).resolve()))
    for name in (deleted or "").splitlines():
        if name.endswith(".py"):
            files.add((top / name).resolve())
    edits: list[ModelEdit] = []
    for path in sorted(files):
        rel = path.relative_to(top).as_posix() if _under(path, top) else str(path)
        new = _classes(path.read_text(encoding="utf-8")) if path.is_file() else {}
        old_text = _git(top, "show", f"{ref}:{rel}")
        old = _classes(old_text) if old_text is not None else {}
        mapped = {name for (file, name) in tables if file == path}
        for name in sorted(set(old) | set(new)):
            if name not in mapped and not any(_is_model(c) for c in (old.get(name), new.get(name)) if c):
                continue
            if name not in old:
                status = "added"
            elif name not in new:
                status = "removed"
            elif ast.dump(old[name]) != ast.dump(new[name]):
                status = "changed"
            else:
                continue
            edits.append(ModelEdit(rel, name, status, tables.get((path, name))))
    return edits


def _classes(text: str) -> dict[str, ast.ClassDef]:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return {}
    return {node.name: node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}


def _is_model(node: ast.ClassDef) -> bool:
    for stmt in node.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [getattr(stmt, "target", None)]
        if any(isinstance(t, ast.Name) and t.id in _MODEL_MARKERS for t in targets):
            return True
    return False


def _source_file(cls: type) -> Path | None:
    module = sys.modules.get(cls.__module__)
    file = getattr(module, "__file__", None)
    return Path(file).resolve() if file else None


def _resolver():
    """``Path(file).resolve()`` (None on an error), each folder resolved once: hundreds of modules share a
    few dozen folders."""
    folders: dict[str, Path] = {}

    def resolve(file: str) -> Path | None:
        try:
            if os.path.islink(file):
                return Path(file).resolve()
            folder, name = os.path.split(file)
            if folder not in folders:
                folders[folder] = Path(folder).resolve()
            return folders[folder] / name
        except (OSError, ValueError):
            return None

    return resolve


def _under(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except OSError:
        return False
