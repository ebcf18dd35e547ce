"""What the lint has seen so far in one migration: new tables, transactions, locks held, settings made."""

from __future__ import annotations

from sys import intern

from ..sql.knowledge import column_type
from ..sql.locks import LOCK_STRENGTH
from ..sql.nodes import bare, bare_relation, walk


def table_key(schema: str | None, name: str | None) -> str | None:
    """A table's name as the lint's knowledge keys it: ``schema.table``, or ``table`` alone in the default
    schema (written ``public.table`` or unqualified): ``new.settings`` and ``events.settings`` stay apart."""
    if not name:
        return None
    return name if not schema or schema == "public" else f"{schema}.{name}"


def relation_key(rangevar: dict | None) -> str | None:
    """``table_key`` of a RangeVar."""
    if not rangevar:
        return None
    rv = rangevar.get("RangeVar", rangevar)
    return table_key(rv.get("schemaname"), rv.get("relname"))


def name_key(name: str | None) -> str | None:
    """``table_key`` of a name written ``schema.table`` or ``table``."""
    if not name:
        return None
    schema, _, table = name.rpartition(".")
    return table_key(schema or None, table)


class MigrationState:
    """The lint's running knowledge of one migration (changed statement by statement)."""

    __slots__ = (
        "in_transaction", "explicit_transaction", "begin_line", "begin_suppress", "lock_timeout",
        "local_lock_timeout", "created_tables", "created_columns", "created_indexes", "created_constraints",
        "indexed_columns", "held_locks", "not_valid_in_tx", "not_null_checks", "validated_not_null",
        "validated_unknown", "column_types", "reported_lock_timeout", "checked_columns", "pending_fks",
        "upgrade_created", "created_keys", "delta", "questions", "prior", "not_null", "index_columns",
        "orm_reported",
    )  # fmt: skip

    def __init__(self, in_transaction: bool = False, upgrade_created: MigrationState | None = None) -> None:
        self.in_transaction = in_transaction
        self.explicit_transaction = False  # opened by BEGIN in the text (must be closed by COMMIT)
        self.begin_line = 0
        self.begin_suppress: frozenset[str] = frozenset()  # rule ids silenced on the BEGIN line
        self.lock_timeout = False
        self.local_lock_timeout = False  # SET LOCAL: ends with the transaction
        self.created_tables: set[str] = set()
        self.created_columns: set[tuple[str, str]] = set()
        self.created_indexes: set[str] = set()
        self.created_constraints: set[tuple[str, str]] = set()
        self.indexed_columns: dict[str, set[tuple[str, ...]]] = {}
        self.held_locks: dict[str, str] = {}  # table -> strongest mode in this transaction
        self.not_valid_in_tx: set[tuple[str, str]] = set()
        self.not_null_checks: dict[tuple[str, str], str] = {}  # (table, conname) -> column
        self.validated_not_null: set[tuple[str, str]] = set()  # (table, column)
        self.validated_unknown: dict[str, set[str]] = {}  # table -> constraint names
        self.column_types: dict[tuple[str, str], dict] = {}  # -> the ColumnDef seen last
        self.reported_lock_timeout = False
        self.checked_columns: dict[tuple[str, str], str] = {}  # -> a CHECK naming it
        self.pending_fks: list = []  # foreign keys waiting for an index by the end
        # A downgrade knows what its upgrade created: dropping it again is expected.
        self.upgrade_created = upgrade_created
        self.created_keys: set[str] = set()  # created_tables, schema-qualified (``table_key``)
        # In an ordered history (Alembic revisions, a folder of versioned SQL files): what this migration
        # does to the schema (``delta``: operations ``Schema.apply`` replays) and the type changes whose old
        # type only the earlier migrations know (``questions``). None for a lone file.
        self.delta: list | None = None
        self.questions: list | None = None
        self.prior: Schema | None = None  # the schema the earlier migrations left, when already known
        # (table_key, column) -> True (NOT NULL), False (nullable), or the name of a validated
        # CHECK (column IS NOT NULL) that PostgreSQL uses to skip the scan of an implicit SET NOT NULL
        self.not_null: dict[tuple[str, str], bool | str] = {}
        self.index_columns: dict[str, tuple[str, tuple[str, ...]]] = {}  # index -> (table_key, columns)
        self.orm_reported = False  # an ORM data call of this migration has been reported

    # ---- questions the rules ask

    def is_new(self, table: str | None) -> bool:
        """Created in this migration (or, in a downgrade, by its upgrade: dropping it is expected). A
        schema-qualified name matches only a table created in that schema; a bare name (as lock lists
        carry them) any table of that name."""
        if not table:
            return False
        up = self.upgrade_created
        if "." in table:
            key = name_key(table)
            return key in self.created_keys or (up is not None and key in up.created_keys)
        return table in self.created_tables or (up is not None and table in up.created_tables)

    def old_type(self, table: str | None, column: str) -> tuple[str, tuple[int, ...]] | None:
        """The type ``column`` of ``table`` has before the current statement, when known: set in this
        migration, or (``prior``) left by the earlier ones."""
        key = name_key(table)
        found = self.column_types.get((key, column))
        if found is None and self.upgrade_created is not None:  # a downgrade: what its upgrade set
            found = self.upgrade_created.column_types.get((key, column))
        if found is not None:
            return column_type(found)
        if self.prior is not None:
            return self.prior.column_type(key, column)
        return None

    def check_on(self, table: str | None, column: str) -> str | None:
        """A CHECK constraint naming ``column``, seen in this migration or left by the earlier ones."""
        key = name_key(table)
        found = self.checked_columns.get((key, column))
        if found is None and self.prior is not None:
            found = self.prior.check_on(key, column)
        return found

    def is_not_null(self, table: str | None, column: str) -> bool | None:
        """Whether ``column`` of ``table`` is known NOT NULL (or holds a validated CHECK (column IS NOT
        NULL)) before the current statement: True, False (known nullable), None (not known)."""
        found = self.not_null_fact(table, column)
        return None if found is None else bool(found)

    def not_null_fact(self, table: str | None, column: str) -> bool | str | None:
        """What is known of ``column``'s NOT NULL before the current statement: True (NOT NULL), the name
        of a validated CHECK (column IS NOT NULL), False (known nullable) or None (not known)."""
        key = name_key(table)
        found = self.not_null.get((key, column))
        if found is None and self.upgrade_created is not None:
            found = self.upgrade_created.not_null.get((key, column))
        if found is None and self.prior is not None:
            found = self.prior.not_null_of(key, column)
        return found

    def columns_of_index(self, table: str | None, index: str) -> tuple[str, ...] | None:
        """The columns of index ``index`` on ``table``, created in this migration or an earlier one."""
        found = self.index_columns.get(index)
        if found is not None:
            return found[1] if found[0] == name_key(table) else None
        if self.prior is not None:
            return self.prior.index_of(name_key(table), index)
        return None

    def _set_not_null(self, key: str, column: str, value: bool | str) -> None:
        self.not_null[(key, column)] = value
        self.record("nn", key, column, value)

    def record(self, *op) -> None:
        if self.delta is not None:
            self.delta.append(op)

    def created_by_upgrade(self, kind: str, key) -> bool:
        up = self.upgrade_created
        if up is None:
            return False
        if kind == "table":
            return bare(key) in up.created_tables
        if kind == "column":
            return (bare(key[0]), key[1]) in up.created_columns or bare(key[0]) in up.created_tables
        if kind == "index":
            return key in up.created_indexes
        if kind == "constraint":
            return (bare(key[0]), key[1]) in up.created_constraints or bare(key[0]) in up.created_tables
        return False

    def strong_lock_held(self) -> tuple[str, str] | None:
        """(table, mode) of an ACCESS EXCLUSIVE lock this transaction holds on an existing table."""
        for table, mode in self.held_locks.items():
            if mode == "ACCESS EXCLUSIVE" and not self.is_new(table):
                return table, mode
        return None

    # ---- bookkeeping after each statement

    def begin(self, line: int) -> None:
        self.in_transaction = True
        self.explicit_transaction = True
        self.begin_line = line

    def transaction(self, kind: str, here) -> None:
        """BEGIN / START TRANSACTION / COMMIT / ROLLBACK (``here()`` gives the statement's line)."""
        if kind in ("TRANS_STMT_BEGIN", "TRANS_STMT_START"):
            self.begin(here()[0])
        elif kind in ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK", "TRANS_STMT_COMMIT_PREPARED"):
            self.end_transaction()

    def end_transaction(self) -> None:
        self.in_transaction = False
        self.explicit_transaction = False
        self.held_locks.clear()
        self.not_valid_in_tx.clear()
        if self.local_lock_timeout:
            self.lock_timeout = self.local_lock_timeout = False

    def after(self, kind: str, body: dict, locks: list[tuple[str, str]]) -> None:
        """Record what a statement did (the rules saw the state from before it)."""
        record = _RECORDERS.get(kind)
        if record is not None:
            record(self, body)
        held_locks = self.held_locks
        if not self.in_transaction:  # a lock outlives its statement only in a transaction
            if held_locks:
                held_locks.clear()
            return
        for table, mode in locks:
            held = held_locks.get(table)
            if held is None or LOCK_STRENGTH[mode] > LOCK_STRENGTH[held]:
                held_locks[table] = mode


