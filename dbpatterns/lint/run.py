"""Lint SQL text, Alembic revisions, files and folders."""

from __future__ import annotations

import fnmatch
import gc
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from operator import attrgetter
from pathlib import Path

from ..errors import InputError, first_line
from ..findings import STAT_KEYS, Finding
from ..output.text import json_items, json_pieces
from ..settings import Settings
from ..sql import parse as sqlparse
from ..sql.dialects import other_dialect
from . import history
from .cache import ResultCache
from .engine import Context, finish, lint_statement, run_rules
from .history import may_configure_alembic, project_of
from .state import MigrationState

SKIP_DIRS = {".git", ".hg", ".venv", "venv", "env", "node_modules", "__pycache__", "site-packages", ".tox"}


def lint_sql(
    text: str,
    path: str = "<sql>",
    settings: Settings | None = None,
    *,
    sources: bool = True,
    record: dict | None = None,
    stats: dict | None = None,
) -> list[Finding]:
    """Lint one SQL migration (a file's text); ``sources``: findings carry their source line. ``record``
    (a migration of an ordered history): receives what it does to the schema (``delta``) and the findings
    the earlier migrations may settle (``questions``), see :mod:`dbpatterns.lint.history`. ``stats``:
    its statements are added to these counts (:data:`STAT_KEYS`): a statement that parses is seen and
    analysed, a piece that does not parse (a syntax-error finding) is seen and unanalysed."""
    settings = settings or Settings()
    parsed = sqlparse.parse(text)
    if stats is not None:
        ok, bad = len(parsed.statements), len(parsed.errors)
        add_stats(stats, seen=ok + bad, analysed=ok, unanalysed=bad)
    state = MigrationState(in_transaction=settings.sql_in_transaction)
    _recording(state, record)
    line_text = parsed.line_text if sources else None
    ctx = Context(settings, state, path, text=text, position=parsed.position, line_text=line_text)
    _syntax_findings(ctx, parsed.errors)
    for stmt in parsed.statements:
        ctx.suppress = stmt.suppress
        lint_statement(ctx, stmt)
    ctx.suppress = frozenset()
    finish(ctx)
    return sorted_findings(ctx.findings)


def lint_revision(
    text: str,
    path: str = "<revision>",
    settings: Settings | None = None,
    *,
    sources: bool = True,
    offline: Path | None = None,
    record: dict | None = None,
    stats: dict | None = None,
) -> list[Finding]:
    """Lint an Alembic revision file, read statically: its ``op.*`` calls are checked as the SQL they run;
    ``sources``: findings carry their source line. ``offline``: the revision's file, also rendered through
    Alembic's offline mode; what that SQL shows is added (deduplicated), never removes a static finding.
    ``record``: as for :func:`lint_sql` (the upgrade's effects), and ``modules``: the project modules
    read for imported types (file -> content hash), when any. ``stats``: the revision's operation
    counts (``RevisionSource.stats``, upgrade and downgrade) are added to these."""
    # lazy: a plain .sql lint loads no dbpatterns.alembic
    from ..alembic.static import read_revision
    from ..alembic.types import reading_revision

    settings = settings or Settings()
    modules = {} if record is not None else None
    with reading_revision(path, _find_project, modules):  # a TypeDecorator imported from the project
        revision = read_revision(text, path)
    if modules:  # a delta kept by content is stale once one of these modules changes (lint.history)
        record["modules"] = modules
    if stats is not None:
        add_stats(stats, **revision.stats)
    line_text = _line_getter(text.splitlines()) if sources else None
    state = MigrationState(in_transaction=True)
    _recording(state, record)
    ctx = Context(settings, state, path, alembic=True, line_text=line_text)
    if revision.syntax_error:
        line, col, message = revision.syntax_error
        _syntax_findings(
            ctx, [sqlparse.SyntaxProblem(line, col, f"not valid Python: {message}")], _PYTHON_FIX
        )
        return ctx.findings
    _lint_revision_body(ctx, revision, revision.upgrade or (), revision.downgrade, in_transaction=True)
    ctx.findings = _once(ctx.findings)
    if offline is not None:
        _add_offline(ctx, revision, offline)
    return sorted_findings(ctx.findings)


def _once(findings: list[Finding]) -> list[Finding]:
    """``findings`` without repeats: a revision's op run again at the same line (a helper called in a
    loop, or by both upgrade() and downgrade()) gives one finding for each rule and message."""
    seen: set[tuple] = set()
    unique = []
    for f in findings:
        key = (f.rule, f.line, f.column, f.message)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def new_stats() -> dict[str, int]:
    return dict.fromkeys(STAT_KEYS, 0)


