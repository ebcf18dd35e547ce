"""An Alembic revision to trace: its upgrade's SQL (offline rendering) and a scratch database migrated to
its parent through the project's own env.py.

Our scratch URL reaches env.py every way Alembic allows: ``sqlalchemy.url`` (``Config.set_main_option``),
``config.attributes["connection"]`` (a connection we own), ``-x url=...``, and the usual environment
variables (``DATABASE_URL``...), set for the duration of the upgrade. An env.py that mentions none of them
could migrate another database, so it is refused before it runs; afterwards the scratch database must be
at the parent revision, or the command says which way env.py must take the URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..alembic.offline import revision_sql
from ..alembic.project import Project, as_project, importable_in, load_script
from ..alembic.runner import Runner, StepFailed
from ..errors import InputError, RevisionNotFound, first_line
from .database import Scratch
from .execute import Piece, split


@dataclass
class Target:
    project: Project
    script: object  # the project's alembic.script.ScriptDirectory, every revision loaded
    path: Path  # the revision file
    revision: str
    parents: tuple[str, ...]
    pieces: list[Piece]


def load(project_dir: Path, revision: str) -> Target:
    """Find ``revision`` in the project at ``project_dir`` and render its upgrade as statements."""
    project = as_project(project_dir)
    scripts = load_script(project)  # Alembic is importable: load_script checked it
    from alembic.util import CommandError

    with importable_in(project.root):
        try:
            script = scripts.get_revision(revision)
        except CommandError as exc:
            raise RevisionNotFound(revision, str(project.root), first_line(exc)) from None
    if script is None or isinstance(script, tuple):
        raise RevisionNotFound(revision, str(project.root))
    parents = script.down_revision or ()
    path = Path(script.path)
    return Target(project, scripts, path, script.revision, _tuple(parents), _render(path))


def _render(path: Path) -> list[Piece]:
    try:
        chunks, _ = revision_sql(path, downgrade=False)
    except Exception as exc:  # noqa: BLE001 - any error in user code is reported, not raised
        why = f"{type(exc).__name__}: {first_line(exc)}"
        raise InputError(f"{path}: cannot render upgrade() in Alembic's offline mode: {why}") from None
    pieces = []
    for chunk in chunks:
        for piece in split(chunk.sql, str(path)):
            piece.line = piece.end_line = chunk.line
            pieces.append(piece)
    return pieces


def migrate_to_parent(target: Target, scratch: Scratch) -> None:
    """Upgrade the scratch database to the revision's parent(s) with the project's env.py (verify's Runner,
    on the revisions ``load`` already read)."""
    if not target.parents:
        return
    runner = Runner(target.project, scratch.sa_url, target.script)
    try:
        runner.check_env_takes_url()
        for parent in target.parents:
            runner.run(lambda heads, ctx, p=parent: runner.upgrade_steps(p, heads), parent)
    except StepFailed as failed:
        why = f"{failed.what} failed: {failed.error}"
        parents = ", ".join(target.parents)
        raise InputError(
            f"migrating the scratch database to {parents} (the parent of {target.revision}): {why}"
        ) from None
    finally:
        runner.close()
    _check_migrated(target, scratch)


def _check_migrated(target: Target, scratch: Scratch) -> None:
    import psycopg

    with psycopg.connect(scratch.url, autocommit=True) as conn:
        try:
            heads = {row[0] for row in conn.execute("SELECT version_num FROM alembic_version")}
        except psycopg.Error:
            heads = set()
    if not set(target.parents) <= heads:
        raise InputError(
            f"{target.project.env_py} did not migrate the scratch database"
            f" (found {sorted(heads) or 'no version'}):"
            " env.py must take the URL from config.get_main_option('sqlalchemy.url') or "
            "config.attributes['connection']"
        )


def _tuple(value) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)
