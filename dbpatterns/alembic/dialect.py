"""Dialect guards in revisions: whether a test that looks at the database dialect (``bind.dialect.name ==
"mysql"``, ``url.startswith("postgresql")``, a helper returning such a test, ``is_offline_mode()``) is true
on PostgreSQL, read online. Used for ``if`` statements and conditional expressions alike."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .values import Scope

_DIALECT_WORDS = ("dialect", "url", "driver", "engine", "backend")
# attributes of SQLAlchemy's dialect that are true on PostgreSQL (``if bind.dialect.supports_sequences:``)
POSTGRESQL_CAPABILITIES = frozenset(
    {
        "supports_sequences",
        "supports_native_enum",
        "supports_native_boolean",
        "supports_alter",
        "supports_comments",
    }
)


def on_postgresql(test: ast.expr, scope: Scope, depth: int = 0) -> bool | None:
    """Whether an ``if`` test that looks at the database dialect is true on PostgreSQL (None: the test is
    not about the dialect). Understood: ``<...>.dialect.name == "mysql"`` (``!=``, ``in``, ``not in``, also
    through a name assigned once), ``url.startswith("postgresql")``, ``not``/``and``/``or`` of those, and
    ``context.is_offline_mode()`` / ``op.get_context().as_sql`` (false: the revision is read as online)."""
    if depth > 8:
        return None
    if is_offline_test(test):
        return False
    if isinstance(test, ast.Name):  # is_postgres = bind.dialect.name == "postgresql"; if is_postgres:
        assigned = scope.assigns.get(test.id) or (scope.parent.assigns.get(test.id) if scope.parent else None)
        if isinstance(assigned, ast.expr) and test.id not in scope.bound:
            return on_postgresql(assigned, scope, depth + 1)
        return None
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and not test.args and not test.keywords:
        return _helper_on_postgresql(test.func.id, scope, depth)  # def is_postgres(): return ...
    if isinstance(test, ast.Attribute) and test.attr in POSTGRESQL_CAPABILITIES:
        return True if _mentions_dialect(test.value) else None
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = on_postgresql(test.operand, scope, depth + 1)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp):
        values = [on_postgresql(v, scope, depth + 1) for v in test.values]
        if isinstance(test.op, ast.And):
            if False in values:
                return False
            return True if all(v is True for v in values) else None
        if True in values:
            return True
        return False if all(v is False for v in values) else None
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, right = test.left, test.comparators[0]
        if not _is_dialect_expr(left, scope, depth):
            left, right = right, left
            if not _is_dialect_expr(left, scope, depth):
                return None
        value = scope.ev(right)
        op = test.ops[0]
        if isinstance(op, (ast.Eq, ast.NotEq)) and isinstance(value, str):
            same = _is_postgresql_name(value)
            return same if isinstance(op, ast.Eq) else not same
        if isinstance(op, (ast.In, ast.NotIn)) and value and isinstance(value, list):  # noqa: SIM102
            if all(isinstance(v, str) for v in value):
                inside = any(_is_postgresql_name(v) for v in value)
                return inside if isinstance(op, ast.In) else not inside
        return None
    if (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Attribute)
        and test.func.attr == "startswith"
        and len(test.args) == 1
        and _mentions_dialect(test.func.value)
    ):
        prefix = scope.ev(test.args[0])
        prefixes = prefix if isinstance(prefix, list) else [prefix]
        if prefixes and all(isinstance(p, str) for p in prefixes):
            return any("postgresql+psycopg2://".startswith(p) or p.startswith("postgres") for p in prefixes)
    return None


def _helper_on_postgresql(name: str, scope: Scope, depth: int) -> bool | None:
    """A call of the revision's own function that takes no argument and ends in ``return <dialect test>``
    (``bind = op.get_bind()`` before it is read in the function's scope)."""
    func = getattr(scope.lookup(name), "node", None)  # a FuncRef
    if not isinstance(func, ast.FunctionDef) or func.args.args or func.args.posonlyargs:
        return None
    returned = scope.final_return(func)  # None with an earlier return: the value depends on more than it
    if returned is None:
        return None
    return on_postgresql(returned, type(scope).for_function(scope.module, func, {}), depth + 1)


def _is_postgresql_name(value: str) -> bool:
    return value.lower().split("+", 1)[0] in (
        "postgresql",
        "postgres",
        "psycopg2",
        "psycopg",
        "asyncpg",
        "pg8000",
    )


def _is_dialect_expr(node: ast.expr, scope: Scope, depth: int) -> bool:
    if isinstance(node, ast.Attribute):
        if node.attr in ("dialect_name", "drivername"):
            return True
        return node.attr in ("name", "driver") and _mentions_dialect(node.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "get_backend_name"
    if isinstance(node, ast.Name):
        assigned = scope.assigns.get(node.id) or (scope.parent.assigns.get(node.id) if scope.parent else None)
        if isinstance(assigned, ast.expr) and depth < 8:
            return _is_dialect_expr(assigned, scope, depth + 1)
        return any(word in node.id.lower() for word in ("dialect", "backend", "driver"))
    return False


def _mentions_dialect(node: ast.expr) -> bool:
    text = ast.unparse(node).lower()
    return any(word in text for word in _DIALECT_WORDS)


def is_offline_test(test: ast.expr) -> bool:
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute):
        return test.func.attr == "is_offline_mode"
    return isinstance(test, ast.Attribute) and test.attr == "as_sql"
