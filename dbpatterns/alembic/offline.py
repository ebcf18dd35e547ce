"""Render a revision through Alembic's offline (``--sql``) mode and lint the SQL it emits.

Unlike the static reader, this imports and runs the revision's ``upgrade()``/``downgrade()`` against an
offline MigrationContext (no database), so ops with computed arguments are seen as the SQL they produce.
Each emitted statement is mapped back to the line of the revision that called the op: the output buffer
looks up the calling frame in the revision file while Alembic writes.
"""

from __future__ import annotations

import importlib.util
import io
import sys
from dataclasses import dataclass
from pathlib import Path

from ..findings import Finding


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


def render(path: Path, direction: str = "upgrade") -> list[Emitted]:
    """The SQL ``upgrade()`` (or ``downgrade()``) of the revision at ``path`` emits, op by op."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    filename = str(path.resolve())
    module = _load(path)
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


def lint_offline(path: Path, settings) -> list[Finding]:
    """Lint the SQL a revision renders in offline mode; findings point at the revision's op lines."""
    from ..lint.engine import Context, finish
    from ..lint.run import _line_getter, lint_units, sorted_findings
    from ..lint.state import MigrationState
    from .static import read_revision

    display = str(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    ctx = Context(settings, MigrationState(), display, alembic=True, line_text=_line_getter(lines))
    try:
        upgrade = render(path, "upgrade")
        downgrade = render(path, "downgrade")
    except Exception as exc:  # noqa: BLE001 - any error in user code is reported, not raised
        ctx.location = (1, 1)
        ctx.report(
            f"offline rendering failed: {type(exc).__name__}: {exc}",
            rule="offline-render-failed",
            exempt_new=False,
        )
        return ctx.findings
    revision = read_revision("\n".join(lines), str(path))  # its `# dbpatterns: ignore[...]` comments
    lint_units(ctx, upgrade, revision.suppressions)
    ctx.suppress = frozenset()
    finish(ctx)  # the checks made at the end of a migration (foreign keys left without an index)
    up_state = ctx.state
    ctx.state = MigrationState(upgrade_created=up_state)
    lint_units(ctx, downgrade, revision.suppressions)
    ctx.suppress = frozenset()
    finish(ctx)
    _revision_rules(ctx, revision, up_state)
    return sorted_findings(ctx.findings)


def _revision_rules(ctx, revision, state) -> None:
    """The checks on the revision as a whole (a missing downgrade) come from the static reader."""
    from ..lint.engine import run_rules

    ctx.state, ctx.stmt, ctx.op = state, None, None
    ctx.suppress = frozenset()
    ctx.location = (revision.downgrade_line or revision.upgrade_line or 1, 1)
    run_rules(ctx, "revision", {"revision": revision})