_SIMPLE_TYPES: dict = {}  # a type name written without typmods -> its (canonical name, ()) tuple


def delta_type(type_node: dict | None) -> tuple[str, tuple[int, ...]]:
    """A column's type as a delta carries it: (canonical name, typmods), cheap to pickle and to store."""
    if not type_node:
        return "", ()
    names = type_node.get("names")
    last = names[-1].get("String") if names else None
    if last is None or "typmods" in type_node or "arrayBounds" in type_node:
        return column_type({"typeName": type_node})
    simple = last["sval"]
    found = _SIMPLE_TYPES.get(simple)
    if found is None:
        found = _SIMPLE_TYPES[simple] = column_type({"typeName": type_node})
    return found


def _record_create(state: MigrationState, body: dict) -> None:
    table = bare_relation(body.get("relation"))
    if not table:
        return
    key = intern(relation_key(body.get("relation")))  # one object per name: pickled once
    state.created_tables.add(table)
    state.created_keys.add(key)
    elements = body.get("tableElts") or ()
    columns = []
    for elt in elements:
        col = elt.get("ColumnDef")
        if col:
            column = _record_column(state, table, key, col)
            if column is not None:
                columns.append(column)
    if state.delta is not None:  # the table and its columns: one operation, (names, types, NOT NULLs)
        names, types, not_nulls = zip(*columns, strict=True) if columns else ((), (), ())
        state.delta.append(("t", key, names, types, not_nulls))
    for elt in elements:  # then the table's constraints (a PRIMARY KEY makes its columns NOT NULL)
        con = elt.get("Constraint")
        if con:
            _record_constraint(state, table, key, con)


