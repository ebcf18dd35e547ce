"""The MCP tools: thin adapters from arguments to the core, returning the contract models of
:mod:`dbpatterns.contracts` (the same JSON the command line prints). The core is imported inside each tool,
so that the server answers ``tools/list`` before SQLAlchemy, Alembic or pglast are loaded."""

import inspect
from typing import Annotated

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from dbpatterns.contracts import (
    DetectResult,
    DriftSummary,
    HeadsResult,
    LintResult,
    NewResult,
    RuleDoc,
    RulesResult,
    TraceResult,
    VerifyResult,
)
from dbpatterns.pg.sandbox import statement_limit

from .safety import (
    MAX_INPUT_CHARS,
    RUN_LOCK,
    check_input,
    confine,
    database_url,
    guarded,
    project_root,
    relative,
    scratch_server,
)

# ---- annotations: only generate_migration with write=true changes anything

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
READS_DATABASE = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)
#: Runs the project's own Python (env.py, revisions, models) in the server process, against a throwaway
#: database: nothing of the user's database is touched, but project code is not confined.
RUNS_PROJECT_CODE = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
WRITES_NEW_FILES = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)

Project = Annotated[
    str | None,
    Field(description="the Alembic project's folder, relative to the project root (default: the root)"),
]
Section = Annotated[
    str | None,
    Field(description="the alembic.ini section of the project, as alembic -n NAME (default: [alembic])"),
]
PgVersion = Annotated[
    int | None, Field(ge=9, le=99, description="target PostgreSQL major version (default: config or 18)")
]


def _inside_root(target, settings) -> list[str]:
    """The files a lint of ``target`` reads, without those a symbolic link leads outside the project root."""
    from dbpatterns.lint.run import collect

    if not target.is_dir():
        return [str(target)]
    root = project_root()
    return [
        display for display, file in collect([str(target)], settings) if file.resolve().is_relative_to(root)
    ]


def _project_folder(project: str | None, name: str | None = None):
    """The project's folder, confined to the root; with ``name``, the project of that ini section."""
    folder = confine(project or ".", what="project", folder=True)
    if name is None:
        return folder
    from dbpatterns.alembic.project import load_project

    return load_project(folder, name=name)


def _one_of(sql: str | None, path: str | None, what: str) -> None:
    if (sql is None) == (path is None):
        raise ToolError(f"Give either {what} SQL text or a path, not both and not neither.")


#: SQL text up to this size is linted on the event loop (well under a few milliseconds), larger on a thread.
INLINE_LINT_CHARS = 20_000


@guarded(inline=lambda args: args.get("sql") is not None and len(args["sql"]) <= INLINE_LINT_CHARS)
def lint_migration(
    sql: Annotated[
        str | None, Field(description="a migration's SQL text (or an Alembic revision file's Python source)")
    ] = None,
    path: Annotated[
        str | None,
        Field(
            max_length=4096,
            description="a .sql file, an Alembic revision, a folder or an Alembic project, under the project",
        ),
    ] = None,
    pg_version: PgVersion = None,
    name: Section = None,
    start_after: Annotated[
        str | None,
        Field(
            description="with path: report nothing for this revision (or SQL file name) and the ones before "
            "it (default: [tool.dbpatterns] start_after)"
        ),
    ] = None,
) -> LintResult:
    """Lint a PostgreSQL migration for locks, table rewrites, breaking changes and missing rollbacks.

    Every finding names the lock the statement takes, whether it rewrites the table, and the safe recipe.
    Settings come from [tool.dbpatterns] in the project's pyproject.toml. A revision of a project is linted
    knowing what its ancestors did to the schema.
    """
    from dbpatterns.lint import lint_text, load_settings
    from dbpatterns.lint.run import lint_report

    _one_of(sql, path, "the migration's")
    settings = load_settings(project_root())
    if pg_version is not None:  # as on the command line: a major version clears a minor one from the config
        settings = settings.replace(pg_version=pg_version, pg_minor=None)
    if name is not None:  # the ini section of a project the path is
        settings = settings.replace(alembic_section=name)
    if sql is not None:
        from dbpatterns.alembic.static import looks_like_revision
        from dbpatterns.lint.run import new_stats

        text = check_input(sql, "sql")
        stats = new_stats()
        where = "<revision>.py" if looks_like_revision(text) else "<sql>"
        findings = lint_text(text, where, settings, stats=stats)
        skipped = None
    else:
        result = lint_report(
            _inside_root(confine(path, what="path"), settings),
            settings,
            jobs=1,
            start_after=[start_after] if start_after else None,
        )
        findings, skipped, stats = result.findings, result.skipped, result.stats
        for f in findings:
            f.path = relative(f.path)
    return LintResult(findings=[f.to_dict() for f in findings], skipped=skipped, stats=stats)


