"""An Alembic project's revision graph, read statically: no revision and no application module is imported.

Each ``.py`` file of the version locations is parsed with :mod:`ast` and its module-level assignments of
``revision``, ``down_revision``, ``branch_labels`` and ``depends_on`` are read (plain or annotated
assignments, strings, tuples and lists, ``None``). A file whose values are not literals is reported in
``RevisionGraph.unreadable`` (the caller may fall back to Alembic's ScriptDirectory, which imports it). A
``.py`` file without ``revision`` is an error, as in Alembic.
"""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from .project import importable_in, load_error

_FIELDS = ("revision", "down_revision", "branch_labels", "depends_on")


@dataclass(frozen=True, slots=True)
class RevisionNode:
    revision: str
    down_revisions: tuple[str, ...]  # the parents (several for a merge revision)
    depends_on: tuple[str, ...]
    branch_labels: tuple[str, ...]
    path: Path | str  # a str when read for the lint's history (hundreds of files: no Path objects needed)
    doc: str = ""  # the first line of the module docstring

    @property
    def parents(self) -> tuple[str, ...]:
        """What must be applied before this revision: its down revisions and its dependencies."""
        return self.down_revisions + tuple(d for d in self.depends_on if d not in self.down_revisions)


@dataclass
class RevisionGraph:
    nodes: dict[str, RevisionNode] = field(default_factory=dict)
    unreadable: list[tuple[Path, str]] = field(default_factory=list)  # (file, why)

    @property
    def heads(self) -> list[str]:
        """Revisions no other revision names as its down revision, sorted."""
        below = {p for n in self.nodes.values() for p in n.down_revisions}
        return sorted(r for r in self.nodes if r not in below)

    def children(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {r: [] for r in self.nodes}
        for node in self.nodes.values():
            for parent in node.down_revisions:
                out.setdefault(parent, []).append(node.revision)
        return out

    @property
    def branch_points(self) -> list[str]:
        return sorted(r for r, kids in self.children().items() if len(kids) > 1 and r in self.nodes)

    @property
    def merge_points(self) -> list[str]:
        return sorted(r for r, n in self.nodes.items() if len(n.down_revisions) > 1)

    def order(self) -> list[str]:
        """Every revision, parents (and dependencies) before children; ties by file name, then id."""
        done: set[str] = set()
        out: list[str] = []
        ready = sorted(self.nodes.values(), key=_sort_key)
        pending = {n.revision: {p for p in n.parents if p in self.nodes} for n in ready}
        while ready:
            progressed = False
            for node in list(ready):
                if pending[node.revision] <= done:
                    out.append(node.revision)
                    done.add(node.revision)
                    ready.remove(node)
                    progressed = True
            if not progressed:  # a cycle: Alembic refuses it too; keep the rest in file order
                out += [n.revision for n in ready]
                break
        return out

    def ancestors(self, revisions: Iterable[str]) -> set[str]:
        """The revisions and everything they need (down revisions and dependencies), transitively."""
        nodes = self.nodes
        return closure(revisions, lambda rev: nodes[rev].parents if rev in nodes else ())

    def resolve(self, name: str) -> str | None:
        """A revision id, a unique prefix of one, or a branch label, as the revision id; None when unknown."""
        if name in self.nodes:
            return name
        labelled = [r for r, n in self.nodes.items() if name in n.branch_labels]
        if len(labelled) == 1:
            return labelled[0]
        prefixed = [r for r in self.nodes if r.startswith(name)]
        return prefixed[0] if len(prefixed) == 1 else None


def closure(revisions: Iterable[str], parents_of) -> set[str]:
    """``revisions`` and everything below them, following ``parents_of(revision)``."""
    seen: set[str] = set()
    todo = list(revisions)
    while todo:
        rev = todo.pop()
        if rev not in seen:
            seen.add(rev)
            todo.extend(parents_of(rev))
    return seen


def _sort_key(node: RevisionNode) -> tuple[str, str]:
    return (os.path.basename(node.path), node.revision)


def revision_files(folders: Iterable[Path], recursive: bool = False) -> list[Path]:
    """The ``.py`` files of the version folders (``__init__.py`` and hidden files left out), sorted."""
    out: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        walk = os.walk(folder) if recursive else [(str(folder), [], os.listdir(folder))]
        for dirpath, dirnames, filenames in walk:
            dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__")))
            for name in sorted(filenames):
                if name.endswith(".py") and not name.startswith((".", "__")):
                    path = Path(dirpath, name)
                    if path.is_file():
                        out.append(path)
    return out


def read_graph(folders: Iterable[Path], recursive: bool = False) -> RevisionGraph:
    """The revision graph of the ``.py`` files in ``folders``; an :class:`InputError` names a file that is
    not a revision (no ``revision =``), a file that does not parse, and a revision id used twice."""
    graph = RevisionGraph()
    for path in revision_files(folders, recursive):
        node = read_node(path)
        if isinstance(node, str):
            graph.unreadable.append((path, node))
            continue
        twin = graph.nodes.get(node.revision)
        if twin is not None:
            raise InputError(f"{path}: revision {node.revision!r} is also the revision of {twin.path}")
        graph.nodes[node.revision] = node
    return graph


def read_node(path: Path) -> RevisionNode | str:
    """The revision ``path`` holds; a string saying why when a value is not a literal. Input errors for a
    file that cannot be read, does not parse or has no ``revision``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    try:
        tree = ast.parse(text, filename=str(path))
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        raise InputError(f"{path}{f':{line}' if line else ''}: not valid Python: {exc}") from None
    values: dict[str, object] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target, value = stmt.target, stmt.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in _FIELDS:
            try:
                values[target.id] = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, RecursionError):
                return f"{target.id} is not a literal (line {stmt.lineno})"
    if "revision" not in values:
        raise InputError(f"{path}: a .py file in a versions folder without 'revision =': not a revision")
    revision = values["revision"]
    if not isinstance(revision, str) or not revision:
        return f"revision is {revision!r}, not a revision id"
    try:
        down = _ids(values.get("down_revision"))
        depends = _ids(values.get("depends_on"))
        labels = _ids(values.get("branch_labels"))
    except TypeError as exc:
        return str(exc)
    doc = ast.get_docstring(tree) or ""
    return RevisionNode(revision, down, depends, labels, path, doc.strip().splitlines()[0] if doc else "")


def _ids(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (tuple, list, set, frozenset)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise TypeError(f"{value!r} is not a revision id or a list of them")


def project_graph(project) -> RevisionGraph:
    """The revision graph of a :class:`~dbpatterns.alembic.project.Project`, read statically; a file whose
    values are not literals is imported with Alembic (from the project's folder, its ``prepend_sys_path``
    first), that file only. Input errors name the file that cannot be read or imported, and a down
    revision that is not there (as Alembic does)."""
    graph = read_graph(project.version_locations, project.recursive)
    for path, _why in graph.unreadable:
        node = _imported_node(project, path)
        twin = graph.nodes.get(node.revision)
        if twin is not None:
            raise InputError(f"{path}: revision {node.revision!r} is also the revision of {twin.path}")
        graph.nodes[node.revision] = node
    graph.unreadable = []
    for node in graph.nodes.values():
        for parent in node.down_revisions:
            if parent not in graph.nodes:
                raise InputError(
                    f"{project.config_file.resolve()}: cannot load the revisions: Revision {parent} "
                    f"referenced from {node.revision} ({node.path}) is not present"
                )
    return graph


def _imported_node(project, path: Path) -> RevisionNode:
    """The revision of ``path`` as Alembic reads it: the module imported (its values computed)."""

    try:
        from alembic.util import load_python_file
    except ImportError:
        raise InputError(f"{path}: its revision ids are computed: reading them needs Alembic") from None
    extra = [str(p) for p in project.prepend_sys_path if str(p) not in sys.path]
    sys.path[:0] = extra
    try:
        with importable_in(project.root):
            module = load_python_file(str(path.parent), path.name)
    except Exception as exc:  # noqa: BLE001 - whatever the revision file raises
        raise InputError(
            f"{project.config_file.resolve()}: cannot load the revisions: {load_error(project, exc)}"
        ) from None
    finally:
        for entry in extra:
            if entry in sys.path:
                sys.path.remove(entry)
    revision = getattr(module, "revision", None)
    if not isinstance(revision, str) or not revision:
        raise InputError(f"{path}: revision is {revision!r}, not a revision id")
    try:
        down = _ids(getattr(module, "down_revision", None))
        depends = _ids(getattr(module, "depends_on", None))
        labels = _ids(getattr(module, "branch_labels", None))
    except TypeError as exc:
        raise InputError(f"{path}: {exc}") from None
    doc = (module.__doc__ or "").strip()
    return RevisionNode(revision, down, depends, labels, path, doc.splitlines()[0] if doc else "")
