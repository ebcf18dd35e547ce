"""The rule registry: every lint rule is one small function with its docs beside it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..errors import UnknownRule
from ..settings import Settings

# Statement kinds a rule can subscribe to: a pglast node name ("IndexStmt"), an ALTER TABLE subcommand
# ("AlterTableStmt:AT_AddColumn"), or one of the pseudo kinds the engine emits ("revision" for a whole
# Alembic revision, "file-end" after the last statement of a file).
Check = Callable[..., Iterable]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    summary: str
    severity: str = "error"
    aliases: tuple[str, ...] = ()
    on: tuple[str, ...] = ()
    default: bool = True  # in the default set (hazards) or opt-in (style)
    category: str = "hazard"
    doc: str = ""
    fix: str = ""  # the safe recipe; may name {table} and other fields the check passes
    check: Check | None = field(default=None, compare=False, repr=False)


_RULES: dict[str, Rule] = {}


def rule(
    id: str,
    *,
    summary: str,
    on: tuple[str, ...],
    severity: str = "error",
    aliases: tuple[str, ...] = (),
    default: bool = True,
    category: str = "hazard",
    fix: str = "",
) -> Callable[[Check], Check]:
    """Register the decorated function as the check of rule ``id``; its docstring is the rule's doc."""

    def register(fn: Check) -> Check:
        if id in _RULES:
            raise ValueError(f"duplicate rule id {id}")
        doc = _dedent(fn.__doc__ or "")
        _RULES[id] = Rule(id, summary, severity, aliases, on, default, category, doc, _dedent(fix), fn)
        return fn

    return register


def doc_only_rule(id: str, *, summary: str, doc: str, severity="error", aliases=(), default=True, fix=""):
    """A rule whose findings the engine emits itself (syntax errors), documented here."""
    _RULES[id] = Rule(
        id, summary, severity, tuple(aliases), (), default, "hazard", _dedent(doc), _dedent(fix)
    )


def all_rules() -> list[Rule]:
    _load()
    return sorted(_RULES.values(), key=lambda r: r.id)


def get_rule(id: str) -> Rule | None:
    _load()
    return _RULES.get(id)


def find_rule(name: str) -> Rule | None:
    """The rule with id ``name``, or the one that has it as a squawk alias."""
    _load()
    found = _RULES.get(name)
    if found is None:
        found = next((r for r in _RULES.values() if name in r.aliases), None)
    return found


def resolve_ids(ids, where: str = "") -> frozenset[str]:
    """Rule ids (or squawk aliases, or ``ALL``) as rule ids; an unknown one is an :class:`UnknownRule`."""
    out = set()
    for name in ids:
        if name == "ALL":
            out.add(name)
            continue
        found = find_rule(name)
        if found is None:
            known = sorted({*_RULES, *(a for r in _RULES.values() for a in r.aliases)})
            raise UnknownRule(name, known, where)
        out.add(found.id)
    return frozenset(out)


def resolved_settings(settings: Settings) -> Settings:
    """``settings`` with every rule id it names checked and squawk aliases made ids (once per settings)."""
    where = f"{settings.source}: [tool.dbpatterns]" if settings.source else "settings"
    select = settings.select
    return settings.replace(
        select=None if select is None else resolve_ids(select, f"{where} select"),
        extend_select=resolve_ids(settings.extend_select, f"{where} extend_select"),
        ignore=resolve_ids(settings.ignore, f"{where} ignore"),
        per_path_ignores=tuple(
            (glob, resolve_ids(ids, f"{where} per_path_ignores {glob!r}"))
            for glob, ids in settings.per_path_ignores
        ),
    )


def _load() -> None:
    from . import rules  # noqa: F401  (registers every rule module)


def _dedent(text: str) -> str:
    """Like inspect.cleandoc (which costs an import of `inspect` on the lint's start-up path)."""
    lines = text.expandtabs().strip("\n").splitlines()
    if not lines:
        return ""
    first, rest = lines[0].strip(), lines[1:]
    indent = min((len(x) - len(x.lstrip()) for x in rest if x.strip()), default=0)
    body = [x[indent:].rstrip() for x in rest]
    return "\n".join([first, *body] if first else body).strip("\n")
