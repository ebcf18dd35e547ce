"""Ordered histories: the schema flows from one migration to the next.

A migration is linted knowing what the earlier migrations of its history did to the schema: the revisions
before it in an Alembic project (``RevisionGraph.order()``, its ancestors only), or the files before it in
a folder of versioned SQL files (natural order of their versions: ``V2`` before ``V10``; Flyway
``V1__x.sql``, golang-migrate ``1_x.up.sql``, plain ``0001_x.sql``; ``.down.sql`` and Flyway ``U`` undo
files are not part of the forward state). A lone file outside any project or ordered folder is linted
alone, as before.

The files are linted independently (in parallel, see :mod:`dbpatterns.lint.run`); each one in a history
also gives its effect on the schema (``delta``, see :class:`dbpatterns.lint.state.Schema`) and the
findings only the earlier migrations can settle (``questions``: a type change whose old type is not in the
file). The parent then replays the deltas in history order and settles each file's questions against the
schema its predecessors left. Predecessors that were not linted (one file, pre-commit's list, ``--since``)
give their deltas from a cache keyed by the file's content (``files.cache_root()/history``).

``start_after`` (revisions, or SQL file names): the findings of those migrations and of everything before
them are dropped (they are counted as ``skipped``); they still feed the schema.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import InputError
from ..settings import Settings
from ..sql.knowledge import unknown_type
from ..sql.nodes import bare
from .cache import code_stamp
from .state import Schema

CACHE_FORMAT = 4  # 2: a revision's entry names the project modules its reading used; 4: compact deltas

_FLYWAY_VERSION = re.compile(r"\d+(?:[._]\d+)*")
_LEADING_NUMBER = re.compile(r"\d+")


@lru_cache(maxsize=1 << 14)  # a folder's names are read when planning and again when listing it
def sql_version(name: str) -> tuple[tuple[int, ...], bool] | None:
    """(version as numbers, forward) of a versioned SQL file name, None for any other name: Flyway
    ``V<version>__<desc>.sql`` (``U``: undo), golang-migrate ``<version>_<desc>.up.sql`` / ``.down.sql``,
    plain numbered files (``0001_init.sql``, ``20240101120000-add.sql``). ``forward`` is False for a file
    that undoes a version."""
    if not name.endswith(".sql"):
        return None
    stem = name[:-4]
    forward = True
    if stem.endswith(".down"):
        forward, stem = False, stem[:-5]
    elif stem.endswith(".up"):
        stem = stem[:-3]
    if stem[:1] in ("V", "v", "U", "u") and "__" in stem:
        text = stem[1:].split("__", 1)[0]
        if not _FLYWAY_VERSION.fullmatch(text):
            return None
        forward = forward and stem[0] in ("V", "v")
    else:
        match = _LEADING_NUMBER.match(stem)
        if match is None:
            return None
        text = match.group()
    if text.isdigit():
        return (int(text),), forward
    return tuple(int(p) for p in text.replace("_", ".").split(".")), forward


def natural_key(name: str):
    """Sort key of a migration file name: its version numbers first (``V2`` before ``V10``), then the name."""
    found = sql_version(name)
    return ((0, found[0]) if found else (1, ()), name)


@dataclass
class History:
    """One ordered history: an Alembic project's revisions or a folder of versioned SQL files."""

    kind: str  # "alembic" or "sql"
    where: str  # the project's config file, or the folder
    folders: list[Path]
    listed: list[str] | None = None  # every file of the history (absolute), sorted (see ``members``)
    graph: object = None  # RevisionGraph (alembic)
    rev_of: dict[str, str] = field(default_factory=dict)  # file -> revision (alembic)
    skip: set[str] = field(default_factory=set)  # files at or before start_after

    @property
    def members(self) -> list[str]:
        """Every file of the history, sorted; a SQL folder is listed only when this is first asked for
        (a lone file of a long folder needs no listing unless its predecessors are wanted)."""
        if self.listed is None:
            self.listed = _list_sql(self.where)
        return self.listed

    def holds(self, absolute: str) -> bool:
        """Whether ``absolute`` is a file of this history (a SQL file: by its name, without listing)."""
        if self.kind == "sql":
            folder, _, name = absolute.rpartition(os.sep)
            found = sql_version(name)
            return folder == self.where and found is not None and found[1]
        found = self.__dict__.get("_member_set")
        if found is None or len(found) != len(self.members):
            found = self.__dict__["_member_set"] = set(self.members)
        return absolute in found

    def cached(self) -> _Cache:
        """The history's cache (read once)."""
        found = self.__dict__.get("_cache")
        if found is None:
            found = self.__dict__["_cache"] = _Cache(self)
        return found


