"""Static evaluation of the small Python expressions that Alembic revisions pass to ``op.*``.

Nothing is imported or executed: an expression either evaluates to a plain Python value (``str``, ``int``,
``float``, ``bool``, ``None``, ``list``, ``dict``), to one of the small value classes below, or to
:data:`UNKNOWN`.

Names resolve, in order, to: values bound by the caller (helper parameters, ``for`` variables over literal
lists, ``with ... as batch_op``), names assigned exactly once in the enclosing function, names assigned
exactly once at module level, imported names (as :class:`Ref` to their dotted path), and otherwise to a
:class:`Ref` to the bare name. A name assigned more than once is :data:`UNKNOWN`.
"""

from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import dataclass, field

from .dialect import on_postgresql


class NotStatic(Exception):
    """The SQL for an operation cannot be known without running the revision; the message says why."""


class Refused(NotStatic):
    """The operation raises before any SQL is sent (SQLAlchemy or Alembic refuses it): the revision cannot
    run past it. The message says what raises and why."""


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()

HOLE = "\ufffe"  # stands for an unknown part inside a string that is otherwise known (see Partial)


class Partial(str):
    """A string known except for some parts (an f-string or ``%``/``.format()`` of a value only known at run
    time): each unknown part is :data:`HOLE`. As a name it reads ``?`` (:func:`as_name`); as SQL text each
    hole becomes an identifier ``"?"`` (:func:`as_sql`), which parses wherever a name or a value may stand."""

    __slots__ = ()


class Conv(str):
    """A name marked with ``op.f()`` / ``conv()`` (or made by a naming convention): SQLAlchemy renders it
    as given, except that a name longer than the dialect's limit is shortened with a hash
    (:func:`sqlalchemy_name`) instead of raising IdentifierError as it does for a plain string."""

    __slots__ = ()


MAX_SQLALCHEMY_NAME = 63  # PostgreSQL's dialect: max_identifier_length, counted in characters


def sqlalchemy_name(name: str, marked: bool = True) -> str:
    """The name SQLAlchemy's DDL compiler emits for an index or constraint name: a marked name (op.f, a
    naming convention) over 63 characters becomes its first 55 characters, ``_`` and the last 4 hex
    digits of its md5 (``_truncate_and_render_maxlen_name``); a plain one is emitted as is (SQLAlchemy
    raises IdentifierError when it is too long)."""
    if not marked or len(name) <= MAX_SQLALCHEMY_NAME:
        return name

    return name[: MAX_SQLALCHEMY_NAME - 8] + "_" + hashlib.md5(name.encode("utf-8")).hexdigest()[-4:]


def partial(text: str) -> str:
    """``text`` as a :class:`Partial` when it holds a hole, else as a plain string."""
    return Partial(text) if HOLE in text else str(text)


def as_name(value: str) -> str:
    """A (possibly partial) string used as a name: every unknown part reads ``?``."""
    return value.replace(HOLE, "?") if HOLE in value else value


def as_sql(value: str, filler: str = '"?"') -> str:
    """A (possibly partial) SQL text: an unknown part becomes ``filler`` (the identifier ``"?"``), or ``?``
    inside a quoted identifier or string literal (where the quotes are already there)."""
    if HOLE not in value:
        return value
    out = []
    for index, part in enumerate(value.split(HOLE)):
        if index:
            quoted = out[-1][-1:] in ("'", '"') if out and out[-1] else False
            out.append("?" if quoted or _inside_quotes("".join(out)) else filler)
        out.append(part)
    return "".join(out)


def _inside_quotes(text: str) -> bool:
    """Whether the end of ``text`` is inside a '...' literal or a "..." identifier (counting quotes)."""
    single = double = False
    for char in text:
        if char == "'" and not double:
            single = not single
        elif char == '"' and not single:
            double = not double
    return single or double


_MULTI = object()  # marker: a name bound more than once (or not by a plain assignment)


