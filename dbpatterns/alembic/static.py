"""Read Alembic revision files statically: ``op.*`` calls -> the PostgreSQL statements they emit.

The revision is parsed with :mod:`ast`, never imported or executed, and neither SQLAlchemy nor Alembic is
imported (linting must start fast). :func:`read_revision` walks ``upgrade()`` and ``downgrade()`` in source
order and renders every ``op.<name>(...)`` call as :class:`OpStatement` objects carrying the SQL that
Alembic's PostgreSQL implementation would emit, at the line and column of the call. The lint engine parses
that SQL with pglast and runs the same checks it runs on ``.sql`` files.

What is understood:

* ``op`` imported as ``from alembic import op`` (any alias), ``import alembic`` + ``alembic.op.x``, or used
  without an import;
* arguments that are literals, implicit string concatenation, f-strings and ``%``/``.format()`` whose
  placeholders are themselves static, names assigned once in the function or the module, ``op.f()``,
  ``sa.text()``, ``textwrap.dedent()``, ``.strip()``;
* ``with op.get_context().autocommit_block():`` (any ``*.autocommit_block()``) marks enclosed statements
  ``autocommit=True``; ``with op.batch_alter_table(t) as batch_op:`` maps ``batch_op.<name>`` to the same
  operation on ``t`` (``recreate="always"`` also adds the copy/drop/rename Alembic runs at the end of the
  block, at the line of the ``batch_alter_table`` call);
* calls to functions defined in the same file are followed (up to :data:`MAX_HELPER_DEPTH` levels, with
  literal arguments bound to the parameters); ``for`` loops over literal lists are unrolled;
* ``op.get_bind().execute(text)`` / ``conn.execute(text)`` with ``conn = op.get_bind()`` are reported as
  ``execute`` statements; so is ``session.execute(text)`` on an ORM ``Session`` bound to that connection
  (``Session(bind=conn)``, ``with Session(bind=conn) as session:``), whose data calls (``session.query``,
  ``add``, ``merge``, ``delete``, ``bulk_*``) are statements with ``orm`` set: the ORM makes their SQL at
  run time (the orm-data-migration rule reports them).

* partial evaluation: a name, column or column list known only at run time (an f-string of a variable,
  ``[*COLS, "c"]``, ``drop_constraint(None, ...)``) reads ``?`` and the operation is still linted; an
  ``op.execute`` string with unknown parts is linted when it parses with them as ``"?"``; bind parameters
  of every style are replaced (:mod:`dbpatterns.sql.params`); SQLAlchemy Core ``t.update()...`` statements
  are rendered;
* dialect guards: a branch that is false on PostgreSQL (``dialect.name == "mysql"``, ``url.startswith``)
  is not linted and its operations are counted as skipped; ``is_offline_mode()`` is read as online;
* alembic_utils' ``create_entity``/``replace_entity``/``drop_entity`` and alembic-postgresql-enum's
  ``sync_enum_values``;
* the statements of a multi-statement ``op.execute`` string each at their own line.

When an operation's SQL cannot be known statically, its statement has ``sql=None`` and a short ``note``
(the opaque-operation rule reports it). :attr:`RevisionSource.stats` counts the operations seen, analysed
(partially or not), skipped under a guard and unanalysed.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass, field, replace

from ..findings import STAT_KEYS
from .dialect import is_offline_test, on_postgresql
from .ops import (
    BATCH_PARAMS,
    FUNCTION_OPS,
    NOT_OPS,
    OP_PARAMS,
    RENDERERS,
    batch_recreate,
    existing_type_sql,
    fill_unknown,
    refusal,
)
from .values import (
    UNKNOWN,
    Batch,
    Call,
    FuncRef,
    ModuleInfo,
    NotStatic,
    Ref,
    Refused,
    Scope,
    as_name,
    assigned_names,
    bind_args,
    bound_defaults,
    simple_assignment,
    statements,
)

MAX_HELPER_DEPTH = 3  # how many levels of same-file helper functions are followed from upgrade()/downgrade()
MAX_UNROLL = 200  # for loops over longer literal lists are walked once, with the loop variable unknown

__all__ = ["OpStatement", "RevisionSource", "looks_like_revision", "read_revision"]


@dataclass(frozen=True, slots=True)
class OpStatement:
    """One SQL statement emitted by one ``op.*`` call (a call may emit several, all at its position).

    ``sql`` is one PostgreSQL statement without a trailing semicolon, except for ``op.execute`` whose text
    is passed through whole (it may hold several statements). ``sql`` is None when it cannot be rendered
    statically, and ``note`` then says why. ``existing_type`` is the SQL of ``existing_type=`` on an
    ``alter_column`` call (so a check can tell whether a type change is binary-coercible).
    """

    sql: str | None
    line: int
    column: int
    op: str
    autocommit: bool
    note: str | None = None
    existing_type: str | None = None
    # a drop_index whose table the next operation (after more drop_index calls on it) drops: the index
    # goes with the table, and DROP INDEX CONCURRENTLY would only add a step
    table_dropped_next: bool = False
    # why Alembic or SQLAlchemy raises on the operation before sending its SQL (the revision cannot run
    # past it); ``sql`` is then the statement it would send, or None when there is none to show
    fails: str | None = None
    # an ORM data call on a Session bound to the migration's connection (``sql`` None: the ORM makes the
    # SQL at run time): the call as written, ``session.query(Participant)``, and the table of its mapped
    # class when the revision defines it (``__tablename__``)
    orm: str | None = None
    orm_table: str | None = None
    orm_writes: bool = False  # the function's ORM calls change rows (add, delete, ..., commit, flush)


@dataclass
class RevisionSource:
    """What a revision file says, read without running it."""

    path: str
    revision: str | None
    down_revision: str | tuple[str, ...] | None
    upgrade: list[OpStatement] | None
    downgrade: list[OpStatement] | None
    upgrade_line: int | None
    downgrade_line: int | None
    downgrade_empty: bool
    syntax_error: tuple[int, int, str] | None
    suppressions: dict[int, frozenset[str]]
    # op calls of upgrade() and downgrade(): ``seen`` (all), ``analysed`` (their SQL is known, ``partial``
    # of them with a name or column read as ``?``), ``skipped`` (under a guard that is false on
    # PostgreSQL, not linted), ``unanalysed`` (reported by opaque-operation); analysed + skipped +
    # unanalysed == seen
    stats: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAT_KEYS, 0))


_REVISION_RE = re.compile(r"^revision\s*(?::[^=\n]*)?=(?!=)", re.M)
_REVISION_VALUE_RE = re.compile(r"^revision\s*(?::[^=\n]*)?=\s*[rRuU]?(['\"])([^'\"\n]+)\1", re.M)
_UPGRADE_RE = re.compile(r"^def\s+upgrade\s*\(", re.M)
_SUPPRESS_RE = re.compile(r"dbpatterns:\s*ignore\b(?:\[([^\]]*)\])?")
_NEWLINES = re.compile(r"\r\n|\r|\n")


def looks_like_revision(text: str) -> bool:
    """Cheap test: a module-level ``revision =`` and a ``def upgrade``."""
    return bool(_REVISION_RE.search(text) and _UPGRADE_RE.search(text))


def read_revision(text: str, path: str) -> RevisionSource:
    """Read one revision file statically. Never raises: Python that does not parse gives ``syntax_error``
    and empty statement lists."""
    try:
        return _read(text, path)
    except Exception as exc:  # a bug here must not stop a lint run; say it where the user will see it
        match = _REVISION_VALUE_RE.search(text) if isinstance(text, str) else None
        return RevisionSource(
            path=path,
            revision=match.group(2) if match else None,
            down_revision=None,
            upgrade=[OpStatement(None, 1, 1, "?", False, f"revision not readable ({type(exc).__name__})")],
            downgrade=[],
            upgrade_line=None,
            downgrade_line=None,
            downgrade_empty=False,
            syntax_error=None,
            suppressions={},
        )


def _read(text: str, path: str) -> RevisionSource:
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        return _unparsable(text, path, exc.lineno or 1, exc.offset or 1, exc.msg or "invalid syntax")
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        return _unparsable(text, path, 1, 1, str(exc) or type(exc).__name__)
    module = ModuleInfo(tree)
    functions: dict[str, ast.FunctionDef] = {}
    revision: object = None
    down_revision: object = None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in ("upgrade", "downgrade"):
            functions[node.name] = node
        target, value = simple_assignment(node)
        if target == "revision":
            revision = module.scope.ev(value)
        elif target == "down_revision":
            down_revision = module.scope.ev(value)
    walker = _Walker(module, _NEWLINES.split(text))
    upgrade = functions.get("upgrade")
    downgrade = functions.get("downgrade")
    upgrade_ops = walker.run(upgrade) if upgrade else None
    downgrade_ops = walker.run(downgrade) if downgrade else None
    return RevisionSource(
        path=path,
        revision=revision if isinstance(revision, str) else None,
        down_revision=_down_revision(down_revision),
        upgrade=upgrade_ops,
        downgrade=downgrade_ops,
        upgrade_line=upgrade.lineno if upgrade else None,
        downgrade_line=downgrade.lineno if downgrade else None,
        downgrade_empty=bool(downgrade) and _is_empty(downgrade),
        syntax_error=None,
        suppressions=walker.spread_suppressions(_suppressions(text, walker.spans)),
        stats=walker.stats,
    )


def _unparsable(text: str, path: str, line: int, column: int, message: str) -> RevisionSource:
    match = _REVISION_VALUE_RE.search(text)
    return RevisionSource(
        path=path,
        revision=match.group(2) if match else None,
        down_revision=None,
        upgrade=[],
        downgrade=[],
        upgrade_line=None,
        downgrade_line=None,
        downgrade_empty=False,
        syntax_error=(line, column, message),
        suppressions=_suppressions(text, []),
    )


def _down_revision(value: object) -> str | tuple[str, ...] | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def _is_empty(func: ast.FunctionDef) -> bool:
    """Only ``pass``, docstrings / string expressions and ``...``."""
    return all(
        isinstance(stmt, ast.Pass)
        or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and _inert(stmt.value.value))
        for stmt in func.body
    )


def _inert(value: object) -> bool:
    return value is Ellipsis or isinstance(value, str)


@dataclass(frozen=True, slots=True)
class _Ctx:
    autocommit: bool
    depth: int
    stack: tuple[str, ...]


class _Walker:
    """Walks a function body in source order and collects the statements of its op calls."""

    def __init__(self, module: ModuleInfo, lines: list[str]) -> None:
        self.module = module
        self.lines = lines
        self.spans: list[tuple[int, int]] = []  # (first, last) line of every op call, for suppressions
        self.out: list[OpStatement] = []
        self.stats: dict[str, int] = dict.fromkeys(STAT_KEYS, 0)
        self.placed: set[int] = set()  # the lines statements were placed at
        self.tables: dict = {}  # drop_index/drop_table: the table they name (by call node, then by unit)
        self.returned: ast.stmt | None = None  # the last dialect guard whose PostgreSQL branch returns

    def run(self, func: ast.FunctionDef) -> list[OpStatement]:
        self.out = []
        self.tables = {}
        self.orm_writes = False
        scope = Scope.for_function(self.module, func, _operations_parameters(func))
        self._block(func.body, scope, _Ctx(False, 0, (func.name,)))
        if self.orm_writes:  # known once the whole function is read: a commit() after the queries
            self.out = [replace(unit, orm_writes=True) if unit.orm else unit for unit in self.out]
        return _mark_dropped_with_table(self.out, self.tables)

    # -- statements --------------------------------------------------------------------------------

    def _block(self, body: list[ast.stmt], scope: Scope, ctx: _Ctx) -> Scope:
        """Walk ``body`` in order; returns the scope after it (a name assigned again is bound to its value
        from that statement on: ``sql = text(...); conn.execute(sql); sql = text(...)``)."""
        for at, stmt in enumerate(body):
            try:
                scope = self._stmt(stmt, scope, ctx)
            except RecursionError:
                self._emit(stmt, "?", None, ctx, note="too deeply nested to read statically")
                continue
            if self.returned is stmt:  # `if bind.dialect.name != "mysql": return`: the rest is the others'
                self._skip(body[at + 1 :], scope)
                break
        return scope

    def _skip(self, body: list[ast.stmt], scope: Scope) -> None:
        """``body`` runs only on other databases: its operations are counted as seen and skipped."""
        skipped = self._count_ops(body, scope)
        self.stats["seen"] += skipped
        self.stats["skipped"] += skipped

    def _stmt(self, stmt: ast.stmt, scope: Scope, ctx: _Ctx) -> Scope:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return scope  # defined, not run; called functions are followed where they are called
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            return self._with(stmt, scope, ctx)  # the body runs once: what it assigns holds after it
        if isinstance(stmt, (ast.For, ast.AsyncFor)):
            return self._for(stmt, scope, ctx)
        if isinstance(stmt, ast.If) and (truth := on_postgresql(stmt.test, scope)) is not None:
            # a dialect guard: only the branch PostgreSQL takes is linted; the other's ops are counted
            # as skipped (an is_offline_mode() branch is read as online and not counted)
            taken, other = (stmt.body, stmt.orelse) if truth else (stmt.orelse, stmt.body)
            if is_offline_test(stmt.test):
                return self._block(taken, scope, ctx)
            self._skip(other, scope)
            after = self._block(taken, scope, ctx)
            if taken and isinstance(taken[-1], ast.Return):
                self.returned = stmt  # the enclosing block's rest runs on the other databases only
            return after
        elif isinstance(stmt, (ast.If, ast.While)):
            self._scan(stmt.test, scope, ctx)
            self._block(stmt.body, scope, ctx)
            self._block(stmt.orelse, scope, ctx)
        elif isinstance(stmt, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            self._block(stmt.body, scope, ctx)
            for handler in stmt.handlers:
                self._block(handler.body, scope, ctx)
            self._block(stmt.orelse, scope, ctx)
            self._block(stmt.finalbody, scope, ctx)
        elif isinstance(stmt, ast.Match):
            self._scan(stmt.subject, scope, ctx)
            for case in stmt.cases:
                self._block(case.body, scope, ctx)
        else:
            self._scan(stmt, scope, ctx)
            return _rebind(stmt, scope)
        return _forget(stmt, scope)  # a branch or a loop may have assigned: its names are not known after

    def _count_ops(self, body: list[ast.stmt], scope: Scope) -> int:
        """How many op calls (op.*, batch_op.*, connection.execute) a block holds, without reading them."""
        count = 0
        for stmt in body:
            batches = _batch_names(stmt)
            for node in ast.walk(stmt):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    if isinstance(node.func.value, ast.Name) and node.func.value.id in batches:
                        count += 1  # batch_op.<name> of a block the walk did not enter
                        continue
                    base = scope.ev(node.func.value)
                    is_op = (
                        isinstance(base, Ref) and base.path == "alembic.op" and node.func.attr not in NOT_OPS
                    )
                    is_execute = _is_connection(base) and node.func.attr in ("execute", "exec_driver_sql")
                    is_orm = node.func.attr in ORM_DATA_CALLS and _is_session(base)
                    count += is_op or is_execute or is_orm or isinstance(base, Batch)
                elif isinstance(node, ast.Call) and _library_op(node.func, scope) is not None:
                    count += 1
        return count

    def _with(self, stmt: ast.With | ast.AsyncWith, scope: Scope, ctx: _Ctx) -> Scope:
        autocommit = ctx.autocommit
        bound: dict[str, object] = {}
        batches: list[tuple[ast.Call, Batch]] = []
        for item in stmt.items:
            expr = item.context_expr
            if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
                if expr.func.attr == "autocommit_block":
                    autocommit = True
                    continue
                batch = self._batch(expr, scope)
                if batch is not None:
                    self.spans.append((expr.lineno, expr.end_lineno or expr.lineno))
                    batches.append((expr, batch))
                    if isinstance(item.optional_vars, ast.Name):
                        bound[item.optional_vars.id] = batch
                    continue
            if isinstance(item.optional_vars, ast.Name) and _is_session(session := scope.ev(expr)):
                bound[item.optional_vars.id] = session  # with Session(bind=conn) as session:
            self._scan(expr, scope, ctx)
        inner = replace(ctx, autocommit=autocommit)
        after = self._block(stmt.body, scope.child(bound) if bound else scope, inner)
        for call, batch in batches:  # Alembic runs the batch when the block ends
            if batch.recreate == "always":
                table, schema = batch.table, batch.schema
                table = as_name(table) if isinstance(table, str) else table
                if isinstance(table, str) and (schema is None or isinstance(schema, str)):
                    for sql in batch_recreate(table, schema):
                        self._emit(call, "batch_alter_table", sql, inner)
                else:
                    self._emit(
                        call, "batch_alter_table", None, inner, note="the batch table name is not static"
                    )
        return after

    def _batch(self, call: ast.Call, scope: Scope) -> Batch | None:
        func = call.func
        if not isinstance(func, ast.Attribute) or func.attr != "batch_alter_table":
            return None
        if scope.ev(func.value) != Ref("alembic.op"):
            return None
        value = scope.ev(call)
        if not isinstance(value, Call):
            return Batch(UNKNOWN, UNKNOWN, UNKNOWN)
        args = bind_args(value, ("table_name", "schema", "recreate"))
        return Batch(args.get("table_name", UNKNOWN), args.get("schema", None), args.get("recreate", "auto"))

    def _for(self, stmt: ast.For | ast.AsyncFor, scope: Scope, ctx: _Ctx) -> Scope:
        """Walk a loop; returns the scope after it. A loop over a literal list is unrolled, each pass
        starting from the scope the one before left (``sql += ...``, ``columns.append(...)`` accumulate),
        and that scope holds after the loop when no ``break``/``continue`` can cut a pass short."""
        self._scan(stmt.iter, scope, ctx)
        values = scope.ev(stmt.iter)
        names = _target_names(stmt.target)
        if names and isinstance(values, list) and 0 < len(values) <= MAX_UNROLL:
            threaded = not _jumps(stmt.body)
            current = scope
            for value in values:
                if len(names) == 1 and isinstance(stmt.target, ast.Name):
                    bound = {names[0]: value}
                elif isinstance(value, list) and len(value) == len(names):
                    bound = dict(zip(names, value, strict=True))
                else:
                    bound = dict.fromkeys(names, UNKNOWN)
                after = self._block(stmt.body, (current if threaded else scope).child(bound), ctx)
                current = after if threaded else current
            if threaded:
                return self._block(stmt.orelse, current, ctx)
        else:
            self._block(stmt.body, scope.child(dict.fromkeys(names, UNKNOWN)) if names else scope, ctx)
        self._block(stmt.orelse, scope, ctx)
        return _forget(stmt, scope)

    # -- expressions -------------------------------------------------------------------------------

    def _scan(self, node: ast.AST, scope: Scope, ctx: _Ctx) -> None:
        """Find op calls (and helper calls) inside an expression or simple statement, in source order."""
        if isinstance(node, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return
        if isinstance(node, ast.Call) and self._call(node, scope, ctx):
            return
        for child in ast.iter_child_nodes(node):
            self._scan(child, scope, ctx)

    def _call(self, node: ast.Call, scope: Scope, ctx: _Ctx) -> bool:
        func = node.func
        library = _library_op(func, scope)
        if library is not None:  # sqlalchemy_searchable.sync_trigger(conn, ...) and the like
            name, params = FUNCTION_OPS[library]
            self._op(name, node, scope, ctx, params, None, library.rsplit(".", 1)[0])
            return True
        if isinstance(func, ast.Attribute):
            base = scope.ev(func.value)
            if isinstance(base, Ref) and base.path == "alembic.op":
                if func.attr in NOT_OPS:
                    return False
                self._op(func.attr, node, scope, ctx, OP_PARAMS.get(func.attr), None, "op")
                return True
            if isinstance(base, Batch):
                preset = {
                    "table_name": base.table,
                    "source_table": base.table,
                    "schema": base.schema,
                    "source_schema": base.schema,
                }
                self._op(func.attr, node, scope, ctx, BATCH_PARAMS.get(func.attr), preset, "batch_op")
                return True
            if _is_connection(base) and func.attr in ("execute", "exec_driver_sql"):
                self._op("execute", node, scope, ctx, ("sqltext",), None, "connection")
                return True
            if func.attr in ORM_DATA_CALLS and _is_session(base):
                self._orm(node, func.attr, ctx)
                return True
            if func.attr in ("commit", "flush") and _is_session(base):
                self.orm_writes = True  # writes what the loaded objects were changed to
                return True
            if func.attr in ("delete", "update") and _session_query(func.value, scope):
                self.orm_writes = True  # session.query(X).filter(...).delete(): the query is read below
            if _is_bind(base) and func.attr in ("commit", "rollback") and not node.args:
                # ends the migration's transaction; SQLAlchemy begins a new one for what runs next. (An
                # ORM Session on the connection joins its transaction: its commit() ends nothing.)
                self.spans.append((node.lineno, node.end_lineno or node.lineno))
                self.stats["seen"] += 1
                self.stats["analysed"] += 1
                self._emit(node, func.attr, func.attr.upper(), ctx)
                return True
            return False
        if isinstance(func, ast.Name):
            target = scope.lookup(func.id)
            if (
                isinstance(target, FuncRef)
                and ctx.depth < MAX_HELPER_DEPTH
                and target.node.name not in ctx.stack
            ):
                self._helper(target.node, node, scope, ctx)
                return True
        return False

    def _op(
        self,
        name: str,
        node: ast.Call,
        scope: Scope,
        ctx: _Ctx,
        params: tuple[str, ...] | None,
        preset: dict[str, object] | None,
        owner: str,
    ) -> None:
        self.spans.append((node.lineno, node.end_lineno or node.lineno))
        self.stats["seen"] += 1
        if params is None or name not in RENDERERS:
            self.stats["unanalysed"] += 1
            self._emit(node, name, None, ctx, note=f"{owner}.{name} is not understood statically")
            return
        try:
            call = scope.ev(node)
            if not isinstance(call, Call):
                raise NotStatic(f"{owner}.{name} call is not static")
            if call.incomplete and name != "create_table":  # a new table's hazards need no column
                raise NotStatic(f"{owner}.{name} with *args or **kwargs")
            args = bind_args(call, params, preset)
            if name in ("drop_index", "drop_table"):
                table = args.get("table_name")
                self.tables[id(node)] = (table, args.get("schema", None)) if isinstance(table, str) else None
            fails = refusal(name, args, owner)
            unknown = fill_unknown(name, args)
            try:
                statements = RENDERERS[name](args)
            except NotStatic:
                if fails is None:
                    raise
                statements = [None]  # it raises before anything: no statement to show
            existing = existing_type_sql(args) if name == "alter_column" else None
        except Refused as exc:  # analysed: it raises at run time, the revision stops here
            self.stats["analysed"] += 1
            reason = f"op.{name} cannot run: {exc}"
            self._emit(node, name, None, ctx, note=reason, fails=reason)
            return
        except NotStatic as exc:
            self.stats["unanalysed"] += 1
            note = str(exc)
            if owner != "op":
                note = note.replace("op.", f"{owner}.", 1) if note.startswith("op.") else note
            self._emit(node, name, None, ctx, note=note)
            return
        except RecursionError:
            self.stats["unanalysed"] += 1
            self._emit(node, name, None, ctx, note="too deeply nested to read statically")
            return
        except Exception as exc:  # defensive: an unexpected shape must not stop the lint
            self.stats["unanalysed"] += 1
            self._emit(node, name, None, ctx, note=f"could not be read statically ({type(exc).__name__})")
            return
        self.stats["analysed"] += 1
        self.stats["partial"] += unknown
        if name == "execute" and len(statements) == 1:
            pieces = self._statement_lines(node, statements[0])
            if pieces:
                for line, sql in pieces:
                    self._emit(node, name, sql, ctx, line=line)
                return
        for sql in statements:
            note = fails if sql is None else None
            self._emit(node, name, sql, ctx, note=note, existing_type=existing, fails=fails)

    def _orm(self, node: ast.Call, method: str, ctx: _Ctx) -> None:
        """An ORM data call on a Session bound to the migration's connection: analysed in part (what it
        does and, for a mapped class the revision defines, its table; not its SQL)."""
        self.spans.append((node.lineno, node.end_lineno or node.lineno))
        self.stats["seen"] += 1
        self.stats["analysed"] += 1
        self.stats["partial"] += 1
        first = node.args[0] if node.args else None
        shown = ast.unparse(first) if first is not None else ""
        if len(shown) > 40:
            shown = shown[:40] + "…"
        table = self.module.table_names.get(first.id) if isinstance(first, ast.Name) else None
        self.orm_writes = self.orm_writes or method in ORM_WRITES
        orm = f"session.{method}({shown})"
        self._emit(node, f"session.{method}", None, ctx, orm=orm, orm_table=table)

    def _statement_lines(self, node: ast.Call, sql: str) -> list[tuple[int, str]] | None:
        """The statements of a multi-statement ``op.execute`` string, each at its own source line: the
        string literal's first line plus the newlines before the statement in it. None when the SQL is one
        statement, or the text is not one plain literal (its lines cannot be mapped back)."""
        if ";" not in sql:
            return None
        literal = node.args[0] if node.args else None
        if isinstance(literal, ast.Call) and literal.args:  # sa.text("..."), sa.DDL("...")
            literal = literal.args[0]
        if not (isinstance(literal, ast.Constant) and isinstance(literal.value, str)):
            return None
        # lazy: sql.parse loads pglast; reading a revision statically does not
        from ..sql.parse import parse

        parsed = parse(sql)
        if len(parsed.statements) < 2 or parsed.errors:
            return None
        text = literal.value
        if len(text) != len(sql):  # placeholders replaced: offsets no longer match the source
            return None
        first = literal.lineno
        return [
            (first + text.count("\n", 0, stmt.start), sql[stmt.start : stmt.end].rstrip().rstrip(";"))
            for stmt in parsed.statements
        ]

    def spread_suppressions(self, suppressions: dict[int, frozenset[str]]) -> dict[int, frozenset[str]]:
        """A suppression comment on an op call also covers the statements placed on the call's other lines
        (a multi-statement op.execute)."""
        placed = self.placed
        for first, last in self.spans:
            rules = suppressions.get(first)
            if rules:
                for line in range(first + 1, last + 1):
                    if line in placed:
                        suppressions[line] = suppressions.get(line, frozenset()) | rules
        return suppressions

    def _helper(self, func: ast.FunctionDef, node: ast.Call, scope: Scope, ctx: _Ctx) -> None:
        """Follow a call to a function defined in the revision file, binding its parameters."""
        params, bound = bound_defaults(func, self.module.scope)
        starred = False
        for index, arg in enumerate(node.args):
            if isinstance(arg, ast.Starred):
                starred = True
            if starred:
                if index < len(params):
                    for param in params[index:]:
                        bound[param.arg] = UNKNOWN
                break
            if index < len(params):
                bound[params[index].arg] = scope.ev(arg)
        for keyword in node.keywords:
            if keyword.arg is None:
                bound = {k: UNKNOWN for k in bound} | {p.arg: UNKNOWN for p in params}
            else:
                bound[keyword.arg] = scope.ev(keyword.value)
        for param in [*params, *func.args.kwonlyargs]:
            bound.setdefault(param.arg, UNKNOWN)
        for extra in (func.args.vararg, func.args.kwarg):
            if extra is not None:
                bound[extra.arg] = UNKNOWN
        inner = Scope.for_function(self.module, func, bound)
        self._block(func.body, inner, replace(ctx, depth=ctx.depth + 1, stack=(*ctx.stack, func.name)))

    def _emit(
        self,
        node: ast.AST,
        op: str,
        sql: str | None,
        ctx: _Ctx,
        note: str | None = None,
        existing_type: str | None = None,
        line: int | None = None,
        fails: str | None = None,
        orm: str | None = None,
        orm_table: str | None = None,
    ) -> None:
        column_of = getattr(node, "col_offset", 0)
        if line is None:
            line = getattr(node, "lineno", 1)
        elif line != getattr(node, "lineno", 1):
            column_of = 0  # a statement inside the string: its line, first column
        self.placed.add(line)
        if op in ("drop_index", "drop_table") and sql is not None:
            self.tables[len(self.out)] = self.tables.get(id(node))
        self.out.append(
            OpStatement(
                sql=sql,
                line=line,
                column=self._column(line, column_of),
                op=op,
                autocommit=ctx.autocommit,
                note=note,
                existing_type=existing_type,
                fails=fails,
                orm=orm,
                orm_table=orm_table,
            )
        )

    def _column(self, line: int, offset: int) -> int:
        """1-based character column from ast's UTF-8 byte offset."""
        if 0 < line <= len(self.lines):
            text = self.lines[line - 1]
            if not text.isascii():
                return len(text.encode("utf-8")[:offset].decode("utf-8", "ignore")) + 1
        return offset + 1


