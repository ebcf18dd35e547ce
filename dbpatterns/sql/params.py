"""Bind parameters in SQL handed to a driver or to SQLAlchemy, replaced by what PostgreSQL's parser accepts.

A migration runs statements with parameters in every style its libraries know: SQLAlchemy's ``text()``
``:name`` (and an expanding ``IN :names``), the DB-API ``pyformat`` styles ``%s`` and ``%(name)s``
(``exec_driver_sql``, a plain string passed to a SQLAlchemy 1.x connection). PostgreSQL's own parser knows
none of them. :func:`placeholders` finds them with PostgreSQL's scanner (``pglast.parser.scan``, so a ``:x``
inside a string literal, a ``::`` cast or a comment is never touched) and writes ``$1`` (``($1)`` after
``IN``); :func:`literal_placeholders` writes ``'?'`` instead, for the places where PostgreSQL accepts a
literal but no parameter (``SET lock_timeout = '?'``, DDL).
"""

from __future__ import annotations

from .pglast_loader import parser_module

_pg = parser_module()

_COLON = "ASCII_58"
_PERCENT = "ASCII_37"
_BACKSLASH = "ASCII_92"


def placeholders(sql: str, *, named: bool = True, pyformat: bool = True, literal: bool = False) -> str:
    """``sql`` with its bind parameters replaced by ``$1`` (or ``'?'`` when ``literal``); ``\\:`` (an escaped
    colon in ``text()``) becomes ``:``. ``sql`` comes back unchanged when the scanner rejects it."""
    if ":" not in sql and "%" not in sql:
        return sql
    try:
        tokens = _pg.scan(sql)
    except Exception:  # noqa: BLE001 - an unterminated literal: the parser will say so
        return sql
    value = "'?'" if literal else "$1"
    edits: list[tuple[int, int, str]] = []  # (start, end exclusive, replacement)
    count = len(tokens)
    index = 0
    while index < count:
        token = tokens[index]
        following = tokens[index + 1] if index + 1 < count else None
        previous = tokens[index - 1] if index else None
        if named and token.name == _COLON and following is not None and following.start == token.end + 1:
            if previous is not None and previous.name == _BACKSLASH and previous.end + 1 == token.start:
                edits.append((previous.start, token.end + 1, ":"))  # text("\:x"): a literal colon
                index += 1
                continue
            if _is_word(sql, following) and not (
                previous is not None and previous.end + 1 == token.start and previous.name == _COLON
            ):
                after_in = previous is not None and previous.name in ("IN_P",)
                edits.append((token.start, following.end + 1, f"({value})" if after_in else value))
                index += 2
                continue
        # a % of its own, or the last character of an operator the scanner glued it to (``id=%s``: the
        # scanner reads ``=%`` as one operator, the driver sees ``=`` and ``%s``)
        percent = token.start if token.name == _PERCENT else None
        if token.name == "Op" and token.end > token.start and sql[token.end] == "%":
            percent = token.end
        if pyformat and percent is not None and following is not None and following.start == token.end + 1:
            # after IN the driver writes a tuple with its parentheses: IN %s -> IN ($1)
            after_in = token.name == _PERCENT and previous is not None and previous.name == "IN_P"
            if following.name == "IDENT" and sql[following.start : following.end + 1] in ("s", "d"):
                edits.append((percent, following.end + 1, f"({value})" if after_in else value))
                index += 2
                continue
            if following.name == "ASCII_40" and index + 4 < count:  # %(name)s
                name, close, kind = tokens[index + 2], tokens[index + 3], tokens[index + 4]
                if (
                    close.name == "ASCII_41"
                    and close.start == name.end + 1
                    and kind.start == close.end + 1
                    and sql[kind.start : kind.end + 1] in ("s", "d")
                ):
                    edits.append((percent, kind.end + 1, f"({value})" if after_in else value))
                    index += 5
                    continue
        index += 1
    if pyformat and any(text != ":" and sql[start] == "%" for start, _, text in edits):
        # a statement with pyformat parameters is %-formatted by the driver: %% is a literal %
        edits.extend((t.start, t.end + 1, "%") for t in tokens if sql[t.start : t.end + 1] == "%%")
        edits.sort()
    if not edits:
        return sql
    out, at = [], 0
    for start, end, text in edits:
        out.append(sql[at:start])
        out.append(text)
        at = end
    out.append(sql[at:])
    return "".join(out)


def _is_word(sql: str, token) -> bool:
    """An identifier or keyword token (a bind parameter's name), not a number, operator or literal."""
    text = sql[token.start : token.end + 1]
    return bool(text) and (text[0].isalpha() or text[0] == "_") and token.name not in ("SCONST", "FCONST")