def add_stats(stats: dict, **counts: int) -> None:
    for key, n in counts.items():
        stats[key] = stats.get(key, 0) + n


_PROJECTS: dict = {}  # folder -> its Alembic project (history.project_of), for imported types


def _find_project(folder: str):
    return project_of(folder, _PROJECTS)


def _recording(state: MigrationState, record: dict | None) -> None:
    if record is not None:
        state.delta = record["delta"] = []
        state.questions = record["questions"] = []


#: Ends a question of a revision's downgrade: the schema it is asked of is the one the upgrade leaves.
AFTER_UPGRADE = "after-upgrade"


def _lint_revision_body(ctx: Context, revision, upgrade, downgrade, *, in_transaction: bool | None) -> None:
    """The per-revision lint, whatever produced the units (the static reading, or the rendered SQL, which
    carries its own BEGIN/COMMIT: ``in_transaction`` None): upgrade, downgrade, then the checks on the
    revision as a whole."""
    lint_units(ctx, upgrade, revision.suppressions)
    ctx.suppress = frozenset()
    finish(ctx)  # the checks made at the end of a migration (foreign keys left without an index)
    upgrade_state = ctx.state
    if downgrade:
        ctx.state = MigrationState(in_transaction=bool(in_transaction), upgrade_created=upgrade_state)
        asked = upgrade_state.questions
        if asked is not None:  # in a history: asked of the schema the upgrade leaves (history.settle)
            ctx.state.questions = []
        lint_units(ctx, downgrade, revision.suppressions)
        ctx.suppress = frozenset()
        finish(ctx)
        if asked is not None:
            asked += [(*q, AFTER_UPGRADE) for q in ctx.state.questions]
    ctx.state = upgrade_state
    ctx.stmt = None
    # a comment on the `def downgrade()` (or `def upgrade()`) line silences the revision-wide checks
    ctx.suppress = frozenset().union(
        *(revision.suppressions.get(line, ()) for line in (revision.downgrade_line, revision.upgrade_line))
    )
    ctx.location = (revision.downgrade_line or revision.upgrade_line or 1, 1)
    run_rules(ctx, "revision", {"revision": revision})
    ctx.suppress = frozenset()


def _add_offline(ctx: Context, revision, file: Path) -> None:
    """Add what the revision's offline rendering shows to the static findings in ``ctx``: a finding the
    static reading already has (same rule, line and table) is not repeated; an op the static reading could
    not analyse but the rendering did loses its ``opaque-operation`` finding. A revision that cannot
    render keeps its static findings and gains one note saying why."""
    # lazy: a plain .sql lint loads no dbpatterns.alembic
    from ..alembic.offline import revision_sql

    static = ctx.findings
    try:
        upgrade, downgrade = revision_sql(file)
    except Exception as exc:  # noqa: BLE001 - any error in user code is reported, not raised
        ctx.location = (1, 1)
        ctx.rule = None
        ctx.report(
            f"offline rendering failed: {type(exc).__name__}: {first_line(exc)}",
            rule="offline-render-failed",
            exempt_new=False,
        )
        return
    ctx.findings = []
    ctx.state = MigrationState()
    _lint_revision_body(ctx, revision, upgrade, downgrade, in_transaction=None)
    rendered_lines = {unit.line for unit in (*upgrade, *downgrade)}
    rendered = ctx.findings
    ctx.findings = [f for f in static if not (f.rule == "opaque-operation" and f.line in rendered_lines)]
    seen = {(f.rule, f.line, f.table) for f in ctx.findings}
    for f in rendered:
        key = (f.rule, f.line, f.table)
        if key not in seen:
            seen.add(key)
            ctx.findings.append(f)