@dataclass(frozen=True, slots=True)
class SqlText:
    """Literal SQL from ``sa.text(...)`` / ``sa.literal_column(...)``: rendered verbatim."""

    text: str


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference to a dotted name that is not a local value, e.g. ``sqlalchemy.Integer``."""

    path: str

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]


@dataclass(slots=True)
class Call:
    """A call that was not evaluated further, e.g. ``sqlalchemy.Column("id", ...)``.

    ``path`` is the dotted path of the callable, or the method name when ``receiver`` is set (a method
    called on a computed value, e.g. ``sa.column("x").is_(None)``). ``incomplete`` is True when the call
    uses ``*args`` or ``**kwargs``.
    """

    path: str
    args: list
    kwargs: dict
    node: ast.Call | None = None
    receiver: object = None
    incomplete: bool = False

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]


@dataclass(slots=True)
class TableColumn(Call):
    """``t.c.name`` of a ``sa.table(...)``: the column ``sa.column("name")`` of the table ``table``."""

    table: object = None


@dataclass(frozen=True, slots=True)
class ColumnsOf:
    """``t.c`` (``t.columns``) of a ``sa.table(...)``/``sa.Table(...)`` call."""

    table: Call


TABLE_CALLS = frozenset({"table", "Table", "TableClause"})  # what a Core table is made with


@dataclass(frozen=True, slots=True)
class SqlOp:
    """A SQL expression built with Python operators on column objects, e.g. ``sa.column("x") > 5``."""

    op: str
    left: object
    right: object = None


@dataclass(frozen=True, slots=True)
class Batch:
    """The object bound by ``with op.batch_alter_table(...) as batch_op``."""

    table: object
    schema: object
    recreate: object


@dataclass(frozen=True, slots=True)
class FuncRef:
    """A function defined in the revision file (a helper that may be followed)."""

    node: ast.FunctionDef


@dataclass(frozen=True, slots=True)
class Missing:
    """An argument that was not given."""


MISSING = Missing()


def is_sqlalchemy(path: str) -> bool:
    """True when the dotted path is under sqlalchemy or is unqualified (``from sqlalchemy import x``
    is resolved by the import table, so an unqualified path means "not imported from elsewhere")."""
    return "." not in path or path.startswith("sqlalchemy.")


class ModuleInfo:
    """What the evaluator needs from a revision module: imports, module-level names and functions."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.imports: dict[str, str] = {}
        for node in statements(tree.body):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.imports[alias.asname] = alias.name
                    else:
                        root = alias.name.split(".", 1)[0]
                        self.imports[root] = root
            elif isinstance(node, ast.ImportFrom):
                base = "." * node.level + (node.module or "")
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    self.imports[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
        self.assigns = collect_assignments(tree.body, module_level=True)
        # the classes defined in the file: a TypeDecorator's ``impl`` (class name -> its expression), a
        # mapped class's ``__tablename__ = "literal"`` (class name -> the table)
        self.type_impls: dict[str, ast.expr] = {}
        self.table_names: dict[str, str] = {}
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            decorator = any(
                (b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "")) == "TypeDecorator"
                for b in node.bases
            )
            for item in node.body:
                target, value = simple_assignment(item)
                if target == "impl" and decorator:
                    self.type_impls[node.name] = value
                elif target == "__tablename__" and isinstance(getattr(value, "value", None), str):
                    self.table_names[node.name] = value.value  # a string literal
        self.scope = Scope(self, self.assigns, {}, parent=None)
        self.calling: list[ast.FunctionDef] = []  # the functions whose return value is being evaluated


def final_return(func: ast.FunctionDef) -> ast.expr | None:
    """The expression a function returns when its body (docstrings aside) ends in its only ``return``,
    else None."""
    body = [
        stmt
        for stmt in func.body
        if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
    ]
    if not body or not isinstance(body[-1], ast.Return) or body[-1].value is None:
        return None
    if any(isinstance(inner, ast.Return) for stmt in body[:-1] for inner in statements([stmt])):
        return None
    return body[-1].value