def _is_bind(value: object) -> bool:
    """The migration's connection itself (``op.get_bind()``)."""
    return isinstance(value, Call) and value.receiver is None and value.path == "alembic.op.get_bind"


def _is_connection(value: object) -> bool:
    """The migration's connection (``op.get_bind()``), or an ORM Session on it (``Session(op.get_bind())``,
    ``Session(bind=conn)``): what it executes runs in the migration's transaction."""
    if _is_bind(value):
        return True
    if not isinstance(value, Call) or value.receiver is not None:
        return False
    if value.name == "Session":
        bind = value.args[0] if value.args else value.kwargs.get("bind")
        return _is_connection(bind)
    return False


def _is_session(value: object) -> bool:
    """An ORM Session on the migration's connection (not the connection itself)."""
    return _is_connection(value) and not _is_bind(value)


#: Session methods that read or write rows through the ORM (a data migration), the SQL made at run time.
ORM_DATA_CALLS = frozenset(
    {
        "query", "get", "scalars", "scalar", "add", "add_all", "merge", "delete", "bulk_save_objects",
        "bulk_insert_mappings", "bulk_update_mappings",
    }
)  # fmt: skip


ORM_WRITES = ORM_DATA_CALLS - {"query", "get", "scalars", "scalar"}


def _session_query(node: ast.expr, scope: Scope) -> bool:
    """``session.query(...)`` at the root of a method chain (``.filter(...).filter_by(...)``)."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "query" and _is_session(scope.ev(node.func.value)):
            return True
        node = node.func.value
    return False


def _batch_names(stmt: ast.stmt) -> set[str]:
    """The names ``with op.batch_alter_table(...) as NAME:`` binds anywhere in ``stmt``."""
    names = set()
    for node in ast.walk(stmt):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                expr, target = item.context_expr, item.optional_vars
                if (
                    isinstance(expr, ast.Call)
                    and isinstance(expr.func, ast.Attribute)
                    and expr.func.attr == "batch_alter_table"
                    and isinstance(target, ast.Name)
                ):
                    names.add(target.id)
    return names


def _mark_dropped_with_table(out: list[OpStatement], tables: dict) -> list[OpStatement]:
    """Mark each drop_index followed (after other drop_index calls on the same table) by a drop_table of
    its table: what Alembic's autogenerate writes when a table goes."""
    for index, unit in enumerate(out):
        if unit.op != "drop_index" or tables.get(index) is None:
            continue
        table = tables[index]
        after = index + 1
        while after < len(out) and out[after].op == "drop_index" and tables.get(after) == table:
            after += 1
        if after < len(out) and out[after].op == "drop_table" and tables.get(after) == table:
            out[index] = replace(unit, table_dropped_next=True)
    return out