def lint_units(ctx: Context, units, suppressions: dict | None = None) -> None:
    """Lint a sequence of SQL pieces that each belong to one source line (Alembic ops, rendered SQL).

    A unit has ``sql``, ``line``, ``column``, ``op`` (a name), ``autocommit`` (True/False, or None when
    the SQL itself carries BEGIN/COMMIT) and optionally ``note`` and ``existing_type``.
    """
    state = ctx.state
    for unit in units:
        if unit.autocommit is not None and unit.autocommit == state.in_transaction:
            if state.in_transaction:  # entering an autocommit block commits the transaction
                state.end_transaction()
            else:
                state.in_transaction = True
        ctx.location = (unit.line, unit.column)
        ctx.suppress = (suppressions or {}).get(unit.line, frozenset())
        ctx.op = unit
        if getattr(unit, "orm", None):  # an ORM data call: what it does is known, its SQL is not
            ctx.stmt = None
            run_rules(ctx, "orm-op", {"op": unit})
            continue
        if unit.sql is None:
            ctx.stmt = None
            run_rules(ctx, "opaque-op", {"op": unit})
            continue
        if getattr(unit, "fails", None):
            continue  # raises before its SQL is sent (operation-fails says so): no lock, no rewrite
        parsed = sqlparse.parse(unit.sql)
        ctx.text = unit.sql
        if parsed.errors:
            ctx.rule = None
            sign = other_dialect(unit.sql)
            if sign is None:
                ctx.report(
                    f"the SQL of op.{unit.op} does not parse: {parsed.errors[0].message}",
                    rule="syntax-error",
                    exempt_new=False,
                )
            else:
                database, construct = sign
                ctx.report(
                    f"the SQL of op.{unit.op} is {database}'s ({construct}), not PostgreSQL's: PostgreSQL "
                    f"rejects it ({parsed.errors[0].message})",
                    rule="syntax-error",
                    exempt_new=False,
                    fix=_OTHER_DIALECT_FIX.replace("NAME", database.lower()),
                )
        outer = ctx.suppress
        for stmt in parsed.statements:
            ctx.suppress = stmt.suppress | outer
            lint_statement(ctx, stmt)
        ctx.suppress = outer
    ctx.op = None


_OTHER_DIALECT_FIX = (
    'Run it only on that database: put it under `if op.get_bind().dialect.name == "NAME":` (the lint '
    "skips that branch) with the PostgreSQL statement in the else branch. A project that never runs on "
    "PostgreSQL needs no PostgreSQL lint."
)
_PYTHON_FIX = (
    "Fix the Python syntax: Alembic cannot import the revision, so it cannot run (python -m py_compile FILE)."
)


def _syntax_findings(ctx: Context, errors, fix: str = "") -> None:
    """``errors`` as syntax-error findings; ``fix``: the recipe when it is not the SQL one (Python's)."""
    for problem in errors:
        ctx.location = (problem.line, problem.column)
        ctx.rule = None
        ctx.report(problem.message, rule="syntax-error", exempt_new=False, fix=problem.fix or fix)
    ctx.location = None


def _line_getter(lines: list[str]):
    def line_text(n: int) -> str:
        return lines[n - 1] if 0 < n <= len(lines) else ""

    return line_text


def sorted_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.line, f.column, f.rule))


# ---- files and folders


def lint_text(
    text: str,
    path: str,
    settings: Settings,
    *,
    sources: bool = True,
    offline: Path | None = None,
    record: dict | None = None,
    stats: dict | None = None,
) -> list[Finding]:
    """Lint a file's text as SQL or as an Alembic revision, by its name and content; ``sources``: findings
    carry their source line (text output shows it, JSON has no place for it); ``record``, ``stats``: see
    :func:`lint_sql`."""
    if path.endswith(".sum"):
        # lazy: the rule modules load through the registry, when a lint first needs them
        from .rules.checksums import lint_sum_file

        return lint_sum_file(path, settings)
    if path.endswith(".py") or path == "-":
        # lazy: a plain .sql lint loads no dbpatterns.alembic
        from ..alembic.static import looks_like_revision

        if looks_like_revision(text):  # standard input holding a revision is linted as one too
            return lint_revision(
                text, path, settings, sources=sources, offline=offline, record=record, stats=stats
            )
        if path != "-":
            return []
    return lint_sql(text, path, settings, sources=sources, record=record, stats=stats)


def collect(paths: Iterable[str], settings: Settings) -> Iterator[tuple[str, Path | None]]:
    """(display path, file) for every file to lint; ``-`` is stdin (file None)."""
    for display, file in _files(paths, settings):
        if file != NOT_REGULAR:
            yield display, None if file is None else Path(file)


def _files(paths: Iterable[str], settings: Settings) -> Iterator[tuple[str, str | None]]:
    """Like ``collect``, with the files as strings (a Path per file costs more than reading it)."""
    for raw in paths:
        if raw == "-":
            yield "-", None
            continue
        path = Path(raw)
        if not path.exists():
            raise InputError(f"{raw}: no such file or directory")
        if path.is_dir():
            yield from _folder(path, settings)
        else:
            yield raw, raw