def simple_assignment(node: ast.stmt) -> tuple[str | None, ast.expr | None]:
    """``name = value`` (or ``name: T = value``) as (name, value); (None, None) for anything else."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id, node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
        return node.target.id, node.value
    return None, None


def made_string(value: object) -> bool:
    """A call of a builtin that makes a string: ``str(...)``, ``repr(...)``, ``format(...)``."""
    return isinstance(value, Call) and value.receiver is None and value.path in ("str", "repr", "format")


def _python_string(value: object) -> bool:
    """A string as Python makes it: a literal (not one known only in part), or :func:`made_string`."""
    if isinstance(value, str):
        return not isinstance(value, Partial)
    return made_string(value)


_BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


def statements(body: list[ast.stmt]):
    """Every statement in ``body`` and in the blocks nested in it (if/for/with/try/match), in source order,
    without entering function or class bodies and without walking expressions."""
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        nested: list[ast.AST] = []
        for name in _BLOCK_FIELDS:
            nested.extend(getattr(node, name, None) or ())
        stack.extend(reversed(nested))


_MUTATORS = frozenset(
    {"append", "extend", "insert", "remove", "pop", "clear", "update", "setdefault", "add", "discard", "sort"}
)


def collect_assignments(body: list[ast.stmt], module_level: bool = False) -> dict[str, object]:
    """Map each name bound in ``body`` (not descending into nested scopes) to the expression it is bound
    to, to a :class:`FuncRef`, or to ``_MULTI`` when it is bound more than once or not by ``x = expr``."""
    found: dict[str, object] = {}
    mutated: set[str] = set()

    def bind(name: str, value: object) -> None:
        found[name] = _MULTI if name in found else value

    def targets(target: ast.expr) -> None:
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                bind(node.id, _MULTI)

    for node in statements(body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            bind(node.name, FuncRef(node) if isinstance(node, ast.FunctionDef) else _MULTI)
            continue
        if isinstance(node, ast.ClassDef):
            bind(node.name, _MULTI)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if not module_level:
                continue  # the module-wide import table already knows these names
            for alias in node.names:
                name = alias.asname or alias.name.split(".", 1)[0]
                if name in found:
                    found[name] = _MULTI
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            # lst.append(x), d.update(...): a name bound to a list or dict once and filled later is not the
            # literal it was bound to
            func = node.value.func
            if isinstance(func, ast.Attribute) and func.attr in _MUTATORS:  # noqa: SIM102
                if isinstance(func.value, ast.Name):
                    mutated.add(func.value.id)
            continue
        if isinstance(node, ast.Assign):
            for target in node.targets:  # items[0] = x, d["k"] = v: the container changes
                if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                    found[target.value.id] = _MULTI
            if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                bind(node.targets[0].id, node.value)
            else:
                for target in node.targets:
                    targets(target)
        elif isinstance(node, ast.AnnAssign):
            if isinstance(node.target, ast.Name):
                bind(node.target.id, node.value if node.value is not None else _MULTI)
        elif isinstance(node, (ast.AugAssign, ast.For, ast.AsyncFor)):
            targets(node.target)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    targets(item.optional_vars)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bind(node.name, _MULTI)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                found[name] = _MULTI
    for name in mutated:  # session.add(x) changes what the session holds, not what the name stands for
        if not _is_session_call(found.get(name)):
            found[name] = _MULTI
    return found  # (names bound by := inside expressions are not tracked)


def _is_session_call(value: object) -> bool:
    """``Session(...)``, ``orm.Session(...)``: an ORM session object, whose ``add()`` is no container's."""
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    return (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)) == "Session"


def assigned_names(stmt: ast.stmt) -> list[str]:
    """The names a statement (and the blocks nested in it) binds, without entering nested scopes."""
    return [name for name in collect_assignments([stmt]) if name]


_FORMAT_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_PERCENT_FIELD = re.compile(r"%(?:\((\w+)\))?([sd%])")
_TEXT_FUNCS = {"text", "literal_column", "DDL"}
_PASSTHROUGH_FUNCS = {"f", "conv", "quoted_name"}  # op.f("name"), sa.schema.conv, quoted_name(name, q)