def _record_create_as(state: MigrationState, body: dict) -> None:
    into = body.get("into", {}).get("IntoClause", body.get("into", {}))
    table = bare_relation(into.get("rel"))
    if table:
        key = relation_key(into.get("rel"))
        state.created_tables.add(table)
        state.created_keys.add(key)
        state.record("t", key, (), (), ())


def _record_column(state: MigrationState, table: str, key: str, col: dict) -> tuple | None:
    """Record a new column; (name, type, NOT NULL) as the delta carries it, None without a name."""
    name = col.get("colname")
    if not name:
        return None
    state.created_columns.add((table, name))
    state.column_types[(key, name)] = col
    not_null = False
    for item in col.get("constraints") or ():
        c = item.get("Constraint")
        if c is None:
            continue
        contype = c.get("contype")
        if contype in _NOT_NULL_CONSTRAINTS:
            not_null = True
        if contype == "CONSTR_PRIMARY" or contype == "CONSTR_UNIQUE":
            state.indexed_columns.setdefault(table, set()).add((name,))
        elif contype == "CONSTR_CHECK":
            check = check_constraint_name(table, c) or f"{table}_{name}_check"
            state.checked_columns[(key, name)] = check
            state.record("k", key, name, check)
    type_node = col.get("typeName")
    if not not_null and type_node:  # a serial column is NOT NULL
        names = type_node.get("names")
        not_null = bool(names) and names[-1].get("String", {}).get("sval") in _SERIALS
    state.not_null[(key, name)] = not_null
    return (name, delta_type(type_node), not_null) if state.delta is not None else None


