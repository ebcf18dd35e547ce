"""Lint SQL text, Alembic revisions, files and folders."""

from __future__ import annotations

import fnmatch
import gc
import os
import sys
from collections.abc import Iterable, Iterator
from functools import partial
from operator import attrgetter
from pathlib import Path

from ..errors import InputError, first_line
from ..findings import Finding
from ..settings import Settings
from ..sql import parse as sqlparse
from .engine import Context, finish, lint_statement, run_rules
from .state import MigrationState

SKIP_DIRS = {".git", ".hg", ".venv", "venv", "env", "node_modules", "__pycache__", "site-packages", ".tox"}


def lint_sql(
    text: str, path: str = "<sql>", settings: Settings | None = None, *, sources: bool = True
) -> list[Finding]:
    """Lint one SQL migration (a file's text); ``sources``: findings carry their source line."""
    settings = settings or Settings()
    parsed = sqlparse.parse(text)
    state = MigrationState(in_transaction=settings.sql_in_transaction)
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
) -> list[Finding]:
    """Lint an Alembic revision file, read statically: its ``op.*`` calls are checked as the SQL they run;
    ``sources``: findings carry their source line. ``offline``: the revision's file, also rendered through
    Alembic's offline mode; what that SQL shows is added (deduplicated), never removes a static finding."""
    from ..alembic.static import read_revision

    settings = settings or Settings()
    revision = read_revision(text, path)
    line_text = _line_getter(text.splitlines()) if sources else None
    ctx = Context(settings, MigrationState(in_transaction=True), path, alembic=True, line_text=line_text)
    if revision.syntax_error:
        line, col, message = revision.syntax_error
        _syntax_findings(ctx, [sqlparse.SyntaxProblem(line, col, message)])
        return ctx.findings
    _lint_revision_body(ctx, revision, revision.upgrade or (), revision.downgrade, in_transaction=True)
    if offline is not None:
        _add_offline(ctx, revision, offline)
    return sorted_findings(ctx.findings)


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
        lint_units(ctx, downgrade, revision.suppressions)
        ctx.suppress = frozenset()
        finish(ctx)
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
    from ..alembic.offline import render_revision

    static = ctx.findings
    try:
        upgrade, downgrade = render_revision(file)
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
        if unit.sql is None:
            ctx.stmt = None
            run_rules(ctx, "opaque-op", {"op": unit})
            continue
        parsed = sqlparse.parse(unit.sql)
        ctx.text = unit.sql
        if parsed.errors:
            ctx.rule = None
            ctx.report(
                f"the SQL of op.{unit.op} does not parse: {parsed.errors[0].message}",
                rule="syntax-error",
                exempt_new=False,
            )
        outer = ctx.suppress
        for stmt in parsed.statements:
            ctx.suppress = stmt.suppress | outer
            lint_statement(ctx, stmt)
        ctx.suppress = outer
    ctx.op = None


def _syntax_findings(ctx: Context, errors) -> None:
    for problem in errors:
        ctx.location = (problem.line, problem.column)
        ctx.rule = None
        ctx.report(problem.message, rule="syntax-error", exempt_new=False)
    ctx.location = None


def _line_getter(lines: list[str]):
    def line_text(n: int) -> str:
        return lines[n - 1] if 0 < n <= len(lines) else ""

    return line_text


def sorted_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.line, f.column, f.rule))


# ---- files and folders


def lint_text(
    text: str, path: str, settings: Settings, *, sources: bool = True, offline: Path | None = None
) -> list[Finding]:
    """Lint a file's text as SQL or as an Alembic revision, by its name and content; ``sources``: findings
    carry their source line (text output shows it, JSON has no place for it)."""
    if path.endswith(".sum"):
        from .rules.checksums import lint_sum_file

        return lint_sum_file(path, settings)
    if path.endswith(".py"):
        from ..alembic.static import looks_like_revision

        if not looks_like_revision(text):
            return []
        return lint_revision(text, path, settings, sources=sources, offline=offline)
    return lint_sql(text, path, settings, sources=sources)