def _folder(folder: Path, settings: Settings) -> Iterator[tuple[str, str]]:
    project = None
    if may_configure_alembic(str(folder)):
        # lazy: a plain .sql lint loads no dbpatterns.alembic
        from ..alembic.project import find_project

        project = find_project(folder, settings.alembic_section)
    roots = [Path(p) for p in project.version_locations] if project else [folder]
    seen: set[str] = set()
    exclude = settings.exclude
    for root in roots:
        for dirpath, dirnames, filenames, others in _walk(str(root)):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
            base = str(Path(dirpath))  # the spelling str(Path(dirpath, name)) would give
            prefix = "" if base == "." else base if base.endswith("/") else base + "/"
            for name in sorted(filenames + others):
                if not name.endswith((".sql", ".py")):
                    continue
                file = prefix + name
                if file in seen or (exclude and _excluded(file, name, exclude)):
                    continue
                seen.add(file)
                yield file, (NOT_REGULAR if name in others else file)
    if project is not None:  # the sum file (dbpatterns sum): lint_text checks it
        # lazy: the rule modules load through the registry, when a lint first needs them
        from .rules.checksums import sum_file_of

        yield from sum_file_of(project)


#: In place of a file a folder walk found: a FIFO, socket or device, never opened (a read could block).
NOT_REGULAR = "\0not-a-regular-file"


def _walk(top: str):
    """``os.walk``'s (folder, subfolders, files) with a fourth list: entries that are neither folders nor
    regular files (FIFOs, sockets, devices). File types come from the directory listing: no stat per file."""
    try:
        entries = list(os.scandir(top))
    except OSError:
        return
    dirs, files, others = [], [], []
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                dirs.append(entry.name)
            elif entry.is_file():
                files.append(entry.name)
            else:
                others.append(entry.name)
        except OSError:
            continue
    yield top, dirs, files, others
    for name in dirs:
        yield from _walk(os.path.join(top, name))


def _excluded(file: str, name: str, exclude: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(file, pat) or fnmatch.fnmatch(name, pat) for pat in exclude)


PARALLEL_MIN_FILES = 64  # below this, starting worker processes costs more than it saves


@dataclass
class LintResult:
    """What linting files and folders gives: the findings (in file order), the number of files read and
    the number of migrations whose findings were skipped (at or before ``start_after``)."""

    findings: list[Finding]
    files: int
    skipped: int | None = None  # None: no start_after
    stats: dict | None = None  # the operation counts (STAT_KEYS) of the migrations linted


def lint_paths(paths: Iterable[str], settings: Settings, **options) -> tuple[list[Finding], int]:
    """Findings for every file under ``paths``, and how many files were read (``options``: those of
    :func:`lint_report`)."""
    result = lint_report(paths, settings, **options)
    return result.findings, result.files


def lint_report(
    paths: Iterable[str],
    settings: Settings,
    *,
    offline: bool = False,
    jobs: int | None = None,
    start_after=None,
    since: str | None = None,
    cache: bool = True,
) -> LintResult:
    """Lint every file under ``paths``.

    Migrations of an ordered history (an Alembic project, a folder of versioned SQL files) are linted
    knowing what their predecessors did to the schema (:mod:`dbpatterns.lint.history`). ``start_after``
    (revisions or SQL file names; default: the settings' ``start_after``): findings of those migrations
    and of everything before them are skipped. ``since`` (a git ref): only files added or changed since it
    are linted. Large sets of files are shared between this process and forked workers (one process per
    core, Linux), and the findings come back in file order. ``cache``: SQL files linted before with the
    same text and settings give their results from :mod:`dbpatterns.lint.cache`.
    """
    chunks, files, skipped, stats = _lint_chunks(
        paths, settings, offline=offline, jobs=jobs, start_after=start_after, since=since, cache=cache
    )
    return LintResult([f for chunk in chunks for f in chunk], files, skipped, stats)


def lint_paths_json(paths: Iterable[str], settings: Settings, **options) -> tuple[list[bytes], int, int]:
    """What ``json_bytes`` gives for ``lint_report`` (``options``: its options), in pieces to write one
    after the other, their number and the files read: each process renders the findings of the chunks
    it lints, and this one puts the parts in order."""

    def rendered(found: list[Finding]) -> tuple[bytes, int]:
        return json_items(found), len(found)

    chunks, files, skipped, stats = _lint_chunks(paths, settings, pack=rendered, sources=False, **options)
    pieces = json_pieces([data for data, _ in chunks], extra=report_extra(skipped, stats))
    return pieces, sum(n for _, n in chunks), files


def report_extra(skipped: int | None, stats: dict | None) -> dict:
    """The top-level keys of the JSON lint report after ``findings``: ``skipped`` (with a start_after)
    and ``stats``."""
    extra: dict = {} if skipped is None else {"skipped": skipped}
    if stats is not None:
        extra["stats"] = stats
    return extra