@dataclass
class Plan:
    """Which linted files belong to which history, and which ones are skipped (``start_after``)."""

    history_of: dict[str, History] = field(default_factory=dict)  # display path -> its history
    absolute: dict[str, str] = field(default_factory=dict)  # display path -> absolute path
    skip: set[str] = field(default_factory=set)  # display paths whose findings are dropped
    histories: list[History] = field(default_factory=list)

    @property
    def ordered(self) -> frozenset[str]:
        return frozenset(self.history_of)


def plan(
    files: list[tuple[str, str | None]], settings: Settings, start_after=(), *, strict: bool = True
) -> Plan:
    """The histories of ``files`` ((display, file) pairs as :func:`run._files` gives them). A
    ``start_after`` value no linted history knows is an input error when ``strict`` (given on the command
    line); from the settings, only when an Alembic project is linted and knows none of them."""
    out = Plan()
    by_key: dict[tuple, History] = {}
    projects: dict[str, object] = {}
    folders: dict[str, tuple[History | None, str]] = {}  # (as written) -> its history for each kind
    cwd = os.getcwd()
    for display, file in files:
        if file is None:
            continue
        is_sql = file.endswith(".sql")
        if not is_sql and not file.endswith(".py"):
            continue
        folder, _, name = file.rpartition(os.sep)
        found = folders.get((folder, is_sql))
        if found is None:
            absolute_folder = os.path.normpath(os.path.join(cwd, folder)) if folder else cwd
            history = _history_of(absolute_folder, is_sql, projects, by_key)
            found = folders[(folder, is_sql)] = (history, absolute_folder)
        history, absolute_folder = found
        if history is None:
            continue
        absolute = absolute_folder + os.sep + name
        if history.holds(absolute):
            out.history_of[display] = history
            out.absolute[display] = absolute
    held = {id(h) for h in out.history_of.values()}
    out.histories = [h for h in by_key.values() if h.kind == "alembic" or id(h) in held]
    values = [start_after] if isinstance(start_after, str) else list(start_after or ())
    if values:
        _start_after(out, values, strict)
    return out


def _history_of(folder: str, is_sql: bool, projects: dict, by_key: dict) -> History | None:
    if is_sql:
        key = ("sql", folder)
        history = by_key.get(key)
        if history is None:
            history = by_key[key] = History("sql", folder, [Path(folder)])
        return history
    project = project_of(folder, projects)
    if project is None:
        return None
    key = ("alembic", str(project.config_file))
    history = by_key.get(key)
    if history is None:
        history = by_key[key] = _alembic_history(project)
    return history


def _list_sql(folder: str) -> list[str]:
    """The forward migration files of a folder of versioned SQL files, in version order."""
    keys = []
    for name in os.listdir(folder):
        found = sql_version(name) if name.endswith(".sql") else None
        if found is not None and found[1]:
            keys.append((found[0], name))
    return [folder + os.sep + name for _, name in sorted(keys)]


def project_of(folder: str, projects: dict):
    """The Alembic project whose version folders hold ``folder`` (looked for in it and its parents), or
    None; ``projects``: what earlier calls found, folder -> project."""
    # lazy: a plain .sql lint loads no dbpatterns.alembic
    from ..alembic.project import find_projects, script_directory_project

    here = folder
    seen = []
    script_directory = None  # the nearest one holding ``folder``: the project when no configured one does
    while True:
        if here in projects:
            found = projects[here]
            break
        seen.append(here)
        found = None
        if may_configure_alembic(here, script_directory=False):
            for project in find_projects(Path(here)):  # one per ini section in a multi-database layout
                if _holds(project, folder):
                    found = project
                    break
            if found is not None:
                break
        if script_directory is None and os.path.isfile(os.path.join(here, "env.py")):
            candidate = script_directory_project(Path(here))
            if candidate is not None and _holds(candidate, folder):
                script_directory = candidate
        parent = os.path.dirname(here)
        if parent == here:
            found = script_directory
            break
        here = parent
    for f in seen:
        projects[f] = found
    return found


