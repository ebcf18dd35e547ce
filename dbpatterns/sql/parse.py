"""Split SQL text into parsed statements with their source positions (pglast's JSON parse tree)."""

from __future__ import annotations

try:  # orjson reads pglast's JSON parse trees faster than the standard library (bench/lint_bench.py)
    from orjson import loads as _loads
except ImportError:  # pragma: no cover
    from json import loads as _loads
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

from .names import MAX_NAME_BYTES
from .pglast_loader import parser_module

_pg = parser_module()

_SUPPRESS_MARK = "dbpatterns:"


@dataclass(slots=True)
class Statement:
    kind: str  # pglast node name, e.g. "AlterTableStmt"
    body: dict  # the node's fields
    start: int  # character offset of the first token (ParsedSQL.position: its line, column)
    end: int  # character offset just past the statement
    suppress: frozenset[str] = frozenset()  # rule ids an inline comment silences


@dataclass(slots=True)
class SyntaxProblem:
    line: int
    column: int
    message: str
    fix: str = ""  # the recipe, when it is not "fix the syntax" (the text is valid SQL, or not text)


_TOO_DEEP_FIX = (
    "PostgreSQL may well accept this statement: the lint only could not follow it. Review its locks by "
    "hand, or build it from smaller pieces (a CTE, a temporary table, several statements)."
)
_NOT_UTF8_FIX = "Save the file as UTF-8: PostgreSQL migration tools read it as text in that encoding."


class ParsedSQL:
    """A SQL text's statements and syntax problems, with offset -> (line, column) lookups."""

    __slots__ = ("text", "statements", "errors", "_line_starts", "_cursor")

    def __init__(self, text: str):
        self.text = text
        self.statements: list[Statement] = []
        self.errors: list[SyntaxProblem] = []
        self._line_starts: list[int] | None = None
        self._cursor = (0, 1, 0)  # the last offset asked for, its line, that line's start

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        at, line, start = self._cursor
        if offset >= at:  # the usual case, statement after statement: count the newlines in between
            text = self.text
            newlines = text.count("\n", at, offset)
            if newlines:
                line += newlines
                start = text.rfind("\n", at, offset) + 1
        else:
            starts = self._starts()
            line = bisect_right(starts, offset)
            start = starts[line - 1]
        self._cursor = (offset, line, start)
        return line, offset - start + 1

    def _starts(self) -> list[int]:
        if self._line_starts is None:
            self._line_starts = [0, *accumulate(len(line) + 1 for line in self.text.split("\n")[:-1])]
        return self._line_starts

    def line_text(self, line: int) -> str:
        at, cursor_line, start = self._cursor
        text = self.text
        if line == cursor_line:  # the line of the last position asked for (a finding's)
            end = text.find("\n", start)
            return text[start : end if end != -1 else len(text)].rstrip("\r")
        starts = self._starts()
        if not 1 <= line <= len(starts):
            return ""
        end = starts[line] - 1 if line < len(starts) else len(text)
        return text[starts[line - 1] : end].rstrip("\r")


def parse(text: str) -> ParsedSQL:
    """Parse ``text``; a part that does not parse becomes a SyntaxProblem, the rest is still returned."""
    result = ParsedSQL(text)
    try:
        _add_statements(result, text, 0)
    except (_pg.ParseError, _TooDeep):
        _parse_piecewise(result)
    except UnicodeEncodeError as exc:  # lone surrogates: bytes that were not UTF-8 (surrogateescape)
        line, col = result.position(exc.start)
        why = "not UTF-8 text: the input holds bytes that are not UTF-8"
        result.errors.append(SyntaxProblem(line, col, why, _NOT_UTF8_FIX))
    if _SUPPRESS_MARK in text:
        _attach_suppressions(result)
    return result


class _TooDeep(Exception):
    """The parse tree is nested deeper than the JSON reader follows."""


def _add_statements(result: ParsedSQL, text: str, base: int) -> None:
    try:
        tree = _loads(_pg.parse_sql_json(text))
    except UnicodeEncodeError:  # a ValueError too, but lone surrogates, not depth: parse() says so
        raise
    except ValueError as exc:  # orjson's (and json's) depth limit: a statement nested hundreds of levels deep
        raise _TooDeep(str(exc)) from None
    raw = None if text.isascii() else text.encode()
    append = result.statements.append
    size = len(text)
    for item in tree["stmts"]:
        loc = item.get("stmt_location", 0)
        length = item.get("stmt_len", 0)
        if raw is None:
            start, end = loc, (loc + length if length else size)
        else:
            start = len(raw[:loc].decode(errors="replace"))
            end = len(raw[: loc + length].decode(errors="replace")) if length else size
        if text[start : start + 1].isspace() or text.startswith(("--", "/*"), start):
            start = _skip_blank(text, start)
        ((kind, body),) = item["stmt"].items()
        append(Statement(kind, body, base + start, base + end))