_SERIALS = frozenset({"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"})
_NOT_NULL_CONSTRAINTS = frozenset({"CONSTR_NOTNULL", "CONSTR_PRIMARY", "CONSTR_IDENTITY"})


def _record_constraint(state: MigrationState, table: str, key: str, con: dict) -> None:
    name = con.get("conname")
    if name:
        state.created_constraints.add((table, name))
    if con.get("contype") in ("CONSTR_PRIMARY", "CONSTR_UNIQUE", "CONSTR_EXCLUSION"):
        cols = tuple(k["String"]["sval"] for k in con.get("keys") or () if "String" in k)
        if not cols and con.get("indexname"):  # USING INDEX: the index's columns
            cols = state.columns_of_index(key, con["indexname"]) or ()
        if cols:
            state.indexed_columns.setdefault(table, set()).add(cols)
            if con.get("contype") == "CONSTR_PRIMARY":  # a primary key's columns are NOT NULL
                for column in cols:
                    state._set_not_null(key, column, True)
    if con.get("contype") == "CONSTR_CHECK" and not con.get("skip_validation"):
        check = check_constraint_name(table, con) or f"{table}_check"
        for column in _check_columns(con):
            state.checked_columns[(key, column)] = check
            state.record("k", key, column, check)
    if con.get("contype") in ("CONSTR_CHECK", "CONSTR_NOTNULL") and name:
        column = not_null_check_column(con)
        if column:
            state.not_null_checks[(table, name)] = column
            if not con.get("skip_validation"):
                state.validated_not_null.add((table, column))
                if state.not_null.get((key, column)) is not True:
                    state._set_not_null(key, column, True if con.get("contype") == "CONSTR_NOTNULL" else name)


def _check_columns(con: dict) -> list[str]:
    """The columns a CHECK constraint's expression reads, in order, each once."""
    out: list[str] = []
    for kind, node in walk({"root": con.get("raw_expr")}):
        if kind == "ColumnRef":
            fields = [f["String"]["sval"] for f in node.get("fields", ()) if "String" in f]
            if fields and fields[-1] not in out:
                out.append(fields[-1])
    return out


def check_constraint_name(table: str, con: dict) -> str | None:
    """A CHECK constraint's name: as written, else the one PostgreSQL chooses (``{table}_{column}_check``
    when the expression reads one column, ``{table}_check`` otherwise, for a column's constraint too).
    None when the chosen name would be longer than 63 bytes (PostgreSQL shortens its parts). (A
    name already taken gets a number appended, which a migration read alone cannot see.)"""
    if con.get("conname"):
        return con["conname"]
    columns = _check_columns(con)
    name = f"{table}_{columns[0]}_check" if len(columns) == 1 else f"{table}_check"
    return name if len(name.encode()) <= 63 else None


