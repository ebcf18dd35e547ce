"""The lint's claims, checked on a real PostgreSQL (the session's throwaway server).

* Every ``[[fire]]`` case of tests/fixtures/rules/*.toml that has a ``setup`` is run for real: the setup,
  then the case's statements one by one (SQL as written, with its own BEGIN/COMMIT; Alembic revisions as
  Alembic runs them, in one transaction except inside ``autocommit_block()``). For each finding that
  claims something about its table, the statement it points at must bear it out: ``rewrites=True`` iff the
  table got a new relfilenode, and ``lock`` is the strongest mode the statement took on the table
  (pg_locks; for the rules that report a lock the transaction already holds, the strongest mode held).
  Statements that cannot run in a transaction block (CONCURRENTLY, VACUUM) are observed in autocommit by
  sampling pg_locks from a second connection (``dbpatterns.pg.locks.observe``).
* ``[[clean]]`` cases with ``setup`` and ``expect_no_rewrite = true``: no table or index of the setup gets
  a new relfilenode (and the findings other rules make on them hold, as above).
* ``server_error``: PostgreSQL rejects the case with that message (the hazard the rule names).
* ``expect_scan``: whether the case's last statement reads the whole table (a validating scan), counted
  by ``pg_stat_get_xact_numscans`` in its transaction (a claim relfilenodes cannot show).
* dbpatterns.sql.knowledge: the function volatility lists against pg_proc, and ``binary_coercible`` against
  what ALTER COLUMN ... TYPE really does.

Cases linted for a PostgreSQL older than 12 (or newer than the server) describe another server's behaviour
and are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
import pytest
from psycopg.pq import TransactionStatus
from rule_fixtures import Case, alembic_static_available, lint_case, load_cases

from dbpatterns.pg.locks import mode_name, observe, relfilenodes
from dbpatterns.sql.knowledge import NON_VOLATILE_FUNCTIONS, VOLATILE_FUNCTIONS, binary_coercible, column_type
from dbpatterns.sql.locks import LOCK_STRENGTH
from dbpatterns.sql.parse import parse

# Rules whose finding names the lock the transaction already holds, not the one the statement asks for.
HELD_LOCK_RULES = {"validate-in-same-transaction", "work-under-exclusive-lock"}
OLDEST_COMPARABLE = 12  # the rules' version-dependent claims differ from PostgreSQL 18's only below 12

CASES = [
    c
    for c in load_cases()
    if "setup" in c.data and (c.kind == "fire" or {"expect_no_rewrite", "expect_scan"} & set(c.data))
]

_SCANS = """
SELECT coalesce(sum(pg_stat_get_xact_numscans(c.oid)), 0)::int
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
"""

_RESET = """
DO $$
DECLARE s text;
BEGIN
    FOR s IN SELECT nspname FROM pg_namespace
             WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
    LOOP
        EXECUTE format('DROP SCHEMA %I CASCADE', s);
    END LOOP;
