"""The checks, in order, on one scratch database:

1. heads: one head, or the heads declared in ``verify_heads`` (no database needed); the other checks run
   either way, on every head's lineage;
2. upgrade from base to the heads in one run of env.py, as ``alembic upgrade heads`` does;
3. models match migrations: autogenerate's ``compare_metadata`` at head finds nothing (on the empty
   database when the history is empty);
4. downgrade from the heads to base (or to ``verify_downgrade_to``) in one run, and base is as empty as
   the database was before the upgrade;
5. stairway: for every revision from base, upgrade, downgrade, upgrade again (one run of env.py each);
6. downgrade leaves no trace: the catalog snapshot taken before each stairway upgrade equals the one taken
   after its downgrade (inside the migration's transaction, on its connection);
7. downgrade keeps data: the same round trip keeps the rows of the tables that existed before the
   revision (counts, and the values of the columns), except what the upgrade itself changed (a column's
   definition or values, a table's row count).

Before each revision's upgrade (in 2 and 5) every empty table gets ``rows`` generated rows
(:func:`dbpatterns.trace.fill.fill_empty`), then the revision's ``before`` hook runs; its ``after`` hook
runs after the upgrade. Every check starts from a database whose state it knows: after a failed step, or
a downgrade that leaves something behind, the database is rebuilt (every schema dropped, the history
upgraded again to where the next check starts), so a failure is blamed on the revision that caused it and
later checks still run.
"""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass, field

from ..alembic.runner import HOW_TO_PASS_URL, Runner, StepFailed, error_type
from ..errors import InputError
from ..schema import diff, snapshot
from ..trace.fill import fill_empty
from .autogen import describe_all
from .model import Report


@dataclass
class Policy:
    """How verify runs a history (``[tool.dbpatterns]``, see the README)."""

    rows: int = 3  # generated rows per empty table before each revision; 0: none
    rows_per_revision: dict[str, int] = field(default_factory=dict)
    hooks: dict[str, dict[str, str]] = field(default_factory=dict)  # rev -> {"before"/"after": SQL or mod:fn}
    downgrade_to: str | None = None  # the lowest revision downgrades go to
    not_implemented: str = "fail"  # a downgrade raising NotImplementedError: "fail" or "stop"
    heads: tuple[str, ...] = ()  # intended heads: revision ids or branch labels

    @classmethod
    def from_settings(cls, settings, rows: int | None = None) -> Policy:
        return cls(
            rows=settings.verify_rows if rows is None else rows,
            rows_per_revision={} if rows is not None else dict(settings.verify_rows_per_revision),
            hooks={rev: dict(h) for rev, h in settings.verify_hooks},
            downgrade_to=settings.verify_downgrade_to,
            not_implemented=settings.verify_not_implemented,
            heads=tuple(settings.verify_heads),
        )

    def rows_for(self, revision: str) -> int:
        return self.rows_per_revision.get(revision, self.rows)


def run_checks(runner: Runner, metadata=None, at_head=None, policy: Policy | None = None) -> Report:
    return _Verify(runner, policy or Policy()).run(metadata, at_head)