def may_configure_alembic(folder: str, *, script_directory: bool = True) -> bool:
    """Whether ``folder`` holds a file that may make it an Alembic project (alembic.ini, pyproject.toml,
    or, ``script_directory``, an env.py): looked at before loading :mod:`dbpatterns.alembic.project`."""
    names = (
        ("alembic.ini", "pyproject.toml", "env.py") if script_directory else ("alembic.ini", "pyproject.toml")
    )
    return any(os.path.isfile(os.path.join(folder, name)) for name in names)


def _holds(project, folder: str) -> bool:
    """Whether ``folder`` is one of ``project``'s version folders or inside one."""
    locations = [os.path.abspath(p) for p in project.version_locations]
    return any(folder == loc or folder.startswith(loc + os.sep) for loc in locations)


def _alembic_history(project) -> History:
    """The revision files of the project (as ``graph.revision_files(recursive=True)`` lists them)."""
    folders = [Path(p) for p in project.version_locations]
    members = []
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(os.path.abspath(folder)):
            dirnames[:] = [d for d in dirnames if not d.startswith((".", "__"))]
            members += [
                dirpath + os.sep + name
                for name in filenames
                if name.endswith(".py") and not name.startswith((".", "__"))
            ]
    return History("alembic", str(project.config_file), folders, sorted(set(members)))


def _read_graph(history: History, cache: _Cache | None = None) -> None:
    """The revision graph of an Alembic history (statically, per file; a file that is not a readable
    revision is left out of the order)."""
    # lazy: a plain .sql lint loads no dbpatterns.alembic
    from ..alembic.graph import RevisionGraph, RevisionNode, read_node

    if history.graph is not None:
        return
    graph = RevisionGraph()
    for member in history.members:
        entry = cache.entry(member) if cache is not None else None
        node = entry.get("node", False) if entry is not None else False
        if node is False:
            try:
                read = read_node(Path(member))
            except InputError:
                read = None
            node = (
                [read.revision, list(read.down_revisions), list(read.depends_on), list(read.branch_labels)]
                if isinstance(read, RevisionNode)
                else None
            )
            if entry is not None:
                entry["node"] = node
                cache.changed = True
        if node is None or node[0] in graph.nodes:
            continue
        graph.nodes[node[0]] = RevisionNode(node[0], tuple(node[1]), tuple(node[2]), tuple(node[3]), member)
        history.rev_of[member] = node[0]
    history.graph = graph


def _start_after(out: Plan, values: list[str], strict: bool = True) -> None:
    resolved = set()
    for history in out.histories:
        if history.kind == "alembic":
            cache = history.cached()
            _read_graph(history, cache)
            cache.save()
            for value in values:
                rev = history.graph.resolve(value)
                if rev is not None:
                    resolved.add(value)
                    skipped = history.graph.ancestors([rev])
                    history.skip |= {p for p, r in history.rev_of.items() if r in skipped}
        else:
            names = [os.path.basename(m) for m in history.members]
            for value in values:
                for i, member in enumerate(history.members):
                    if value in (names[i], member) or os.path.abspath(value) == member:
                        resolved.add(value)
                        history.skip |= set(history.members[: i + 1])
    unknown = [v for v in values if v not in resolved]
    if not strict and (resolved or not any(h.kind == "alembic" for h in out.histories)):
        unknown = []
    if unknown:
        where = "no Alembic project or folder of versioned SQL files" if not out.histories else "the history"
        raise InputError(
            f"start_after: {', '.join(repr(v) for v in unknown)} is not a revision or migration file of "
            f"{where} being linted"
        )
    for display, history in out.history_of.items():
        if out.absolute[display] in history.skip:
            out.skip.add(display)


# ---- settling the questions once every file is linted