def _library_op(func: ast.expr, scope: Scope) -> str | None:
    """The dotted path of a library function the reader runs as an operation (:data:`FUNCTION_OPS`)."""
    if not isinstance(func, (ast.Name, ast.Attribute)):
        return None
    target = scope.ev(func)
    return target.path if isinstance(target, Ref) and target.path in FUNCTION_OPS else None


def _rebind(stmt: ast.stmt, scope: Scope) -> Scope:
    """The scope after a simple statement: a name the function assigns more than once (or a parameter, a
    loop variable) is bound to the value this statement gives it; a single assignment is read where the
    name is used, as before."""
    name: str | None = None
    value: object = UNKNOWN
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        name = stmt.targets[0].id
        if scope.rebinds(name):
            value = scope.ev(stmt.value)
    elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
        name = stmt.target.id
        if scope.rebinds(name):
            value = scope.ev(stmt.value)
    elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
        name = stmt.target.id
        if scope.rebinds(name):
            value = scope.ev(ast.BinOp(left=stmt.target, op=stmt.op, right=stmt.value))
            if isinstance(value, list) or isinstance(scope.lookup(name), list):  # items += [...]
                value = _extended(scope.lookup(name), scope.ev(stmt.value))
    elif (appended := _appended(stmt, scope)) is not None:
        name, value = appended  # columns.append(sa.Column(...)): the list with one more item
    else:
        return _forget(stmt, scope)
    if not scope.rebinds(name):
        return scope
    return scope.child({name: value})


