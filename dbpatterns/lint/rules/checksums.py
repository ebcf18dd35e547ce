"""The rule for revisions that no longer match the project's sum file (``dbpatterns sum``).

Linting an Alembic project folder also reads its sum file; the findings name the revision file."""

from __future__ import annotations

from pathlib import Path

from ...errors import InputError
from ...findings import Finding
from ..engine import dispatch_for
from ..registry import doc_only_rule, get_rule

RULE = "checksum-mismatch"

doc_only_rule(
    RULE,
    summary="A revision no longer matches the project's sum file (edited after summing, or never summed)",
    fix="If the revision was never deployed, run `dbpatterns sum` and commit the sum file with it. If it was "
    "deployed, undo the edit and make the change in a new revision: databases that already ran the old "
    "text will never run the new one.",
    doc="""
    ## What it does
    When a project has a sum file (`dbpatterns sum` writes `dbpatterns.sum` beside the versions folder),
    linting the project compares every revision with its line there. A revision whose code changed, a
    revision with no line, a line whose file is gone, and a first line (the hash of the whole history)
    that does not match the lines below are reported. Comments, blank lines, formatting and docstrings do
    not count: the hash is taken over the revision's syntax tree.

    ## Why is this bad?
    A revision that is edited after it ran somewhere makes environments differ silently: production ran
    the old text, a fresh database runs the new one. The sum file also makes two branches that each add a
    revision conflict in git (both change its first line), so the second one to merge must re-parent its
    revision instead of leaving the history with two heads.

    ## Example
    ```python
    # migrations/versions/20260101_a1b2_add_status.py, changed after `dbpatterns sum`
    def upgrade():
        op.add_column("orders", sa.Column("status", sa.Text(), server_default="new"))
    ```

    ## Use instead
    ```python
    # a new revision on top of the deployed one
    def upgrade():
        op.alter_column("orders", "status", server_default="pending")
    ```

    ## References
    - https://atlasgo.io/concepts/migration-directory-integrity
    """,
)


def sum_file_of(project) -> list[tuple[str, str]]:
    """The project's sum file as a file to lint (display path, path), when it has one."""
    # lazy: a plain .sql lint loads no checksums module
    from ...checksums import sum_path

    path = sum_path(project)
    return [(str(path), str(path))] if path.is_file() else []


def lint_sum_file(path: str, settings) -> list[Finding]:
    """checksum-mismatch findings for the project whose sum file is ``path``."""
    # lazy: a plain .sql lint loads no dbpatterns.alembic nor checksums
    from ...alembic.project import find_project
    from ...checksums import check_project_sums

    sum_file = Path(path)
    project = None
    for folder in (sum_file.parent, *sum_file.parent.parents[:3]):
        try:
            found = find_project(folder, getattr(settings, "alembic_section", None))
        except InputError:  # another folder's configuration, not this sum file's project
            continue
        if found is not None and found.script_location == sum_file.parent.resolve():
            project = found
            break
    if project is None:
        return []
    findings = []
    for problem in check_project_sums(project).problems:
        where = str(sum_file.parent / problem.path) if problem.change in ("edited", "added") else path
        if RULE not in dispatch_for(settings, where)[1]:
            continue
        message = f"{problem.path}: {problem.change}: {problem.detail}"
        findings.append(Finding(RULE, "error", where, 1, 1, message, fix=_fix()))
    return findings


def _fix() -> str:
    return get_rule(RULE).fix
