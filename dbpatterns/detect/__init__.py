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

from ..findings import InputError
from .model import RISKS, Change, DetectReport, ModelEdit, Written

__all__ = ["RISKS", "Change", "DetectReport", "ModelEdit", "Written", "detect_changes", "write_revision"]


def detect_changes(
    project_dir: str | Path = ".",
    *,
    models: str | None = None,
    db: str | None = None,
    since: str | None = None,
) -> DetectReport:
    """Every model change the history does not make yet. ``since``: a git ref; the report then also
    names the model classes whose definitions changed since it."""
    from .compare import autogenerate_diffs, comparison_context, find_changes
    from .run import prepare, run_detect

    project, metadata = prepare(project_dir, models)
    _check_since(project, since)

    def at_head(runner, ctx, target, report):
        mc = comparison_context(ctx, target)
        report.changes = find_changes(mc, autogenerate_diffs(mc))

    report = run_detect(project, metadata, db, at_head)
    _finish(report, project, since)
    return report


def write_revision(
    project_dir: str | Path,
    message: str,
    *,
    models: str | None = None,
    db: str | None = None,
    since: str | None = None,
) -> DetectReport:
    """Detect, then write the revision(s) that make the changes in their safe forms (Alembic's
    autogenerate through a ``Rewriter``); changes that cannot be made safely in one step are left out
    and listed in ``report.deferred``. The written files are linted (``report.lint``)."""
    from .run import prepare
    from .write import write

    if not message or not message.strip():
        raise InputError("detect --write: the revision message is empty")
    project, metadata = prepare(project_dir, models)
    _check_since(project, since)
    report = write(project, metadata, message.strip(), db)
    _finish(report, project, since)
    return report


def _check_since(project, since: str | None) -> None:
    if since is not None:
        from .since import check_ref

        check_ref(project.root, since)


def _finish(report: DetectReport, project, since: str | None) -> None:
    from .since import changed_models, model_classes

    classes = model_classes(project.root)
    by_table = {table: cls.__name__ for cls, table in classes}
    for change in [*report.changes, *report.deferred]:
        change.model = by_table.get(change.table or "")
    if since:
        report.since, report.edits = since, changed_models(project.root, classes, since)
