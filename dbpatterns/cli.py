"""The `dbpatterns` command line: thin wiring from argparse to the core."""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
from pathlib import Path

import dbpatterns

from .errors import InputError
from .signals import stop_like_ctrl_c

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
SECTION_HELP = "the alembic.ini section of the project, as alembic -n NAME (default: [alembic])"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (main() adds the "dbpatterns: " prefix)
        prog = self.prog.removeprefix("dbpatterns").strip()
        raise InputError(f"{prog}: {message}" if prog else message)


_SUPERUSER_HELP = "run the SQL as the embedded server's superuser, not as a role made for the run"


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; given the ``command`` about to run, only that command's parser (for ``new``, with
    its 15 pattern parsers): building them all is most of a one-file lint's argument parsing."""

    def wanted(name: str) -> bool:  # no command (or a misspelt one) wants them all, for the help
        return command == name or command not in _HANDLERS

    parser = _Parser(prog="dbpatterns", description="Safe PostgreSQL schema changes with Alembic.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    if wanted("lint"):
        lint = sub.add_parser("lint", help="lint .sql files, Alembic revisions, folders and projects")
        lint.add_argument("paths", nargs="*", help="files, folders, Alembic projects, or - for stdin")
        lint.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text")
        lint.add_argument(
            "--pg-version", help="target PostgreSQL version, e.g. 16 or 14.3 (default: config or 18)"
        )
        lint.add_argument("--select", help="comma-separated rule ids to run instead of the default set")
        lint.add_argument("--extend-select", help="comma-separated rule ids to add to the default set")
        lint.add_argument("--ignore", help="comma-separated rule ids to skip")
        lint.add_argument("--project", help="directory whose pyproject.toml holds [tool.dbpatterns]")
        lint.add_argument("-n", "--name", "--section", dest="section", help=SECTION_HELP)
        lint.add_argument(
            "--sql-in-transaction",
            action="store_true",
            default=None,
            help="SQL files run inside one transaction (as many migration runners do)",
        )
        lint.add_argument(
            "--offline",
            action="store_true",
            help="also render Alembic revisions through Alembic's offline mode and lint that SQL",
        )
        lint.add_argument("--no-fix", action="store_true", help="text output without the fix recipes")
        lint.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
        lint.add_argument(
            "--no-cache", action="store_true", help="lint every file again (results are cached by content)"
        )
        lint.add_argument(
            "-j", "--jobs", type=int, help="worker processes (default: one per core for 64+ files)"
        )
        lint.add_argument(
            "--trace",
            action="store_true",
            help="run .sql files on a scratch Postgres and cross-check the findings",
        )
        lint.add_argument("--setup", help="with --trace: SQL run before each file (the schema it changes)")
        lint.add_argument("--rows", type=int, default=0, help="with --trace: rows to generate in every table")
        lint.add_argument("--db", help="with --trace: a server URL to create the scratch database on")
        _add_adoption_arguments(lint)

    if wanted("trace"):
        trace = sub.add_parser(
            "trace", help="run a migration on a scratch Postgres: locks and rewrites per statement"
        )
        trace.add_argument("file", nargs="?", help="the SQL migration to trace")
        trace.add_argument("--setup", help="SQL that builds the state before the change")
        trace.add_argument("--revision", help="an Alembic revision of the project to trace instead of a file")
        trace.add_argument("--project", help="the Alembic project's folder (default: the current directory)")
        trace.add_argument("-n", "--name", "--section", dest="section", help=SECTION_HELP)
        trace.add_argument("--rows", type=int, default=0, help="rows to generate in every table first")
        trace.add_argument("--db", help="a server URL to create the scratch database on (default: embedded)")
        trace.add_argument(
            "--in-transaction",
            action="store_true",
            help="run the whole file in one transaction (as runners do)",
        )
        trace.add_argument("--format", choices=("text", "json"), default="text")
        trace.add_argument("--superuser", action="store_true", help=_SUPERUSER_HELP)

    if wanted("verify"):
        verify = sub.add_parser(
            "verify",
            help="run the project's history on a scratch Postgres: heads, upgrade, stairway, no trace",
        )
        verify.add_argument("--project", help="the Alembic project's folder (default: the current directory)")
        verify.add_argument("-n", "--name", "--section", dest="section", help=SECTION_HELP)
        verify.add_argument("--db", help="a server URL to create the scratch database on (default: embedded)")
        verify.add_argument(
            "--rows",
            type=int,
            default=None,
            help="generated rows per empty table before each revision (default: verify_rows or 3; 0: none)",
        )
        verify.add_argument("--format", choices=("text", "json"), default="text")
        verify.add_argument("--superuser", action="store_true", help=_SUPERUSER_HELP)

    if wanted("rules"):
        rules = sub.add_parser("rules", help="list the lint rules, or explain one")
        rules.add_argument("rule", nargs="?", help="a rule id (or a squawk alias)")
        rules.add_argument("--format", choices=("text", "json"), default="text")
        rules.add_argument("--all", action="store_true", help="include opt-in rules in the list")

    if wanted("detect"):
        detect = sub.add_parser(
            "detect", help="model changes no migration covers yet: risk and safe template"
        )
        detect.add_argument(
            "--models", help="models as package.module:Base (default: [tool.dbpatterns] models)"
        )
        detect.add_argument("--project", help="the Alembic project's folder (default: the current directory)")
        detect.add_argument("-n", "--name", "--section", dest="section", help=SECTION_HELP)
        detect.add_argument("--db", help="a server URL to create the scratch database on (default: embedded)")
        detect.add_argument(
            "--since", metavar="GIT_REF", help="also name model classes changed since GIT_REF"
        )
        detect.add_argument(
            "--write", metavar="MESSAGE", help="write the revision(s), risky ops in safe form"
        )
        detect.add_argument("--format", choices=("text", "json"), default="text")

    if wanted("drift"):
        drift = sub.add_parser("drift", help="a live database vs the history, the models and the checksums")
        drift.add_argument("--db", action="append", default=[], help="database URL (repeat for several)")
        drift.add_argument("--db-file", help="a file of database URLs, one a line")
        drift.add_argument("--schemas", help="comma-separated tenant schemas to check (schema-per-tenant)")
        drift.add_argument(
            "--models", help="models as package.module:Base (default: [tool.dbpatterns] models)"
        )
        drift.add_argument("--project", help="the Alembic project's folder (default: the current directory)")
        drift.add_argument("-n", "--name", "--section", dest="section", help=SECTION_HELP)
        drift.add_argument("--no-cache", action="store_true", help="run the history even when it is cached")
        drift.add_argument("--format", choices=("text", "json"), default="text")
        drift.add_argument(
            "--superuser",
            action="store_true",
            help="run the history as the embedded server's superuser, not as a role made for the run",
        )

    if wanted("sum"):
        sums = sub.add_parser("sum", help="write the sum file of the revisions (or --check it)")
        sums.add_argument("--check", action="store_true", help="compare the revisions with the sum file only")
        sums.add_argument("--project", help="the Alembic project's folder (default: the current directory)")
        sums.add_argument("-n", "--name", "--section", dest="section", help=SECTION_HELP)
        sums.add_argument("--format", choices=("text", "json"), default="text")

    if wanted("heads"):
        heads = sub.add_parser(
            "heads", help="the heads and branches of the history (exit 1 for several heads)"
        )
        heads.add_argument("--project", help="the Alembic project's folder (default: the current directory)")
        heads.add_argument("-n", "--name", "--section", dest="section", help=SECTION_HELP)
        heads.add_argument("--format", choices=("text", "json"), default="text")

    if wanted("check"):
        check = sub.add_parser("check", help="the CI bundle: lint, sum check, verify and detect on a project")
        check.add_argument("--project", help="the Alembic project's folder (default: the current directory)")
        check.add_argument("-n", "--name", "--section", dest="section", help=SECTION_HELP)
        check.add_argument("--db", help="a server URL to create the scratch databases on (default: embedded)")
        check.add_argument("--format", choices=("text", "json"), default="text")
        _add_adoption_arguments(check)

    if wanted("baseline"):
        baseline = sub.add_parser(
            "baseline", help="record the current head(s) as [tool.dbpatterns] start_after in pyproject.toml"
        )
        baseline.add_argument(
            "--project", help="the Alembic project's folder (default: the current directory)"
        )
        baseline.add_argument("-n", "--name", "--section", dest="section", help=SECTION_HELP)
        baseline.add_argument("--format", choices=("text", "json"), default="text")

    if wanted("new"):
        _add_new_parser(sub)

    if wanted("mcp"):
        from .mcp.__main__ import add_arguments

        mcp = sub.add_parser("mcp", help="serve the MCP tools over stdio (or streamable HTTP on loopback)")
        add_arguments(mcp)
    return parser


def _add_adoption_arguments(parser) -> None:
    parser.add_argument(
        "--start-after",
        action="append",
        metavar="REV",
        help="report nothing for this revision (or SQL file name) and the ones before it (repeatable; "
        "default: [tool.dbpatterns] start_after)",
    )
    parser.add_argument(
        "--since", metavar="GIT_REF", help="lint only the migrations added or changed since GIT_REF"
    )


def _add_new_parser(sub) -> None:
    from .templates.patterns import list_patterns

    new = sub.add_parser("new", help="write a safe Alembic revision from a template (--list: the patterns)")
    new.add_argument("--list", action="store_true", help="list the patterns")
    new.add_argument("--format", choices=("text", "json"), default="text")
    patterns = new.add_subparsers(dest="pattern", parser_class=_Parser, metavar="PATTERN")
    for pattern in list_patterns():
        p = patterns.add_parser(pattern.name, help=pattern.summary, description=pattern.summary)
        for o in pattern.options:
            if o.kind == "flag":
                p.add_argument(o.flag, action="store_true", help=o.help)
                continue
            default = f" (default: {o.default})" if o.default is not None else ""
            action = "append" if o.multiple else "store"
            p.add_argument(o.flag, action=action, required=o.required, help=o.help + default)
        p.add_argument("--message", "-m", help="the revision message (default: describes the change)")
        p.add_argument("--head", action="append", help="the head to build on (several for merge)")
        p.add_argument("--project", help="the Alembic project's folder (default: the current directory)")
        # --name is the index or constraint name of some patterns: the section is --section here
        p.add_argument("--section", dest="section", help=SECTION_HELP)
        p.add_argument("--pg-version", help="target PostgreSQL version (default: config or 18)")
        p.add_argument("--print", action="store_true", help="print the revision(s) instead of writing")
        p.add_argument("--format", choices=("text", "json"), default=argparse.SUPPRESS)


# Set once an OSError was told (output that failed to be written fails again at the final flush).
_TOLD_OS_ERROR = False


def run() -> None:
    """The console script: ``main()``, then stdout written out here, where a failure can still be told
    (a full disk: one line, exit 2)."""
    stop_like_ctrl_c()  # SIGTERM, SIGHUP: the KeyboardInterrupt path (teardown runs), exit 143, 129
    code = main()
    try:
        sys.stdout.flush()
    except OSError as exc:
        code = code if _TOLD_OS_ERROR else _os_error(exc)  # a failure main() told of fails again here
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing is left to fail at exit
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return _run(argv)
    except InputError as exc:
        from .masking import known_secrets, mask

        # every message is masked where it is made; this is the net under them (a --db value's password
        # quoted in a piece by a driver, an environment URL named by user code)
        message = mask(str(exc), *known_secrets(argv))
        print(f"dbpatterns: {message}", file=sys.stderr)
        _extension_hint(message)
        if _wants_json(argv):  # the report a machine reads says it too
            import json

            print(json.dumps({"error": {**exc.to_dict(), "message": message}}, indent=2))
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        print(f"dbpatterns: {str(exc) or 'interrupted'}", file=sys.stderr)
        return 128 + getattr(exc, "signum", 2)
    except OSError as exc:  # mostly the output that cannot be written: reading input raises InputError
        return _os_error(exc)


_WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EBADF})


