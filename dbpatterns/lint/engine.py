"""Run the rules over a migration: SQL text or an Alembic revision, statement by statement."""

from __future__ import annotations

from string import Formatter

from ..findings import Finding
from ..settings import Settings
from ..sql import parse as sqlparse
from ..sql.locks import statement_locks
from ..sql.nodes import bare, qualified
from .registry import Rule, all_rules, get_rule, resolved_settings
from .state import MigrationState


class Context:
    """What a rule's check sees: the statement, the migration so far, and where to report."""

    __slots__ = (
        "settings", "state", "path", "rule", "stmt", "table", "location", "position", "line_text", "text",
        "op", "alembic", "findings", "suppress", "dispatch", "enabled", "_locks_of", "_locks", "_lower_of",
        "_lower",
    )  # fmt: skip

    def __init__(
        self,
        settings: Settings,
        state: MigrationState,
        path: str,
        *,
        text: str = "",
        position=None,
        line_text=None,
        alembic: bool = False,
    ) -> None:
        self.settings = settings
        self.state = state
        self.path = path
        self.rule: Rule | None = None
        self.stmt: sqlparse.Statement | None = None
        self.table: str | None = None  # the ALTER TABLE target, for subcommand checks
        self.location: tuple[int, int] | None = None  # overrides the statement's (an Alembic op's line)
        self.position = position  # offset -> (line, column) in ``text`` (ParsedSQL.position)
        self.line_text = line_text  # line number -> the source line, for the finding's excerpt
        self.text = text  # the SQL text the current statement's offsets point into
        self.op = None  # the Alembic operation being checked, if any
        self.alembic = alembic
        self.findings: list[Finding] = []
        self.suppress: frozenset[str] = frozenset()
        # statement kind -> the enabled rules subscribed to it; the ids of the rules that may report here
        self.dispatch, self.enabled = dispatch_for(settings, path)
        self._locks_of = None  # the statement ``_locks`` are of
        self._locks: list = []
        self._lower_of = None  # the statement ``_lower`` is of
        self._lower = ""

    def statement_locks(self) -> list[tuple[str, str]]:
        """[(table, lock mode)] the current statement takes (worked out once per statement)."""
        stmt = self.stmt
        if self._locks_of is not stmt:
            self._locks = statement_locks(stmt.kind, stmt.body)
            self._locks_of = stmt
        return self._locks

    def mentions(self, word: str) -> bool:
        """Whether the current statement's text holds ``word`` (lower case) in any case: a test a rule can
        make before reading the tree (a foreign key is written with REFERENCES). Lowered once a statement."""
        stmt = self.stmt
        if stmt is None:
            return word in self.text.lower()
        if self._lower_of is not stmt:
            self._lower, self._lower_of = self.text[stmt.start : stmt.end].lower(), stmt
        return word in self._lower

    @property
    def pg_version(self) -> int:
        return self.settings.pg_version

    def is_new(self, table: str | None) -> bool:
        return self.state.is_new(table)

    def here(self) -> tuple[int, int]:
        """(line, column) findings get now: the overriding location, else the statement's start."""
        if self.location is not None:
            return self.location
        if self.stmt is not None and self.position is not None:
            return self.position(self.stmt.start)
        return (1, 1)

    def report(
        self,
        message: str,
        *,
        lock: str | None = None,
        table: str | None = None,
        rewrites: bool = False,
        fix: str = "",
        rule: str | None = None,
        exempt_new: bool = True,
        hedged: bool = False,
        **fmt,
    ) -> None:
        """Add a finding for the current statement; a table created in this migration is exempt.
        ``hedged``: the claims are what the statement may do (the rule cannot see the schema)."""
        if exempt_new and table and self.state.is_new(table):
            return
        current = self.rule
        rule_id = rule or current.id
        suppress = self.suppress
        if suppress and ("*" in suppress or rule_id in suppress):
            return
        meta = current if current is not None and current.id == rule_id else _rule(rule_id)
        if rule_id not in self.enabled:
            return
        if fix == "" and meta.fix:
            fix = meta.fix
        if fmt or table:  # a message without fields may hold user text with braces (a parser's message)
            fmt["table"] = table or "the_table"  # ``table`` is a parameter: never one of the fields
            fix = _format(fix, fmt)
            message = _format(message, fmt)
        elif "{" in fix:
            fix = _format(fix, {"table": "the_table"})
        line, col = self.here()
        line_text = self.line_text
        self.findings.append(
            Finding(
                rule_id,
                meta.severity,
                self.path,
                line,
                col,
                message,
                lock,
                table,
                rewrites,
                fix.strip(),
                line_text(line) if line_text else "",
                hedged,
            )
        )


