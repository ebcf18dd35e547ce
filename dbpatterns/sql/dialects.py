"""Signs that SQL PostgreSQL's parser rejects was written for another database (MySQL, SQLite): said in
the syntax-error finding, so that a revision of a project that supports several databases is fixed with a
dialect guard, not by rewriting the statement."""

from __future__ import annotations

import re

# (database, what the sign is called, the pattern); looked for only in SQL that does not parse
_SIGNS = (
    ("MySQL", "backquoted identifiers", r"`[^`\n]+`"),
    ("MySQL", "ALTER TABLE ... MODIFY", r"\bALTER\s+TABLE\b[^;]*\bMODIFY\b"),
    ("MySQL", "ALTER TABLE ... CHANGE", r"\bALTER\s+TABLE\b[^;]*\bCHANGE\s+(COLUMN\s+)?\w+\s+\w+"),
    ("MySQL", "UPDATE ... JOIN", r"\bUPDATE\s+\w+(\s+(AS\s+)?\w+)?\s+((LEFT|RIGHT|INNER|CROSS)\s+)?JOIN\b"),
    ("MySQL", "DROP PRIMARY KEY", r"\bDROP\s+PRIMARY\s+KEY\b"),
    ("MySQL", "DROP FOREIGN KEY", r"\bDROP\s+FOREIGN\s+KEY\b"),
    ("MySQL", "ADD ... KEY", r"\bADD\s+(UNIQUE\s+)?KEY\b"),
    ("MySQL", "DROP INDEX ... ON", r"\bDROP\s+INDEX\s+\S+\s+ON\b"),
    ("MySQL", "ENGINE=", r"\bENGINE\s*="),
    ("MySQL", "AUTO_INCREMENT", r"\bAUTO_INCREMENT\b"),
    ("MySQL", "REPLACE INTO", r"^\s*REPLACE\s+INTO\b"),
    ("MySQL", "INSERT IGNORE", r"\bINSERT\s+IGNORE\b"),
    ("MySQL", "ON DUPLICATE KEY UPDATE", r"\bON\s+DUPLICATE\s+KEY\b"),
    ("SQLite", "PRAGMA", r"^\s*PRAGMA\b"),
    ("SQLite", "INSERT OR/UPDATE OR", r"\b(INSERT|UPDATE)\s+OR\s+(IGNORE|REPLACE|ABORT|FAIL|ROLLBACK)\b"),
    ("SQLite", "AUTOINCREMENT", r"\bAUTOINCREMENT\b"),
)
_COMPILED = tuple(
    (database, name, re.compile(pattern, re.IGNORECASE | re.MULTILINE)) for database, name, pattern in _SIGNS
)


def other_dialect(sql: str) -> tuple[str, str] | None:
    """(the database, its first construct in ``sql``): ``("MySQL", "UPDATE ... JOIN")``; None when the
    SQL shows no sign of another database."""
    for database, name, pattern in _COMPILED:
        if pattern.search(sql):
            return database, name
    return None
