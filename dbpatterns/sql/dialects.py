"""Signs that SQL PostgreSQL's parser rejects was written for MySQL: said in the syntax-error finding, so
that a revision of a project that supports several databases is fixed with a dialect guard, not by
rewriting the statement."""

from __future__ import annotations

import re

# (what the sign is called, the pattern); looked for only in SQL that does not parse
_MYSQL_SIGNS = (
    ("backquoted identifiers", r"`[^`\n]+`"),
    ("ALTER TABLE ... MODIFY", r"\bALTER\s+TABLE\b[^;]*\bMODIFY\b"),
    ("ALTER TABLE ... CHANGE", r"\bALTER\s+TABLE\b[^;]*\bCHANGE\s+(COLUMN\s+)?\w+\s+\w+"),
    ("UPDATE ... JOIN", r"\bUPDATE\s+\w+(\s+(AS\s+)?\w+)?\s+((LEFT|RIGHT|INNER|CROSS)\s+)?JOIN\b"),
    ("DROP PRIMARY KEY", r"\bDROP\s+PRIMARY\s+KEY\b"),
    ("DROP FOREIGN KEY", r"\bDROP\s+FOREIGN\s+KEY\b"),
    ("ADD ... KEY", r"\bADD\s+(UNIQUE\s+)?KEY\b"),
    ("DROP INDEX ... ON", r"\bDROP\s+INDEX\s+\S+\s+ON\b"),
    ("ENGINE=", r"\bENGINE\s*="),
    ("AUTO_INCREMENT", r"\bAUTO_INCREMENT\b"),
    ("REPLACE INTO", r"\bREPLACE\s+INTO\b"),
    ("INSERT IGNORE", r"\bINSERT\s+IGNORE\b"),
    ("ON DUPLICATE KEY UPDATE", r"\bON\s+DUPLICATE\s+KEY\b"),
)
_COMPILED = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in _MYSQL_SIGNS)


def mysql_sign(sql: str) -> str | None:
    """The first MySQL-only construct in ``sql`` (``"UPDATE ... JOIN"``), None when there is none."""
    for name, pattern in _COMPILED:
        if pattern.search(sql):
            return name
    return None