def _lint_chunks(
    paths,
    settings: Settings,
    *,
    offline: bool = False,
    jobs: int | None = None,
    pack=None,
    sources: bool = True,
    start_after=None,
    since: str | None = None,
    cache: bool = True,
) -> tuple[list, int, int, dict]:
    """The results of linting the files under ``paths`` piece by piece, in file order (a list of findings
    each, or what ``pack`` makes of it), the number of files, the number of skipped migrations and the
    operation counts (:data:`STAT_KEYS`, summed over every chunk, wherever it was linted).

    A chunk of files comes back as segments: ``("r", findings)`` for a run of files whose findings are
    final (packed in the process that linted them), ``("q", display, findings, questions)`` for a file
    whose findings the history settles here (:func:`history.settle`), packed afterwards."""
    files = list(_files(paths, settings))
    if since is not None:
        # lazy: git is asked only with --since
        from ..gitref import changed_since

        changed = changed_since(paths, since)
        files = [(d, f) for d, f in files if f is not None and os.path.abspath(f) in changed]
    strict = start_after is not None  # given here, not by the settings
    if start_after is None:
        start_after = settings.start_after_for(settings.alembic_section)
    plan = history.plan(files, settings, start_after, strict=strict)
    workers = _worker_count(len(files), offline) if jobs is None else max(1, jobs)
    results_cache = ResultCache.open(settings) if cache and not offline else None
    # The parse trees hold no reference cycles: the cycle collector would only walk them again and again.
    collecting = gc.isenabled()
    gc.disable()
    running = None  # forked workers, maybe still writing their cache shards
    try:
        lint = partial(
            _lint_files,
            settings=settings,
            offline=offline,
            sources=sources,
            ordered=plan.ordered,
            skip=plan.skip,
            cache=results_cache,
        )
        if workers <= 1 or not hasattr(os, "fork"):
            results = [_pack_segments(lint(files), pack, wire=False)]
        else:  # the questions of a folder of SQL files are settled as the chunks come in
            streaming = history.Streaming(plan, settings, pack) if plan.history_of else None
            results, running = _lint_forked(files, lint, workers, pack, results_cache, streaming)
        stats = new_stats()
        for segments, _ in results:  # each chunk's counts travel as its last segment
            for seg in segments:
                if seg[0] == "s":
                    add_stats(stats, **seg[1])
        out = _settled(results, plan, settings, pack)
        del results  # thousands of findings and deltas: gone before the cycle collector runs again
    finally:
        if running is not None:
            running.finish()
        if collecting:
            gc.enable()
    if results_cache is not None:
        results_cache.store()
        results_cache.compact()
    return out, len(files), len(plan.skip) if start_after else None, stats


def _settled(results: list, plan, settings: Settings, pack) -> list:
    """The chunks' findings (or what ``pack`` makes of them) in order, the questions of the files in a
    history settled first (:func:`history.settle`)."""
    deltas: dict[str, list] = {}
    asked = []
    for segments, chunk_deltas in results:
        deltas.update(chunk_deltas)
        asked += [(seg[1], seg[2], seg[3]) for seg in segments if seg[0] == "q"]
    if asked:
        history.settle(plan, deltas, asked, settings)
    out = []
    for segments, _ in results:
        for seg in segments:
            if seg[0] == "r":
                out.append(seg[1])
            elif seg[0] == "q":
                out.append(seg[2] if pack is None else pack(seg[2]))
    return out


def _pack_segments(result, pack, *, wire: bool):
    """A chunk's (segments, deltas) as it leaves the process that linted it: final findings packed
    (``pack``, else as plain tuples when ``wire``: cheaper to pickle than Finding objects), the findings
    still to settle as tuples when ``wire``; the deltas as they are (compact: see ``state.delta_type``)."""
    segments, deltas = result
    out = []
    for seg in segments:
        if seg[0] == "r":
            found = seg[1]
            out.append(("r", pack(found) if pack is not None else _as_tuples(found) if wire else found))
        elif seg[0] == "s":
            out.append(seg)
        else:
            out.append(("q", seg[1], _as_tuples(seg[2]) if wire else seg[2], seg[3]))
    return out, deltas


def _unwire(result, packed: bool):
    """A worker's chunk result as :func:`_pack_segments` sent it, with Finding objects again."""
    segments, deltas = result
    out = []
    for seg in segments:
        if seg[0] == "r":
            out.append(seg if packed else ("r", [Finding(*v) for v in seg[1]]))
        elif seg[0] == "s":
            out.append(seg)
        else:
            out.append(("q", seg[1], [Finding(*v) for v in seg[2]], seg[3]))
    return out, deltas