@guarded
def explain_rule(
    rule: Annotated[
        str, Field(max_length=200, description="a lint rule id (e.g. set-not-null) or a squawk rule name")
    ],
) -> RuleDoc:
    """Explain one lint rule: what it checks, why it is a problem, an example, and the safe recipe."""
    from dbpatterns.errors import UnknownRule
    from dbpatterns.lint.docs import rule_json
    from dbpatterns.lint.registry import find_rule, resolve_ids

    found = find_rule(rule)
    if found is None:
        try:
            resolve_ids([rule])
        except UnknownRule as exc:
            close = exc.suggestions
            hint = f" Did you mean {', '.join(close)}?" if close else " list_rules gives every rule."
            raise ToolError(f"Unknown lint rule {exc.shown!r}.{hint}") from None
    return RuleDoc.model_validate(rule_json(found, full=True))


@guarded
def list_rules(
    include_opt_in: Annotated[bool, Field(description="also list the opt-in (style) rules")] = True,
) -> RulesResult:
    """List the lint rules: id, squawk aliases, severity, summary, whether on by default, category."""
    from dbpatterns.lint.docs import rule_json
    from dbpatterns.lint.registry import all_rules

    return RulesResult(rules=[rule_json(r) for r in all_rules() if r.default or include_opt_in])


@guarded
def trace_locks(
    sql: Annotated[str | None, Field(description="the migration's SQL text")] = None,
    path: Annotated[str | None, Field(max_length=4096, description="a .sql file under the project")] = None,
    setup_sql: Annotated[
        str | None, Field(description="SQL that builds the schema the change runs against")
    ] = None,
    setup_path: Annotated[
        str | None, Field(max_length=4096, description="a .sql file with that setup")
    ] = None,
    revision: Annotated[
        str | None, Field(description="an Alembic revision of the project to trace instead of SQL")
    ] = None,
    project: Project = None,
    name: Section = None,
    rows: Annotated[int, Field(ge=0, le=100_000, description="rows to generate in every table first")] = 0,
    in_transaction: Annotated[bool, Field(description="run the whole script in one transaction")] = False,
) -> TraceResult:
    """Run a migration on a throwaway PostgreSQL and report, per statement, the locks it holds, the tables
    it rewrites and how long it took; then drop the database. Never touches a user's database.

    SQL runs as a role made for the run (no superuser: reading or writing server files, running programs
    and server-wide settings are refused), each statement cancelled after 60 s. With ``revision``, the
    project's env.py and revision code run in this server's process."""
    from dbpatterns.trace import trace_revision, trace_sql

    if revision is not None:
        if sql is not None or path is not None or setup_sql is not None or setup_path is not None:
            raise ToolError("Give either a revision or SQL (with its setup), not both.")
        folder = _project_folder(project, name)
        with RUN_LOCK, _time_limited():
            traces = trace_revision(folder, revision, rows=rows, db=scratch_server().url())
        return _trace_result(traces)
    _one_of(sql, path, "the change's")
    if setup_sql is not None and setup_path is not None:
        raise ToolError("Give the setup either as SQL text or as a path, not both.")
    change, change_name = _text(sql, path, "path")
    setup, setup_name = (
        (None, "") if setup_sql is None and setup_path is None else _text(setup_sql, setup_path, "setup_path")
    )
    with RUN_LOCK, _time_limited():
        traces = trace_sql(
            change,
            setup=setup,
            rows=rows,
            db=scratch_server().url(),
            change_name=change_name,
            setup_name=setup_name,
            in_transaction=in_transaction,
        )
    return _trace_result(traces)


def _trace_result(traces) -> TraceResult:
    from dbpatterns.trace.render import trace_data

    return TraceResult.model_validate(trace_data(traces))


def _text(sql: str | None, path: str | None, what: str) -> tuple[str, str]:
    if sql is not None:
        return check_input(sql, "sql"), "<sql>"
    file = confine(path, what=what, folder=False)
    try:
        if file.stat().st_size > MAX_INPUT_CHARS * 4:  # refused before it is read (4 bytes per character)
            raise ToolError(
                f"{what} {path!r} is {file.stat().st_size} bytes; the limit is {MAX_INPUT_CHARS} characters."
            )
        return check_input(file.read_text(encoding="utf-8"), what), relative(file)
    except (OSError, UnicodeDecodeError) as exc:
        raise ToolError(f"{what} {path!r} cannot be read as UTF-8 text ({type(exc).__name__}).") from None


@guarded
def verify_history(project: Project = None, name: Section = None) -> VerifyResult:
    """Run the Alembic project's whole history on a throwaway PostgreSQL: a single head, upgrade to head,
    models match the migrations, downgrade, stairway (up/down/up per revision), downgrade leaves no trace.
    The project's env.py and revisions run in this server's process; their SQL as a role made for the run."""
    from dbpatterns.verify import verify_project

    folder = _project_folder(project, name)
    with RUN_LOCK, _time_limited():
        report = verify_project(folder, db=scratch_server().url())
    return VerifyResult.model_validate(report.to_dict())