def settle(plan: Plan, deltas: dict[str, list], questions: list[tuple[str, list, list]], settings: Settings):
    """Settle the ``questions`` ((display, that file's findings, its questions)) of the linted files in
    place, from the deltas of the linted files (``deltas``: display -> delta) and, for the files of their
    histories that were not linted, from the cache (computed once when missing)."""
    asked: dict[int, dict[str, tuple[list, list]]] = {}  # id(history) -> absolute path -> (findings, qs)
    histories = {}
    for display, findings, qs in questions:
        history = plan.history_of.get(display)
        if history is None or not qs:
            continue
        histories[id(history)] = history
        asked.setdefault(id(history), {})[plan.absolute[display]] = (findings, qs)
    if not asked:
        return
    known = {plan.absolute[d]: delta for d, delta in deltas.items() if d in plan.absolute}
    for hid, files in asked.items():
        history = histories[hid]
        missing = [m for m in history.members if m not in known]
        cache = history.cached() if missing else None
        if history.kind == "alembic":
            _read_graph(history, cache)
        if cache is not None:
            for member in missing:
                known[member] = cache.delta(member, settings)
            cache.save()
        keys = _asked_keys(files.values(), known)

        def answer(member: str, before: Schema, files=files, keys=keys) -> None:
            findings, qs = files[member]
            _answer(findings, qs, before, known.get(member) or (), keys, settings)

        _replay(history, known, set(files), answer, keys)


def _answer(findings: list, qs: list, before: Schema, delta, keys, settings: Settings) -> None:
    """Settle one file's questions ``qs`` about its ``findings`` (in place) against the schema the earlier
    migrations left (``before``; a downgrade's questions against what the file's own ``delta`` leaves)."""
    # lazy: the rule modules load through the registry, when a lint first needs them
    from .rules.columns import NOT_NULL_QUESTION, settle_set_not_null, settle_type_change
    from .rules.constraints import PRIMARY_KEY_QUESTION, settle_primary_key

    rewriting = []
    after = None  # the schema the member's upgrade leaves: what its downgrade's questions ask of
    for finding, column_key, column, new, *downgrade in sorted(qs, key=lambda q: -q[0]):
        schema = before
        if downgrade:
            if after is None:
                after = before.copy()
                after.apply(delta, keys)
            schema = after
        if new[0] in (PRIMARY_KEY_QUESTION, NOT_NULL_QUESTION):  # is it NOT NULL already?
            if new[0] == PRIMARY_KEY_QUESTION:
                settled = settle_primary_key(findings[finding], column_key, new, schema)
            else:
                settled = settle_set_not_null(
                    findings[finding], column_key, column, schema, settings.pg_version
                )
            if settled is None:
                del findings[finding]
            else:
                findings[finding] = settled
            continue
        old = schema.column_type(column_key, column)
        if old is None or unknown_type(old):
            rewriting.append(findings[finding])  # still "may": as a lone file says it
            continue
        check = schema.check_on(column_key, column)
        settled = settle_type_change(findings[finding], column, old, tuple(new), check)
        if settled is None:
            del findings[finding]
        else:
            findings[finding] = settled
            if settled.rewrites:
                rewriting.append(settled)
    _share(findings, rewriting)


class Streaming:
    """Settles, while the worker processes still lint, the questions of the files of folders of versioned
    SQL files whose every file this run lints: as each chunk's results arrive (in any order), a folder's
    deltas are replayed in version order up to the first file not in yet, and a file's questions are
    settled (and its findings packed, ``pack``) when its turn comes; what is left (an Alembic history,
    a folder with files not linted, whose deltas come from the cache) is :func:`settle`'s at the end."""

    def __init__(self, plan: Plan, settings: Settings, pack=None) -> None:
        self.plan = plan
        self.settings = settings
        self.pack = pack
        self.streams: dict[int, _Stream | None] = {}  # id(history) -> its replay, None: not streamed

    def add(self, part) -> None:
        """One chunk's results (segments, deltas), as ``lint.run`` hands them over: settled segments of
        its files become ``("r", findings)`` in place."""
        if isinstance(part, BaseException):
            return
        segments, deltas = part
        touched = {}
        for display, delta in deltas.items():
            stream = self._stream(display)
            if stream is not None:
                stream.deltas[self.plan.absolute[display]] = delta
                touched[id(stream)] = stream
        for index, seg in enumerate(segments):
            if seg[0] == "q" and (stream := self._stream(seg[1])) is not None:
                stream.questions[self.plan.absolute[seg[1]]] = (segments, index)
        for stream in touched.values():
            self._advance(stream)

    def _stream(self, display: str) -> _Stream | None:
        history = self.plan.history_of.get(display)
        if history is None or history.kind != "sql":
            return None
        key = id(history)
        if key not in self.streams:
            linted = set(self.plan.absolute.values())
            members = history.members
            self.streams[key] = _Stream(members) if all(m in linted for m in members) else None
        return self.streams[key]

    def _advance(self, stream: _Stream) -> None:
        members = stream.members
        while stream.at < len(members) and members[stream.at] in stream.deltas:
            member = members[stream.at]
            delta = stream.deltas.pop(member)
            asked = stream.questions.pop(member, None)
            if asked is not None:
                segments, index = asked
                _, display, findings, qs = segments[index]
                _answer(findings, qs, stream.schema, delta, None, self.settings)
                segments[index] = ("r", findings if self.pack is None else self.pack(findings))
            stream.schema.apply(delta)
            stream.at += 1