class _Verify:
    def __init__(self, runner: Runner, policy: Policy) -> None:
        self.runner, self.policy, self.report = runner, policy, Report()
        self.script = runner.script
        self.known: dict[int, bool] = {}  # table oid -> has rows (the filler's memory)
        self.stops: set[str] = set()  # revisions whose downgrade is an intended stop
        self.schemas: list = []
        self.empty: dict = {}
        self.known_notes: dict[str, str] = {}  # table -> why the generated rows were refused
        self.generated: dict[str, int] = {}  # table -> rows generated into it (last time)
        self.left: tuple | None = None  # the failed full downgrade's check and what it left

    # -- the run -------------------------------------------------------------------------------------

    def run(self, metadata, at_head) -> Report:
        runner, report = self.runner, self.report
        revisions = runner.revisions()
        heads = sorted(self.script.get_heads())
        self._heads(heads, len(revisions))
        self._check_policy(revisions)
        runner.check_env_takes_url()
        if not revisions:
            self._models(metadata)
            report.skip_rest("the project has no revisions")
            return report
        self.schemas = runner.schemas()
        self.empty = self._snapshot_own()
        upgraded = self._upgrade(heads, len(revisions))
        if upgraded:
            self._models(metadata)
            if at_head is not None:
                at_head(runner, metadata)
            clean = self._downgrade()
        else:
            report.skipped["models_match"] = "the upgrade to head failed"
            report.skipped["downgrade"] = "the upgrade to head failed"
            clean = False
        if not clean:
            self._rebuild(None)
        self._stairway(revisions)
        if self.known_notes:
            report.notes.extend(
                f"table {t} was left empty: the generated rows were refused ({why})"
                for t, why in sorted(self.known_notes.items())
            )
        return report

    def _check_policy(self, revisions: list) -> None:
        ids = {s.revision for s in revisions}
        lowest = self.policy.downgrade_to
        if lowest is not None and lowest not in ids:
            raise InputError(
                f"[tool.dbpatterns] verify_downgrade_to: {lowest!r} is not a revision of the history"
            )
        for rev in self.policy.hooks:
            if rev not in ids:
                raise InputError(f"[tool.dbpatterns] verify_hooks: {rev!r} is not a revision of the history")

    # -- 1. heads ------------------------------------------------------------------------------------

    def _heads(self, heads: list[str], count: int) -> None:
        report = self.report
        plural = "revision" if count == 1 else "revisions"
        if not heads:
            report.add("single_head", True, None, "no revisions")
            return
        if len(heads) == 1:
            report.add("single_head", True, heads[0], f"{count} {plural}, one head")
            return
        declared = self._declared_heads()
        undeclared = [h for h in heads if h not in declared]
        if self.policy.heads and not undeclared:
            report.add(
                "single_head",
                True,
                None,
                f"{len(heads)} heads, as declared in verify_heads: {', '.join(heads)}",
            )
            return
        what = f"undeclared head(s) {', '.join(undeclared)}" if self.policy.heads else f"{len(heads)} heads"
        report.add(
            "single_head",
            False,
            undeclared[0] if self.policy.heads else None,
            f"{what} ({', '.join(heads)}): merge them (alembic merge heads) or declare the intended heads in "
            "[tool.dbpatterns] verify_heads; each head's lineage is still checked",
        )

    def _declared_heads(self) -> set[str]:
        out: set[str] = set()
        for name in self.policy.heads:
            try:
                found = self.script.revision_map.get_revisions(
                    name if name in self._ids() else f"{name}@head"
                )
            except Exception:  # noqa: BLE001 - Alembic's resolution errors: named below
                raise InputError(
                    f"[tool.dbpatterns] verify_heads: {name!r} is neither a revision nor a branch label"
                ) from None
            out.update(s.revision for s in found if s is not None)
        return out

    def _ids(self) -> set[str]:
        return {s.revision for s in self.script.walk_revisions()}

    # -- 2. upgrade ----------------------------------------------------------------------------------

    def _upgrade(self, heads: list[str], count: int) -> bool:
        runner, report = self.runner, self.report
        total = [0]

        def steps(current, ctx):
            # what env.py itself made before the first revision (a schema for the version table, say) is
            # part of the empty database the downgrade to base must come back to
            self.empty = snapshot(ctx.connection, (runner.version_table[1],))
            for step in self._steps(ctx, runner.upgrade_steps("heads", current)):
                total[0] += 1
                runner.say(f"upgrade: revision {total[0]} of {count} ({step.revision.revision})")
                yield step

        try:
            runner.run(steps, "heads")
        except StepFailed as failed:
            report.add("upgrade", False, failed.revision, self._failure(failed))
            return False
        found = runner.database_heads()
        if found != set(heads):
            raise InputError(
                f"{runner.project.env_py} did not migrate the scratch database (it is at "
                f"{', '.join(sorted(found)) or 'no revision'}, expected {', '.join(heads)}): "
                + HOW_TO_PASS_URL
            )
        report.add(
            "upgrade",
            True,
            heads[0] if len(heads) == 1 else None,
            f"base to {', '.join(heads)}: {count} {'revision' if count == 1 else 'revisions'}",
        )
        return True

    # -- 3. models -----------------------------------------------------------------------------------

    def _models(self, metadata) -> None:
        runner, report = self.runner, self.report
        found: list = []
        missing = []

        def steps(heads, ctx):
            from alembic.autogenerate import compare_metadata

            target = metadata if metadata is not None else ctx.opts.get("target_metadata")
            if target is None:
                missing.append(True)
            else:
                runner.current = "comparing the models with the database (autogenerate)"
                runner.say("models: comparing with the database")
                found.extend(compare_metadata(ctx, target))
            return []

        try:
            runner.run(steps)
        except StepFailed as failed:
            report.add("models_match", False, None, f"{failed.what} failed: {failed.error}")
            return
        if missing:
            report.skipped["models_match"] = (
                "no models: set [tool.dbpatterns] models = 'package.module:Base' or target_metadata in env.py"
            )
        elif found:
            lines = describe_all(found)
            report.add("models_match", False, None, f"{len(lines)} difference(s): " + "; ".join(lines))
        else:
            at = "at head" if runner.revisions() else "on the empty database of an empty history"
            report.add("models_match", True, None, f"autogenerate finds no difference {at}")

    # -- 4. downgrade --------------------------------------------------------------------------------

    def _downgrade(self) -> bool:
        """The full downgrade; True when it ends at a clean base (or at the lowest revision)."""
        runner, report = self.runner, self.report
        lowest = self.policy.downgrade_to
        while True:
            destination = self._stop_point() or "base"

            def steps(heads, ctx, destination=destination):
                for step in self._steps(ctx, runner.downgrade_steps(destination, heads)):
                    runner.say(f"downgrade: {step.revision.revision}")
                    yield step

            try:
                runner.run(steps, destination)
            except StepFailed as failed:
                if self._intended_stop(failed):
                    self.stops.add(failed.revision)
                    self._rebuild("heads")
                    continue
                report.add("downgrade", False, failed.revision, self._failure(failed))
                return False
            break
        where = "base" if destination == "base" else destination
        stop = ""
        if self.stops and destination not in ("base", lowest):
            stop = f" (the downgrade of {destination} raises NotImplementedError: an intended stop)"
        elif lowest is not None and destination == lowest:
            stop = " (verify_downgrade_to)"
        if destination != "base":
            report.add("downgrade", True, None, f"head to {where}{stop}")
            return False  # not at base: the stairway starts from a rebuilt database
        left = diff(self.empty, self._snapshot_own())
        if left:
            what = "; ".join(d.describe(added="left behind", removed="dropped") for d in _whole(left))
            self.left = (
                report.add(
                    "downgrade",
                    False,
                    None,
                    f"head to base leaves the database different from before the upgrade: {what}",
                ),
                {(d.kind, d.name) for d in left},
            )
            return False
        report.add("downgrade", True, None, "head to base")
        return True

    def _stop_point(self) -> str | None:
        """The highest of the intended stops and verify_downgrade_to: the full downgrade goes down to it
        (it stays applied)."""
        points = self.stops | ({self.policy.downgrade_to} if self.policy.downgrade_to else set())
        if not points:
            return None
        order = [s.revision for s in self.runner.revisions()]
        return max(points, key=order.index)

    def _intended_stop(self, failed: StepFailed) -> bool:
        return (
            self.policy.not_implemented == "stop"
            and failed.revision is not None
            and failed.revision not in self.stops
            and failed.what.startswith("downgrade")
            and error_type(failed.error) == "NotImplementedError"
        )

    # -- 5 to 7. stairway ----------------------------------------------------------------------------

    def _stairway(self, revisions: list) -> None:
        runner, report = self.runner, self.report
        order = [s.revision for s in revisions]
        lowest = order.index(self.policy.downgrade_to) if self.policy.downgrade_to else -1
        traces: dict[str, list] = {}
        losses: dict[str, list[str]] = {}
        failures: list[tuple[str, str]] = []
        for index, script in enumerate(revisions):
            rev = script.revision
            round_trip = index > lowest and rev not in self.stops
            runner.say(f"stairway: revision {index + 1} of {len(revisions)} ({rev})")
            outcome = self._round_trip(rev, round_trip, traces, losses)
            if outcome is None:
                continue
            failed, dirty = outcome
            if failed is not None:
                if self._intended_stop(failed) and failed.revision == rev:
                    self.stops.add(rev)
                else:
                    failures.append((failed.revision or rev, self._failure(failed)))
            if dirty or failed is not None:
                try:
                    self._rebuild(rev)
                except StepFailed as again:
                    if (again.revision or rev, self._failure(again)) not in failures:
                        failures.append((again.revision or rev, self._failure(again)))
                    rest = order[index + 1 :]
                    if rest:
                        report.notes.append(
                            f"stairway: {len(rest)} revision(s) after {rev} not checked: the history does "
                            f"not upgrade to {rev}"
                        )
                    break
        for rev, detail in failures:
            report.add("stairway", False, rev, detail)
        if not failures:
            checked = len(revisions) - max(lowest + 1, 0) - len(self.stops - set(order[: lowest + 1]))
            extra = ""
            if self.stops:
                extra += f"; intended stops (NotImplementedError): {', '.join(sorted(self.stops))}"
            if lowest >= 0:
                extra += f"; upgrade only up to {self.policy.downgrade_to} (verify_downgrade_to)"
            report.add(
                "stairway",
                True,
                None,
                f"{len(revisions)} revisions: upgrade, downgrade, upgrade again "
                f"({checked} round trips{extra})",
            )
        for rev, found in traces.items():
            what = [
                d.describe(added="left behind", removed="dropped and not restored") for d in _whole(found)
            ]
            report.add(
                "downgrade_no_trace",
                False,
                rev,
                f"the downgrade of {rev} does not undo its upgrade: " + "; ".join(what),
            )
        if not traces:
            report.add(
                "downgrade_no_trace", True, None, "every downgrade restores the schema its upgrade found"
            )
        if self.left is not None:  # the full downgrade's leftovers: name the revisions that left them
            check, objects = self.left
            by = [rev for rev, found in traces.items() if objects & {(d.kind, d.name) for d in found}]
            if by:
                check.revision = by[0]
                check.detail += f" (left by the downgrade of {', '.join(by)})"
        for rev, lost in losses.items():
            report.add(
                "downgrade_keeps_data", False, rev, f"the downgrade of {rev} loses data: " + "; ".join(lost)
            )
        if not losses:
            rows = (
                "no rows generated (verify_rows = 0)"
                if not self.policy.rows
                else "every downgrade keeps the rows its upgrade found"
            )
            report.add("downgrade_keeps_data", True, None, rows)

    def _round_trip(self, rev: str, round_trip: bool, traces: dict, losses: dict):
        """Upgrade ``rev`` (and, with ``round_trip``, downgrade and upgrade it again) in one run of env.py.
        None when all went well; else (the failed step or None, whether the database must be rebuilt)."""
        runner = self.runner
        dirty = [False]
        skip = (runner.version_table[1],)

        def steps(heads, ctx):
            cursor = ctx.connection.connection.cursor()
            try:
                up = runner.upgrade_steps(rev, heads)
                if not round_trip or not up:
                    yield from self._steps(ctx, up)
                    return
                # fill first (inside _steps), then take the 'before' pictures just ahead of the revision
                *earlier, last = up
                yield from self._steps(ctx, earlier)
                self._fill(ctx, rev)
                self._hook(ctx, rev, "before")
                before = snapshot(ctx.connection, skip)
                columns = _columns(cursor, skip)
                data = _fingerprint(cursor, columns)
                # no table holds a row before the revision (no rows generated, none seeded): no data to
                # lose, nothing more to read
                keeps = bool(columns.filled)
                yield from self._steps(ctx, [last], hooks=False)
                self._hook(ctx, rev, "after")
                if keeps:  # what the revision touched (definitions, values, row counts) is its own to change
                    middle = _columns(cursor, skip)
                    changed = _changed_columns(columns, middle) | _changed_values(
                        data, _fingerprint(cursor, middle, columns.small)
                    )
                yield from self._steps(ctx, runner.downgrade_one(rev))
                runner.current = f"checking the database after the downgrade of {rev}"
                found = diff(before, snapshot(ctx.connection, skip))
                lost = []
                if keeps:
                    after = _columns(cursor, skip)
                    lost = _lost(data, _fingerprint(cursor, after, columns.small), columns, after, changed)
                if lost:
                    losses[rev] = lost
                if found:
                    traces[rev] = found
                    dirty[0] = True
                    return  # not upgraded again on a dirty database: rebuilt instead
                yield from self._steps(
                    ctx, runner.upgrade_steps(rev, ctx.get_current_heads()), "upgrade again", hooks=False
                )
            finally:
                cursor.close()

        try:
            runner.run(steps)
        except StepFailed as failed:
            return failed, True
        return (None, True) if dirty[0] else None

    # -- pieces --------------------------------------------------------------------------------------

    def _failure(self, failed: StepFailed) -> str:
        """A failed step as one line; when the server named a table verify filled and gave no row, how
        many generated rows it held (the rows are what the step failed on)."""
        text = f"{failed.what} failed: {failed.error}"
        if error_type(failed.error) == "NotImplementedError" and failed.what.startswith("downgrade"):
            return text + ' (an intended stop? [tool.dbpatterns] verify_not_implemented = "stop")'
        if "Failing row" in text or "Key (" in text:
            return text
        held = [
            f"{table} held {count} generated row(s)"
            for table, count in sorted(self.generated.items())
            if count and f'relation "{table.rsplit(".", 1)[-1].strip(chr(34))}"' in failed.error
        ]
        return text + (f" ({'; '.join(held)})" if held else "")

    def _steps(self, ctx, steps, label: str = "", hooks: bool = True):
        """Alembic's steps, each upgrade preceded by the rows and the ``before`` hook, followed by the
        ``after`` hook (``hooks``: fill and hooks at all)."""
        runner = self.runner
        for step in steps:
            rev = step.revision.revision
            if step.is_upgrade and hooks:
                self._fill(ctx, rev)
                self._hook(ctx, rev, "before")
            verb = label or ("upgrade" if step.is_upgrade else "downgrade")
            runner.current, runner.current_revision = f"{verb} of {rev}", rev
            yield step
            if step.is_upgrade and hooks:
                self._hook(ctx, rev, "after")

    def _fill(self, ctx, rev: str) -> None:
        rows = self.policy.rows_for(rev)
        if rows <= 0:
            return
        self.runner.current, self.runner.current_revision = (
            f"generating rows before the upgrade of {rev}",
            None,
        )
        cursor = ctx.connection.connection.cursor()
        try:
            filled = fill_empty(cursor, rows, self.known)
        finally:
            cursor.close()
        for table, why in filled.failed.items():
            self.known_notes.setdefault(table, why)
        self.generated.update(filled.rows)
        self.report.generated_rows += sum(filled.rows.values())

    def _hook(self, ctx, rev: str, when: str) -> None:
        code = self.policy.hooks.get(rev, {}).get(when)
        if not code:
            return
        runner = self.runner
        runner.current, runner.current_revision = f"the {when} hook of {rev} ({_short(code)})", rev
        if _is_callable(code):
            module, _, name = code.partition(":")
            with runner.in_project():
                try:
                    fn = getattr(importlib.import_module(module), name)
                except (ImportError, AttributeError) as exc:
                    raise InputError(
                        f"[tool.dbpatterns] verify_hooks {rev}.{when}: cannot load {code}: {exc}"
                    ) from None
            fn(ctx.connection)
        else:
            cursor = ctx.connection.connection.cursor()
            try:
                cursor.execute(code)
            finally:
                cursor.close()
        self.known.clear()  # the hook may have emptied or filled tables

    def _rebuild(self, target: str | None) -> None:
        """Drop everything, then upgrade to ``target`` (None: stay empty) in one run, with rows."""
        runner = self.runner
        runner.say(f"rebuilding the database{' up to ' + target if target else ''}")
        runner.reset(self.schemas)
        self.known.clear()
        if target is not None:
            runner.run(lambda heads, ctx: self._steps(ctx, runner.upgrade_steps(target, heads)), target)

    def _snapshot_own(self) -> dict:
        connection = self.runner._connection()
        try:
            return snapshot(connection, (self.runner.version_table[1],))
        finally:
            connection.rollback()