class Scope:
    """Evaluates expressions within one function (or the module) of a revision."""

    def __init__(
        self,
        module: ModuleInfo,
        assigns: dict[str, object],
        bound: dict[str, object],
        parent: Scope | None,
    ) -> None:
        self.module = module
        self.assigns = assigns
        self.bound = bound
        self.parent = parent
        self._cache: dict[str, object] = {}
        self._resolving: set[str] = set()

    final_return = staticmethod(final_return)  # for the dialect module, which values imports

    @classmethod
    def for_function(cls, module: ModuleInfo, func: ast.FunctionDef, bound: dict[str, object]) -> Scope:
        assigns = collect_assignments(func.body)
        args = func.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None:
                assigns[arg.arg] = _MULTI
        return cls(module, assigns, bound, parent=module.scope)

    def child(self, extra: dict[str, object]) -> Scope:
        """The same scope with more names bound (a loop variable, a batch_op alias)."""
        return Scope(self.module, self.assigns, {**self.bound, **extra}, self.parent)

    def rebinds(self, name: str) -> bool:
        """Whether the value of ``name`` depends on where it is read: it is bound by the walk (a parameter,
        a loop variable, an earlier assignment) or assigned more than once in this function."""
        return name in self.bound or self.assigns.get(name) is _MULTI

    # -- names -------------------------------------------------------------------------------------

    def lookup(self, name: str) -> object:
        if name in self.bound:
            return self.bound[name]
        if name in self.assigns:
            return self._assigned(name)
        if self.parent is not None:
            return self.parent.lookup(name)
        if name in self.module.imports:
            return Ref(self.module.imports[name])
        if name == "op":
            return Ref("alembic.op")
        return Ref(name)

    def _assigned(self, name: str) -> object:
        node = self.assigns[name]
        if node is _MULTI:
            impl = self.module.type_impls.get(name) if self.parent is None else None
            if impl is not None and name not in self._resolving:  # a TypeDecorator: PostgreSQL sees its impl
                self._resolving.add(name)
                try:
                    value = self.ev(impl)
                finally:
                    self._resolving.discard(name)
                return value if isinstance(value, (Ref, Call)) else UNKNOWN
            return UNKNOWN
        if isinstance(node, FuncRef):
            return node
        if name in self._cache:
            return self._cache[name]
        if name in self._resolving:
            return UNKNOWN
        self._resolving.add(name)
        try:
            value = self.ev(node)  # type: ignore[arg-type]
        finally:
            self._resolving.discard(name)
        self._cache[name] = value
        return value

    # -- expressions -------------------------------------------------------------------------------

    def ev(self, node: ast.expr | None) -> object:
        """The static value of ``node``, or UNKNOWN."""
        if node is None:
            return None
        method = getattr(self, "_ev_" + type(node).__name__, None)
        if method is None:
            return UNKNOWN
        return method(node)

    def _ev_Constant(self, node: ast.Constant) -> object:
        if node.value is Ellipsis or isinstance(node.value, (bytes, complex)):
            return UNKNOWN
        return node.value

    def _ev_JoinedStr(self, node: ast.JoinedStr) -> object:
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                parts.append(value.value)
            elif isinstance(value, ast.FormattedValue):
                inner = self.ev(value.value)
                if (
                    value.format_spec is not None
                    or value.conversion not in (-1, ord("s"))
                    or isinstance(inner, bool)
                    or not isinstance(inner, (str, int))
                ):
                    parts.append(HOLE)  # known text around a value only known at run time
                else:
                    parts.append(inner if isinstance(inner, str) else str(inner))
            else:
                return UNKNOWN
        return partial("".join(parts))

    def _ev_Name(self, node: ast.Name) -> object:
        return self.lookup(node.id)

    def _ev_Attribute(self, node: ast.Attribute) -> object:
        base = self.ev(node.value)
        if isinstance(base, Ref):
            return Ref(f"{base.path}.{node.attr}")
        if isinstance(base, ColumnsOf):
            return TableColumn("sqlalchemy.column", [node.attr], {}, table=base.table)
        if (
            isinstance(base, Call)
            and base.receiver is None
            and base.name in TABLE_CALLS
            and node.attr in ("c", "columns")
        ):
            return ColumnsOf(base)
        return UNKNOWN

    def _ev_List(self, node: ast.List | ast.Tuple) -> object:
        result = []
        for elt in node.elts:
            if isinstance(elt, ast.Starred):
                value = self.ev(elt.value)
                # a known list is spliced in; an unknown one stands for one unknown item (a column list
                # [*COLS, "c"] is then read as ["?", "c"])
                result.extend(value if isinstance(value, list) else [UNKNOWN])
            else:
                result.append(self.ev(elt))
        return result

    _ev_Tuple = _ev_List

    def _ev_Dict(self, node: ast.Dict) -> object:
        result = {}
        for key, value in zip(node.keys, node.values, strict=True):
            k = self.ev(key) if key is not None else UNKNOWN
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                return UNKNOWN
            result[k] = self.ev(value)
        return result

    def _ev_UnaryOp(self, node: ast.UnaryOp) -> object:
        value = self.ev(node.operand)
        if isinstance(node.op, ast.USub) and isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value
        if isinstance(node.op, ast.Invert) and _is_sql(value):
            return SqlOp("NOT", value)
        return UNKNOWN

    def _ev_BinOp(self, node: ast.BinOp) -> object:
        left, right = self.ev(node.left), self.ev(node.right)
        if isinstance(node.op, ast.Add):
            if isinstance(left, str) and isinstance(right, str):
                return partial(left + right)
            if isinstance(left, str) and right is UNKNOWN or left is UNKNOWN and isinstance(right, str):
                return partial(_or_hole(left) + _or_hole(right))
            if _is_sql(left) or _is_sql(right):
                return SqlOp("+", left, right)
            return UNKNOWN
        if isinstance(node.op, ast.Mod) and isinstance(left, str):
            return _percent_format(left, right)
        if isinstance(node.op, (ast.BitAnd, ast.BitOr)) and (_is_sql(left) or _is_sql(right)):
            return SqlOp("AND" if isinstance(node.op, ast.BitAnd) else "OR", left, right)
        if isinstance(node.op, (ast.Sub, ast.Mult, ast.Div)) and (_is_sql(left) or _is_sql(right)):
            return SqlOp({ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}[type(node.op)], left, right)
        return UNKNOWN

    def _ev_IfExp(self, node: ast.IfExp) -> object:
        """``a if <dialect test> else b``: the value PostgreSQL gets. Any other test is not known: the
        value is then too, except that a choice between Python strings (or None), such as ``str(row_id)
        if row_id is not None else None``, is a string made in Python at run time, ``str(?)``."""
        truth = on_postgresql(node.test, self)
        if truth is not None:
            return self.ev(node.body if truth else node.orelse)
        made = [value for value in (self.ev(node.body), self.ev(node.orelse)) if value is not None]
        if made and all(_python_string(value) for value in made):
            return Call("str", [UNKNOWN], {})
        return UNKNOWN

    def _ev_Compare(self, node: ast.Compare) -> object:
        if len(node.ops) != 1:
            return UNKNOWN
        truth = on_postgresql(node, self)  # is_sqlite = bind.engine.name == "sqlite": False on PostgreSQL
        if truth is not None:
            return truth
        left, right = self.ev(node.left), self.ev(node.comparators[0])
        if not (_is_sql(left) or _is_sql(right)):
            return UNKNOWN
        op = _COMPARE_OPS.get(type(node.ops[0]))
        if op is None:
            return UNKNOWN
        if right is None and op in ("=", "<>"):
            return SqlOp("IS NULL" if op == "=" else "IS NOT NULL", left)
        return SqlOp(op, left, right)

    def _ev_Call(self, node: ast.Call) -> object:
        func = node.func
        receiver: object = None
        if isinstance(func, ast.Attribute):
            base = self.ev(func.value)
            if isinstance(base, Ref):
                path = f"{base.path}.{func.attr}"
            else:
                path, receiver = func.attr, base
        elif isinstance(func, ast.Name):
            target = self.lookup(func.id)
            if isinstance(target, FuncRef):
                return self._returned(target.node, node)
            if not isinstance(target, Ref):
                return UNKNOWN
            path = target.path
        else:
            return UNKNOWN
        args: list = []
        kwargs: dict = {}
        incomplete = False
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                spread = self.ev(arg.value)
                if isinstance(spread, list):  # f(*COLUMNS) with COLUMNS known: its items
                    args.extend(spread)
                else:
                    incomplete = True
            else:
                args.append(self.ev(arg))
        for kw in node.keywords:
            if kw.arg is None:
                spread = self.ev(kw.value)
                if isinstance(spread, dict) and all(isinstance(k, str) for k in spread):
                    kwargs.update(spread)  # f(**ARGS) with ARGS a known dict: its items
                else:
                    incomplete = True
            else:
                kwargs[kw.arg] = self.ev(kw.value)
        return simplify(Call(path, args, kwargs, node, receiver, incomplete))

    def _returned(self, func: ast.FunctionDef, node: ast.Call) -> object:
        """What a call to a function of the revision file returns, when its body ends in its only
        ``return`` (``def sql(table): return f"UPDATE {table} ..."``), with the call's arguments bound."""
        returned = final_return(func)
        if returned is None:
            return UNKNOWN
        calling = self.module.calling
        if func in calling or len(calling) >= MAX_CALL_DEPTH:
            return UNKNOWN
        params, bound = bound_defaults(func, self.module.scope)
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            return UNKNOWN
        if len(node.args) > len(params) and func.args.vararg is None:
            return UNKNOWN
        for param, arg in zip(params, node.args, strict=False):
            bound[param.arg] = self.ev(arg)
        for keyword in node.keywords:
            bound[keyword.arg] = self.ev(keyword.value)  # type: ignore[index]
        for param in [*params, *func.args.kwonlyargs]:
            bound.setdefault(param.arg, UNKNOWN)
        for extra in (func.args.vararg, func.args.kwarg):
            if extra is not None:
                bound[extra.arg] = UNKNOWN
        calling.append(func)
        try:
            return Scope.for_function(self.module, func, bound).ev(returned)
        finally:
            calling.pop()


