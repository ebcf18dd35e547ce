"""Run the project's history on a scratch database with its own env.py, then compare the models there."""

from __future__ import annotations

from ..alembic.models import load_metadata
from ..alembic.project import as_project
from ..alembic.runner import HOW_TO_PASS_URL, Runner, StepFailed
from ..errors import InputError
from ..trace.database import mask, scratch_database
from .model import DetectReport

NO_MODELS = (
    "no models to compare: give --models package.module:Base, set [tool.dbpatterns] models = "
    "'package.module:Base', or set target_metadata in env.py"
)


def prepare(project_dir, models: str | None):
    """The project and the models' MetaData (None: env.py's target_metadata is used)."""
    project = as_project(project_dir)
    spec = models or project.settings.models
    metadata = load_metadata(spec, project.root) if spec else None
    return project, metadata


def run_detect(project, metadata, db: str | None, at_head, progress=None) -> DetectReport:
    """Migrate a scratch database to the heads with env.py, then call ``at_head(runner, ctx, target, report)``
    inside the same run (on env.py's connection, sync or async). ``progress(text)``: told each step."""
    report = DetectReport()
    try:
        if progress is not None:
            progress("detect: preparing a scratch database")
        with scratch_database(db, project=project) as scratch:
            _run(project, scratch, metadata, at_head, report, progress)
    except InputError as exc:
        raise InputError(mask(str(exc), db)) from None
    return report


class AtHead:
    """detect's comparison made inside another tool's run of the history, once its scratch database is at
    the single head (``dbpatterns check`` hands it to verify: the history then runs once for both).

    ``compare(ctx, target, report)`` is what detect does at the head; :meth:`__call__` runs it as one more
    run of env.py on the runner's connection and keeps ``report`` only when everything went as in
    detect's own run (or notes that env.py has no target_metadata and no models were given, which detect's
    own run would find at the head too). Anything else leaves nothing: detect then runs on its own."""

    def __init__(self, compare) -> None:
        self.compare = compare
        self.report: DetectReport | None = None
        self.metadata = None  # the models it compared (None: env.py's target_metadata)
        self.no_models = False

    def outcome(self, metadata) -> DetectReport | None:
        """The report for ``metadata`` (raises detect's input error when there were no models); None:
        detect must run the history itself."""
        if self.metadata is not metadata:
            return None
        if self.no_models:
            raise InputError(NO_MODELS)
        return self.report

    def __call__(self, runner, metadata) -> None:
        heads = list(runner.script.get_heads())
        if len(heads) != 1:
            return
        report = DetectReport(head=heads[0])
        done, missing = [], []

        def steps(db_heads, ctx):
            from sqlalchemy import text

            if set(db_heads) != set(heads):
                return []
            if (
                ctx.connection.execute(text("SELECT current_database()")).scalar()
                != runner.engine.url.database
            ):
                return []
            target = metadata if metadata is not None else ctx.opts.get("target_metadata")
            if target is None:
                missing.append(True)
                return []
            runner.current, runner.current_revision = "comparing the models with the history", None
            self.compare(ctx, target, report)
            done.append(True)
            return []

        try:
            runner.run(steps)
        except (InputError, StepFailed):
            return
        if done:
            self.report, self.metadata = report, metadata
        elif missing:
            self.no_models, self.metadata = True, metadata


def _run(project, scratch, metadata, at_head, report: DetectReport, progress=None) -> None:
    runner = Runner(project, scratch.sa_url)
    runner.progress = progress
    try:
        heads = list(runner.script.get_heads())
        if len(heads) > 1:
            raise InputError(
                f"{project.config_file}: {len(heads)} heads ({', '.join(sorted(heads))}): merge them first "
                "(dbpatterns new merge, or alembic merge heads)"
            )
        report.head = heads[0] if heads else None
        runner.check_env_takes_url()

        def steps(db_heads, ctx):
            from sqlalchemy import text

            database = ctx.connection.execute(text("SELECT current_database()")).scalar()
            if database != scratch.name:  # never migrate or compare anything but our scratch database
                raise InputError(
                    f"{project.env_py} connected to another database than the scratch one: {HOW_TO_PASS_URL}"
                )
            steps = runner.upgrade_steps("heads", db_heads)
            for number, step in enumerate(steps, 1):
                runner.current = f"upgrade of {step.revision.revision}"
                runner.current_revision = step.revision.revision
                runner.say(f"detect: upgrade, revision {number} of {len(steps)} ({step.revision.revision})")
                yield step
            runner.current, runner.current_revision = "comparing the models with the history", None
            runner.say("detect: comparing the models with the history")
            target = metadata if metadata is not None else ctx.opts.get("target_metadata")
            if target is None:
                raise InputError(NO_MODELS)
            at_head(runner, ctx, target, report)

        try:
            runner.run(steps, "heads")
        except StepFailed as failed:
            raise InputError(f"{failed.what} failed on a scratch database: {failed.error}") from None
    finally:
        runner.close()