def _lint_forked(
    files: list, lint, workers: int, pack, cache=None, streaming: history.Streaming | None = None
) -> tuple[list, _Workers]:
    """Lint ``files`` with ``lint`` (``_lint_files`` given its options) in ``workers`` processes: this one
    and ``workers - 1`` forks of it; the chunks' results in order (see ``_lint_chunks``), and the workers,
    still writing their cache shards: :meth:`_Workers.finish` waits for them. ``streaming``: is handed
    each chunk's results as they come in (:class:`history.Streaming`).

    The files are cut into chunks whose numbers wait in a pipe; every process takes the next number when
    it is free (a 4-byte read from a pipe is atomic), so a slow chunk does not hold the others up. A worker
    sends each chunk's findings and deltas back as soon as it has them, the findings as plain tuples
    (cheaper to pickle than Finding objects) or as ``pack`` made them, and an exception (a file that cannot
    be read) as the exception, raised here for the first chunk that had one. This process reads them
    between its own chunks, so little is left at the end; it returns once every chunk's results are in.
    """
    chunks = _chunks(files, workers)
    tasks, queue = os.pipe()
    os.write(queue, b"".join(i.to_bytes(4, "little") for i in range(len(chunks))))  # < PIPE_BUF: no block
    os.close(queue)
    sys.stdout.flush()
    sys.stderr.flush()
    running = _Workers(cache, packed=pack is not None, streaming=streaming)
    results = running.results
    try:
        for _ in range(min(workers, len(chunks)) - 1):
            reader, writer = os.pipe()
            _widen(writer)
            pid = os.fork()
            if pid == 0:  # a worker: lint chunks until none is left, send each one's results, leave
                code = 0
                try:
                    os.close(reader)
                    for other in running.children:
                        os.close(other)
                    for index, part in _take_chunks(tasks, chunks, lint, pack, wire=True):
                        _send(writer, index, part)
                    if cache is not None and cache.used:  # each process stores what it added itself
                        cache.store()
                        _send(writer, _CACHED, list(cache.used))
                except BaseException:  # noqa: BLE001 - never return into the parent's code
                    code = 1
                finally:
                    os._exit(code)
            os.close(writer)
            os.set_blocking(reader, False)
            running.children[reader] = (pid, bytearray())
        for index, part in _take_chunks(tasks, chunks, lint, pack):
            running.add(index, part)
            running.receive(wait=False)
        if cache is not None:  # this process's shard, written while the workers finish theirs
            cache.store()
        while running.children and len(results) < len(chunks):
            running.receive(wait=True)
    except BaseException:  # Ctrl-C included: the workers are stopped, not waited for
        running.stop()
        raise
    finally:
        os.close(tasks)
    if len(results) < len(chunks):
        running.stop()
        raise RuntimeError("a lint worker process died")
    ordered = [results[index] for index in range(len(chunks))]
    for part in ordered:
        if isinstance(part, BaseException):
            running.stop()
            raise part
    return ordered, running


class _Workers:
    """The worker processes of a forked lint and the chunks' results (chunk number -> results), this
    process's and theirs. Once every chunk's results are in, a worker may still be writing its cache
    shard: :meth:`finish` reads the cache entries it used and reaps it."""

    def __init__(self, cache, *, packed: bool, streaming=None) -> None:
        self.results: dict[int, object] = {}
        self.cache = cache
        self.packed = packed
        self.streaming = streaming  # handed each chunk's results as they come in
        self.children: dict[int, tuple[int, bytearray]] = {}  # pipe from a worker -> (pid, bytes unread)
        self.used: list[str] = []  # the cache entries the workers used

    def add(self, index: int, part) -> None:
        """A chunk's results, linted here or received (``_unwire``-ed) from a worker."""
        self.results[index] = part
        if self.streaming is not None:
            self.streaming.add(part)

    def receive(self, *, wait: bool) -> None:
        """Read what the workers have sent (waiting for some when ``wait``): each record is a chunk's number
        and findings, pickled, after its length. A worker whose pipe is closed is reaped."""
        # lazy: only the forked parallel lint uses it; a one-file lint does not load it
        import pickle
        import select

        ready, _, _ = select.select(list(self.children), [], [], None if wait else 0)
        for reader in ready:
            pid, unread = self.children[reader]
            ended = False
            while True:
                try:
                    data = os.read(reader, 1 << 20)
                except BlockingIOError:
                    break
                if not data:
                    ended = True
                    break
                unread += data
            at = 0
            view = memoryview(unread)
            while len(unread) - at >= 8:
                size = int.from_bytes(view[at : at + 8], "little")
                if len(unread) - at - 8 < size:
                    break
                index, part = pickle.loads(view[at + 8 : at + 8 + size])
                if index == _CACHED:
                    self.used.extend(part)
                else:
                    self.add(index, part if isinstance(part, BaseException) else _unwire(part, self.packed))
                at += 8 + size
            view.release()
            del unread[:at]
            if ended:
                del self.children[reader]
                os.close(reader)
                os.waitpid(pid, 0)

    def finish(self) -> None:
        """Read what the workers still send (the cache entries they used), then reap them."""
        try:
            while self.children:
                self.receive(wait=True)
        finally:
            self.stop()
        if self.cache is not None:
            self.cache.used.update(self.used)

    def stop(self) -> None:
        """Stop reading from the workers (one still writing gets EPIPE and leaves) and reap them."""
        for reader, (pid, _) in self.children.items():
            os.close(reader)
            os.waitpid(pid, 0)
        self.children.clear()