def not_null_check_column(con: dict) -> str | None:
    """The column of a ``CHECK (col IS NOT NULL)`` constraint (or of PostgreSQL 18's named
    ``NOT NULL col`` constraint, which can be NOT VALID and validated later), else None."""
    if con.get("contype") == "CONSTR_NOTNULL":
        keys = [k["String"]["sval"] for k in con.get("keys") or () if "String" in k]
        return keys[0] if len(keys) == 1 else None
    expr = con.get("raw_expr", {}).get("NullTest")
    if not expr or expr.get("nulltesttype") != "IS_NOT_NULL":
        return None
    ref = expr.get("arg", {}).get("ColumnRef")
    if not ref:
        return None
    fields = [f["String"]["sval"] for f in ref.get("fields", ()) if "String" in f]
    return fields[-1] if fields else None


def _record_alter(state: MigrationState, body: dict) -> None:
    table = bare_relation(body.get("relation"))
    if not table:
        return
    key = intern(relation_key(body.get("relation")))
    for item in body.get("cmds") or ():
        cmd = item.get("AlterTableCmd", {})
        sub = cmd.get("subtype")
        if sub == "AT_AddColumn":
            col = cmd.get("def", {}).get("ColumnDef")
            if col:
                column = _record_column(state, table, key, col)
                if column is not None:
                    state.delta.append(("c", key, *column))
        elif sub == "AT_AddConstraint":
            con = cmd.get("def", {}).get("Constraint")
            if con:
                _record_constraint(state, table, key, con)
                if con.get("skip_validation") and con.get("conname"):
                    state.not_valid_in_tx.add((table, con["conname"]))
        elif sub == "AT_ValidateConstraint":
            name = cmd.get("name")
            column = state.not_null_checks.get((table, name))
            if column:
                state.validated_not_null.add((table, column))
                if state.not_null.get((key, column)) is not True:
                    state._set_not_null(key, column, name)
            else:
                state.validated_unknown.setdefault(table, set()).add(name)
        elif sub == "AT_AlterColumnType":
            col = cmd.get("def", {}).get("ColumnDef")
            if col and cmd.get("name"):
                state.column_types[(key, cmd["name"])] = col
                if state.delta is not None:
                    state.delta.append(("c", key, cmd["name"], delta_type(col.get("typeName")), None))
        elif sub in ("AT_SetNotNull", "AT_DropNotNull") and cmd.get("name"):
            state._set_not_null(key, cmd["name"], sub == "AT_SetNotNull")
        elif sub == "AT_DropColumn" and cmd.get("name"):
            state.column_types.pop((key, cmd["name"]), None)
            state.record("dc", key, cmd["name"])
        elif sub == "AT_DropConstraint" and cmd.get("name"):
            state.record("dk", key, cmd["name"])
            for (k, column), value in list(state.not_null.items()):
                if k == key and value == cmd["name"]:  # the CHECK (column IS NOT NULL) is gone
                    state.not_null[(k, column)] = False


def _record_drop(state: MigrationState, body: dict) -> None:
    if body.get("removeType") != "OBJECT_TABLE" or state.delta is None:
        return
    for obj in body.get("objects") or ():
        names = [n["String"]["sval"] for n in obj.get("List", {}).get("items", ()) if "String" in n]
        if names:
            state.record("dt", table_key(names[-2] if len(names) > 1 else None, names[-1]))


def _record_rename(state: MigrationState, body: dict) -> None:
    if state.delta is None:
        return
    kind = body.get("renameType")
    rv = body.get("relation") or {}
    key = relation_key(rv)
    if not key or not body.get("newname"):
        return
    if kind == "OBJECT_TABLE":
        state.record("rt", key, table_key(rv.get("schemaname"), body["newname"]))
    elif kind == "OBJECT_COLUMN" and body.get("subname"):
        state.record("rc", key, body["subname"], body["newname"])