def _os_error(exc: OSError) -> int:
    """The exit code of an OSError no command handled, said in one line: 0 when the reader of the output
    left (a closed pipe: `| head`), else 2."""
    global _TOLD_OS_ERROR
    _TOLD_OS_ERROR = True
    if isinstance(exc, BrokenPipeError):
        return EXIT_OK
    what = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename is not None:
        print(f"dbpatterns: {exc.filename}: {what}", file=sys.stderr)
    elif exc.errno in _WRITE_ERRORS:
        print(f"dbpatterns: cannot write the output: {what}", file=sys.stderr)
    else:
        print(f"dbpatterns: {what}", file=sys.stderr)
    return EXIT_USAGE


def _extension_hint(text: str) -> None:
    """On stderr, when ``text`` says the server lacks an extension: which, and how to run elsewhere."""
    from .trace.database import missing_extension_hint

    hint = missing_extension_hint(text)
    if hint:
        print(f"dbpatterns: {hint}", file=sys.stderr)


def _strings(data) -> str:
    """Every string in a report's data, one a line."""
    if isinstance(data, str):
        return data
    values = data.values() if isinstance(data, dict) else data if isinstance(data, list | tuple) else ()
    return "\n".join(_strings(v) for v in values)


def _wants_json(argv: list[str]) -> bool:
    """Whether the command line asks for ``--format json`` (looked at even when it does not parse)."""
    return any(
        a == "--format=json" or (a == "--format" and i + 1 < len(argv) and argv[i + 1] == "json")
        for i, a in enumerate(argv)
    )


