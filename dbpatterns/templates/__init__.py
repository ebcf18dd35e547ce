"""``dbpatterns new``: safe migration patterns rendered from Jinja2 templates into real Alembic revisions.

    from dbpatterns.templates import generate, list_patterns

    [p.name for p in list_patterns()]
    made = generate("add-index", {"table": "users", "column": ["email"]}, "path/to/project")
    made[0].path, made[0].revision, made[0].down_revision

Templates live in ``files/`` (package data); a project overrides any of them with its own folder
(``[tool.dbpatterns] templates = "folder"``). Bad input raises :class:`~dbpatterns.errors.InputError`
before anything is written.
"""

from __future__ import annotations

from ..errors import InputError
from ..settings import load_settings
from .patterns import PATTERNS, Option, Pattern, list_patterns

__all__ = ["PATTERNS", "Generated", "Option", "Pattern", "generate", "list_patterns"]


def generate(
    pattern: str,
    options: dict,
    project_dir=".",
    *,
    pg_version: int | None = None,
    write: bool = True,
    head: str | list[str] | None = None,
    message: str | None = None,
) -> list:
    """Render ``pattern`` into the Alembic project at ``project_dir``: a list of one
    :class:`~dbpatterns.templates.revision.Generated`, or two (expand and contract). With ``write=False``
    nothing is written (``--print``)."""
    # lazy: the CLI's parsers and the MCP server import this package for .patterns alone
    from ..alembic.project import load_project
    from .context import template_values
    from .jinja import environment, fill_blocks, template_name
    from .revision import AlembicProject, Generated

    spec = PATTERNS.get(pattern)
    if spec is None:
        raise InputError(f"new: unknown pattern {pattern!r} (run `dbpatterns new --list`)")
    project = load_project(project_dir, "--project")
    settings, user_templates = _settings(project.root)
    version = pg_version if pg_version is not None else settings.pg_version
    if message is not None and (not message.strip() or '"""' in message or "\\" in message):
        raise InputError("new --message: give a non-empty message without triple quotes or backslashes")
    values = template_values(spec, options, version)
    alembic = AlembicProject(project)
    heads = [head] if isinstance(head, str) else list(head or [])
    parents = alembic.parents(heads, merge=pattern == "merge")
    env = environment(user_templates)
    made: list = []
    taken: set[str] = set()
    for step in spec.steps:
        rev = alembic.new_revision_id(taken)
        taken.add(rev)
        step_values = {**values, "step": step, "revision": rev, "earlier": [g.revision for g in made]}
        blocks = fill_blocks(env, template_name(pattern, step), step_values)
        text = (message or blocks["message"] or pattern).strip().splitlines()[0]
        if step:
            text = f"{text} ({step})"
        path, source = alembic.revision_text(rev, parents, text, blocks)
        _check_sql(pattern, path, source)
        alembic.check_free(path)
        down = parents[0] if len(parents) == 1 else (parents or None)
        made.append(Generated(path, rev, down, source))
        parents = (rev,)
    if len({g.path for g in made}) != len(made):
        raise InputError(f"{made[0].path}: the project's file_template gives both revisions one file name")
    if write:
        for generated in made:
            alembic.write(generated.path, generated.text)
    return made


def __getattr__(name: str):
    if name == "Generated":  # imported on use: the command line builds its parsers from .patterns alone
        from .revision import Generated

        return Generated
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _check_sql(pattern: str, path, source: str) -> None:
    """Every statement the revision runs (read statically, as lint reads it) parses with pglast: a value
    that slipped through the checks of :mod:`.values` is an input error, never a broken revision."""
    # lazy: the CLI's parsers and the MCP server import this package for .patterns alone
    from ..alembic.static import read_revision
    from ..sql.parse import parse_tree

    revision = read_revision(source, str(path))
    for statement in (revision.upgrade or []) + (revision.downgrade or []):
        if statement.sql is not None and parse_tree(statement.sql) is None:
            first = statement.sql.strip().splitlines()[0] if statement.sql.strip() else ""
            raise InputError(
                f"new {pattern}: the values given make SQL that does not parse "
                f"(line {statement.line} of the revision: {first[:80]!r})"
            )


def _settings(root):
    settings = load_settings(root)
    folder = None
    if settings.templates:
        folder = (settings.root / settings.templates).resolve()
        if not folder.is_dir():
            where = settings.root / "pyproject.toml"
            raise InputError(f"{where}: [tool.dbpatterns] templates {settings.templates!r} is not a folder")
    return settings, folder