_CACHED = -1  # the record number of the cache entries a worker used


def _send(writer: int, index: int, part) -> None:
    # lazy: only the forked parallel lint uses it; a one-file lint does not load it
    import pickle

    data = pickle.dumps((index, part), pickle.HIGHEST_PROTOCOL)
    _write_all(writer, len(data).to_bytes(8, "little") + data)


def _widen(pipe: int) -> None:
    """Let a worker's pipe hold 1 MiB (Linux allows that much by default): a worker then rarely waits
    for this process to read."""
    try:
        # lazy: fcntl exists on POSIX only
        import fcntl

        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, 1 << 20)
    except (ImportError, AttributeError, OSError):
        pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _chunks(files: list, workers: int) -> list[list]:
    """Cut ``files`` into chunks that shrink as the work runs out: each is a share of what is left
    (1/(3 x workers), at most 100 files), so the processes finish close together without a read per
    file. Never more than 1000 chunks: their numbers (4 bytes each) must fit in the pipe at once."""
    smallest = max(4, -(-len(files) // 1000))
    largest = max(100, smallest)
    chunks = []
    start = 0
    while start < len(files):
        size = min(largest, max(smallest, (len(files) - start) // (3 * workers)))
        chunks.append(files[start : start + size])
        start += size
    return chunks


def _take_chunks(tasks: int, chunks: list, lint, pack=None, *, wire: bool = False) -> Iterator[tuple]:
    """Lint (with ``lint``) the chunks whose numbers this process reads from the ``tasks`` pipe: (number,
    segments and deltas as :func:`_pack_segments` makes them), or (number, the exception linting the
    chunk raised)."""
    while number := os.read(tasks, 4):
        index = int.from_bytes(number, "little")
        try:
            part = _pack_segments(lint(chunks[index]), pack, wire=wire)
        except Exception as exc:  # noqa: BLE001 - handed to the caller, raised there in file order
            part = exc
        yield index, part


_fields = attrgetter(*Finding.__slots__)  # a finding as the tuple Finding(*fields) makes again


def _as_tuples(findings: list[Finding]) -> list[tuple]:
    """What a worker sends of findings it has not rendered: plain tuples, cheaper to pickle."""
    return [_fields(f) for f in findings]


def _worker_count(files: int, offline: bool) -> int:
    if offline or files < PARALLEL_MIN_FILES or sys.platform != "linux":
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, files // (PARALLEL_MIN_FILES // 2), 8))


def _lint_files(
    files: list[tuple[str, str | None]],
    settings: Settings,
    offline: bool,
    sources: bool = True,
    ordered: frozenset[str] = frozenset(),
    skip: frozenset[str] | set[str] = frozenset(),
    cache=None,
) -> tuple[list, dict]:
    """Lint ``files``: (segments, deltas), see :func:`_lint_chunks`. A file in ``ordered`` (a history)
    gives its delta and questions; one in ``skip`` its delta only (and is not counted). The last segment
    is ``("s", counts)``: the operation counts of the files linted (:data:`STAT_KEYS`)."""
    segments: list = []
    run: list[Finding] = []
    deltas: dict[str, list] = {}
    quiet = None
    limit = int(settings.max_file_mb * 1024 * 1024)
    base = settings
    envs: dict[str, Settings] = {}  # a revision's folder -> the settings with its env.py's
    projects: dict = {}
    stats = new_stats()
    for display, file in files:
        settings = _env_settings(base, file, envs, projects)
        if file == NOT_REGULAR:
            run.append(_unreadable(display, "not a regular file (a FIFO, socket or device): not read"))
            continue
        try:
            text = read_source(file, limit)
        except UnicodeDecodeError as exc:
            if display not in skip:
                run.append(_unreadable(display, f"not UTF-8 text ({exc.reason} at byte {exc.start})"))
            continue
        except FileTooLarge as exc:
            run.append(_unreadable(display, str(exc)))
            continue
        except OSError as exc:
            raise InputError(f"{display}: cannot read: {exc.strerror}") from None
        ordered_file = display in ordered
        if display in skip:  # only its effect on the schema is wanted: no rule runs
            quiet = quiet or _quiet(settings)
            _, deltas[display], _ = _linted(text, display, file, quiet, False, None, True, cache, None)
            continue
        rendered = Path(file) if offline and file is not None else None
        found, delta, asked = _linted(
            text, display, file, settings, sources, rendered, ordered_file, cache, stats
        )
        if not ordered_file:
            run.extend(found)
            continue
        deltas[display] = delta
        if not asked:
            run.extend(found)
            continue
        if run:
            segments.append(("r", run))
            run = []
        segments.append(("q", display, found, asked))
    if run or not segments:
        segments.append(("r", run))
    segments.append(("s", stats))
    return segments, deltas


def _linted(
    text: str,
    display: str,
    file: str | None,
    settings: Settings,
    sources: bool,
    offline,
    ordered: bool,
    cache,
    stats: dict | None,
):
    """(findings, delta, questions as (finding index, ...)) of one file: from ``cache`` (a
    :class:`~dbpatterns.lint.cache.ResultCache`) when it holds them, else linted (and kept there); its
    operation counts are added to ``stats``. Only SQL files are cached, never with ``offline``."""
    key = None
    if cache is not None and offline is None and file is not None and display.endswith(".sql"):
        key = cache.key(display, text, settings, sources=sources, record=ordered)
        hit = cache.get(key)
        if hit is not None:
            found, delta, asked, counts = hit
            if stats is not None:
                add_stats(stats, **counts)
            return found, delta, asked
    record = {} if ordered else None
    counts = new_stats() if stats is not None or key is not None else None
    found = lint_text(text, display, settings, sources=sources, offline=offline, record=record, stats=counts)
    if stats is not None:
        add_stats(stats, **counts)
    delta, asked = [], []
    if record is not None:
        delta = record.get("delta") or []
        questions = record.get("questions")
        if questions:
            index = {id(f): i for i, f in enumerate(found)}
            asked = [(index[id(q[0])], *q[1:]) for q in questions if id(q[0]) in index]
    if key is not None:
        cache.put(key, found, delta, asked, counts)
    return found, delta, asked


def _env_settings(settings: Settings, file: str | None, envs: dict, projects: dict) -> Settings:
    """``settings`` with what the env.py of the revision's project sets for every revision (lock_timeout,
    statement_timeout, transaction_per_migration: :mod:`dbpatterns.alembic.envpy`), once per folder."""
    if not file or not file.endswith(".py"):
        return settings
    folder = os.path.dirname(os.path.abspath(file))
    found = envs.get(folder)
    if found is None:
        # lazy: a plain .sql lint loads no dbpatterns.alembic
        from ..alembic.envpy import read_env

        project = project_of(folder, projects)
        found = envs[folder] = read_env(project.env_py).settings(settings) if project else settings
    return found


def _quiet(settings: Settings) -> Settings:
    """``settings`` with no rule selected: the lint's bookkeeping alone (a migration's delta)."""
    return settings.replace(select=frozenset(), extend_select=frozenset(), per_path_ignores=())


class FileTooLarge(Exception):
    """A file over the ``max_file_mb`` setting (read no further)."""


def read_source(file: str | None, limit: int = 10 << 20) -> str:
    """A file's text (``None``: standard input) as ``Path.read_text(encoding="utf-8")`` gives it
    (universal newlines); :class:`FileTooLarge` past ``limit`` bytes, however the file was given (a
    process substitution or /dev/zero has no size to look at first)."""
    if file is None:
        try:
            fd = sys.stdin.fileno()
        except (AttributeError, OSError, ValueError):  # a stand-in stream (an embedding host, a test)
            text = sys.stdin.read(limit + 1)
            if len(text.encode(errors="surrogateescape")) > limit:
                raise FileTooLarge(f"larger than {limit / (1 << 20):.3g} MB: not read") from None
            return text.replace("\r\n", "\n").replace("\r", "\n")
    else:
        fd = os.open(file, os.O_RDONLY)
    try:
        data = os.read(fd, min(limit + 1, 1 << 16))
        if data:
            parts = [data]
            size = len(data)
            while size <= limit and (chunk := os.read(fd, min(limit + 1 - size, 1 << 20))):
                parts.append(chunk)
                size += len(chunk)
            if size > limit:
                raise FileTooLarge(
                    f"larger than {limit / (1 << 20):.3g} MB (max_file_mb in [tool.dbpatterns]): not read"
                )
            if len(parts) > 1:
                data = b"".join(parts)
    finally:
        if file is not None:
            os.close(fd)
    text = data.decode("utf-8")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _unreadable(path: str, why: str) -> Finding:
    return Finding("syntax-error", "error", path, 1, 1, why)
