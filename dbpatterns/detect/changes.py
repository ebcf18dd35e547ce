"""What :mod:`dbpatterns.detect` runs: :func:`detect_changes`, :func:`write_revision`, :func:`at_head`."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .compare import autogenerate_diffs, comparison_context, find_changes
from .model import DetectReport, Since
from .run import AtHead, prepare, run_detect
from .since import changed_models, check_ref, model_classes
from .write import write


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
        report.since = Since(since, changed_models(work_tree, project.root, classes, since))