def collect(paths: Iterable[str], settings: Settings) -> Iterator[tuple[str, Path | None]]:
    """(display path, file) for every file to lint; ``-`` is stdin (file None)."""
    for display, file in _files(paths, settings):
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
    from ..alembic.project import find_project

    project = find_project(folder, settings.alembic_section)
    roots = [Path(p) for p in project.version_locations] if project else [folder]
    seen: set[str] = set()
    exclude = settings.exclude
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
            base = str(Path(dirpath))  # the spelling str(Path(dirpath, name)) would give
            prefix = "" if base == "." else base if base.endswith("/") else base + "/"
            for name in sorted(filenames):
                if not name.endswith((".sql", ".py")):
                    continue
                file = prefix + name
                if file in seen or (exclude and _excluded(file, name, exclude)):
                    continue
                seen.add(file)
                yield file, file
    if project is not None:  # the sum file (dbpatterns sum): lint_text checks it
        from .rules.checksums import sum_file_of

        yield from sum_file_of(project)


def _excluded(file: str, name: str, exclude: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(file, pat) or fnmatch.fnmatch(name, pat) for pat in exclude)


PARALLEL_MIN_FILES = 64  # below this, starting worker processes costs more than it saves


def lint_paths(
    paths: Iterable[str], settings: Settings, *, offline: bool = False, jobs: int | None = None
) -> tuple[list[Finding], int]:
    """Findings for every file under ``paths``, and how many files were read.

    Large sets of files are shared between this process and forked workers (one process per core, Linux),
    and the findings come back in file order.
    """
    chunks, files = _lint_chunks(paths, settings, offline, jobs)
    return [f for chunk in chunks for f in chunk], files


def lint_paths_json(
    paths: Iterable[str], settings: Settings, *, offline: bool = False, jobs: int | None = None
) -> tuple[list[bytes], int, int]:
    """What ``json_bytes`` gives for ``lint_paths``' findings, in pieces to write one after the other,
    their number and the files read: each process renders the findings of the chunks it lints, and this
    one puts the parts in order."""
    from ..output.text import json_items, json_pieces

    def rendered(found: list[Finding]) -> tuple[bytes, int]:
        return json_items(found), len(found)

    chunks, files = _lint_chunks(paths, settings, offline, jobs, rendered, sources=False)
    return json_pieces([data for data, _ in chunks]), sum(n for _, n in chunks), files


def _lint_chunks(
    paths, settings: Settings, offline: bool, jobs: int | None, pack=None, *, sources: bool = True
) -> tuple[list, int]:
    """The results of linting the files under ``paths`` chunk by chunk, in file order (a list of findings
    each, or what ``pack`` makes of it, in the process that linted the chunk), and the number of files."""
    files = list(_files(paths, settings))
    workers = _worker_count(len(files), offline) if jobs is None else max(1, jobs)
    # The parse trees hold no reference cycles: the cycle collector would only walk them again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if workers <= 1 or not hasattr(os, "fork"):
            findings = _lint_files(files, settings, offline, sources)
            return [findings if pack is None else pack(findings)], len(files)
        lint = partial(_lint_files, settings=settings, offline=offline, sources=sources)
        return _lint_forked(files, lint, workers, pack), len(files)
    finally:
        if collecting:
            gc.enable()


