"""Signs that SQL PostgreSQL's parser rejects was written for another database (MySQL, SQLite): said in
the syntax-error finding, so that a revision of a project that supports several databases is fixed with a
dialect guard, not by rewriting the statement. Read from pglast's scanner tokens, statement by statement:
words inside string constants and quoted names are not signs."""

from __future__ import annotations

from collections.abc import Callable

from .pglast_loader import parser_module

Words = list[str]  # one statement's tokens: keywords and bare names upper-cased, other tokens as written


def _anywhere(*sequence: str) -> Callable[[Words], bool]:
    """The words ``sequence`` one after the other, anywhere in the statement."""
    n = len(sequence)
    return lambda words: any(tuple(words[i : i + n]) == sequence for i in range(len(words) - n + 1))


def _first(*sequence: str) -> Callable[[Words], bool]:
    """The statement begins with ``sequence``."""
    return lambda words: tuple(words[: len(sequence)]) == sequence


def _after_alter_table(word: str, names: int = 0) -> Callable[[Words], bool]:
    """``ALTER TABLE ... word`` (followed by ``names`` more names, an optional COLUMN first)."""

    def test(words: Words) -> bool:
        if words[:2] != ["ALTER", "TABLE"] or word not in words:
            return False
        rest = words[words.index(word) + 1 :]
        if rest[:1] == ["COLUMN"]:
            rest = rest[1:]
        return len(rest) >= names

    return test


def _update_join(words: Words) -> bool:
    """``UPDATE a [AS x] [LEFT|RIGHT|INNER|CROSS] JOIN b ... SET``: MySQL's multi-table update."""
    if words[:1] != ["UPDATE"]:
        return False
    head = words[1 : words.index("SET")] if "SET" in words else words[1:]
    return "JOIN" in head


def _table_charset(words: Words) -> bool:
    """``ALTER TABLE t [CONVERT TO | DEFAULT] CHARACTER SET ...`` or ``CHARSET``: a table's character set,
    which PostgreSQL keeps per database, not per table."""
    if words[:2] != ["ALTER", "TABLE"]:
        return False
    named = 4 if words[3:4] == ["."] else 2  # schema . table: the name ends at index 4, else at 2
    return "CHARSET" in words or any(
        words[i : i + 2] == ["CHARACTER", "SET"] and (words[i - 1] in ("TO", "DEFAULT") or i == named + 1)
        for i in range(3, len(words) - 1)
    )


def _backquotes(words: Words) -> bool:
    return any("`" in word for word in words)


def _one_of(*tests: Callable[[Words], bool]) -> Callable[[Words], bool]:
    return lambda words: any(test(words) for test in tests)


# (database, what the sign is called, its test), in the order they are looked for
_SIGNS: tuple[tuple[str, str, Callable[[Words], bool]], ...] = (
    ("MySQL", "backquoted identifiers", _backquotes),
    ("MySQL", "ALTER TABLE ... MODIFY", _after_alter_table("MODIFY")),
    ("MySQL", "ALTER TABLE ... CHANGE", _after_alter_table("CHANGE", names=2)),
    ("MySQL", "UPDATE ... JOIN", _update_join),
    ("MySQL", "DROP PRIMARY KEY", _anywhere("DROP", "PRIMARY", "KEY")),
    ("MySQL", "DROP FOREIGN KEY", _anywhere("DROP", "FOREIGN", "KEY")),
    ("MySQL", "ADD ... KEY", _one_of(_anywhere("ADD", "KEY"), _anywhere("ADD", "UNIQUE", "KEY"))),
    ("MySQL", "DROP INDEX ... ON", lambda w: w[:2] == ["DROP", "INDEX"] and w[3:4] == ["ON"]),
    ("MySQL", "ENGINE=", _anywhere("ENGINE", "=")),
    ("MySQL", "a table's CHARACTER SET", _table_charset),
    ("MySQL", "AUTO_INCREMENT", lambda w: "AUTO_INCREMENT" in w),
    ("MySQL", "REPLACE INTO", _first("REPLACE", "INTO")),
    ("MySQL", "INSERT IGNORE", _anywhere("INSERT", "IGNORE")),
    ("MySQL", "ON DUPLICATE KEY UPDATE", _anywhere("ON", "DUPLICATE", "KEY")),
    ("SQLite", "PRAGMA", _first("PRAGMA")),
    (
        "SQLite",
        "INSERT OR/UPDATE OR",
        _one_of(
            *(
                _anywhere(verb, "OR", conflict)
                for verb in ("INSERT", "UPDATE")
                for conflict in ("IGNORE", "REPLACE", "ABORT", "FAIL", "ROLLBACK")
            )
        ),
    ),
    ("SQLite", "AUTOINCREMENT", lambda w: "AUTOINCREMENT" in w),
)


def other_dialect(sql: str) -> tuple[str, str] | None:
    """(the database, its first construct in ``sql``): ``("MySQL", "UPDATE ... JOIN")``; None when the
    SQL shows no sign of another database (or does not even scan: an unterminated string)."""
    statements = _statements(sql)
    for database, name, test in _SIGNS:
        if any(test(words) for words in statements):
            return database, name
    return None


def _statements(sql: str) -> list[Words]:
    pg = parser_module()  # on first use: reading a revision (the MCP server's tools) loads no pglast
    try:
        tokens = pg.scan(sql)
    except pg.ParseError:
        return []
    raw = None if sql.isascii() else sql.encode()  # the scanner's offsets are bytes
    statements: list[Words] = [[]]
    for tok in tokens:
        if tok.name == "ASCII_59":  # ;
            statements.append([])
            continue
        text = (
            sql[tok.start : tok.end + 1]
            if raw is None
            else raw[tok.start : tok.end + 1].decode(errors="replace")
        )
        bare = tok.kind != "NO_KEYWORD" or (tok.name == "IDENT" and not text.startswith('"'))
        statements[-1].append(text.upper() if bare else text)
    return [words for words in statements if words]