def _record_index(state: MigrationState, body: dict) -> None:
    table = bare_relation(body.get("relation"))
    if body.get("idxname"):
        state.created_indexes.add(body["idxname"])
    cols = tuple(p["IndexElem"].get("name") or "" for p in body.get("indexParams") or () if "IndexElem" in p)
    key = relation_key(body.get("relation"))
    if body.get("idxname") and key and cols and all(cols) and body.get("unique"):  # PRIMARY KEY USING INDEX
        state.index_columns[body["idxname"]] = (key, cols)
        state.record("ix", key, body["idxname"], cols)
    if table and cols and all(cols) and not body.get("whereClause"):
        state.indexed_columns.setdefault(table, set()).add(cols)


def _record_set(state: MigrationState, body: dict) -> None:
    if body.get("name") == "lock_timeout" and body.get("kind") == "VAR_SET_VALUE":
        if body.get("is_local") and not state.in_transaction:
            return  # SET LOCAL outside a transaction block has no effect (PostgreSQL warns)
        value = _setting_value(body)
        on = value not in ("0", "0s", "0ms", "", None)
        state.lock_timeout = on
        state.local_lock_timeout = on and bool(body.get("is_local"))
    elif body.get("name") == "lock_timeout" and body.get("kind") in ("VAR_RESET", "VAR_SET_DEFAULT"):
        state.lock_timeout = False


def _setting_value(body: dict) -> str | None:
    args = body.get("args") or ()
    if not args:
        return None
    const = args[0].get("A_Const", {})
    if "sval" in const:
        return const["sval"].get("sval", "")
    if "ival" in const:
        return str(const["ival"].get("ival", 0))
    return None


def _record_select(state: MigrationState, body: dict) -> None:
    """``SELECT set_config('lock_timeout', '5s', false)`` sets it too."""
    for target in body.get("targetList") or ():
        call = target.get("ResTarget", {}).get("val", {}).get("FuncCall")
        if not call:
            continue
        names = [n["String"]["sval"] for n in call.get("funcname", ()) if "String" in n]
        args = call.get("args") or ()
        if names and names[-1] == "set_config" and len(args) >= 2:
            key = args[0].get("A_Const", {}).get("sval", {}).get("sval")
            value = args[1].get("A_Const", {}).get("sval", {}).get("sval")
            if key == "lock_timeout":
                state.lock_timeout = value not in ("0", "0s", "0ms", "", None)


_RECORDERS = {
    "CreateStmt": _record_create,
    "CreateTableAsStmt": _record_create_as,
    "AlterTableStmt": _record_alter,
    "IndexStmt": _record_index,
    "VariableSetStmt": _record_set,
    "SelectStmt": _record_select,
    "DropStmt": _record_drop,
    "RenameStmt": _record_rename,
}


_COLUMN_OPS = frozenset({"c", "k", "dc"})  # the delta operations on one column (the others: a table's)


