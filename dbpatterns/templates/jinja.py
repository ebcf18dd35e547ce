"""Render a pattern's Jinja2 template into the parts of an Alembic revision.

A template (``files/<pattern>.py.j2``, or ``<pattern>.<step>.py.j2`` for expand/contract patterns) defines
blocks: ``message`` (the default message), ``doc`` (the docstring's body), ``upgrade`` and ``downgrade``
(function bodies), ``downgrade_ignore`` (lint rule ids silenced on the ``def downgrade`` line, for a
downgrade that has nothing to undo), ``helpers`` (module-level code appended to the file). The user's folder
(``[tool.dbpatterns] templates``) is searched first, so any template or ``_macros.j2`` can be overridden.
"""

from __future__ import annotations

import textwrap
from functools import lru_cache
from pathlib import Path

from ..errors import InputError, first_line
from ..sql.names import literal

BLOCKS = ("message", "doc", "upgrade", "downgrade", "downgrade_ignore", "helpers")


@lru_cache(maxsize=8)
def environment(user_folder: Path | None = None):
    """The Jinja2 environment: the user's folder first, then the package's templates. Kept per folder, so
    the templates are compiled once per process (Jinja2 reloads a file that changed on disk)."""
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined

    loaders = [FileSystemLoader(str(user_folder))] if user_folder else []
    loaders.append(PackageLoader("dbpatterns.templates", "files"))
    env = Environment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["py"] = python_string
    env.filters["literal"] = sql_literal
    env.filters["dollar_quoted"] = dollar_quoted
    return env


def sql_literal(text: str) -> str:
    """``text`` as a SQL string literal."""
    return literal(str(text))


def dollar_quoted(body: str) -> str:
    """``body`` (a DO block's or a function's) between dollar quotes whose tag it does not contain: a
    literal or name in it may hold ``$$``."""
    body = str(body) if str(body).endswith("\n") else f"{body}\n"
    tag, n = "$$", 0
    while tag in body:
        tag, n = f"$dbp{n or ''}$", n + 1
    return f"{tag}\n{body}{tag}"


def template_name(pattern: str, step: str) -> str:
    return f"{pattern}.{step}.py.j2" if step else f"{pattern}.py.j2"


def fill_blocks(env, name: str, values: dict) -> dict[str, str]:
    """Each block of the template, rendered and dedented (missing blocks are empty)."""
    from jinja2 import TemplateError

    try:
        template = env.get_template(name)
        macros = env.get_template("_macros.j2").make_module(values)
        context = template.new_context({**values, "m": macros})
        out = {}
        for block in BLOCKS:
            render = template.blocks.get(block)
            out[block] = _tidy("".join(render(context))) if render else ""
    except TemplateError as exc:
        where = getattr(exc, "filename", None) or name
        line = getattr(exc, "lineno", None)
        raise InputError(f"template {where}{f':{line}' if line else ''}: {exc.message}") from None
    except Exception as exc:  # noqa: BLE001 - a template (the user's own, too) can fail in any way
        raise InputError(f"template {name}: cannot render: {type(exc).__name__}: {first_line(exc)}") from None
    return out


def python_string(text: str) -> str:
    """``text`` as a Python string literal that survives re-indentation: one line, or (text of several
    lines) one single-line literal per line, concatenated inside the caller's parentheses. Every byte of
    ``text`` is in the escapes of the literals, so no later change of indentation or trailing blanks (of
    this module, the user's script.py.mako or a formatter) can touch a SQL literal or name in it."""
    text = str(text)
    if "\n" not in text:
        return _one_line(text)
    lines = text.split("\n")
    pieces = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    return "\n" + "".join(f"    {_one_line(piece)}\n" for piece in pieces)


def _one_line(text: str) -> str:
    """A one-line Python literal of ``text``: double quotes unless ``text`` has some."""
    if '"' in text:
        return repr(text)
    return '"' + repr(text)[1:-1] + '"'  # repr's escapes are the same in either quote


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in textwrap.dedent(text).strip("\n").splitlines()]
    return "\n".join(lines).strip("\n")


def indent_body(body: str) -> str:
    """A function body for script.py.mako's ``    ${upgrades}``: lines after the first indented by 4."""
    lines = body.splitlines() or ["pass"]
    return "\n".join([lines[0], *[("    " + line) if line else "" for line in lines[1:]]])