def _pattern_guide() -> str:
    from dbpatterns.templates.patterns import PATTERNS  # pure data

    lines = []
    for p in PATTERNS.values():
        opts = ", ".join(
            f"{o.key} ({o.kind}{', list' if o.multiple else ''}{'' if o.required else ', optional'})"
            for o in p.options
        )
        lines.append(f"{p.name}: {p.summary}. Options: {opts or 'none'}")
    return "\n".join(lines)


def _pattern_names():
    from typing import Literal

    from dbpatterns.templates.patterns import PATTERNS

    return Literal[tuple(PATTERNS)]


@guarded
def generate_migration(
    pattern: Annotated[_pattern_names(), Field(description="the migration pattern")],
    options: Annotated[
        dict[str, str | int | float | bool | list[str]],
        Field(description='the pattern\'s options by name, e.g. {"table": "users", "column": ["email"]}'),
    ],
    write: Annotated[
        bool, Field(description="write the revision file(s) into the project (default: only return them)")
    ] = False,
    message: Annotated[str | None, Field(max_length=500, description="the revision message")] = None,
    head: Annotated[
        str | None, Field(max_length=200, description="the parent revision (default: the current head)")
    ] = None,
    pg_version: PgVersion = None,
    project: Project = None,
    name: Section = None,
) -> NewResult:
    """Render a safe migration pattern into Alembic revision file(s) of the project and return them; with
    write=true also write them (new files only, never over an existing one). rename-column and
    change-column-type give two revisions: expand, then contract."""
    from dbpatterns.templates import generate

    folder = _project_folder(project, name)
    with RUN_LOCK:
        made = generate(
            pattern, options, folder, pg_version=pg_version, write=write, head=head, message=message
        )
    from dataclasses import replace

    from dbpatterns.templates.model import NewReport

    shown = [replace(g, path=relative(g.path)) for g in made]
    return NewResult.model_validate(NewReport.of(shown, text=True).to_dict())


generate_migration.__doc__ = (
    f"{inspect.cleandoc(generate_migration.__doc__)}\n\nPatterns:\n{_pattern_guide()}"
)


@guarded
def show_heads(project: Project = None, name: Section = None) -> HeadsResult:
    """The heads of the Alembic history (more than one means a merge revision is needed), its branch
    points and merge points."""
    from dbpatterns.heads import show_heads as heads_of_project

    folder = _project_folder(project, name)
    with RUN_LOCK:
        data = heads_of_project(folder).to_dict()
    for head in data["heads"]:
        head["path"] = relative(head["path"])
    return HeadsResult.model_validate(data)


Models = Annotated[
    str | None,
    Field(description="the models as package.module:Base (default: [tool.dbpatterns] models)"),
]


@guarded
def check_drift(
    target: Annotated[
        str | None,
        Field(
            description="a database named in [tool.dbpatterns] targets "
            "(default: the DBPATTERNS_DATABASE_URL environment variable); never a URL"
        ),
    ] = None,
    schemas: Annotated[
        list[str] | None, Field(description="tenant schemas to check one by one (schema-per-tenant)")
    ] = None,
    models: Models = None,
    project: Project = None,
    name: Section = None,
) -> DriftSummary:
    """Compare a live database with the migration history, the models and the revision checksums:
    its revision status (up to date, behind, unknown, unversioned) and every schema difference.
    Read-only: the database's connections are read-only and nothing is written to it."""
    from dbpatterns.drift import check_drift as drift_of

    url = database_url(target)
    folder = _project_folder(project, name)
    with RUN_LOCK:
        summary = drift_of(folder, [url], schemas=schemas or None, models=models, server=scratch_server())
    return DriftSummary(**summary.to_dict(always_summary=True))


@guarded
def detect_changes(models: Models = None, project: Project = None, name: Section = None) -> DetectResult:
    """Model changes no migration covers yet: the history is applied to a throwaway PostgreSQL and compared
    with the SQLAlchemy models. Each change has its risk (safe, locks, rewrites, breaks-running-code,
    destroys-data) and the generate_migration pattern that makes it safely."""
    from dbpatterns.detect import detect_changes as changes_of

    folder = _project_folder(project, name)
    with RUN_LOCK, _time_limited():
        report = changes_of(folder, models=models, db=scratch_server().url())
    return DetectResult.model_validate(report.to_dict())


MCP_STATEMENT_SECONDS = 60  # a statement longer than this is cancelled: the client may have given up


def _time_limited():

    return statement_limit(MCP_STATEMENT_SECONDS)


#: (function, title, annotations) for every tool the server offers.
TOOLS = [
    (lint_migration, "Lint a migration", READ_ONLY),
    (explain_rule, "Explain a lint rule", READ_ONLY),
    (list_rules, "List the lint rules", READ_ONLY),
    (trace_locks, "Trace a migration's locks", RUNS_PROJECT_CODE),
    (verify_history, "Verify the migration history", RUNS_PROJECT_CODE),
    (show_heads, "Show the history's heads", READ_ONLY),
    (detect_changes, "Detect model changes", RUNS_PROJECT_CODE),
    (generate_migration, "Generate a migration from a template", WRITES_NEW_FILES),
    (check_drift, "Check a database for drift", READS_DATABASE),
]
