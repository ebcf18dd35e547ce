"""The rule registry: every lint rule is one small function with its docs beside it."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..records import FrozenRecord

# Statement kinds a rule can subscribe to: a pglast node name ("IndexStmt"), an ALTER TABLE subcommand
# ("AlterTableStmt:AT_AddColumn"), or one of the pseudo kinds the engine emits ("revision" for a whole
# Alembic revision, "file-end" after the last statement of a file).
Check = Callable[..., Iterable]


class Rule(FrozenRecord):
    __slots__ = ("id", "summary", "severity", "aliases", "on", "default", "category", "doc", "fix", "check")
    _uncompared = frozenset({"check"})

    def __init__(
        self,
        id: str,
        summary: str,
        severity: str = "error",
        aliases: tuple[str, ...] = (),
        on: tuple[str, ...] = (),
        default: bool = True,  # in the default set (hazards) or opt-in (style)
        category: str = "hazard",
        doc: str = "",
        fix: str = "",  # the safe recipe; may name {table} and other fields the check passes
        check: Check | None = None,
    ) -> None:
        self._fill(id, summary, severity, aliases, on, default, category, doc, fix, check)

    def __repr__(self) -> str:
        return f"Rule({self.id!r})"


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
