"""``dbpatterns detect``: model changes that no migration covers yet, with their risk and safe template.

    from dbpatterns.detect import detect_changes, write_revision

    report = detect_changes("path/to/project", models="app.models:Base")
    [c.to_dict() for c in report.changes]          # kind, table, column, risk, template, detail
    report = write_revision("path/to/project", "add orders.note")   # the revision(s), safe forms

The history is applied to a scratch database (embedded PostgreSQL, or created on ``db``'s server and
dropped after) by the project's own env.py; the models are compared there with Alembic's autogenerate
(types and server defaults included) plus the catalog for CHECK constraints and enum values.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from .compare import autogenerate_diffs, comparison_context, find_changes
from .model import RISKS, Change, DetectReport, ModelEdit, Written
from .run import AtHead, prepare, run_detect
from .since import changed_models, check_ref, model_classes
from .write import write

if TYPE_CHECKING:
    from .run import AtHead

__all__ = ["RISKS", "Change", "DetectReport", "ModelEdit", "Written", "detect_changes", "write_revision"]


def detect_changes(
    project_dir: str | Path = ".",
    *,
    models: str | None = None,
    db: str | None = None,
    since: str | None = None,
    shared: AtHead | None = None,
    progress=None,
) -> DetectReport:
    """Every model change the history does not make yet. ``since``: a git ref; the report then also
    names the model classes whose definitions changed since it. ``shared``: an :func:`at_head` that
    another run of the history (verify's) already called; its outcome is used when it has one for the
    same models. ``progress(text)``: told each step (revision N of M), for a terminal."""
    project, metadata = prepare(project_dir, models)
    work_tree = _check_since(project, since)
    report = shared.outcome(metadata) if shared is not None else None
    if report is None:
        report = run_detect(
            project,
            metadata,
            db,
            lambda runner, ctx, target, report: _compare(ctx, target, report),
            progress=progress,
        )
    _finish(report, project, since, work_tree)
    return report


def at_head() -> AtHead:
    """detect's comparison, to hand to ``verify_project(at_head=...)`` and then to
    ``detect_changes(shared=...)`` (``dbpatterns check``: one run of the history for both)."""
    return AtHead(_compare)


def _compare(ctx, target, report: DetectReport) -> None:
    mc = comparison_context(ctx, target)
    report.changes = find_changes(mc, autogenerate_diffs(mc))


def write_revision(
    project_dir: str | Path,
    message: str,
    *,
    models: str | None = None,
    db: str | None = None,
    since: str | None = None,
    progress=None,
) -> DetectReport:
    """Detect, then write the revision(s) that make the changes in their safe forms (Alembic's
    autogenerate through a ``Rewriter``); changes that cannot be made safely in one step are left out
    and listed in ``report.deferred``. The written files are linted (``report.lint``)."""
    if not message or not message.strip():
        raise InputError("detect --write: the revision message is empty")
    project, metadata = prepare(project_dir, models)
    work_tree = _check_since(project, since)
    report = write(project, metadata, message.strip(), db, progress=progress)
    _finish(report, project, since, work_tree)
    return report


def _check_since(project, since: str | None):
    """The git work tree holding the project when ``since`` is given (an input error for a bad ref), before
    any server starts."""
    if since is None:
        return None
    return check_ref(project.root, since)


def _finish(report: DetectReport, project, since: str | None, work_tree) -> None:
    classes = model_classes(project.root)
    by_table = {table: cls.__name__ for cls, table in classes}
    for change in [*report.changes, *report.deferred]:
        change.model = by_table.get(change.table or "")
    if since:
        report.since, report.edits = since, changed_models(work_tree, project.root, classes, since)