MAX_CALL_DEPTH = 3  # how many nested calls to the file's own functions are evaluated for their value

_COMPARE_OPS = {
    ast.Eq: "=",
    ast.NotEq: "<>",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}


def bound_defaults(func: ast.FunctionDef, scope) -> tuple[list[ast.arg], dict[str, object]]:
    """A function's positional parameters, and its parameters' defaults evaluated in ``scope`` (the
    module's): what a call binds before its own arguments."""
    params = [*func.args.posonlyargs, *func.args.args]
    bound: dict[str, object] = {}
    defaults = func.args.defaults
    for param, default in zip(params[len(params) - len(defaults) :], defaults, strict=True):
        bound[param.arg] = scope.ev(default)
    for param, default in zip(func.args.kwonlyargs, func.args.kw_defaults, strict=True):
        bound[param.arg] = scope.ev(default) if default is not None else UNKNOWN
    return params, bound


def _or_hole(value: object) -> str:
    return value if isinstance(value, str) else HOLE


def _is_sql(value: object) -> bool:
    """True for values that stand for SQL expressions (column objects, functions, text)."""
    return isinstance(value, (Call, SqlOp, SqlText))


def _percent_format(template: str, values: object) -> object:
    items = values if isinstance(values, list) else [values]
    if isinstance(values, dict):
        items = []
    position = 0

    def repl(match: re.Match) -> str:
        nonlocal position
        key, kind = match.groups()
        if kind == "%":
            return "%"
        if key is not None:
            value = values.get(key, UNKNOWN) if isinstance(values, dict) else UNKNOWN
        else:
            value = items[position] if position < len(items) else UNKNOWN
            position += 1
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            return HOLE
        return str(value)

    return partial(_PERCENT_FIELD.sub(repl, template))