def _whole(found: list) -> list:
    """The differences without the parts of a table that is itself left behind or dropped (its columns,
    constraints, indexes and owned sequences go with it): the table is named once."""
    tables = {(d.name, d.change) for d in found if d.kind == "table" and d.change != "changed"}
    if not tables:
        return found

    def part_of(d) -> bool:
        for table, change in tables:
            if d.change != change or d.kind == "table":
                continue
            short = table.rsplit(".", 1)[-1]
            detail = d.after if change == "added" else d.before
            if d.kind in ("column", "constraint") and d.name.startswith(table + "."):
                return True
            if d.kind == "index" and detail and f" ON {table} " in detail:
                return True
            if d.kind == "sequence" and detail and f"owned by {short}." in detail:
                return True
        return False

    return [d for d in found if not part_of(d)]


# -- data: what a round trip keeps ---------------------------------------------------------------------

# a table's storage has no page until a row is written to it (in this transaction too: the file grows as
# rows are inserted, committed or not), so a size of 0 means no rows; a partitioned table has no storage
_COLUMNS = """
    SELECT c.oid::regclass::text, a.attname,
           format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
             || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), ''),
           CASE WHEN c.relkind = 'p' THEN -1 ELSE pg_relation_size(c.oid) END
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND left(n.nspname, 3) <> 'pg_'
      AND NOT EXISTS (SELECT FROM pg_depend e WHERE e.objid = c.oid AND e.deptype = 'e')
      AND c.relname <> ALL({skip})
    ORDER BY 1, a.attnum
"""