def _appended(stmt: ast.stmt, scope: Scope) -> tuple[str, object] | None:
    """``name.append(x)`` / ``name.extend([...])`` on a name bound to a known list: (name, the new list);
    the list is copied, never changed in place."""
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
        return None
    call = stmt.value
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
        return None
    if func.attr not in ("append", "extend") or len(call.args) != 1 or call.keywords:
        return None
    if func.value.id not in scope.bound or isinstance(call.args[0], ast.Starred):
        return None
    current = scope.lookup(func.value.id)
    item = scope.ev(call.args[0])
    if func.attr == "append":
        return func.value.id, [*current, item] if isinstance(current, list) else UNKNOWN
    return func.value.id, _extended(current, item)


def _extended(current: object, more: object) -> object:
    if isinstance(current, list) and isinstance(more, list):
        return [*current, *more]
    return UNKNOWN


def _jumps(body: list[ast.stmt]) -> bool:
    """Whether a loop body may leave a pass early (break, continue, return, raise), outside nested loops and
    functions."""
    for stmt in statements(body):
        if isinstance(stmt, (ast.Break, ast.Continue, ast.Return, ast.Raise)):
            return True
    return False


def _forget(stmt: ast.stmt, scope: Scope) -> Scope:
    """The scope after a statement that may or may not have assigned (a branch, a loop, a tuple target):
    the names it assigns that were bound to a value are unknown from here on."""
    names = [name for name in assigned_names(stmt) if name in scope.bound]
    return scope.child(dict.fromkeys(names, UNKNOWN)) if names else scope


