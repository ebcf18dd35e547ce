"""SQLAlchemy type expressions (as read from the source, never imported) -> PostgreSQL type names.

The rendering follows SQLAlchemy's PostgreSQL type compiler: ``sa.String(50)`` -> ``VARCHAR(50)``,
``sa.DateTime(timezone=True)`` -> ``TIMESTAMP WITH TIME ZONE``, ``sa.Enum(..., name="mood")`` -> ``mood``,
``postgresql.ARRAY(sa.Integer)`` -> ``INTEGER[]``, ``sa.LargeBinary`` -> ``BYTEA`` and so on. Types are
matched by class name whatever module they come from (``sa.types.Integer``, ``postgresql.INTEGER``, an
unqualified ``Integer`` imported from sqlalchemy), and ``.with_variant(X, "postgresql")`` picks ``X``.

A TypeDecorator renders as its ``impl``, as PostgreSQL sees it: defined in the revision itself
(:mod:`dbpatterns.alembic.values`), or imported from another module of the project (``from app.db.types
import JSONish``): that module is read statically (never imported), found under the project's
``prepend_sys_path`` entries, the revision's folder or the project's folder (:func:`module_roots`), and
kept by its content.

Unknown types (third-party types such as ``geoalchemy2.Geometry``, a TypeDecorator whose module is not
found, a name whose value is not known) render as a **placeholder**: the lowercased class name
(``Geometry`` -> ``geometry``, ``MyType`` -> ``mytype``), quoted if it has to be. The placeholder always
parses; it says nothing about the storage, so checks that compare types (binary-coercible changes) must
treat an unrecognised name as unknown.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import os
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from ..sql.names import literal, qualified, quote
from .values import MISSING, UNKNOWN, Call, ModuleInfo, NotStatic, Ref, Refused

_SIMPLE = {
    "Integer": "INTEGER",
    "INTEGER": "INTEGER",
    "INT": "INTEGER",
    "BigInteger": "BIGINT",
    "BIGINT": "BIGINT",
    "SmallInteger": "SMALLINT",
    "SMALLINT": "SMALLINT",
    "Boolean": "BOOLEAN",
    "BOOLEAN": "BOOLEAN",
    "Date": "DATE",
    "DATE": "DATE",
    "Text": "TEXT",
    "TEXT": "TEXT",
    "UnicodeText": "TEXT",
    "CLOB": "TEXT",
    "JSON": "JSON",
    "JSONB": "JSONB",
    "JSONPATH": "JSONPATH",
    "UUID": "UUID",
    "LargeBinary": "BYTEA",
    "BYTEA": "BYTEA",
    "BLOB": "BYTEA",
    "BINARY": "BYTEA",
    "VARBINARY": "BYTEA",
    "PickleType": "BYTEA",
    "REAL": "REAL",
    "Double": "DOUBLE PRECISION",
    "DOUBLE": "DOUBLE PRECISION",
    "DOUBLE_PRECISION": "DOUBLE PRECISION",
    "INET": "INET",
    "CIDR": "CIDR",
    "MACADDR": "MACADDR",
    "MACADDR8": "MACADDR8",
    "MONEY": "MONEY",
    "OID": "OID",
    "REGCLASS": "REGCLASS",
    "REGCONFIG": "REGCONFIG",
    "TSVECTOR": "TSVECTOR",
    "TSQUERY": "TSQUERY",
    "HSTORE": "HSTORE",
    "CITEXT": "CITEXT",
    "INT4RANGE": "INT4RANGE",
    "INT8RANGE": "INT8RANGE",
    "NUMRANGE": "NUMRANGE",
    "DATERANGE": "DATERANGE",
    "TSRANGE": "TSRANGE",
    "TSTZRANGE": "TSTZRANGE",
    "INT4MULTIRANGE": "INT4MULTIRANGE",
    "INT8MULTIRANGE": "INT8MULTIRANGE",
    "NUMMULTIRANGE": "NUMMULTIRANGE",
    "DATEMULTIRANGE": "DATEMULTIRANGE",
    "TSMULTIRANGE": "TSMULTIRANGE",
    "TSTZMULTIRANGE": "TSTZMULTIRANGE",
}
_VARCHAR = {"String", "VARCHAR", "Unicode", "NVARCHAR"}
_CHAR = {"CHAR", "NCHAR"}
_TIMESTAMP = {"DateTime", "TIMESTAMP", "DATETIME"}
_TIME = {"Time", "TIME"}
_NUMERIC = {"Numeric": "NUMERIC", "NUMERIC": "NUMERIC", "DECIMAL": "DECIMAL"}
_FLOAT = {"Float", "FLOAT"}
_ENUM = {"Enum", "ENUM"}
_ARRAY = {"ARRAY"}
_INTEGER_TYPES = {"Integer", "INTEGER", "INT", "BigInteger", "BIGINT", "SmallInteger", "SMALLINT"}


@dataclass(frozen=True, slots=True)
class EnumType:
    """A native PostgreSQL enum that ``op.create_table`` creates before the table."""

    name: str
    schema: str | None
    values: tuple[str, ...]


def call_arg(call: Call, index: int, name: str) -> object:
    """Argument ``name`` of ``call``, given by keyword or at position ``index``; MISSING when not given."""
    if name in call.kwargs:
        return call.kwargs[name]
    if index < len(call.args):
        return call.args[index]
    return MISSING


class UnknownSize(NotStatic):
    """A length or precision that is not a literal (``sa.String(NAME_SIZE)`` with the size imported)."""


def _int(value: object, what: str) -> int | None:
    if value is MISSING or value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise UnknownSize(f"{what} is not a literal integer")


def _bool(value: object) -> bool:
    return bool(value) if isinstance(value, (bool, int)) else False


def type_name(value: object) -> str | None:
    """The class name of a type expression (``Integer`` for ``sa.Integer()``), or None."""
    if isinstance(value, Ref):
        return value.name
    if isinstance(value, Call) and value.receiver is None:
        return value.name
    return None


def is_integer_type(value: object) -> bool:
    return type_name(value) in _INTEGER_TYPES


def enum_type(value: object) -> EnumType | None:
    """The native enum a type creates in ``CREATE TABLE`` (also inside ARRAY), or None."""
    if not isinstance(value, Call) or value.receiver is not None:
        return None
    if value.name in _ARRAY:
        return enum_type(call_arg(value, 0, "item_type"))
    if value.name not in _ENUM:
        return None
    if value.kwargs.get("native_enum", True) is False or value.kwargs.get("create_type", True) is False:
        return None
    name = _enum_name(value)
    if name is None:
        return None
    schema = value.kwargs.get("schema")
    values = tuple(v for v in value.args if isinstance(v, str))
    return EnumType(name, schema if isinstance(schema, str) else None, values)


def _enum_name(call: Call) -> str | None:
    name = call.kwargs.get("name", MISSING)
    if isinstance(name, str):
        return name
    if name is MISSING and call.args and isinstance(call.args[0], Ref):
        return call.args[0].name.lower()  # sa.Enum(MyEnum): SQLAlchemy names the type after the class
    return None


# modules whose type classes are SQLAlchemy's own (re-exported): their names mean SQLAlchemy's types
_SQLALCHEMY_MODULES = ("sqlalchemy.", "sqlmodel.", "alembic.")


def _foreign(path: str) -> bool:
    """A type imported from a module that is not SQLAlchemy's (the project's own, a third party): a name
    such as ``JSON`` there is another class (often a TypeDecorator whose impl is unknown here)."""
    return "." in path and not path.startswith(_SQLALCHEMY_MODULES)


def type_sql(value: object, partial: bool = False) -> str:
    """The PostgreSQL spelling of a SQLAlchemy type expression; raises NotStatic when it is not static.

    ``partial``: what is not known here reads as a type named with a ``?`` (``knowledge.unknown_type``), where
    the statement is still worth analysing (a column being added or created, a type change): a length or
    precision known only at run time (``sa.String(NAME_SIZE)`` with the size imported) reads
    ``"string(?)"``; a library's type whose PostgreSQL type this reading cannot see (a TypeDecorator whose
    module is not the project's) reads ``"JsonEncodedDict?"``; an expression that is not a type at all
    (``types.JsonEncodedDict().impl``) reads ``"?"``. The lint makes no claim that depends on such a type,
    and a rewrite it may cause is reported as "may"."""
    if value is UNKNOWN or value is MISSING or value is None:
        if partial and value is UNKNOWN:
            return UNKNOWN_TYPE
        raise NotStatic("the column type is not static")
    if isinstance(value, (Ref, Call)) and _foreign(value.path):
        impl = _imported_impl(value)
        if impl is not None:
            return type_sql(impl, partial)
        if partial:  # a library's or the project's class this reading cannot see into
            return quote(f"{value.name}?")
    if isinstance(value, (Ref, Call)) and _foreign(value.path) and _known_name(value.name):
        # a project's own JSON (maybe JSONB underneath): not SQLAlchemy's, so no claim about its storage
        return quote(value.path.lower())
    if isinstance(value, Ref):
        return _named_type_sql(_library_type(value), Call(value.path, [], {}))
    if isinstance(value, Call) and value.receiver is None:
        try:
            return _named_type_sql(_library_type(value), value)
        except UnknownSize:
            if not partial:
                raise
            return quote(f"{value.name.lower()}(?)")
        except Refused:  # SQLAlchemy raises before any SQL is sent (operation-fails)
            raise
        except NotStatic:
            if not partial:
                raise
            return UNKNOWN_TYPE
    if partial:
        return UNKNOWN_TYPE
    raise NotStatic("the column type is not static")


#: A type not known here at all, as SQL (see :func:`type_sql`'s ``partial``).
UNKNOWN_TYPE = '"?"'


# a library's TypeDecorator: the SQLAlchemy type PostgreSQL gets from it (sqlmodel's AutoString is a String
# that only MySQL gives a length; its GUID is UUID on PostgreSQL)
_LIBRARY_TYPES = {
    "sqlmodel.sql.sqltypes.AutoString": "String",
    "sqlmodel.AutoString": "String",
    "sqlmodel.sql.sqltypes.GUID": "Uuid",
}


def _library_type(value: Ref | Call) -> str:
    return _LIBRARY_TYPES.get(value.path, value.name)


def _known_name(name: str) -> bool:
    return name in _SIMPLE or name in _VARCHAR or name in _CHAR or name in _TIMESTAMP or name in _NUMERIC


def _named_type_sql(name: str, call: Call) -> str:
    if name in _SIMPLE:
        return _SIMPLE[name]
    if name == "Uuid":
        return "UUID" if call.kwargs.get("native_uuid", True) is not False else "CHAR(32)"
    if name in _VARCHAR or name in _CHAR:
        length = _int(call_arg(call, 0, "length"), "String length")
        text = ("VARCHAR" if name in _VARCHAR else "CHAR") + (f"({length})" if length is not None else "")
        collation = call_arg(call, 1, "collation")
        if isinstance(collation, str):
            text += f' COLLATE "{collation}"'
        return text
    if name in _TIMESTAMP or name in _TIME:
        if name == "DateTime":
            timezone, precision = call_arg(call, 0, "timezone"), MISSING
        else:
            timezone, precision = call_arg(call, 0, "timezone"), call_arg(call, 1, "precision")
        digits = _int(precision, "precision")
        base = "TIMESTAMP" if name in _TIMESTAMP else "TIME"
        zone = "WITH TIME ZONE" if _bool(timezone) else "WITHOUT TIME ZONE"
        return f"{base}{f'({digits})' if digits is not None else ''} {zone}"
    if name in _NUMERIC:
        precision = _int(call_arg(call, 0, "precision"), "precision")
        scale = _int(call_arg(call, 1, "scale"), "scale")
        if precision is None:
            return _NUMERIC[name]
        if scale is None:
            return f"{_NUMERIC[name]}({precision})"
        return f"{_NUMERIC[name]}({precision}, {scale})"
    if name in _FLOAT:
        precision = _int(call_arg(call, 0, "precision"), "precision")
        return "FLOAT" if precision is None else f"FLOAT({precision})"
    if name in ("Interval", "INTERVAL"):
        if name == "Interval":
            fields, precision = MISSING, call.kwargs.get("second_precision", MISSING)
        else:
            precision, fields = call_arg(call, 0, "precision"), call_arg(call, 1, "fields")
        text = "INTERVAL"
        if isinstance(fields, str):
            text += " " + fields
        digits = _int(precision, "precision")
        if digits is not None:
            text += f" ({digits})"
        return text
    if name == "BIT":
        length = _int(call_arg(call, 0, "length"), "length")
        if _bool(call_arg(call, 1, "varying")):
            return "BIT VARYING" + (f"({length})" if length is not None else "")
        return f"BIT({length or 1})"
    if name in _ARRAY:
        inner = type_sql(call_arg(call, 0, "item_type"))
        dimensions = _int(call_arg(call, 2, "dimensions"), "dimensions") or 1
        suffix = "[]" * dimensions
        if " COLLATE " in inner:
            head, tail = inner.split(" COLLATE ", 1)
            return f"{head}{suffix} COLLATE {tail}"
        return inner + suffix
    if name in _ENUM:
        if call.kwargs.get("native_enum", True) is False:
            values = [v for v in call.args if isinstance(v, str)]
            length = _int(call.kwargs.get("length", MISSING), "length")
            if length is None and values and len(values) == len(call.args) and not call.incomplete:
                length = max(len(v) for v in values)
            return f"VARCHAR({length})" if length else "VARCHAR"  # sa.Enum(MyEnum): its longest name
        enum_name = _enum_name(call)
        unnamed = "name" not in call.kwargs and not call.incomplete
        if enum_name is None and unnamed and all(isinstance(v, str) for v in call.args):
            raise Refused(
                'sa.Enum(...) has no name=: SQLAlchemy raises CompileError ("PostgreSQL ENUM type requires '
                'a name.")'
            )
        if enum_name is None:
            raise NotStatic("the enum type has no literal name")
        schema = call.kwargs.get("schema")
        return qualified(enum_name, schema if isinstance(schema, str) else None)
    if name == "DOMAIN":
        domain = call_arg(call, 0, "name")
        if not isinstance(domain, str):
            raise NotStatic("the domain has no literal name")
        schema = call.kwargs.get("schema")
        return qualified(domain, schema if isinstance(schema, str) else None)
    return quote(name.lower()) if name else "unknown"


def enum_values_sql(enum: EnumType) -> str:
    """``CREATE TYPE ... AS ENUM (...)`` for an enum that ``op.create_table`` creates."""
    values = ", ".join(literal(v) for v in enum.values)
    return f"CREATE TYPE {qualified(enum.name, enum.schema)} AS ENUM ({values})"


# ---- TypeDecorators imported from the project's own modules

#: The revision being read: its file (set by :func:`reading_revision`); the folders its imports are
#: looked for in are worked out only when an imported type needs them.
_REVISION: ContextVar[str | None] = ContextVar("dbpatterns_revision_file", default=None)
_FINDER: ContextVar[Callable | None] = ContextVar("dbpatterns_project_finder", default=None)
_ROOTS: dict[str, tuple[str, ...]] = {}  # a revision's folder -> module_roots
_MODULES: dict[str, ModuleInfo | None] = {}  # a module file's content hash -> its ModuleInfo
_DEPTH: ContextVar[int] = ContextVar("dbpatterns_impl_depth", default=0)
_READ: ContextVar[dict | None] = ContextVar("dbpatterns_modules_read", default=None)


@contextlib.contextmanager
def reading_revision(
    path: str | None, find_project: Callable | None = None, modules_read: dict | None = None
):
    """While a revision file at ``path`` is read: a type imported from another module of its project
    resolves to that module's TypeDecorator ``impl``. ``find_project(folder)``: the Alembic project
    whose version folders hold ``folder``, or None (the lint's finder). ``modules_read``: receives the
    file and content hash of every module read (what a reading kept by content also depends on, see
    :func:`modules_unchanged`)."""
    token = _REVISION.set(path if path and path != "-" and not path.startswith("<") else None)
    finder = _FINDER.set(find_project)
    read = _READ.set(modules_read)
    try:
        yield
    finally:
        _READ.reset(read)
        _FINDER.reset(finder)
        _REVISION.reset(token)


def modules_unchanged(modules_read: dict) -> bool:
    """Whether every module of ``modules_read`` (as :func:`reading_revision` filled it) still has the
    content it had."""
    return all(_content_hash(file)[1] == digest for file, digest in modules_read.items())


def _content_hash(file: str) -> tuple[bytes, str | None]:
    """A module file's bytes and their hash; (b"", None) when it cannot be read. Read once while its
    size, modification time and inode stay the same (as git's index does): every revision of a history
    that imports it asks again."""
    try:
        st = os.stat(file)
    except OSError:
        return b"", None
    stamp = (file, st.st_size, st.st_mtime_ns, st.st_ino)
    found = _HASHED.get(stamp)
    if found is not None:
        return found
    try:
        with open(file, "rb") as handle:
            data = handle.read(4 << 20)
    except OSError:
        return b"", None
    if len(_HASHED) > 512:
        _HASHED.clear()
    found = _HASHED[stamp] = (data, hashlib.blake2b(data, digest_size=16).hexdigest())
    return found


_HASHED: dict[tuple, tuple[bytes, str]] = {}  # (file, size, mtime, inode) -> (its bytes, their hash)


def module_roots(revision: str) -> tuple[str, ...]:
    """Where the modules a revision imports are looked for, first match wins: the project's
    ``prepend_sys_path`` entries (Alembic puts them on sys.path), the project's folder, the revision's
    folder, then the folders above the project's (an application whose migrations live inside its own
    package, ``indico/migrations/``, imports ``indico.core...`` from the installed package: its source is
    above); a revision outside any project: its folder and the folders above it."""
    folder = os.path.dirname(os.path.abspath(revision))
    found = _ROOTS.get(folder)
    if found is not None:
        return found
    finder = _FINDER.get()
    try:
        project = finder(folder) if finder is not None else None
    except Exception:  # noqa: BLE001 - a project that does not load: its modules are not found
        project = None
    roots = [str(p) for p in project.prepend_sys_path] + [str(project.root), folder] if project else []
    here = os.path.abspath(project.root if project is not None else folder)
    while True:
        roots.append(here)
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    found = _ROOTS[folder] = tuple(dict.fromkeys(os.path.abspath(r) for r in roots))
    return found


def _module_file(module: str, revision: str) -> str | None:
    """The file of ``module`` (dotted; leading dots: relative to the revision's folder)."""
    level = len(module) - len(module.lstrip("."))
    parts = [p for p in module.lstrip(".").split(".") if p]
    if level:
        base = os.path.dirname(os.path.abspath(revision))
        for _ in range(level - 1):
            base = os.path.dirname(base)
        roots: tuple[str, ...] = (base,)
    else:
        roots = module_roots(revision)
    if not parts:
        return None
    for root in roots:
        stem = os.path.join(root, *parts)
        for candidate in (stem + ".py", os.path.join(stem, "__init__.py")):
            if os.path.isfile(candidate):
                return candidate
    return None


def _module_info(file: str) -> ModuleInfo | None:
    """The module read statically, kept by its content."""
    data, digest = _content_hash(file)
    if digest is None:
        return None
    read = _READ.get()
    if read is not None:
        read[file] = digest
    if digest in _MODULES:
        return _MODULES[digest]
    if len(_MODULES) > 512:
        _MODULES.clear()
    try:
        info: ModuleInfo | None = ModuleInfo(ast.parse(data, filename=file))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        info = None
    _MODULES[digest] = info
    return info


def _imported_impl(value: Ref | Call) -> object | None:
    """The type a name imported from the project's own module stands for on PostgreSQL: the ``impl`` of
    the TypeDecorator that module defines (with the call's arguments when ``impl`` is a class), or what a
    module-level name there is bound to (``JSONish = JSONB``); None when not known."""

    def read(info: ModuleInfo, name: str) -> object | None:
        impl = info.type_impls.get(name)
        if impl is not None:
            found = info.scope.ev(impl)
            if isinstance(found, Ref) and isinstance(value, Call):
                found = Call(found.path, value.args, value.kwargs)  # TypeDecorator(*args) -> impl(*args)
        elif name in info.assigns:
            found = info.scope.lookup(name)
        else:
            return None
        if isinstance(found, (Ref, Call)) and _foreign(found.path):
            return _imported_impl(found)
        return found if isinstance(found, (Ref, Call)) else None

    return _in_project_module(value, read)


def imported_value(value: Ref) -> object | None:
    """What a name imported from the project's own module is bound to there, read statically (a SQL text
    constant: ``op.execute(SQL_FUNCTION_NATSORT)``); None when not known."""

    def read(info: ModuleInfo, name: str) -> object | None:
        if name not in info.assigns:
            return None
        found = info.scope.lookup(name)
        return imported_value(found) if isinstance(found, Ref) and _foreign(found.path) else found

    return _in_project_module(value, read)


def _in_project_module(value: Ref | Call, read: Callable[[ModuleInfo, str], object | None]) -> object | None:
    """``read(module, name)`` for the module of the project's own that ``value``'s dotted path names (what
    that module imports is then relative to it), None when there is no such module or it cannot be read."""
    revision = _REVISION.get()
    depth = _DEPTH.get()
    if revision is None or depth > 4 or "." not in value.path:
        return None
    module, _, name = value.path.rpartition(".")
    file = _module_file(module, revision)
    info = _module_info(file) if file is not None else None
    if info is None:
        return None
    token = _DEPTH.set(depth + 1)
    revision_token = _REVISION.set(file)  # what that module imports is relative to it
    try:
        return read(info, name)
    except (NotStatic, RecursionError):
        return None
    finally:
        _REVISION.reset(revision_token)
        _DEPTH.reset(token)
