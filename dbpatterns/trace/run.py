"""The trace recipe: a scratch database, the state before the change, the change observed, cleanup."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..pg.sandbox import Access, time_note
from .database import mask, scratch_database
from .execute import Piece, run_change, run_setup, split
from .extensions import sql_extensions
from .fill import fill
from .model import StatementTrace
from .revision import load, migrate_to_parent


def trace_sql(
    change: str,
    *,
    setup: str | None = None,
    rows: int = 0,
    db: str | None = None,
    change_name: str = "<sql>",
    setup_name: str = "<setup>",
    in_transaction: bool = False,
) -> list[StatementTrace]:
    """Trace the SQL ``change`` after running ``setup`` (and filling each table with ``rows`` rows).

    Runs on a throwaway embedded server, or in a scratch database created on ``db`` (a URL) and dropped
    afterwards. Statements outside the script's own BEGIN/COMMIT each run in their own transaction, as
    psql runs a file, unless ``in_transaction`` (the whole script in one, as many migration runners do).
    Raises :class:`InputError` (one line, no password) on bad SQL or a failing statement.
    """
    pieces = split(change, change_name)
    setup_pieces = split(setup, setup_name) if setup else []
    named = sql_extensions(p.sql for p in [*setup_pieces, *pieces] if p.kind == "CreateExtensionStmt")
    return _guarded(
        db,
        lambda scratch: _trace(scratch, setup_pieces, setup_name, rows, pieces, change_name, in_transaction),
        extensions=named,
    )


def trace_revision(
    project_dir: Path, revision: str, *, rows: int = 0, db: str | None = None
) -> list[StatementTrace]:
    """Trace an Alembic revision: migrate a scratch database to its parent, then run its upgrade's SQL
    (rendered through Alembic's offline mode) statement by statement. Lines are the revision file's."""
    target = load(project_dir, revision)

    def run(scratch):
        migrate_to_parent(target, scratch)
        return _trace(scratch, [], "", rows, target.pieces, str(target.path))

    return _guarded(db, run, project=target.project)


def read_text(path: Path, what: str) -> str:
    """A file's text; a missing or unreadable file is an InputError naming it."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{what}: no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{what}: cannot read {path}: {exc}") from None


def _trace(scratch, setup, setup_name: str, rows: int, pieces: list[Piece], name: str, in_transaction=False):
    if setup:
        run_setup(scratch.url, setup, setup_name)
    if rows:
        fill(scratch.url, rows)
    return run_change(scratch.url, pieces, name, in_transaction=in_transaction)


class Traces(list):
    """The traces of a run (a list of :class:`StatementTrace`), with ``access``: whom the SQL ran as."""

    access: Access | None = None


def _guarded(db: str | None, fn, **where) -> Traces:
    """Run ``fn(scratch)`` in a scratch database; every message leaves without the password of ``db``."""
    try:
        with scratch_database(db, **where) as scratch:
            try:
                traces = Traces(fn(scratch))
            except InputError as exc:  # a statement the time limit cancelled says so
                note = time_note()
                if note and note not in str(exc):
                    raise InputError(f"{exc}{note}") from None
                raise
            traces.access = scratch.access
            return traces
    except InputError as exc:
        raise InputError(mask(str(exc), db)) from None
