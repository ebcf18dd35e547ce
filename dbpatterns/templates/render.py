"""Render a pattern's Jinja2 template into the parts of an Alembic revision.

A template (``files/<pattern>.py.j2``, or ``<pattern>.<step>.py.j2`` for expand/contract patterns) defines
blocks: ``message`` (the default message), ``doc`` (the docstring's body), ``upgrade`` and ``downgrade``
(function bodies), ``downgrade_ignore`` (lint rule ids silenced on the ``def downgrade`` line, for a
downgrade that has nothing to undo), ``helpers`` (module-level code appended to the file). The user's folder
(``[tool.dbpatterns] templates``) is searched first, so any template or ``_macros.j2`` can be overridden.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError

BLOCKS = ("message", "doc", "upgrade", "downgrade", "downgrade_ignore", "helpers")


def environment(user_folder: Path | None = None):
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
    return env


def template_name(pattern: str, step: str) -> str:
    return f"{pattern}.{step}.py.j2" if step else f"{pattern}.py.j2"


def render_blocks(env, name: str, values: dict) -> dict[str, str]:
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
    return out


def python_string(text: str) -> str:
    """``text`` as a Python string literal: triple-quoted when it spans lines."""
    text = str(text)
    if '"' not in text and "\\" not in text and "\n" not in text:
        return f'"{text}"'
    if "\n" in text and '"""' not in text and "\\" not in text and not text.endswith('"'):
        return '"""' + text + '"""'
    return repr(text)


def _tidy(text: str) -> str:
    import textwrap

    lines = [line.rstrip() for line in textwrap.dedent(text).strip("\n").splitlines()]
    return "\n".join(lines).strip("\n")


def indent_body(body: str) -> str:
    """A function body for script.py.mako's ``    ${upgrades}``: lines after the first indented by 4."""
    lines = body.splitlines() or ["pass"]
    return "\n".join([lines[0], *[("    " + line) if line else "" for line in lines[1:]]])
