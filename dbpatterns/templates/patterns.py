"""The migration patterns ``dbpatterns new`` writes: their names, one-line summaries and options.

Pure data (no Jinja2, no Alembic): the command line builds its parsers from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..shapes import Record, computed, internal

# Names are given as in SQL: Users is users (unquoted names fold to lower case), '"Users"' keeps its case,
# a keyword (order, user) is a name; they are written back quoted only where needed.
# kinds: name (an identifier), table (an identifier, optionally schema-qualified), type (a SQL type),
# expr (a SQL expression), label (any text, a string literal), int, float, flag
DEFAULT_BATCH_SIZE = 5000
DEFAULT_PAUSE = 0.05


@dataclass(slots=True, eq=False)
class Option:
    """One option of a pattern: ``--flag``, what it is, its kind (how it is checked) and default."""

    flag: str
    help: str = internal()
    kind: str = "name"
    required: bool = True
    multiple: bool = False
    default: object = internal(default=None)

    @property
    def key(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


@dataclass(slots=True, eq=False)
class Pattern(Record):
    """A pattern: its name, a one-line summary, its options, and its steps (one revision per step)."""

    JSON_COMPUTED: ClassVar[dict] = {"revisions": computed(int, after="summary")}

    name: str
    summary: str
    options: tuple[Option, ...]
    steps: tuple[str, ...] = internal(default=("",))

    @property
    def revisions(self) -> int:
        return len(self.steps)


TABLE = Option("--table", 'the table (schema.table; names as in SQL: "Users" keeps its case)', "table")
COLUMN = Option("--column", "the column")
TYPE = Option("--type", "the column's SQL type, e.g. text or numeric(12,2)", "type")
DEFAULT = Option("--default", "a SQL expression, e.g. 0, 'free' or now()", "expr")
INDEX_COLUMNS = Option("--column", "an indexed column (repeat for several)", multiple=True)
NAME = Option(
    "--name", "the index or constraint name (default: derived from table and columns)", required=False
)
BATCH = (
    Option("--batch-size", "rows per batch (one transaction each)", "int", False, default=DEFAULT_BATCH_SIZE),
    Option("--pause", "seconds to sleep between batches", "float", False, default=DEFAULT_PAUSE),
    Option("--pk", "the table's single-column primary key", "name", False, default="id"),
)

PATTERNS: dict[str, Pattern] = {
    p.name: p
    for p in (
        Pattern(
            "create-table",
            "a new table: bigint identity primary key, timestamptz created_at/updated_at, FK columns indexed",
            (
                TABLE,
                Option(
                    "--column",
                    "a column as SQL: 'email text NOT NULL', 'user_id bigint REFERENCES users' (repeat)",
                    "coldef",
                    required=False,
                    multiple=True,
                ),
            ),
        ),
        Pattern(
            "add-column", "add a nullable column (no default): instant, no rewrite", (TABLE, COLUMN, TYPE)
        ),
        Pattern(
            "add-column-default",
            "add a column with a default: instant when non-volatile, else default + batched backfill",
            (TABLE, COLUMN, TYPE, DEFAULT, *BATCH),
        ),
        Pattern(
            "add-not-null-column",
            "add a NOT NULL column in phases: column + default (backfill), NOT VALID check, VALIDATE",
            (TABLE, COLUMN, TYPE, DEFAULT, *BATCH),
        ),
        Pattern(
            "add-index",
            "CREATE INDEX CONCURRENTLY outside the transaction (autocommit_block)",
            (
                TABLE,
                INDEX_COLUMNS,
                NAME,
                Option("--unique", "a unique index", "flag", False),
                Option("--where", "a partial index's predicate (SQL)", "expr", False),
            ),
        ),
        Pattern(
            "drop-index",
            "DROP INDEX CONCURRENTLY outside the transaction; the downgrade rebuilds it concurrently",
            (TABLE, INDEX_COLUMNS, NAME, Option("--unique", "the index is unique", "flag", False)),
        ),
        Pattern(
            "add-foreign-key",
            "index the column concurrently, add the FOREIGN KEY NOT VALID, VALIDATE in its own transaction",
            (
                TABLE,
                COLUMN,
                Option("--references", "the referenced table, or table(column) (default column: id)", "ref"),
                NAME,
                Option("--on-delete", "ON DELETE action: cascade, set null, restrict...", "action", False),
            ),
        ),
        Pattern(
            "add-unique-constraint",
            "build a unique index concurrently, then ADD CONSTRAINT ... UNIQUE USING INDEX",
            (TABLE, INDEX_COLUMNS, NAME),
        ),
        Pattern(
            "add-check-constraint",
            "ADD CONSTRAINT ... CHECK NOT VALID, then VALIDATE in its own transaction",
            (TABLE, Option("--check", "the condition (SQL), e.g. 'amount >= 0'", "expr"), NAME),
        ),
        Pattern(
            "backfill",
            "batched data backfill: keyset by primary key, one transaction per batch, resumable",
            (
                TABLE,
                COLUMN,
                Option("--value", "the SQL expression to set, e.g. lower(email)", "expr"),
                Option(
                    "--where",
                    "rows that still need the value (SQL; default: column IS NULL); false once done",
                    "expr",
                    False,
                ),
                *BATCH,
            ),
        ),
        Pattern(
            "rename-column",
            "expand-contract rename: new column + sync trigger + backfill, then drop the old column",
            (TABLE, COLUMN, Option("--new-name", "the column's new name"), TYPE, *BATCH),
            ("expand", "contract"),
        ),
        Pattern(
            "change-column-type",
            "expand-contract type change: shadow column + sync trigger + backfill, then swap",
            (TABLE, COLUMN, TYPE, Option("--from-type", "the column's current SQL type", "type"), *BATCH),
            ("expand", "contract"),
        ),
        Pattern(
            "drop-column",
            "drop a column the application no longer uses (model-side step first); the downgrade re-adds it",
            (TABLE, COLUMN, TYPE),
        ),
        Pattern(
            "add-enum-value",
            "ALTER TYPE ... ADD VALUE outside the transaction; the downgrade rebuilds the type without it",
            (
                Option("--type", "the enum type (schema.type allowed)", "table"),
                Option("--value", "the new label", "label"),
                Option("--before", "place it before this existing label", "label", False),
                Option("--after", "place it after this existing label", "label", False),
            ),
        ),
        Pattern(
            "merge",
            "merge heads into one revision (all heads, or those given with --head)",
            (),
        ),
    )
}


def list_patterns() -> list[Pattern]:
    """Every pattern, in the order ``dbpatterns new --list`` shows them."""
    return list(PATTERNS.values())