def _run(argv: list[str]) -> int:
    command = next((a for a in argv if not a.startswith("-")), "")  # the top level has only flags
    parser = build_parser(command)
    args = parser.parse_args(argv)
    if args.version:
        print(f"dbpatterns {dbpatterns.__version__}")
        return EXIT_OK
    handler = _HANDLERS.get(args.command or "")
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    if getattr(args, "superuser", False):  # the opt-in of trace, verify and drift
        from .pg.sandbox import superuser

        with superuser():
            return handler(args)
    return handler(args)


def cmd_mcp(args) -> int:
    from .mcp.__main__ import serve

    return serve(args)


def _ids(text: str | None, where: str):
    if text is None:
        return None
    from .lint.registry import resolve_ids

    return resolve_ids([t.strip() for t in text.split(",") if t.strip()], where)


def _project(args):
    """The Alembic project of ``--project`` (default: the current directory) and ``--name``, loaded once
    and passed down."""
    from .alembic.project import load_project

    return load_project(args.project or ".", "--project", name=args.section)


def _server(args, project) -> str | None:
    """Where scratch databases go: --db, else DBPATTERNS_SERVER_URL or the project's [tool.dbpatterns]
    server_url, else None (the embedded server)."""
    from .trace.database import configured_server

    return args.db or configured_server(project.settings)


