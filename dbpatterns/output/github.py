"""Lint findings as GitHub Actions workflow commands, which the runner turns into annotations.

One line a finding::

    ::error file=migrations/001.sql,line=3,col=1,title=adding-field-with-default::Adding a column ...

Escaping follows the runner (``actions/runner`` ``ActionCommand``) and ``@actions/core``: in the message,
``%``, CR and LF become ``%25``, ``%0D``, ``%0A``; in a property value ``:`` and ``,`` also become ``%3A``
and ``%2C``. ``%`` is escaped first so the other escapes are not escaped twice.
"""

from __future__ import annotations

from collections.abc import Iterable

from dbpatterns.findings import Finding
from dbpatterns.output.sarif import lock_facts

_COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """Escape a command's message (the part after the second ``::``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (``file=``, ``title=``, ...)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation_command(severity: str) -> str:
    """The workflow command for our severity: error / warning / notice."""
    return _COMMANDS.get(severity, "warning")


def render_github(findings: Iterable[Finding]) -> str:
    """Return one workflow command per finding, each on its own line (empty string for no findings)."""
    lines = []
    for f in findings:
        props = [("file", f.path.replace("\\", "/"))]
        if f.line and f.line > 0:
            props.append(("line", str(f.line)))
            if f.column and f.column > 0:
                props.append(("col", str(f.column)))
        props.append(("title", f.rule))
        prop_text = ",".join(f"{key}={escape_property(value)}" for key, value in props)
        lines.append(f"::{annotation_command(f.severity)} {prop_text}::{escape_data(_message(f))}")
    return "".join(line + "\n" for line in lines)


def _message(f: Finding) -> str:
    parts = [f.message.rstrip()]
    facts = lock_facts(f)
    if facts:
        parts.append(facts)
    if f.fix:
        parts.append("Fix: " + f.fix.strip())
    return "\n".join(parts)
