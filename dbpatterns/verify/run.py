"""What :mod:`dbpatterns.verify` runs: :func:`verify_project` and :func:`verify_empty_database`."""

from __future__ import annotations

from pathlib import Path

from ..alembic.models import load_metadata
from ..alembic.project import Project, as_project
from ..alembic.runner import Runner
from ..checksums import check_project_sums
from ..errors import InputError
from ..trace.database import mask, psycopg_url, scratch_database
from .checks import Policy, run_checks
from .model import Report


def verify_project(
    project_dir: Project | str | Path = ".",
    db: str | None = None,
    *,
    at_head=None,
    rows: int | None = None,
    progress=None,
) -> Report:
    """Verify on a fresh scratch database: embedded, or created on the server ``db`` and dropped after.
    ``at_head(runner, metadata)``: called once the upgrade to the single head passed (after the models
    check), to run more on the migrated database (``dbpatterns check``: detect's comparison); it must
    leave the database as it found it and raise nothing."""
    project, metadata = _prepare(project_dir)
    try:
        with scratch_database(db, project=project) as scratch:
            report = _verify(project, scratch.sa_url, metadata, at_head, rows, progress)
            report.run_as = scratch.access
            return report
    except InputError as exc:
        raise InputError(mask(str(exc), db)) from None


def verify_empty_database(project_dir: str | Path, url: str, *, rows: int | None = None) -> Report:
    """Verify on the existing, empty database at ``url`` (a SQLAlchemy or libpq URL); it is migrated."""
    project, metadata = _prepare(project_dir)
    return _verify(project, psycopg_url(url), metadata, rows=rows)


def _prepare(project):
    project = as_project(project)
    spec = project.settings.models
    metadata = load_metadata(spec, project.root) if spec else None
    return project, metadata


def _verify(project, sa_url: str, metadata, at_head=None, rows=None, progress=None) -> Report:
    if rows is not None and rows < 0:
        raise InputError(f"--rows must be 0 or more, not {rows}")
    policy = Policy.from_settings(project.settings, rows)
    runner = Runner(project, sa_url)
    runner.progress = progress
    try:
        report = run_checks(runner, metadata, at_head, policy)
    finally:
        runner.close()
    _checksums(project, report)
    return report


def _checksums(project, report: Report) -> None:
    """A ``checksums`` check, only for projects with a sum file (``dbpatterns sum``)."""
    sums = check_project_sums(project)
    if not sums.exists:
        return
    if sums.ok:
        report.add("checksums", True, None, f"{sums.revisions} revisions match {sums.sum_file.name}")
    else:
        what = "; ".join(f"{p.path}: {p.change}" for p in sums.problems)
        report.add("checksums", False, None, f"revisions do not match {sums.sum_file.name}: {what}")