def parse_tree(sql: str) -> list[dict] | None:
    """pglast's JSON statements of ``sql`` (``[{"stmt": {Kind: {...}}, ...}]``), None when it does not
    parse: for the fragments other modules read (a type, a default, a CHECK expression, an index)."""
    try:
        return _loads(_pg.parse_sql_json(sql))["stmts"]
    except (_pg.ParseError, ValueError):
        return None


def parse_expression(sql: str) -> dict | None:
    """The tree of one SQL expression (``SELECT <sql>``'s first target), None when it does not parse."""
    stmts = parse_tree(f"SELECT {sql}")
    try:
        return stmts[0]["stmt"]["SelectStmt"]["targetList"][0]["ResTarget"]["val"]
    except (TypeError, LookupError):
        return None


def _parse_piecewise(result: ParsedSQL) -> None:
    """The whole text failed: split it at the scanner's semicolons and parse each statement on its own."""
    text = result.text
    try:
        tokens = _pg.scan(text)  # character offsets
    except _pg.ParseError as exc:  # e.g. an unterminated quoted string
        _add_error(result, exc, 0)
        return
    start = 0
    for tok in tokens:
        if tok.name == "ASCII_59":
            _parse_piece(result, start, tok.end + 1)
            start = tok.end + 1
    if text[start:].strip():
        _parse_piece(result, start, len(text))


def _parse_piece(result: ParsedSQL, start: int, stop: int) -> None:
    try:
        _add_statements(result, result.text[start:stop], start)
    except _pg.ParseError as exc:
        _add_error(result, exc, start)
    except _TooDeep:
        line, col = result.position(_skip_blank(result.text, start))
        why = "the statement is nested too deeply to analyse (hundreds of levels); it was not checked"
        result.errors.append(SyntaxProblem(line, col, why, _TOO_DEEP_FIX))


def _add_error(result: ParsedSQL, exc: Exception, base: int) -> None:
    message = str(exc.args[0]) if exc.args else str(exc)
    offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
    line, col = result.position(min(base + max(offset, 0), len(result.text)))
    result.errors.append(SyntaxProblem(line, col, message))


def _skip_blank(text: str, i: int) -> int:
    """Move past whitespace and comments to the statement's first token."""
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j == -1 else j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j == -1 else j + 2
        else:
            break
    return i


def _attach_suppressions(result: ParsedSQL) -> None:
    """``-- dbpatterns: ignore[rule-a, rule-b]`` silences the statement it precedes or ends the line of."""
    text = result.text
    try:
        tokens = _pg.scan(text)
    except _pg.ParseError:
        return
    ascii_only = text.isascii()
    raw = None if ascii_only else text.encode()
    marks: list[tuple[int, frozenset[str]]] = []
    for tok in tokens:
        if tok.name not in ("SQL_COMMENT", "C_COMMENT"):
            continue
        start, stop = tok.start, tok.end + 1
        if not ascii_only:
            start = len(raw[:start].decode(errors="replace"))
            stop = len(raw[:stop].decode(errors="replace"))
        rules = parse_suppression(text[start:stop])
        if rules is not None:
            marks.append((start, rules))
    if not marks:
        return
    stmts = result.statements
    for offset, rules in marks:
        line = result.position(offset)[0]
        target = None
        for st in stmts:
            end_line = result.position(max(st.end - 1, st.start))[0]
            if st.start <= offset < st.end or result.position(st.start)[0] <= line <= end_line:
                target = st
                break
            if st.start > offset:
                target = st
                break
        if target is not None:
            target.suppress = target.suppress | rules


def parse_suppression(comment: str) -> frozenset[str] | None:
    """Rule ids named by a ``dbpatterns: ignore[...]`` comment, {"*"} for all, None when not one."""
    at = comment.find(_SUPPRESS_MARK)
    if at == -1:
        return None
    rest = comment[at + len(_SUPPRESS_MARK) :].strip()
    if not rest.startswith("ignore"):
        return None
    rest = rest[len("ignore") :].strip()
    if not rest.startswith("["):
        return frozenset({"*"})
    close = rest.find("]")
    names = rest[1 : close if close != -1 else None]
    ids = frozenset(part.strip() for part in names.split(",") if part.strip())
    return ids or frozenset({"*"})


def long_identifiers(sql: str) -> list[str]:
    """Identifiers written longer than PostgreSQL's 63-byte limit (the parser truncates them silently)."""
    try:
        tokens = _pg.scan(sql)
    except _pg.ParseError:
        return []
    out = []
    for tok in tokens:
        if tok.name != "IDENT":
            continue
        raw = sql[tok.start : tok.end + 1]
        name = raw[1:-1].replace('""', '"') if raw.startswith('"') else raw.lower()
        if len(name.encode()) > MAX_NAME_BYTES and name not in out:
            out.append(name)
    return out
