"""What the lint knows about PostgreSQL's functions and types (checked against a real server in tests)."""

from __future__ import annotations

from .nodes import type_name, walk
from .parse import parse_expression

# Functions marked VOLATILE in pg_proc that migrations commonly use as defaults (PG 13-18).
VOLATILE_FUNCTIONS = frozenset(
    {
        "random",
        "clock_timestamp",
        "timeofday",
        "gen_random_uuid",
        "uuidv4",
        "uuidv7",
        "nextval",
        "setval",
        "random_normal",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
    }
)

# Functions that are STABLE or IMMUTABLE in pg_proc (PG 13-18), so a default using them is evaluated once
# when the column is added (PG 11+ stores it in the catalog: no rewrite).
NON_VOLATILE_FUNCTIONS = frozenset(
    {
        "now",
        "transaction_timestamp",
        "statement_timestamp",
        "lower",
        "upper",
        "coalesce",
        "nullif",
        "greatest",
        "least",
        "concat",
        "to_jsonb",
        "to_json",
        "jsonb_build_object",
        "jsonb_build_array",
        "json_build_object",
        "json_build_array",
        "array_fill",
        "make_date",
        "make_interval",
        "to_timestamp",
        "date_trunc",
        "length",
        "abs",
        "md5",
        "current_setting",
        "inet_client_addr",
        "txid_current",  # STABLE: one value per transaction
        "pg_current_xact_id",
        "timezone",  # also what `now() AT TIME ZONE 'utc'` parses to
        "date_part",
        "extract",
        "to_char",
        "to_date",
        "make_timestamp",
        "make_timestamptz",
        "concat_ws",
    }
)

# pglast expands these keywords to SQLValueFunction nodes; all are STABLE.
# (current_timestamp, current_date, localtimestamp, current_user, ...)

SERIAL_TYPES = frozenset({"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"})


def volatile_calls(expr: dict | None) -> list[str]:
    """Names of the functions in ``expr`` that are (or may be) volatile; [] for a constant expression.

    A function the lint does not know is assumed volatile: the cost of a false alarm is a glance, the cost
    of a missed rewrite is an outage.
    """
    if not expr:
        return []
    found = []
    for kind, node in walk({"root": expr}):
        if kind == "FuncCall":
            names = [n["String"]["sval"] for n in node.get("funcname", ()) if "String" in n]
            name = names[-1].lower() if names else ""
            unknown = name not in NON_VOLATILE_FUNCTIONS or (name == "now" and node.get("args"))
            if name in VOLATILE_FUNCTIONS or unknown:
                found.append(name)
        elif kind in ("SubLink",):
            found.append("subquery")
    return found


# Binary-coercible changes: (old, new) type families that PostgreSQL converts without touching rows.
_TEXTUAL = {"varchar", "text"}
_TEMPORAL = {"timestamp", "timestamptz", "time", "timetz", "interval"}


def binary_coercible(old: tuple[str, tuple[int, ...]], new: tuple[str, tuple[int, ...]]) -> bool:
    """True when ``ALTER COLUMN ... TYPE new`` from ``old`` needs neither a rewrite nor an index rebuild.

    Checked on PostgreSQL 18 in tests/test_rewrite_claims.py (relfilenode unchanged).
    """
    (o, om), (n, nm) = (_canon(old[0]), old[1]), (_canon(new[0]), new[1])
    if -1 in om or -1 in nm:
        return False
    if o in _TEXTUAL and n in _TEXTUAL:
        if n == "text" or not nm:
            return True  # to text or to unlimited varchar
        return o == "varchar" and bool(om) and nm[0] >= om[0]
    if o == n == "numeric":
        if not nm:
            return True
        if not om:
            return False
        old_scale = om[1] if len(om) > 1 else 0
        new_scale = nm[1] if len(nm) > 1 else 0
        return new_scale == old_scale and nm[0] >= om[0]
    if o == n == "interval":
        return _interval_coercible(om, nm)
    if o == n and o in _TEMPORAL | {"varbit", "bit varying"}:
        if not nm:
            return True
        return bool(om) and nm[0] >= om[0]
    if (o, n) == ("cidr", "inet"):
        return True
    return o == n and om == nm


_INTERVAL_FULL_RANGE = 0x7FFF


def _interval_coercible(old: tuple[int, ...], new: tuple[int, ...]) -> bool:
    """interval typmods are (range,) or (range, precision): e.g. interval(3) is (32767, 3).

    Narrowing the fields or the fractional precision rounds the values (a rewrite); only widening either
    (or dropping the limit) is free. Other range changes are reported as rewrites, to be safe.
    """
    if not new or new == old:
        return True
    if not old:
        return False
    old_range, new_range = old[0], new[0]
    old_precision = old[1] if len(old) > 1 else None  # None: full precision
    new_precision = new[1] if len(new) > 1 else None
    if new_range != _INTERVAL_FULL_RANGE and new_range != old_range:
        return False
    if new_precision is None:
        return True
    return old_precision is not None and new_precision >= old_precision


_ALIASES = {
    "character varying": "varchar",
    "int": "int4",
    "integer": "int4",
    "bigint": "int8",
    "smallint": "int2",
    "timestamp with time zone": "timestamptz",
    "timestamp without time zone": "timestamp",
    "bool": "bool",
    "decimal": "numeric",
}


def _canon(name: str) -> str:
    return _ALIASES.get(name.lower(), name.lower())


def unknown_type(found: tuple[str, tuple[int, ...]] | None) -> bool:
    """Whether a type (``column_type``'s) is one the Alembic reading could not know in full: its name holds
    a ``?`` (``"string(?)"``, ``"JsonEncodedDict?"``, ``"?"``: see ``alembic.types.type_sql``)."""
    return found is not None and "?" in found[0]


def column_type(column_def: dict) -> tuple[str, tuple[int, ...]]:
    name, mods = type_name(column_def.get("typeName"))
    return _canon(name), mods


def parse_type(sql_type: str) -> tuple[str, tuple[int, ...]] | None:
    """(canonical name, typmods) of a type written as SQL, e.g. 'varchar(50)', read by pglast; None when it
    does not parse."""
    cast = (parse_expression(f"NULL::{sql_type}") or {}).get("TypeCast")
    return column_type({"typeName": cast["typeName"]}) if cast and "typeName" in cast else None