def _settings_folder(paths: list[str] | None) -> Path | None:
    """Where lint reads [tool.dbpatterns] without --project: the first path's folder, so the
    pyproject.toml nearest to what is linted (the one ``dbpatterns baseline`` wrote) holds, from any working
    directory; None (the working directory) for stdin or no path."""
    first = Path(paths[0]) if paths and paths[0] != "-" else None
    if first is None or not first.exists():
        return None
    return first if first.is_dir() else first.parent


def cmd_lint(args) -> int:
    from .lint import load_settings
    from .settings import parse_pg_version, pg_minor_of

    if args.project and not Path(args.project).is_dir():
        raise InputError(f"lint --project: {args.project} is not a folder")
    if args.rows < 0:
        raise InputError("lint: --rows must be 0 or more")
    settings = load_settings(Path(args.project) if args.project else _settings_folder(args.paths))
    settings = settings.with_overrides(
        pg_version=parse_pg_version(args.pg_version, "--pg-version") if args.pg_version else None,
        select=_ids(args.select, "--select"),
        extend_select=_ids(args.extend_select, "--extend-select"),
        ignore=(settings.ignore | _ids(args.ignore, "--ignore")) if args.ignore else None,
        sql_in_transaction=args.sql_in_transaction,
    )
    if args.section is not None:  # the ini section of the projects among the paths
        settings = settings.replace(alembic_section=args.section)
    if args.pg_version:  # a major version on the command line also clears a minor one from the config
        settings = settings.replace(pg_minor=pg_minor_of(args.pg_version))
    paths = args.paths or ["."]
    if args.jobs is not None and args.jobs < 1:
        raise InputError("lint: --jobs must be at least 1")
    adoption = {"start_after": args.start_after, "since": args.since, "cache": not args.no_cache}
    if args.format == "json" and not args.trace:  # the worker processes render their own findings
        from .lint.run import lint_paths_json

        data, found, _ = lint_paths_json(paths, settings, offline=args.offline, jobs=args.jobs, **adoption)
        _write_bytes(data)
        return EXIT_FINDINGS if found and not args.exit_zero else EXIT_OK
    from .lint.run import lint_report

    result = lint_report(paths, settings, offline=args.offline, jobs=args.jobs, **adoption)
    findings, files = result.findings, result.files
    if args.trace:
        from .lint.run import collect
        from .trace import trace_and_cross_check

        setup = Path(args.setup) if args.setup else None
        found = trace_and_cross_check(
            collect(paths, settings),
            findings,
            setup=setup,
            rows=args.rows,
            db=args.db,
            in_transaction=bool(settings.sql_in_transaction),
        )
        findings = sorted([*findings, *found], key=lambda f: (f.path, f.line, f.column, f.rule))
    _emit_findings(findings, files, args, result.skipped, result.stats)
    return EXIT_FINDINGS if findings and not args.exit_zero else EXIT_OK