class Schema:
    """What the earlier migrations of a history left: the tables (``table_key``), their columns' types
    (canonical name, typmods) and the CHECK constraints naming a column. Built by replaying each
    migration's ``MigrationState.delta`` in history order."""

    __slots__ = ("tables", "checks", "not_null", "indexes")

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, tuple[str, tuple[int, ...]]]] = {}
        self.checks: dict[str, dict[str, str]] = {}  # table -> column -> a CHECK constraint naming it
        self.not_null: dict[str, dict[str, bool | str]] = {}  # table -> column -> MigrationState.not_null
        self.indexes: dict[str, dict[str, tuple[str, ...]]] = {}  # table -> unique index -> its columns

    def copy(self) -> Schema:
        other = Schema()
        other.tables = {k: dict(v) for k, v in self.tables.items()}
        other.checks = {k: dict(v) for k, v in self.checks.items()}
        other.not_null = {k: dict(v) for k, v in self.not_null.items()}
        other.indexes = {k: dict(v) for k, v in self.indexes.items()}
        return other

    def not_null_of(self, key: str | None, column: str) -> bool | str | None:
        named = self.not_null.get(key)
        return None if named is None else named.get(column)

    def index_of(self, key: str | None, index: str) -> tuple[str, ...] | None:
        found = self.indexes.get(key, {}).get(index)
        return None if found is None else tuple(found)

    def check_on(self, key: str | None, column: str) -> str | None:
        named = self.checks.get(key)
        return None if named is None else named.get(column)

    def column_type(self, key: str | None, column: str) -> tuple[str, tuple[int, ...]] | None:
        columns = self.tables.get(key)
        found = None if columns is None else columns.get(column)
        if isinstance(found, list):  # (name, typmods) read back from JSON
            found = columns[column] = (found[0], tuple(found[1]))
        return found or None

    def apply(self, delta, asked: dict[str, set[str]] | None = None) -> None:
        """Replay a migration's ``MigrationState.delta``. A column's type is a (name, typmods) tuple
        (``delta_type``), or [name, typmods] read back from a cache. ``asked``: table -> columns: only
        the operations on those tables, and of the column operations only those on those columns (a
        rename's source must be among them for its target's; NOT NULL is kept for every column of such
        a table: a PRIMARY KEY USING INDEX asks of an index's columns); None: all."""
        tables, checks, not_null = self.tables, self.checks, self.not_null
        for op in delta:
            kind, key = op[0], op[1]
            if asked is not None:
                wanted = asked.get(key)
                if wanted is None:
                    continue
                if kind in _COLUMN_OPS and op[2] not in wanted:
                    if kind == "c" and op[4] is not None:
                        not_null.setdefault(key, {})[op[2]] = op[4]
                    continue
            if kind == "t":  # (t, table, column names, their types, their NOT NULLs)
                columns = tables.setdefault(key, {})
                names = op[2]
                if names:
                    not_null.setdefault(key, {}).update(zip(names, op[4], strict=True))
                    if asked is None:
                        columns.update(zip(names, op[3], strict=True))
                    else:
                        types = dict(zip(names, op[3], strict=True))
                        columns.update((name, types[name]) for name in wanted.intersection(names))
            elif kind == "c":  # (c, table, column, type, not null or None: unchanged)
                tables.setdefault(key, {})[op[2]] = op[3]
                if op[4] is not None:
                    not_null.setdefault(key, {})[op[2]] = op[4]
            elif kind == "k":
                checks.setdefault(key, {})[op[2]] = op[3]
            elif kind == "nn":
                not_null.setdefault(key, {})[op[2]] = op[3]
            elif kind == "ix":
                self.indexes.setdefault(key, {})[op[2]] = tuple(op[3])
            elif kind == "dc":
                tables.get(key, {}).pop(op[2], None)
                checks.get(key, {}).pop(op[2], None)
                not_null.get(key, {}).pop(op[2], None)
            elif kind == "dk":
                named = checks.get(key)
                if named:
                    for column in [c for c, name in named.items() if name == op[2]]:
                        del named[column]
                columns = not_null.get(key)
                if columns:  # a validated CHECK (column IS NOT NULL) dropped
                    for column in [c for c, value in columns.items() if value == op[2]]:
                        columns[column] = False
            elif kind == "dt":
                tables.pop(key, None)
                checks.pop(key, None)
                not_null.pop(key, None)
                self.indexes.pop(key, None)
            elif kind == "rt":
                for known in (tables, checks, not_null, self.indexes):
                    if key in known:
                        known[op[2]] = known.pop(key)
            elif kind == "rc":
                columns = tables.get(key)
                if columns is not None and op[2] in columns:
                    columns[op[3]] = columns.pop(op[2])
                for known in (checks, not_null):
                    named = known.get(key)
                    if named and op[2] in named:
                        named[op[3]] = named.pop(op[2])
                for name, cols in list(self.indexes.get(key, {}).items()):
                    if op[2] in cols:
                        self.indexes[key][name] = tuple(op[3] if c == op[2] else c for c in cols)