def _query(cursor, q: str) -> list:
    cursor.execute(q)
    return cursor.fetchall() if cursor.description else []


#: Tables up to this size (bytes of storage) are fingerprinted from their values, read whole (a few rows:
#: far cheaper than a digest aggregate per column on the server); bigger ones by server-side digests.
RAW_BYTES = 256 * 1024


class _Tables(dict):
    """table -> column -> its definition (type, not null, default); ``filled``: the tables that may hold
    rows (the others have no storage yet: no row to digest); ``small``: those read whole."""

    filled: set[str]
    small: set[str]
    sizes: dict[str, int]  # bytes of storage (-1: a partitioned table)


def _columns(cursor, skip) -> _Tables:
    names = ", ".join("'" + n.replace("'", "''") + "'" for n in skip)
    out = _Tables()
    out.filled, out.small, out.sizes = set(), set(), {}
    for table, column, definition, size in _query(cursor, _COLUMNS.format(skip=f"ARRAY[{names}]::name[]")):
        out.setdefault(table, {})[column] = definition
        out.sizes[table] = size
        if size:
            out.filled.add(table)
        if 0 < size <= RAW_BYTES:
            out.small.add(table)
    return out


def _fingerprint(
    cursor, columns: _Tables, raw: set[str] | None = None
) -> dict[str, tuple[int, dict[str, str]]]:
    """table -> (row count, column -> a digest of its values), in one query; a table with no storage is
    (0, {}) without being read (a table that gets rows changes its count, which is what is compared).

    The tables of ``raw`` (default: the small ones) have their values read and digested here, the others
    digested by the server: a round trip passes the 'before' set again, so a table's digests are made
    the same way each time (unless it grew past 16 times the limit: then its row count differs anyway)."""
    from psycopg import sql

    raw = columns.small if raw is None else raw
    parts = []
    for table, cols in columns.items():
        if table not in columns.filled:
            continue
        values = [sql.SQL("{c}::text").format(c=sql.Identifier(c)) for c in cols]
        if cols and table in raw and columns.sizes[table] <= 16 * RAW_BYTES:
            part = "SELECT {name}, true, count(*), array_agg(ARRAY[{values}]) FROM {table}"
        else:
            values = [
                sql.SQL(
                    "md5(coalesce(string_agg(coalesce({c}::text, '\\N'), ',' ORDER BY {c}::text), ''))"
                ).format(c=sql.Identifier(c))
                for c in cols
            ]
            part = "SELECT {name}, false, count(*), ARRAY[{values}]::text[] FROM {table}"
        parts.append(
            sql.SQL(part).format(
                name=sql.Literal(table),
                values=sql.SQL(", ").join(values) if values else sql.SQL(""),
                table=sql.SQL(table),
            )
        )
    out: dict[str, tuple[int, dict[str, str]]] = {t: (0, {}) for t in columns if t not in columns.filled}
    if not parts:
        return out
    for table, whole, count, found in _query(cursor, sql.SQL(" UNION ALL ").join(parts).as_string(None)):
        names = list(columns[table])
        if whole:
            rows = found or []
            digests = [_digest([row[i] for row in rows]) for i in range(len(names))]
        else:
            digests = found or []
        out[table] = (count, dict(zip(names, digests, strict=False)))
    return out