def _str_format(template: str, args: list, kwargs: dict) -> object:
    position = 0

    def repl(match: re.Match) -> str:
        nonlocal position
        if match.group(0) in ("{{", "}}"):
            return match.group(0)[0]
        key = match.group(1)
        if key == "":
            value = args[position] if position < len(args) else UNKNOWN
            position += 1
        elif key.isdigit():
            index = int(key)
            value = args[index] if index < len(args) else UNKNOWN
        elif key.isidentifier():
            value = kwargs.get(key, UNKNOWN)
        else:
            value = UNKNOWN
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            return HOLE
        return str(value)

    return partial(_FORMAT_FIELD.sub(repl, template))


_STR_METHODS = {"strip", "lstrip", "rstrip", "lower", "upper"}
_CORE_METHODS = {"update", "delete", "insert", "select", "where", "filter", "values", "select_from"}


def simplify(call: Call) -> object:
    """Fold the calls whose value is known: ``sa.text("...")``, ``op.f("name")``, ``"...".strip()``,
    ``textwrap.dedent("...")``, ``type.with_variant(...)``, ``"...".format(...)``."""
    receiver = call.receiver
    if receiver is None:
        name = call.name
        first = call.args[0] if call.args else call.kwargs.get("text", MISSING)
        if name in _TEXT_FUNCS and is_sqlalchemy(call.path) and not call.incomplete:
            if isinstance(first, str):
                if name == "DDL":
                    return SqlText(first.replace("%%", "%"))
                return SqlText(first)  # bind parameters (:name) are replaced where the SQL is linted
            return UNKNOWN
        passthrough = name in _PASSTHROUGH_FUNCS and (name != "f" or call.path in ("f", "alembic.op.f"))
        if passthrough and call.args and isinstance(call.args[0], str):
            first = call.args[0]
            if name in ("f", "conv") and not isinstance(first, Partial):
                return Conv(first)  # SQLAlchemy shortens such a name itself (sqlalchemy_name)
            return first
        if name == "dedent" and call.args and isinstance(call.args[0], str):
            return call.args[0]  # SQL does not care about indentation
        return call
    if receiver is UNKNOWN:
        # a Core statement on a table not known here (t.update().where(...)) keeps its shape
        return call if call.path in _CORE_METHODS else UNKNOWN
    method = call.path
    if isinstance(receiver, Batch) and method == "f" and call.args and isinstance(call.args[0], str):
        first = call.args[0]  # batch_op.f("name"): the name as given, as op.f gives it
        return first if isinstance(first, Partial) else Conv(first)
    if isinstance(receiver, str):
        if method in _STR_METHODS and not call.args and not call.kwargs:
            return partial(getattr(receiver, method)())
        if method == "format" and not call.incomplete:
            return _str_format(receiver, call.args, call.kwargs)
        if method == "join" and len(call.args) == 1 and not call.kwargs:
            # "\n".join(STATEMENTS): known items joined, an unknown item (or list) is a hole
            items = call.args[0]
            if not isinstance(items, list):
                return partial(HOLE)
            return partial(receiver.join(_or_hole(i) if not isinstance(i, bool) else HOLE for i in items))
        if method == "replace" and len(call.args) == 2 and not call.kwargs:
            old, new = call.args
            if isinstance(old, str) and isinstance(new, str) and HOLE not in old + new:
                return partial(receiver.replace(old, new))
        return UNKNOWN
    if isinstance(receiver, dict) and method in ("items", "keys", "values") and not call.args:
        if method == "items":
            return [[k, v] for k, v in receiver.items()]
        return list(getattr(receiver, method)())
    if isinstance(receiver, SqlText) and method in ("bindparams", "columns", "execution_options", "params"):
        return receiver
    if isinstance(receiver, Call) and method == "with_variant":
        dialects = [*call.args[1:], call.kwargs.get("dialect_names", MISSING)]
        for dialect in dialects:
            names = dialect if isinstance(dialect, list) else [dialect]
            if "postgresql" in names and call.args:
                return call.args[0]
        return receiver
    if isinstance(receiver, Call) and method in ("evaluates_none", "copy"):
        return receiver
    return call