def _operations_parameters(func: ast.FunctionDef) -> dict[str, object]:
    """The parameters of ``upgrade()``/``downgrade()`` through which the project's env.py hands in Alembic's
    operations object (``def upgrade(op, ...)``, called as ``context.run_migrations(op=op, ...)``): a
    parameter named ``op`` or annotated ``Operations``."""
    found: dict[str, object] = {}
    args = func.args
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
        annotation = arg.annotation
        hint = ""
        if isinstance(annotation, ast.Attribute):
            hint = annotation.attr
        elif isinstance(annotation, ast.Name):
            hint = annotation.id
        elif isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            hint = annotation.value.rsplit(".", 1)[-1]
        if arg.arg == "op" or hint == "Operations":
            found[arg.arg] = Ref("alembic.op")
    return found


def _target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)) and all(isinstance(e, ast.Name) for e in target.elts):
        return [e.id for e in target.elts]  # type: ignore[union-attr]
    return []


def _suppressions(text: str, spans: list[tuple[int, int]]) -> dict[int, frozenset[str]]:
    """``# dbpatterns: ignore[rule-a, rule-b]`` comments by the line of the op call they apply to.

    A comment anywhere on the lines of an op call applies to that call; a comment alone on its line (or a
    run of such lines) directly above an op call applies to the call. Otherwise it stays on its own line.
    """
    comments: list[tuple[int, str, bool]] = []
    if "dbpatterns" not in text:
        return {}  # tokenizing is the slowest part of reading a file: skip it when there is nothing to find
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                standalone = not token.line[: token.start[1]].strip()
                comments.append((token.start[0], token.string, standalone))
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass  # keep the comments read so far
    standalone_lines = {line for line, _, alone in comments if alone}
    starts = {first for first, _ in spans}
    result: dict[int, set[str]] = {}
    for line, comment, standalone in comments:
        match = _SUPPRESS_RE.search(comment)
        if match is None:
            continue
        rules = {r.strip() for r in (match.group(1) or "").split(",") if r.strip()} or {"*"}
        target = line
        containing = [span for span in spans if span[0] <= line <= span[1]]
        if containing:
            target = min(containing, key=lambda span: span[1] - span[0])[0]
        elif standalone:
            below = line + 1
            while below in standalone_lines:
                below += 1
            if below in starts:
                target = below
        result.setdefault(target, set()).update(rules)
    return {line: frozenset(rules) for line, rules in sorted(result.items())}
