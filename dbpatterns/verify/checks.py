"""The checks, in order, on one scratch database:

1. single head (no database needed);
2. upgrade from base to head in one run of env.py, as ``alembic upgrade head`` does;
3. models match migrations: autogenerate's ``compare_metadata`` at head finds nothing;
4. downgrade from head to base in one run;
5. stairway: for every revision from base, upgrade, downgrade, upgrade again (one run of env.py each);
6. downgrade leaves no trace: the catalog snapshot taken before each stairway upgrade equals the one taken
   after its downgrade (inside the migration's transaction, on its connection).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..alembic.runner import HOW_TO_PASS_URL, Runner, StepFailed
from ..errors import InputError
from ..schema import diff, snapshot
from .autogen import describe_all
from .model import Report


def run_checks(runner: Runner, metadata=None, at_head=None) -> Report:
    report = Report()
    heads = list(runner.script.get_heads())
    if len(heads) > 1:
        report.add(
            "single_head",
            False,
            None,
            f"{len(heads)} heads: {', '.join(sorted(heads))}; merge them (alembic merge heads)",
        )
        report.skip_rest("the history has several heads")
        return report
    revisions = runner.revisions()
    report.add("single_head", True, heads[0] if heads else None, f"{len(revisions)} revisions, one head")
    if not revisions:
        report.skip_rest("the project has no revisions")
        return report
    runner.check_env_takes_url()
    head = heads[0]
    if not _upgrade(runner, report, head, len(revisions)):
        return report
    _models(runner, report, metadata)
    if at_head is not None:
        at_head(runner, metadata)
    if not _downgrade(runner, report):
        return report
    _stairway(runner, report, revisions)
    return report


def _tracked(runner: Runner, steps: Iterable, label: str = "") -> Iterable:
    for step in steps:
        revision = step.revision.revision
        verb = label or ("upgrade" if step.is_upgrade else "downgrade")
        runner.current, runner.current_revision = f"{verb} of {revision}", revision
        yield step


def _upgrade(runner: Runner, report: Report, head: str, count: int) -> bool:
    try:
        runner.run(lambda heads, ctx: _tracked(runner, runner.upgrade_steps("heads", heads)), "heads")
    except StepFailed as failed:
        report.add("upgrade", False, failed.revision, f"{failed.what} failed: {failed.error}")
        report.skip_rest("the upgrade to head failed")
        return False
    found = runner.database_heads()
    if found != {head}:
        raise InputError(
            f"{runner.project.env_py} did not migrate the scratch database (it is at "
            f"{', '.join(sorted(found)) or 'no revision'}, expected {head}): {HOW_TO_PASS_URL}"
        )
    report.add("upgrade", True, head, f"base to {head}: {count} revisions")
    return True


def _models(runner: Runner, report: Report, metadata) -> None:
    found: list = []
    missing = []

    def steps(heads, ctx):
        from alembic.autogenerate import compare_metadata

        target = metadata if metadata is not None else ctx.opts.get("target_metadata")
        if target is None:
            missing.append(True)
        else:
            runner.current = "comparing the models with the database (autogenerate)"
            found.extend(compare_metadata(ctx, target))
        return []

    try:
        runner.run(steps)
    except StepFailed as failed:
        report.add("models_match", False, None, f"{failed.what} failed: {failed.error}")
        return
    if missing:
        report.skipped["models_match"] = (
            "no models: set [tool.dbpatterns] models = 'package.module:Base' or target_metadata in env.py"
        )
    elif found:
        lines = describe_all(found)
        report.add("models_match", False, None, f"{len(lines)} difference(s): " + "; ".join(lines))
    else:
        report.add("models_match", True, None, "autogenerate finds no difference at head")


def _downgrade(runner: Runner, report: Report) -> bool:
    try:
        runner.run(lambda heads, ctx: _tracked(runner, runner.downgrade_steps("base", heads)), "base")
    except StepFailed as failed:
        report.add("downgrade", False, failed.revision, f"{failed.what} failed: {failed.error}")
        report.skip_rest("the downgrade to base failed")
        return False
    report.add("downgrade", True, None, "head to base")
    return True


def _stairway(runner: Runner, report: Report, revisions: list) -> None:
    traces: dict[str, list] = {}
    for script in revisions:
        rev = script.revision

        def steps(heads, ctx, rev=rev):
            skip = (runner.version_table[1],)
            before = snapshot(ctx.connection, skip)
            yield from _tracked(runner, runner.upgrade_steps(rev, heads))
            yield from _tracked(runner, runner.downgrade_one(rev))
            runner.current = f"snapshot after the downgrade of {rev}"
            found = diff(before, snapshot(ctx.connection, skip))
            if found:
                traces[rev] = found
            yield from _tracked(runner, runner.upgrade_steps(rev, ctx.get_current_heads()), "upgrade again")

        try:
            runner.run(steps)
        except StepFailed as failed:
            report.add("stairway", False, failed.revision or rev, f"{failed.what} failed: {failed.error}")
            _no_trace(report, traces, done=False)
            return
    report.add("stairway", True, None, f"{len(revisions)} revisions: upgrade, downgrade, upgrade again")
    _no_trace(report, traces, done=True)


def _no_trace(report: Report, traces: dict[str, list], done: bool) -> None:
    for rev, found in traces.items():
        what = [d.describe(added="left behind", removed="dropped and not restored") for d in found]
        report.add(
            "downgrade_no_trace",
            False,
            rev,
            f"the downgrade of {rev} does not undo its upgrade: " + "; ".join(what),
        )
    if not traces and done:
        report.add("downgrade_no_trace", True, None, "every downgrade restores the schema its upgrade found")
    elif not traces:
        report.skipped["downgrade_no_trace"] = "the stairway stopped early"