class _Stream:
    """One folder's replay: its files in version order, the next one's index, the schema before it, and
    the deltas and questions of the files in but not replayed yet."""

    __slots__ = ("members", "at", "schema", "deltas", "questions")

    def __init__(self, members: list[str]) -> None:
        self.members = members
        self.at = 0
        self.schema = Schema()
        self.deltas: dict[str, list] = {}
        self.questions: dict[str, tuple[list, int]] = {}


def _share(findings: list, rewriting: list) -> None:
    """The other findings of a statement that rewrites a table say so too (as ``engine._share_rewrites``
    does for what a file alone shows)."""
    where = {(f.line, f.column, bare(f.table)) for f in rewriting if f.table}
    for f in findings:
        if not f.rewrites and f.table and (f.line, f.column, bare(f.table)) in where:
            f.rewrites = True


def _asked_keys(asked, deltas: dict[str, list]) -> dict[str, set[str]]:
    """The tables the questions are about, each with the columns asked of it, and every table or column
    renamed into one of them (wherever in the history: a superset is safe): the only ones whose
    operations the replay needs (``Schema.apply``'s ``asked``)."""
    columns: dict[str, set[str]] = {}  # table -> the columns asked about
    for _, qs in asked:
        for q in qs:
            columns.setdefault(q[1], set()).add(q[2])
    renames = [op for delta in deltas.values() for op in delta if op[0] in _RENAMES]
    grew = bool(renames)
    while grew:
        grew = False
        for op in renames:
            if op[0] == "rc":  # (rc, table, old column, new column)
                found = [op[2]] if op[3] in columns.get(op[1], ()) else []
            else:  # (rt, old table, new table): every column asked of the new name, of the old one
                found = list(columns.get(op[2], ()))
            if found:
                known = columns.setdefault(op[1], set())
                if not known.issuperset(found):
                    known.update(found)
                    grew = True
    return columns


_RENAMES = ("rt", "rc")  # the delta operations that rename a table or a column


def _replay(history: History, deltas: dict[str, list], wanted: set[str], answer, asked=None) -> None:
    """Walk the history in order, calling ``answer(file, schema before it)`` for each wanted file; only the
    operations the questions ``asked`` need (:func:`_asked_keys`; all when None) are replayed."""
    if history.kind == "sql":
        members = history.members
        last = max(i for i, m in enumerate(members) if m in wanted)
        schema = Schema()
        for member in members[: last + 1]:
            if member in wanted:
                answer(member, schema)
            schema.apply(deltas.get(member) or (), asked)
        return
    graph = history.graph
    path_of = {rev: path for path, rev in history.rev_of.items()}
    needed = graph.ancestors([history.rev_of[m] for m in wanted if m in history.rev_of])
    schema = Schema()
    last = None  # the schema holds exactly ``last`` and its ancestors
    order = graph.order()
    for rev in order:
        if rev not in needed:
            continue
        node = graph.nodes[rev]
        parents = [p for p in node.parents if p in graph.nodes]
        if parents != ([last] if last is not None else []):  # a merge, or another branch
            schema = Schema()
            before = graph.ancestors(parents)
            for other in order:
                if other in before:
                    schema.apply(deltas.get(path_of.get(other)) or (), asked)
        path = path_of.get(rev)
        if path in wanted:
            answer(path, schema)
        schema.apply(deltas.get(path) or (), asked)
        last = rev


