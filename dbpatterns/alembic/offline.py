"""Render a revision through Alembic's offline (``--sql``) mode: the SQL it emits, op by op.

Unlike the static reader, this imports and runs the revision's ``upgrade()``/``downgrade()`` against an
offline MigrationContext (no database), so ops with computed arguments are seen as the SQL they produce.
Each emitted statement is mapped back to the line of the revision that called the op: the output buffer
looks up the calling frame in the revision file while Alembic writes. What the revision itself prints
goes to stderr (:func:`user_output_to_stderr`): stdout may be carrying a report. The lint reads the result
with the same per-revision function as the static reading (:func:`dbpatterns.lint.run.lint_revision`).
"""

from __future__ import annotations

import importlib.util
import io
import sys
from dataclasses import dataclass
from pathlib import Path

from .usercode import user_output_to_stderr


@dataclass
class Emitted:
    """SQL one op call wrote (the unit shape ``lint_units`` reads)."""

    sql: str
    line: int
    column: int = 1
    op: str = "offline"
    autocommit: bool | None = None  # the rendered SQL carries its own BEGIN/COMMIT


class _LineRecorder(io.StringIO):
    """An output buffer that remembers which line of the revision file each write came from."""

    def __init__(self, filename: str):
        super().__init__()
        self.filename = filename
        self.chunks: list[Emitted] = []

    def write(self, text: str) -> int:
        line = 0
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == self.filename:
                line = frame.f_lineno
                break
            frame = frame.f_back
        if text.strip():
            if (
                self.chunks
                and self.chunks[-1].line == line
                and not self.chunks[-1].sql.rstrip().endswith(";")
            ):
                self.chunks[-1].sql += text
            else:
                self.chunks.append(Emitted(text, line))
        return len(text)


def revision_sql(path: Path, *, downgrade: bool = True) -> tuple[list[Emitted], list[Emitted]]:
    """The SQL the revision at ``path`` emits in ``upgrade()`` and (with ``downgrade``) in ``downgrade()``,
    op by op; whatever the revision raises is raised."""
    with user_output_to_stderr():
        module = _load(path)
        up = _offline_sql(module, path, "upgrade")
        return up, _offline_sql(module, path, "downgrade") if downgrade else []


def _offline_sql(module, path: Path, direction: str) -> list[Emitted]:
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    filename = str(path.resolve())
    recorder = _LineRecorder(filename)
    context = MigrationContext.configure(
        dialect_name="postgresql",
        opts={"as_sql": True, "output_buffer": recorder, "literal_binds": True, "transactional_ddl": True},
        dialect_opts={"paramstyle": "named"},  # as in Alembic's own env.py: no "%" doubled to "%%"
    )
    fn = getattr(module, direction, None)
    if fn is None:
        return []
    recorder.chunks.append(
        Emitted("BEGIN;", getattr(fn, "__code__", None) and fn.__code__.co_firstlineno or 1)
    )
    with Operations.context(context):
        fn()
    recorder.chunks.append(Emitted("COMMIT;", recorder.chunks[-1].line))
    return recorder.chunks


def _load(path: Path):
    root = _project_root(path)
    added = [p for p in (str(root), str(Path.cwd())) if p not in sys.path]
    sys.path[:0] = added
    try:
        name = f"_dbpatterns_offline_{abs(hash(str(path.resolve())))}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        for p in added:
            sys.path.remove(p)


def _project_root(path: Path) -> Path:
    for folder in path.resolve().parents:
        if (folder / "alembic.ini").is_file() or (folder / "pyproject.toml").is_file():
            return folder
    return path.resolve().parent
