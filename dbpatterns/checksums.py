"""Checksums of an Alembic project's revisions, kept in a sum file beside the versions folder.

    from dbpatterns.checksums import write_sums, check_sums

    write_sums("path/to/project")          # writes migrations/dbpatterns.sum
    report = check_sums("path/to/project")
    report.ok, [p.to_dict() for p in report.problems]

The sum file works like Atlas's ``atlas.sum``: its first line is a hash of the whole history, then one line
per revision file (``path h1:hash``, paths relative to the sum file, sorted). Two branches that each add a
revision both change the first line, so git reports a conflict when they meet.

What a revision's hash covers: the file's Python syntax tree, written out node by node (type names, field
names and values; no line numbers; empty and missing fields left out, so the text is the same on every
Python version that parses the file alike) with the docstrings removed. Comments, blank lines,
indentation, quote style, type comments and docstrings (Alembic's header with "Revision ID" and "Create
Date") do not count; any change to the code does, including the text of a string such as the SQL given to
``op.execute``. A file that does not parse is hashed byte for byte.

Parsing is the slow part for big histories, so the hash of each file content (by its SHA-256) is kept in
``checksums.json`` in the cache folder (see :func:`dbpatterns.files.cache_root`).
"""

from __future__ import annotations

import ast
import base64
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from .alembic.graph import revision_files as python_files
from .alembic.project import as_project
from .alembic.static import looks_like_revision
from .errors import InputError
from .files import cache_root, load_cached, replace_file, store_cached
from .shapes import Record, computed

SUM_FILE = "dbpatterns.sum"
_PREFIX = "h1:"


_CANON = "canon-1"  # the version of the written-out form below: change it when the form changes
_SKIP_FIELDS = frozenset(("ctx", "kind", "type_comment"))  # Load/Store, the u"" prefix, type comments
_DOC_OWNERS = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def revision_checksum(text: str) -> str:
    """The normalized hash of one revision file's text (``h1:`` + base64 SHA-256)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return _h1(b"raw\0" + text.encode("utf-8", "surrogateescape"))
    out: list[str] = [_CANON]
    _write(tree, out)
    return _h1("\0".join(out).encode("utf-8", "surrogateescape"))


def _write(node: ast.AST, out: list[str]) -> None:
    append = out.append
    append(type(node).__name__)
    for name in node._fields:
        if name in _SKIP_FIELDS:
            continue
        value = getattr(node, name, None)
        if value is None:
            continue
        if type(value) is list:
            if name == "body" and value and isinstance(node, _DOC_OWNERS) and _is_docstring(value[0]):
                value = value[1:]
            if not value:
                continue
            append(name + "[")
            for item in value:
                if isinstance(item, ast.AST):
                    _write(item, out)
                else:
                    append(repr(item))
            append("]")
        elif isinstance(value, ast.AST):
            append(name + "(")
            _write(value, out)
            append(")")
        else:
            append(name + "=" + repr(value))


def _is_docstring(stmt: ast.stmt) -> bool:
    return type(stmt) is ast.Expr and type(stmt.value) is ast.Constant and type(stmt.value.value) is str


_memo: dict[str, str] = {}  # SHA-256 of a file's bytes -> its normalized hash
_memo_loaded = False
_memo_dirty = False


def file_checksum(path: str | os.PathLike) -> str:
    global _memo_dirty
    data = Path(path).read_bytes()
    key = hashlib.sha256(_CANON.encode() + b"\0" + data).hexdigest()
    _load_memo()
    found = _memo.get(key)
    if found is None:
        found = _memo[key] = revision_checksum(data.decode("utf-8", "surrogateescape"))
        _memo_dirty = True
    return found


def _load_memo() -> None:
    global _memo_loaded
    if _memo_loaded:
        return
    _memo_loaded = True
    stored = load_cached(cache_root() / "checksums.json")
    if isinstance(stored, dict):
        _memo.update({k: v for k, v in stored.items() if isinstance(v, str)})


def save_memo() -> None:
    """Keep the hashes computed in this process for the next one (best effort, atomic)."""
    global _memo_dirty
    if not _memo_dirty:
        return
    _memo_dirty = False
    store_cached(cache_root() / "checksums.json", dict(list(_memo.items())[-20000:]))


def _h1(data: bytes) -> str:
    return _PREFIX + base64.b64encode(hashlib.sha256(data).digest()).decode()


def total_checksum(entries: dict[str, str]) -> str:
    """The hash of the whole history: every (path, hash) pair in path order."""
    data = "".join(f"{path}\0{digest}\n" for path, digest in sorted(entries.items()))
    return _h1(data.encode())


# -- the project's files -----------------------------------------------------------------------------


def sum_path(project) -> Path:
    """Where the sum file of ``project`` (a :class:`~dbpatterns.alembic.project.Project`) lives."""
    return project.script_location / SUM_FILE


def revision_files(project) -> dict[str, Path]:
    """Every revision file of the project's version locations (their subfolders with
    ``recursive_version_locations``, as Alembic reads them), by its path relative to the sum file. Read
    as text, never imported."""
    base = project.script_location
    out: dict[str, Path] = {}
    for file in python_files(project.version_locations, getattr(project, "recursive", False)):
        try:
            text = file.read_text(encoding="utf-8", errors="surrogateescape")
        except OSError as exc:
            raise InputError(f"{file}: cannot read: {exc.strerror}") from None
        if looks_like_revision(text):
            out[Path(os.path.relpath(file, base)).as_posix()] = file
    return out


def current_sums(project) -> dict[str, str]:
    """Relative path -> hash of every revision file as it is now."""
    sums = {rel: file_checksum(file) for rel, file in revision_files(project).items()}
    save_memo()
    return sums


def render_sum_file(entries: dict[str, str]) -> str:
    lines = [total_checksum(entries)]
    lines += [f"{path} {digest}" for path, digest in sorted(entries.items())]
    return "\n".join(lines) + "\n"


def parse_sum_file(path: Path) -> tuple[str, dict[str, str]]:
    """(total line, path -> hash) of a sum file; a malformed one is an input error."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    if not lines or not lines[0].startswith(_PREFIX):
        raise InputError(f"{path}: not a dbpatterns sum file (the first line must be h1:...)")
    entries: dict[str, str] = {}
    for number, line in enumerate(lines[1:], 2):
        name, _, digest = line.rpartition(" ")
        if not name or not digest.startswith(_PREFIX):
            raise InputError(f"{path}:{number}: expected 'PATH h1:HASH', got {line!r}")
        entries[name] = digest
    return lines[0], entries