def _lint_forked(files: list, lint, workers: int, pack) -> list:
    """Lint ``files`` with ``lint`` (``_lint_files`` given its options) in ``workers`` processes: this one
    and ``workers - 1`` forks of it; the chunks' results in order (see ``_lint_chunks``).

    The files are cut into chunks whose numbers wait in a pipe; every process takes the next number when
    it is free (a 4-byte read from a pipe is atomic), so a slow chunk does not hold the others up. A worker
    sends each chunk's findings back as soon as it has them, as plain tuples (cheaper to pickle than Finding
    objects) or as ``pack`` made them, and an exception (a file that cannot be read) as the exception,
    raised here for the first chunk that had one. This process reads them between its own chunks, so
    little is left at the end.
    """
    import pickle

    chunks = _chunks(files, workers)
    tasks, queue = os.pipe()
    os.write(queue, b"".join(i.to_bytes(4, "little") for i in range(len(chunks))))  # < PIPE_BUF: no block
    os.close(queue)
    sys.stdout.flush()
    sys.stderr.flush()
    results: dict[int, object] = {}
    children: dict[int, tuple[int, bytearray]] = {}  # pipe from a worker -> (its pid, bytes not yet read)
    try:
        for _ in range(min(workers, len(chunks)) - 1):
            reader, writer = os.pipe()
            _widen(writer)
            pid = os.fork()
            if pid == 0:  # a worker: lint chunks until none is left, send each one's results, leave
                code = 0
                try:
                    os.close(reader)
                    for other in children:
                        os.close(other)
                    for index, part in _take_chunks(tasks, chunks, lint, pack or _as_tuples):
                        data = pickle.dumps((index, part), pickle.HIGHEST_PROTOCOL)
                        _write_all(writer, len(data).to_bytes(8, "little") + data)
                except BaseException:  # noqa: BLE001 - never return into the parent's code
                    code = 1
                finally:
                    os._exit(code)
            os.close(writer)
            os.set_blocking(reader, False)
            children[reader] = (pid, bytearray())
        for index, part in _take_chunks(tasks, chunks, lint, pack):
            results[index] = part
            _receive(children, results, wait=False, packed=pack is not None)
        while children:
            _receive(children, results, wait=True, packed=pack is not None)
    finally:
        os.close(tasks)
        for reader, (pid, _) in children.items():  # only after an error here: stop the workers, reap them
            os.close(reader)
            os.waitpid(pid, 0)
    if len(results) < len(chunks):
        raise RuntimeError("a lint worker process died")
    ordered = [results[index] for index in range(len(chunks))]
    for part in ordered:
        if isinstance(part, BaseException):
            raise part
    return ordered


def _receive(children: dict, results: dict, *, wait: bool, packed: bool = False) -> None:
    """Read what the workers have sent (waiting for some when ``wait``): each record is a chunk's number
    and findings, pickled, after its length. A worker whose pipe is closed is reaped."""
    import pickle
    import select

    ready, _, _ = select.select(list(children), [], [], None if wait else 0)
    for reader in ready:
        pid, unread = children[reader]
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
            keep = packed or isinstance(part, BaseException)
            results[index] = part if keep else [Finding(*v) for v in part]
            at += 8 + size
        view.release()
        del unread[:at]
        if ended:
            del children[reader]
            os.close(reader)
            os.waitpid(pid, 0)


def _widen(pipe: int) -> None:
    """Let a worker's pipe hold 1 MiB (Linux allows that much by default): a worker then rarely waits
    for this process to read."""
    try:
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


def _take_chunks(tasks: int, chunks: list, lint, pack=None) -> Iterator[tuple]:
    """Lint (with ``lint``) the chunks whose numbers this process reads from the ``tasks`` pipe: (number,
    findings, or what ``pack`` makes of them), or (number, the exception linting the chunk raised)."""
    while number := os.read(tasks, 4):
        index = int.from_bytes(number, "little")
        try:
            part = lint(chunks[index])
            if pack is not None:
                part = pack(part)
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
    files: list[tuple[str, str | None]], settings: Settings, offline: bool, sources: bool = True
) -> list[Finding]:
    findings: list[Finding] = []
    for display, file in files:
        if file is None:
            text = sys.stdin.read()
        else:
            try:
                text = read_source(file)
            except UnicodeDecodeError as exc:
                findings.append(_unreadable(display, f"not UTF-8 text ({exc.reason} at byte {exc.start})"))
                continue
            except OSError as exc:
                raise InputError(f"{display}: cannot read: {exc.strerror}") from None
        rendered = Path(file) if offline and file is not None else None
        findings.extend(lint_text(text, display, settings, sources=sources, offline=rendered))
    return findings


def read_source(file: str) -> str:
    """A file's text as ``Path.read_text(encoding="utf-8")`` gives it (universal newlines), read with
    two system calls instead of an io stack per file."""
    fd = os.open(file, os.O_RDONLY)
    try:
        data = os.read(fd, 1 << 16)
        if data:
            parts = [data]
            while chunk := os.read(fd, 1 << 20):
                parts.append(chunk)
            if len(parts) > 1:
                data = b"".join(parts)
    finally:
        os.close(fd)
    text = data.decode("utf-8")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _unreadable(path: str, why: str) -> Finding:
    return Finding("syntax-error", "error", path, 1, 1, why)