class _Fields(dict):
    """Format fields; an unknown {name} stays as written (fix texts hold SQL with braces)."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


# template -> [(literal text, field name or None)], or None when str.format_map must do it (format specs,
# conversions, indexing, stray braces)
_TEMPLATES: dict[str, list[tuple[str, str | None]] | None] = {}


def _format(template: str, values: dict) -> str:
    """``template.format_map`` where an unknown field stays as written and a template that is not a valid
    format string is returned as is; templates are parsed once."""
    if "{" not in template:
        return template
    parts = _TEMPLATES.get(template, False)
    if parts is False:
        parts = _compile(template)
        if len(_TEMPLATES) > 4096:
            _TEMPLATES.clear()
        _TEMPLATES[template] = parts
    if parts is None:
        try:
            return template.format_map(_Fields(values))
        except (ValueError, IndexError, AttributeError):  # a brace that is not a field: keep the text as is
            return template
    out = []
    for literal, name in parts:
        out.append(literal)
        if name is not None:
            value = values[name] if name in values else "{" + name + "}"
            out.append(value if type(value) is str else format(value, ""))
    return "".join(out)


def _compile(template: str) -> list[tuple[str, str | None]] | None:
    try:
        parsed = list(Formatter().parse(template))
    except ValueError:
        return None
    parts = []
    for literal, name, spec, conversion in parsed:
        if name is not None and (spec or conversion or not name.isidentifier()):
            return None
        parts.append((literal, name))
    return parts


def _rule(rule_id: str) -> Rule:
    found = get_rule(rule_id)
    if found is None:
        raise KeyError(rule_id)
    return found


def _enabled(rule: Rule, settings: Settings, path: str) -> bool:
    if rule.id in settings.ignore or rule.id in settings.ignored_for(path):
        return False
    if settings.select is not None:
        return rule.id in settings.select or "ALL" in settings.select or rule.id in settings.extend_select
    return rule.default or rule.id in settings.extend_select or "ALL" in settings.extend_select


_DISPATCH: dict[tuple, tuple[dict[str, list[Rule]], frozenset[str]]] = {}


def dispatch_for(settings: Settings, path: str) -> tuple[dict[str, list[Rule]], frozenset[str]]:
    """Statement kind -> the enabled rules subscribed to it (rules that are off never run), and the ids
    of every enabled rule (those the engine reports itself, like syntax-error, included)."""
    if not settings.per_path_ignores and _last_dispatch[0] is settings:  # the usual case, file after file
        return _last_dispatch[1]
    key = (settings, settings.ignored_for(path) if settings.per_path_ignores else frozenset())
    found = _DISPATCH.get(key)
    if found is None:
        resolved = resolved_settings(settings)
        table: dict[str, list[Rule]] = {}
        enabled = set()
        for r in all_rules():
            if _enabled(r, resolved, path):
                enabled.add(r.id)
                if r.check is not None:
                    for kind in r.on:
                        table.setdefault(kind, []).append(r)
        found = _DISPATCH[key] = (table, frozenset(enabled))
    if not settings.per_path_ignores:
        _last_dispatch[:] = settings, found
    return found


_last_dispatch: list = [None, None]  # settings (compared by identity: they are frozen) -> its dispatch


def run_rules(ctx: Context, kind: str, node: dict) -> None:
    rules = ctx.dispatch.get(kind)
    if rules:
        for r in rules:
            ctx.rule = r
            r.check(ctx, node)


def lint_statement(ctx: Context, stmt: sqlparse.Statement) -> None:
    """Run every rule on one statement, then record what it did."""
    ctx.stmt = stmt
    ctx.table = None
    state = ctx.state
    kind, body = stmt.kind, stmt.body
    first = len(ctx.findings)
    run_rules(ctx, kind, body)
    if kind == "AlterTableStmt":
        ctx.table = qualified(body.get("relation"))
        for item in body.get("cmds") or ():
            cmd = item.get("AlterTableCmd")
            if cmd is not None:
                run_rules(ctx, "AlterTableStmt:" + cmd.get("subtype", ""), cmd)
        ctx.table = None
    if kind == "TransactionStmt":
        state.transaction(body.get("kind", ""), ctx.here)
    # Locks matter to rules that watch them (until they have reported) and to a transaction that holds
    # them; outside a transaction with lock_timeout set, nothing reads them.
    watching = "locks" in ctx.dispatch and not (state.lock_timeout or state.reported_lock_timeout)
    locks = ctx.statement_locks() if watching or state.in_transaction else ()
    if locks and watching:
        run_rules(ctx, "locks", {"locks": locks})
    if len(ctx.findings) - first > 1:
        # in a history, a hedged rewrite is settled later (lint.history), and shared then
        _share_rewrites(ctx.findings, first, hedged=state.questions is None)
    state.after(kind, body, locks)


def _share_rewrites(findings: list[Finding], first: int, *, hedged: bool = True) -> None:
    """A statement rewrites a table whichever rule says so: all its findings on that table say it
    (``hedged``: a finding that only may rewrite counts too)."""
    rewritten = {
        bare(f.table) for f in findings[first:] if f.rewrites and f.table and (hedged or not f.hedged)
    }
    if rewritten:
        for f in findings[first:]:
            if not f.rewrites and f.table and bare(f.table) in rewritten:
                f.rewrites = True


def finish(ctx: Context) -> None:
    """Checks that run once the whole migration has been read."""
    ctx.stmt = None
    ctx.location = (max(ctx.state.begin_line, 1), 1)
    run_rules(ctx, "file-end", {})


def bare_name(name: str | None) -> str | None:
    return bare(name)