def write_sums(project_dir: str | os.PathLike = ".", name: str | None = None) -> Path:
    """Write (or rewrite) the project's sum file atomically; returns its path."""
    project = as_project(project_dir, name)
    target = sum_path(project)
    text = render_sum_file(current_sums(project))
    replace_file(target, text.encode())
    return target


# -- checking ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SumProblem(Record):
    """``change``: ``edited`` (the file no longer matches its line), ``added`` (a revision with no line),
    ``removed`` (a line whose file is gone) or ``total`` (the first line does not match the others)."""

    path: str
    change: str
    detail: str


@dataclass
class SumReport(Record):
    JSON_COMPUTED: ClassVar[dict] = {"ok": computed(bool)}

    sum_file: Path
    exists: bool
    revisions: int = 0
    problems: list[SumProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


_FIX = "run `dbpatterns sum` if the revision was never deployed; otherwise undo the edit and add a revision"


def check_sums(project_dir: str | os.PathLike = ".", name: str | None = None) -> SumReport:
    """Compare the revision files with the sum file. No sum file: ``exists`` False and no problems."""
    return check_project_sums(as_project(project_dir, name))


def check_project_sums(project) -> SumReport:
    target = sum_path(project)
    if not target.is_file():
        return SumReport(target, exists=False)
    total, recorded = parse_sum_file(target)
    now = current_sums(project)
    problems = []
    for path in sorted(recorded.keys() | now.keys()):
        old, new = recorded.get(path), now.get(path)
        if old == new:
            continue
        if old is None:
            problems.append(SumProblem(path, "added", "a revision not in the sum file: run `dbpatterns sum`"))
        elif new is None:
            problems.append(SumProblem(path, "removed", "in the sum file but the revision file is gone"))
        else:
            problems.append(SumProblem(path, "edited", f"changed after it was summed: {_FIX}"))
    if total != total_checksum(recorded):
        problems.append(
            SumProblem(SUM_FILE, "total", "the first line does not match the lines below: a bad merge?")
        )
    return SumReport(target, exists=True, problems=problems, revisions=len(now))
