"""SQL names and literals for PostgreSQL: quoting the way SQLAlchemy's PostgreSQL dialect does it (only when
needed), the 63-byte identifier limit, and literal rendering. The one place for them."""

from __future__ import annotations

import re

# PostgreSQL's reserved, type/function-name and column-name keywords (pglast.keywords, PostgreSQL 18).
# Column-name keywords (``time``, ``position``, ``values``...) are quoted too: always legal, never wrong.
_KEYWORD_TEXT = """
    all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create
    current_catalog current_date current_role current_time current_timestamp current_user default deferrable
    desc distinct do else end except false fetch for foreign from grant group having in initially intersect
    into lateral leading limit localtime localtimestamp not null offset on only or order placing primary
    references returning select session_user some symmetric system_user table then to trailing true union
    unique user using variadic when where window with
    authorization binary collation concurrently cross current_schema freeze full ilike inner is isnull join
    left like natural notnull outer overlaps right similar tablesample verbose
    between bigint bit boolean char character coalesce dec decimal exists extract float greatest grouping
    inout int integer interval json json_array json_arrayagg json_exists json_object json_objectagg json_query
    json_scalar json_serialize json_table json_value least merge_action national nchar none normalize nullif
    numeric out overlay position precision real row setof smallint substring time timestamp treat trim values
    varchar xmlattributes xmlconcat xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot
    xmlserialize xmltable
"""
_KEYWORDS = frozenset(_KEYWORD_TEXT.split())
_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*")


MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1: PostgreSQL truncates longer identifiers


def truncate(name: str) -> str:
    """``name`` cut to PostgreSQL's 63-byte identifier limit, as the server cuts it (never inside a
    multibyte character)."""
    data = name.encode()
    return name if len(data) <= MAX_IDENTIFIER_BYTES else data[:MAX_IDENTIFIER_BYTES].decode(errors="ignore")


def quote(name: str) -> str:
    """``name`` as a PostgreSQL identifier, double-quoted only when it has to be."""
    if _PLAIN.fullmatch(name) and name not in _KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def quote_dotted(name: str) -> str:
    """A dotted name (``schema.table``) with each part quoted as needed."""
    return ".".join(quote(part) for part in name.split("."))


def qualified(name: str, schema: str | None) -> str:
    """A table (or index, type...) name, schema-qualified when a schema is given."""
    return f"{quote_dotted(schema)}.{quote(name)}" if schema else quote(name)


def literal(value: object) -> str:
    """A Python literal as a SQL literal: strings quoted, booleans, NULL, numbers."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"
