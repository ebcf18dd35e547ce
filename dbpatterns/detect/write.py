"""``detect --write``: Alembic writes the revision(s) into a staging copy of the version folders (with the
project's script.py.mako, file_template and post_write_hooks); each new file is then linked into the real
folder with ``os.link``, which never replaces an existing file, from a complete temporary file."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ..errors import InputError, first_line
from ..files import create_new_file
from ..lint import lint_paths
from .compare import comparison_context, find_changes
from .model import DetectReport, Written
from .rewrite import SafeRewrite, deferred_changes
from .run import run_detect


def write(project, metadata, message: str, db: str | None, progress=None) -> DetectReport:
    settings = project.settings
    template = project.script_location / "script.py.mako"
    if not template.is_file():
        raise InputError(f"{template} is missing: Alembic writes revisions from it (alembic init creates it)")
    made: dict = {}

    def at_head(runner, ctx, target, report):
        from alembic.autogenerate import RevisionContext

        mc = comparison_context(ctx, target)
        mc.opts["render_as_batch"] = False  # PostgreSQL alters tables in place
        staging = _staging(runner.script, made["folder"])
        made["real"] = real_locations(runner.script)
        runner.config.cmd_opts.autogenerate = True  # env.py hooks often test config.cmd_opts.autogenerate

        def directives_hook(context, revision, directives):
            report.changes = find_changes(context, directives[0].upgrade_ops.as_diffs())
            if not report.changes:
                directives[:] = []
                return
            made["rewrite"] = SafeRewrite(
                report.changes, context.dialect, lock_timeout=not settings.lock_timeout_in_env
            )
            made["rewrite"](context, revision, directives)

        args = dict(
            message=message,
            autogenerate=True,
            sql=False,
            head="head",
            splice=False,
            branch_label=None,
            version_path=None,
            rev_id=None,
            depends_on=None,
        )
        made["context"] = RevisionContext(
            runner.config, staging, args, process_revision_directives=directives_hook
        )
        made["context"].run_autogenerate("heads", mc)

    with tempfile.TemporaryDirectory(prefix="dbpatterns-write-") as folder:
        made["folder"] = Path(folder)
        report = run_detect(project, metadata, db, at_head, progress=progress)
        report.written = _place(_generate(made.get("context")), made.get("real", []), made["folder"])

    rewrite = made.get("rewrite")
    report.deferred = deferred_changes(report.changes, rewrite.left_out_names if rewrite else set())
    if report.written:
        report.lint, _ = lint_paths([w.path for w in report.written], settings)
    return report


def _generate(context) -> list:
    """Alembic renders the revisions (script.py.mako, file_template, post_write_hooks) into staging."""
    from alembic.util import CommandError

    if context is None:
        return []
    try:
        return [s for s in context.generate_scripts() if s is not None]
    except CommandError as exc:
        raise InputError(f"Alembic could not write the revision: {first_line(exc)}") from None


def _staging(script, folder: Path):
    """A ScriptDirectory like ``script`` whose version folders are copies under ``folder``."""
    from alembic.script import ScriptDirectory

    copies = []
    for index, location in enumerate(real_locations(script)):
        copy = folder / f"v{index}"
        if location.is_dir():
            shutil.copytree(location, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            copy.mkdir(parents=True)
        copies.append(str(copy))
    return ScriptDirectory(
        script.dir,
        file_template=script.file_template,
        truncate_slug_length=script.truncate_slug_length,
        version_locations=copies,
        sourceless=script.sourceless,
        output_encoding=script.output_encoding,
        timezone=script.timezone,
        hooks=script.hooks,
        recursive_version_locations=script.recursive_version_locations,
        messaging_opts={**script.messaging_opts, "quiet": True},  # our output is ours
    )


def real_locations(script) -> list[Path]:
    from alembic.util import coerce_resource_to_filename

    if script.version_locations:
        return [Path(coerce_resource_to_filename(v)).absolute() for v in script.version_locations]
    return [Path(script.dir, "versions").absolute()]


def _place(scripts: list, real: list[Path], folder: Path) -> list[Written]:
    """Link every staged revision into its real folder; refuse before writing anything if one exists."""
    moves = []
    for script in scripts:
        staged = Path(script.path).resolve()
        rel = staged.relative_to(folder.resolve())
        target = real[int(rel.parts[0][1:])] / Path(*rel.parts[1:])
        if target.exists():
            raise InputError(f"{target} exists: detect --write never overwrites a file")
        moves.append((script, staged, target))
    written = []
    for script, staged, target in moves:
        create_new_file(target, staged.read_bytes())
        down = script.down_revision
        written.append(
            Written(
                str(target),
                script.revision,
                down if isinstance(down, str) or down is None else ",".join(down),
            )
        )
    return written