@dataclass(slots=True)
class Args:
    """The arguments of one operation call, bound to the operation's parameter names."""

    values: dict[str, object] = field(default_factory=dict)
    rest: list = field(default_factory=list)  # the *elements / *columns of create_table & co
    incomplete: bool = False

    def get(self, name: str, default: object = MISSING) -> object:
        return self.values.get(name, default)

    def has(self, name: str) -> bool:
        return name in self.values

    def str(self, name: str, what: str | None = None, optional: bool = False) -> str | None:
        """A required (or optional) string argument; raises NotStatic when it is not a literal."""
        value = self.values.get(name, MISSING)
        if value is MISSING or (value is None and optional):
            if optional:
                return None
            raise NotStatic(f"{what or name} is missing")
        if isinstance(value, str):
            return value
        raise NotStatic(f"{what or name} is not a literal string")

    def flag(self, name: str) -> bool:
        value = self.values.get(name, MISSING)
        if value is MISSING or value is None:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, str)):
            return bool(value)
        raise NotStatic(f"{name}= is not a literal")


def bind_args(call: Call, params: tuple[str, ...], preset: dict[str, object] | None = None) -> Args:
    """Bind a call's positional arguments to ``params`` (a trailing ``*name`` collects the rest) and add
    its keyword arguments; ``preset`` supplies parameters a batch_op call does not take."""
    result = Args(dict(preset or {}), [], call.incomplete)
    positional = list(call.args)
    for param in params:
        if param.startswith("*"):
            result.rest = positional
            positional = []
            break
        if not positional:
            break
        result.values[param] = positional.pop(0)
    result.values.update(call.kwargs)
    return result