class _Cache:
    """Per history: a file's content hash -> what reading it gave (``delta``; ``node`` for a revision)."""

    def __init__(self, history: History) -> None:
        # lazy: the cache's files module is loaded only when a history is cached
        from ..files import cache_root, load_cached

        key = hashlib.sha256(history.where.encode()).hexdigest()[:24]
        self.path = cache_root() / "history" / f"{key}.json"
        stored = load_cached(self.path)
        stamp = [CACHE_FORMAT, *code_stamp()]
        if not isinstance(stored, dict) or stored.get("stamp") != stamp:
            stored = {"stamp": stamp, "files": {}}
        self.stored = stored
        self.changed = False
        self.hashes: dict[str, str] = {}
        self.texts: dict[str, bytes] = {}

    def _hash(self, member: str) -> str:
        """The content hash of ``member``: read and hashed, unless its size and modification time are
        those it had when it was hashed last (as git's index does)."""
        found = self.hashes.get(member)
        if found is not None:
            return found
        seen = self.stored.setdefault("stat", {})
        try:
            st = os.stat(member)
            stamp = [st.st_mtime_ns, st.st_size, st.st_ino]
        except OSError:
            stamp = None
        known = seen.get(member)
        if stamp is not None and known is not None and known[:3] == stamp:
            found = self.hashes[member] = known[3]
            return found
        try:
            fd = os.open(member, os.O_RDONLY)
            try:
                data = os.read(fd, 1 << 20)
                while chunk := os.read(fd, 1 << 20):
                    data += chunk
            finally:
                os.close(fd)
        except OSError:
            data = b""
        self.texts[member] = data
        found = self.hashes[member] = hashlib.blake2b(data, digest_size=16).hexdigest() + member[-4:]
        if stamp is not None:
            seen[member] = [*stamp, found]
            self.changed = True
        return found

    def entry(self, member: str) -> dict:
        files = self.stored["files"]
        digest = self._hash(member)
        entry = files.get(digest)
        if entry is None:
            entry = files[digest] = {}
            self.changed = True
        return entry

    def delta(self, member: str, settings: Settings) -> list:
        """``member``'s delta, kept by its content and by that of the project modules its reading
        used (a TypeDecorator imported from one: its ``impl`` is the column's type)."""
        entry = self.entry(member)
        if "delta" not in entry or (entry.get("modules") and not _modules_unchanged(entry["modules"])):
            entry["delta"], modules = _delta_of(member, self.texts.get(member), settings)
            if modules:
                entry["modules"] = modules
            else:
                entry.pop("modules", None)
            self.changed = True
        return entry["delta"]

    def save(self) -> None:
        if self.changed:
            # lazy: the cache's files module is loaded only when a history is cached
            from ..files import store_cached

            live = {self._hash(m) for m in self.hashes}
            files = self.stored["files"]
            if len(files) > 4 * max(len(live), 64):  # forget what no file holds any more
                self.stored["files"] = {k: v for k, v in files.items() if k in live}
                self.stored["stat"] = {k: v for k, v in self.stored["stat"].items() if k in self.hashes}
            store_cached(self.path, self.stored)


def _delta_of(member: str, data: bytes | None, settings: Settings) -> tuple[list, dict]:
    """What ``member`` does to the schema (no rule runs: only the lint's bookkeeping), and the project
    modules its reading used (file -> content hash)."""
    # lazy: .run imports this module (a circle within lint/)
    from .run import _quiet, lint_text

    if data is None:
        try:
            data = Path(member).read_bytes()
        except OSError:
            return [], {}
    try:
        text = data.decode("utf-8").replace("\r\n", "\n")
    except UnicodeDecodeError:
        return [], {}
    record: dict = {}
    lint_text(text, member, _quiet(settings), sources=False, record=record)
    return record.get("delta") or [], record.get("modules") or {}


def _modules_unchanged(modules: dict) -> bool:
    # lazy: a plain .sql lint loads no dbpatterns.alembic (only a revision's entry names modules)
    from ..alembic.types import modules_unchanged

    return modules_unchanged(modules)