END $$;
CREATE SCHEMA public;
"""


@pytest.fixture(scope="module")
def claims_db(pg_server):
    """One scratch database for the module; each case empties it first (faster than a database each)."""
    with pg_server.scratch_database() as url:
        yield url


@pytest.fixture
def db(claims_db):
    with psycopg.connect(claims_db, autocommit=True) as conn:
        conn.execute(_RESET)
    return claims_db


# ---- running a case's statements ------------------------------------------------------------------------


@dataclass
class Step:
    sql: str
    line: int
    column: int
    mode: str  # "text": as written; "tx": in the runner's transaction; "autocommit": outside any


@dataclass
class Seen:
    """What one statement did to one table."""

    existed: bool
    rewritten: bool = False
    new_modes: set[str] = field(default_factory=set)  # lock modes the statement added
    held_modes: set[str] = field(default_factory=set)  # lock modes held once it had run
    sampled: bool = False  # autocommit: locks sampled from another connection (best effort)


def _steps(case: Case) -> tuple[list[Step], bool]:
    """The statements to run, and whether a transaction is open before the first."""
    text = case.text()
    if case.source == "sql":
        parsed = parse(text)
        steps = [Step(text[s.start : s.end], *parsed.position(s.start), "text") for s in parsed.statements]
        return steps, case.data.get("sql_in_transaction", False)
    from dbpatterns.alembic.static import read_revision

    revision = read_revision(text, "revision.py")
    steps = [
        Step(u.sql, u.line, u.column, "autocommit" if u.autocommit else "tx")
        for u in revision.upgrade or ()
        if u.sql is not None
    ]
    return steps, False


def _strongest(modes) -> str | None:
    return max(modes, key=LOCK_STRENGTH.__getitem__, default=None)


def _display(table: str) -> str:
    """A table as dbpatterns.pg.locks names relations: bare in schema public, schema.name elsewhere."""
    return table.removeprefix("public.")


class Runner:
    def __init__(self, url: str):
        self.url = url
        self.conn = psycopg.connect(url, autocommit=True)

    def close(self) -> None:
        self.conn.close()

    @property
    def in_transaction(self) -> bool:
        return self.conn.info.transaction_status != TransactionStatus.IDLE

    def _snapshot(self, tables) -> dict[str, tuple[int | None, int | None, set[str]]]:
        """table -> (oid, relfilenode, lock modes this backend holds on it)."""
        out = {}
        for table in tables:
            oid = self.conn.execute("SELECT to_regclass(%s)::oid", (table,)).fetchone()[0]
            out[table] = (oid, *self._state(oid))
        return out

    def _state(self, oid) -> tuple[int | None, set[str]]:
        if oid is None:
            return None, set()
        node = self.conn.execute("SELECT pg_relation_filenode(%s::oid)", (oid,)).fetchone()[0]
        rows = self.conn.execute(
            "SELECT mode FROM pg_locks WHERE locktype = 'relation' AND granted AND pid = pg_backend_pid()"
            " AND relation = %s",
            (oid,),
        ).fetchall()
        return node, {mode_name(m) for (m,) in rows}

    def _scans(self) -> int:
        """Sequential scans of user tables so far in this transaction (a validating scan counts)."""
        return self.conn.execute(_SCANS).fetchone()[0]

    def run(
        self, step: Step, tables: set[str], count_scans: bool = False
    ) -> tuple[dict[str, Seen], int | None]:
        """Run one statement: for each of ``tables``, what it did; and how many table scans it made."""
        if step.mode == "tx" and not self.in_transaction:
            self.conn.execute("BEGIN")
        elif step.mode == "autocommit" and self.in_transaction:
            self.conn.execute("COMMIT")
        if not tables and not count_scans:
            self.conn.execute(step.sql)
            return {}, None
        wrapped = not self.in_transaction  # one statement is its own transaction: keep it open to look
        if wrapped:
            self.conn.execute("BEGIN")
        before = self._snapshot(tables)
        scans = self._scans() if count_scans else 0
        try:
            self.conn.execute(step.sql)
        except psycopg.errors.ActiveSqlTransaction:
            if not wrapped or count_scans:
                raise
            self.conn.execute("ROLLBACK")
            return self._sampled(step, before), None
        if count_scans:
            scans = self._scans() - scans
        seen = {}
        for table, (oid, node, modes) in before.items():
            after_node, after_modes = self._state(oid)
            seen[table] = Seen(
                existed=oid is not None,
                rewritten=node is not None and after_node is not None and after_node != node,
                new_modes=after_modes - modes,
                held_modes=after_modes,
            )
        if wrapped:
            self.conn.execute("COMMIT")
        return seen, scans if count_scans else None

    def _sampled(self, step: Step, before) -> dict[str, Seen]:
        observation = observe(self.url, None, step.sql, autocommit=True)
        seen = {}
        for table, (oid, _node, _modes) in before.items():
            modes = {mode for rel, mode in observation.locks if rel == _display(table)}
            seen[table] = Seen(
                existed=oid is not None,
                rewritten=_display(table) in observation.rewritten,
                new_modes=modes,
                held_modes=modes,
                sampled=True,
            )
        return seen

    def finish(self) -> None:
        if self.in_transaction:
            self.conn.execute("COMMIT")


def _run_setup(conn: psycopg.Connection, setup: str) -> None:
    """One statement at a time: a CONCURRENTLY in the setup cannot run in the implicit transaction."""
    parsed = parse(setup)
    assert not parsed.errors, parsed.errors
    for stmt in parsed.statements:
        conn.execute(setup[stmt.start : stmt.end])


def _skip_reason(case: Case, server_major: int) -> str | None:
    if case.is_python and (why := alembic_static_available()):
        return why
    major = case.pg_major
    if major is not None and not OLDEST_COMPARABLE <= major <= server_major:
        return f"linted for PostgreSQL {major}; the server is {server_major}"
    return None


def _lock_taken(f, seen: Seen) -> str | None:
    if f.rule in HELD_LOCK_RULES:
        return _strongest(seen.held_modes)
    if seen.new_modes:
        return _strongest(seen.new_modes)
    # asked for a mode the transaction already held: pg_locks shows no new row
    return f.lock if f.lock in seen.held_modes else _strongest(seen.held_modes)


def _check_findings(findings, observed: dict[tuple[int, int], list[dict[str, Seen]]]) -> list[str]:
    """What each finding claims against what its statement did. An Alembic op can emit several statements
    at one position (add_column with a ForeignKey): a claim then holds if it holds for one of them."""
    problems = []
    by_line: dict[int, list[dict[str, Seen]]] = {}
    for (line, _column), seen in observed.items():
        by_line.setdefault(line, seen)
    for f in findings:
        if not f.table or not (f.lock or f.rewrites):
            continue  # a finding about style or maintainability claims nothing about locks or rewrites
        statements = observed.get((f.line, f.column)) or by_line.get(f.line) or []
        seen_all = [s[f.table] for s in statements if f.table in s and s[f.table].existed]
        if not seen_all:
            continue  # not a statement of the case (a downgrade), or a table it creates
        where = f"{f.rule} at line {f.line} on {f.table}"
        if not any(seen.rewritten == f.rewrites for seen in seen_all):
            problems.append(f"{where}: claims rewrites={f.rewrites}, the server says {not f.rewrites}")
        if f.lock:
            taken = [(_lock_taken(f, seen), seen.sampled) for seen in seen_all]
            claim = LOCK_STRENGTH[f.lock]
            if all(sampled and (lock is None or LOCK_STRENGTH[lock] < claim) for lock, sampled in taken):
                # A sampler sees the locks held while it looks: it can miss the strongest, briefest phase
                # (DETACH PARTITION CONCURRENTLY takes ACCESS EXCLUSIVE on the partition only at its very
                # end), never see a lock that was not taken. Only a stronger lock than claimed refutes it.
                continue
            if not any(lock == f.lock for lock, _ in taken):
                how = "sampled" if all(sampled for _, sampled in taken) else "pg_locks"
                actual = ", ".join(str(lock) for lock, _ in taken)
                problems.append(f"{where}: claims {f.lock}, the statement took {actual} ({how})")
    return problems


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_claims_hold_on_the_server(case, db, pg_server, tmp_path):
    if why := _skip_reason(case, pg_server.version // 10000):
        pytest.skip(why)
    findings = lint_case(case, tmp_path)
    steps, in_transaction = _steps(case)
    with psycopg.connect(db, autocommit=True) as conn:
        _run_setup(conn, case.data["setup"])
        nodes_before = relfilenodes(conn)
    runner = Runner(db)
    try:
        if in_transaction:
            runner.conn.execute("BEGIN")
        wanted: dict[tuple[int, int], set[str]] = {}
        for f in findings:
            if f.table and (f.lock or f.rewrites):
                wanted.setdefault((f.line, f.column), set()).add(f.table)
                wanted.setdefault((f.line, 0), set()).add(f.table)
        observed = {}
        error = None
        scans = None
        for i, step in enumerate(steps):
            tables = wanted.get((step.line, step.column), set()) | wanted.get((step.line, 0), set())
            last = i == len(steps) - 1
            try:
                seen, scans = runner.run(step, tables, count_scans=last and "expect_scan" in case.data)
            except psycopg.Error as exc:
                error = exc
                break
            observed.setdefault((step.line, step.column), []).append(seen)
        if error is None:
            runner.finish()
    finally:
        runner.close()
    expected_error = case.data.get("server_error")
    if expected_error:
        assert error is not None, f"PostgreSQL accepted the case; expected an error with {expected_error!r}"
        assert expected_error in str(error), str(error)
        return
    assert error is None, f"the case does not run on PostgreSQL: {error}"
    if "expect_scan" in case.data:
        assert (scans > 0) == case.data["expect_scan"], f"the last statement made {scans} table scans"
    if case.kind == "clean" and case.data.get("expect_no_rewrite"):
        with psycopg.connect(db, autocommit=True) as conn:
            nodes_after = relfilenodes(conn)
        changed = sorted(
            r for r, node in nodes_after.items() if r in nodes_before and nodes_before[r] != node
        )
        assert not changed, f"rewritten on the server: {changed}"
    problems = _check_findings(findings, observed)
    assert not problems, "\n".join(problems)


def test_claims_cover_most_rules_with_a_locking_finding():
    """The server test is only as good as its cases: most hazard rules must have one that runs."""
    rules = {c.rule for c in CASES if c.kind == "fire"}
    assert len(rules) >= 30, sorted(rules)


# ---- what the lint knows about functions and types -------------------------------------------------------


def _procs(url: str, name: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT pg_get_function_identity_arguments(oid), provolatile FROM pg_proc WHERE proname = %s",
            (name,),
        ).fetchall()


# uuid-ossp is not shipped with the embedded server; coalesce & co. are syntax, not functions.
MAY_BE_ABSENT = {"uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4"}
SYNTAX_NOT_FUNCTIONS = {"coalesce", "nullif", "greatest", "least"}


@pytest.mark.parametrize("name", sorted(VOLATILE_FUNCTIONS))
def test_volatile_functions_are_volatile_in_pg_proc(name, claims_db):
    overloads = _procs(claims_db, name)
    if not overloads:
        assert name in MAY_BE_ABSENT, f"{name} is not in pg_proc"
        pytest.skip(f"{name} is not installed on this server")
    assert all(vol == "v" for _, vol in overloads), f"{name}: {overloads}"


@pytest.mark.parametrize("name", sorted(NON_VOLATILE_FUNCTIONS))
def test_non_volatile_functions_have_no_volatile_overload(name, claims_db):
    overloads = _procs(claims_db, name)
    if not overloads:
        assert name in SYNTAX_NOT_FUNCTIONS, f"{name} is not in pg_proc"
        return
    assert all(vol in ("s", "i") for _, vol in overloads), f"{name}: {overloads}"


def _type(sql_type: str):
    """(name, typmods) of a type written in SQL, as the lint reads a column definition."""
    col = parse(f"CREATE TABLE x (c {sql_type})").statements[0].body["tableElts"][0]["ColumnDef"]
    return column_type(col)


# (old type, new type, PostgreSQL rewrites the table or rebuilds its index)
TYPE_CHANGES = [
    ("varchar(10)", "varchar(20)", False),
    ("varchar(10)", "varchar", False),
    ("varchar", "text", False),
    ("varchar(10)", "text", False),
    ("text", "varchar", False),
    ("text", "varchar(10)", True),
    ("varchar(20)", "varchar(10)", True),
    ("numeric(10,2)", "numeric(12,2)", False),
    ("numeric(10,2)", "numeric(12,3)", True),
    ("numeric(10,2)", "numeric", False),
    ("numeric", "numeric(10,2)", True),
    ("numeric(10)", "numeric(12)", False),
    ("int", "bigint", True),
    ("smallint", "int", True),
    ("int", "int", False),
    ("timestamp(3)", "timestamp(6)", False),
    ("timestamp(6)", "timestamp(3)", True),
    ("timestamp", "timestamp(3)", True),
    ("timestamptz(3)", "timestamptz", False),
    ("time(3)", "time(6)", False),
    ("timetz(3)", "timetz(6)", False),
    ("interval(3)", "interval(6)", False),
    ("interval(6)", "interval(3)", True),
    ("interval(3)", "interval", False),
    ("interval day to second", "interval", False),
    ("timestamp", "timestamptz", True),  # the index is rebuilt even when the TimeZone is UTC
    ("cidr", "inet", False),
    ("inet", "cidr", True),
    ("varbit(3)", "varbit(6)", False),
    ("bit(3)", "bit(6)", True),
    ("char(3)", "char(6)", True),
    ("varchar(10)[]", "varchar(20)[]", True),
    ("varchar(10)[]", "text[]", True),
]
# Changes PostgreSQL makes without a rewrite that the lint still reports (safe, merely cautious).
CAUTIOUS = [
    ("interval", "interval day to second"),
    ("interval(3)", "interval day to second(6)"),
]

_VALUE = {"cidr": "'10.0.0.0/8'", "inet": "'10.0.0.1'", "varbit(3)": "B'101'"}  # else NULL


def _rewritten_by(url: str, old: str, new: str) -> bool:
    value = _VALUE.get(old, "NULL")
    setup = (
        f"CREATE TABLE t (id int PRIMARY KEY, c {old}); CREATE INDEX t_c_idx ON t (c);"
        f" INSERT INTO t SELECT g, {value} FROM generate_series(1, 20) g;"
    )
    seen = observe(url, setup, f"ALTER TABLE t ALTER COLUMN c TYPE {new}")
    return bool(seen.rewritten & {"t", "t_c_idx"})


@pytest.mark.parametrize(
    ("old", "new", "rewrites"), TYPE_CHANGES, ids=[f"{o}->{n}" for o, n, _ in TYPE_CHANGES]
)
def test_binary_coercible_matches_the_server(old, new, rewrites, db):
    assert _rewritten_by(db, old, new) == rewrites, "the table above is wrong about PostgreSQL"
    assert binary_coercible(_type(old), _type(new)) == (not rewrites)


@pytest.mark.parametrize(("old", "new"), CAUTIOUS, ids=[f"{o}->{n}" for o, n in CAUTIOUS])
def test_binary_coercible_is_cautious_not_wrong(old, new, db):
    assert not _rewritten_by(db, old, new)
    assert not binary_coercible(_type(old), _type(new))