def _digest(values: list) -> str:
    """A digest of a column's values, in any order (NULL apart from every text)."""
    ordered = sorted(values, key=lambda v: (v is not None, v or ""))
    return hashlib.md5(repr(ordered).encode(), usedforsecurity=False).hexdigest()


def _changed_columns(before: dict, after: dict) -> set[tuple[str, str]]:
    """(table, column) the upgrade dropped or redefined."""
    return {
        (table, col)
        for table, cols in before.items()
        for col, definition in cols.items()
        if after.get(table, {}).get(col) != definition
    }


def _changed_values(before: dict, after: dict) -> set[tuple[str, str]]:
    """(table, column) whose values the upgrade changed, and (table, "*") when it changed the row count."""
    out: set[tuple[str, str]] = set()
    for table, (count, digests) in before.items():
        if table not in after:
            continue
        count_after, digests_after = after[table]
        if count_after != count:
            out.add((table, "*"))
        out.update((table, col) for col, d in digests.items() if digests_after.get(col, d) != d)
    return out


def _lost(before: dict, after: dict, cols_before: dict, cols_after: dict, changed: set) -> list[str]:
    out = []
    for table, (count, digests) in before.items():
        if table not in after:
            continue  # the table is gone: downgrade_no_trace says so
        count_after, digests_after = after[table]
        if (table, "*") in changed:
            continue  # the upgrade itself added or removed rows: a data migration, not the downgrade's
        if count_after != count:
            out.append(f"table {table}: {count} row(s) before the upgrade, {count_after} after the downgrade")
            continue
        for col, digest in digests.items():
            if (table, col) in changed or col not in digests_after:
                continue
            if cols_after.get(table, {}).get(col) != cols_before[table][col]:
                continue
            if digests_after[col] != digest:
                out.append(f"column {table}.{col}: its values differ after the downgrade")
    return out


def _is_callable(code: str) -> bool:
    module, sep, name = code.strip().partition(":")
    return bool(sep) and name.isidentifier() and all(p.isidentifier() for p in module.split("."))


def _short(code: str) -> str:
    text = " ".join(code.split())
    return text if len(text) <= 60 else text[:57] + "..."