def _emit(args, data, text) -> None:
    """A command's report on stdout: ``data`` (a dict, or a function giving it) as indented JSON with
    ``--format json``, else ``text()``."""
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(data() if callable(data) else data, indent=2) + "\n")
    else:
        sys.stdout.write(text())


def _write_bytes(pieces: list[bytes]) -> None:
    """Write UTF-8 bytes, pieces in order, to stdout without decoding them first (a text-only stream gets
    the text)."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(b"".join(pieces).decode())
        return
    sys.stdout.flush()
    buffer.writelines(pieces)
    buffer.flush()


def _emit_findings(findings, files, args, skipped: int | None = None, stats: dict | None = None) -> None:
    if args.format == "json":  # with --trace
        from .lint.run import report_extra
        from .output.text import json_items, json_pieces

        _write_bytes(json_pieces([json_items(findings)], report_extra(skipped, stats)))
    elif args.format == "sarif":
        from .lint.registry import all_rules
        from .output.sarif import render_sarif

        sys.stdout.write(render_sarif(findings, all_rules(), dbpatterns.__version__, stats=stats) + "\n")
    elif args.format == "github":
        from .output.github import render_github

        sys.stdout.write(render_github(findings))
    else:
        from .output.text import render_text, stats_line

        sys.stdout.write(render_text(findings, files, show_fix=not args.no_fix))
        if line := stats_line(stats):
            sys.stdout.write(line + "\n")
        if skipped:
            sys.stdout.write(
                f"{skipped} migration(s) at or before start_after skipped (they feed the schema)\n"
            )


def cmd_trace(args) -> int:
    from .trace import trace_revision, trace_sql
    from .trace.render import render_text, trace_data
    from .trace.run import read_text

    if args.rows < 0:
        raise InputError("trace: --rows must be 0 or more")
    if args.revision:
        if args.file or args.setup:
            raise InputError("trace: give either FILE.sql (with --setup) or --revision, not both")
        project = _project(args)
        traces = trace_revision(project, args.revision, rows=args.rows, db=_server(args, project))
    elif args.file:
        change = read_text(Path(args.file), "trace")
        setup = read_text(Path(args.setup), "trace --setup") if args.setup else None
        traces = trace_sql(
            change,
            setup=setup,
            rows=args.rows,
            db=args.db,
            change_name=args.file,
            setup_name=args.setup or "",
            in_transaction=args.in_transaction,
        )
    else:
        raise InputError("trace: give FILE.sql or --revision REV")
    _emit(args, trace_data(traces), lambda: render_text(traces))
    return EXIT_OK


def cmd_verify(args) -> int:
    from .verify import verify_project
    from .verify.render import render_text

    project = _project(args)
    with _progress(args) as progress:
        report = verify_project(project, db=_server(args, project), rows=args.rows, progress=progress)
    _emit(args, report.to_dict, lambda: render_text(report))
    _extension_hint(_strings(report.to_dict()))
    return EXIT_OK if report.ok else EXIT_FINDINGS


@contextlib.contextmanager
def _progress(args):
    """A callback that shows the current step on one line of stderr, when stderr is a terminal and the
    output is text; None otherwise (nothing extra when piped or with --format json)."""
    if getattr(args, "format", "text") != "text" or not sys.stderr.isatty():
        yield None
        return
    width = [0]
    stream = sys.stderr  # this one: env.py runs with stderr redirected to the runner's log

    def show(text: str) -> None:
        line = text[:100]
        stream.write("\r" + line.ljust(width[0]))
        stream.flush()
        width[0] = len(line)

    try:
        yield show
    finally:
        if width[0]:
            stream.write("\r" + " " * width[0] + "\r")
            stream.flush()


def cmd_drift(args) -> int:
    from .drift import check_drift, read_db_file
    from .drift.render import render_text

    urls = list(args.db) + (read_db_file(args.db_file) if args.db_file else [])
    schemas = [s.strip() for s in args.schemas.split(",") if s.strip()] if args.schemas else None
    from .trace.database import UserServer, configured_server

    project = _project(args)
    scratch = configured_server(project.settings)  # where the history runs (default: embedded)
    with _progress(args) as progress:
        summary = check_drift(
            project,
            urls,
            schemas=schemas,
            models=args.models,
            cache=not args.no_cache,
            server=UserServer(scratch) if scratch else None,
            progress=progress,
        )
    _emit(args, summary.to_dict, lambda: render_text(summary))
    for report in summary.errors:
        print(f"dbpatterns: {report.error}", file=sys.stderr)
        _extension_hint(report.error)
    return EXIT_USAGE if summary.errors else EXIT_OK if summary.in_sync else EXIT_FINDINGS


def cmd_sum(args) -> int:
    import json

    from .checksums import check_sums, write_sums

    if not args.check:
        path = write_sums(_project(args))
        print(json.dumps({"sum_file": str(path)}) if args.format == "json" else f"wrote {path}")
        return EXIT_OK
    report = check_sums(_project(args))
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2))
    elif not report.exists:
        print(f"no sum file at {report.sum_file}: run `dbpatterns sum`")
    else:
        for p in report.problems:
            print(f"{p.path}: {p.change}: {p.detail}")
        print(f"{report.revisions} revision(s) match {report.sum_file}" if report.ok else "sum check failed")
    return EXIT_OK if report.ok else EXIT_FINDINGS


def cmd_heads(args) -> int:
    from .heads import render_text, show_heads

    report = show_heads(_project(args))
    _emit(args, report.to_dict, lambda: render_text(report))
    return EXIT_OK if report.single else EXIT_FINDINGS


def cmd_check(args) -> int:
    from .check import render_text, run_check

    project = _project(args)
    with _progress(args) as progress:
        db = _server(args, project)
        report = run_check(project, db=db, start_after=args.start_after, since=args.since, progress=progress)
    _emit(args, report.to_dict, lambda: render_text(report))
    _extension_hint(_strings(report.to_dict()))
    return report.exit_code


def cmd_baseline(args) -> int:
    from .baseline import record_baseline

    done = record_baseline(args.project or ".", args.section)
    _emit(args, done.to_dict, lambda: f"start_after = {done.start_after} written to {done.path}\n")
    return EXIT_OK


def cmd_new(args) -> int:
    import json

    from .templates import PATTERNS, generate, list_patterns

    if args.list or not args.pattern:
        if not args.list:
            raise InputError("new: give a PATTERN (see `dbpatterns new --list`)")
        if args.format == "json":
            print(json.dumps({"patterns": [p.to_dict() for p in list_patterns()]}, indent=2))
        else:
            width = max(len(p.name) for p in list_patterns())
            for p in list_patterns():
                print(f"{p.name:<{width}}  {p.summary}")
        return EXIT_OK
    from .settings import parse_pg_version

    spec = PATTERNS[args.pattern]
    made = generate(
        args.pattern,
        {o.key: getattr(args, o.key) for o in spec.options},
        _project(args),
        pg_version=parse_pg_version(args.pg_version, "--pg-version") if args.pg_version else None,
        write=not args.print,
        head=args.head,
        message=args.message,
    )
    if args.format == "json":
        from .templates.model import NewReport

        print(json.dumps(NewReport.of(made, text=args.print).to_dict(), indent=2))
    elif args.print:
        sys.stdout.write("\n".join(f"# --- {g.path}\n{g.text}" for g in made))
    else:
        for g in made:
            print(f"wrote {g.path} (revision {g.revision}, down_revision {g.to_dict()['down_revision']})")
    return EXIT_OK


def cmd_detect(args) -> int:
    from .detect import detect_changes, write_revision
    from .detect.render import render_text

    project = _project(args)
    options = {"models": args.models, "db": _server(args, project), "since": args.since}
    with _progress(args) as progress:
        if args.write is not None:
            report = write_revision(project, args.write, progress=progress, **options)
        else:
            report = detect_changes(project, progress=progress, **options)
    _emit(args, report.to_dict, lambda: render_text(report))
    return EXIT_OK if report.ok else EXIT_FINDINGS


def cmd_rules(args) -> int:
    import json

    from .lint.docs import rule_json, rule_markdown
    from .lint.registry import all_rules, find_rule, resolve_ids

    if args.rule:
        found = find_rule(args.rule)
        if found is None:
            resolve_ids([args.rule], "rules")  # raises UnknownRule, naming the closest ids
        if args.format == "json":
            print(json.dumps(rule_json(found, full=True), indent=2))
        else:
            print(rule_markdown(found), end="")
        return EXIT_OK
    rules = [r for r in all_rules() if r.default or args.all or args.format == "json"]
    if args.format == "json":
        print(json.dumps({"rules": [rule_json(r) for r in rules]}, indent=2))
        return EXIT_OK
    width = max(len(r.id) for r in rules)
    for r in rules:
        alias = f"  (squawk: {', '.join(r.aliases)})" if r.aliases else ""
        opt = "" if r.default else " [opt-in]"
        print(f"{r.id:<{width}}  {r.severity:<7} {r.summary}{opt}{alias}")
    return EXIT_OK


_HANDLERS = {
    "lint": cmd_lint,
    "rules": cmd_rules,
    "trace": cmd_trace,
    "verify": cmd_verify,
    "new": cmd_new,
    "detect": cmd_detect,
    "drift": cmd_drift,
    "sum": cmd_sum,
    "heads": cmd_heads,
    "check": cmd_check,
    "baseline": cmd_baseline,
    "mcp": cmd_mcp,
}

if __name__ == "__main__":
    sys.exit(main())
