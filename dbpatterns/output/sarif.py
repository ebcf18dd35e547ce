"""Lint findings as SARIF 2.1.0, the format GitHub code scanning and most IDE viewers read.

One log, one run. The run's ``tool.driver.rules`` holds every rule the caller passes (normally
``all_rules()``), not only the rules that fired:

* a ``ruleIndex`` then means the same rule in every log of the same version, and code-scanning UIs can
  show the help of a rule even in a run where it did not fire;
* the rule list is small (tens of rules), so the cost is a few kilobytes;
* ``defaultConfiguration.enabled`` says which rules are opt-in, which a referenced-only list cannot say.

A finding whose rule is missing from ``rules`` (e.g. an engine-level ``parse-error`` that no module
registers) still gets a minimal descriptor appended, so every ``ruleIndex`` is valid. A finding that names a
rule by one of its aliases is reported under the rule's canonical id.

Our ``fix`` is a recipe in prose, not a text edit, so it goes in ``result.properties.fix``: SARIF's
``fixes`` needs ``artifactChanges`` with concrete ``replacements`` of regions, which we do not have.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path, PurePath
from typing import TYPE_CHECKING
from urllib.parse import quote

from dbpatterns.findings import Finding

if TYPE_CHECKING:  # the rules are handed in: output never imports the lint
    from dbpatterns.lint.registry import Rule

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
TOOL_NAME = "dbpatterns"
INFORMATION_URI = "https://github.com/database-patterns/database-patterns"
SRCROOT = "%SRCROOT%"

_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def sarif_level(severity: str) -> str:
    """Map our severity (error / warning / info) to a SARIF level (error / warning / note)."""
    return _LEVELS.get(severity, "warning")


def render_sarif(
    findings: list[Finding],
    rules: list[Rule],
    tool_version: str,
    *,
    root: str | os.PathLike[str] | None = None,
    information_uri: str = INFORMATION_URI,
    stats: dict | None = None,
) -> str:
    """Return a SARIF 2.1.0 log of ``findings`` as JSON text.

    ``stats``: the lint's operation counts (``dbpatterns.findings.STAT_KEYS``), written as the run's
    ``properties.stats``.

    ``rules`` become ``tool.driver.rules`` in the order given. Paths are written relative to ``root``
    (default: the current directory) with ``uriBaseId`` ``%SRCROOT%``; a path outside ``root`` is written
    as an absolute ``file:`` URI.
    """
    root_path = Path(root if root is not None else os.getcwd()).resolve()
    descriptors: list[dict] = []
    index: dict[str, int] = {}
    for r in rules:
        if r.id in index:
            continue
        index[r.id] = len(descriptors)
        descriptors.append(_rule_descriptor(r))
    aliases = {alias: r.id for r in rules for alias in r.aliases}

    results = []
    for f in findings:
        rule_id = f.rule if f.rule in index else aliases.get(f.rule, f.rule)
        if rule_id not in index:
            index[rule_id] = len(descriptors)
            descriptors.append({"id": rule_id, "shortDescription": {"text": rule_id}})
        results.append(_result(f, rule_id, index[rule_id], root_path))

    log = {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": tool_version,
                        "semanticVersion": tool_version,
                        "informationUri": information_uri,
                        "rules": descriptors,
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": root_path.as_uri().rstrip("/") + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": results,
                **({"properties": {"stats": stats}} if stats is not None else {}),
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _rule_descriptor(r: Rule) -> dict:
    doc = (r.doc or "").strip()
    what = _section(doc, "What it does") or r.summary
    descriptor: dict = {
        "id": r.id,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": markdown_to_text(what), "markdown": what},
        "defaultConfiguration": {"level": sarif_level(r.severity), "enabled": bool(r.default)},
        "properties": {
            "aliases": list(r.aliases),
            "category": r.category,
            "tags": _unique(["postgresql", "migration", r.category]),
        },
    }
    if doc:
        descriptor["help"] = {"text": markdown_to_text(doc), "markdown": doc}
    else:
        descriptor["help"] = {"text": r.summary}
    return descriptor


def _result(f: Finding, rule_id: str, rule_index: int, root: Path) -> dict:
    location: dict = {"physicalLocation": {"artifactLocation": _artifact_location(f.path, root)}}
    if f.line and f.line > 0:
        region: dict = {"startLine": f.line}
        if f.column and f.column > 0:
            region["startColumn"] = f.column
        location["physicalLocation"]["region"] = region

    properties: dict = {"rewrites": bool(f.rewrites)}
    if f.lock:
        properties["lock"] = f.lock
    if f.table:
        properties["table"] = f.table
    if f.fix:
        properties["fix"] = f.fix
    return {
        "ruleId": rule_id,
        "ruleIndex": rule_index,
        "level": sarif_level(f.severity),
        "message": {"text": message_with_facts(f)},
        "locations": [location],
        "properties": properties,
    }


def message_with_facts(f: Finding) -> str:
    """The finding's message followed by what the statement does to its table (lock, rewrite)."""
    facts = lock_facts(f)
    message = f.message.rstrip()
    if not facts:
        return message
    if message and message[-1] not in ".!?":
        message += "."
    return f"{message} {facts}".strip()


def lock_facts(f: Finding) -> str:
    """What the statement does to its table, e.g. 'Lock: ACCESS EXCLUSIVE on "users". Rewrites the table.'."""
    facts = []
    if f.lock:
        facts.append(f"Lock: {f.lock}" + (f' on "{f.table}".' if f.table else "."))
    if f.rewrites:
        facts.append("Rewrites the table." if f.lock or not f.table else f'Rewrites "{f.table}".')
    return " ".join(facts)


def _artifact_location(path: str, root: Path) -> dict:
    if path in ("", "-"):
        return {"uri": "stdin"}
    p = Path(path)
    absolute = p if p.is_absolute() else (root / p)
    absolute = Path(os.path.normpath(absolute))
    try:
        rel = absolute.relative_to(root)
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": _uri_path(rel), "uriBaseId": SRCROOT}


def _uri_path(rel: PurePath) -> str:
    return quote(rel.as_posix(), safe="/-._~!$&'()*+,;=@")


# --- markdown to plain text --------------------------------------------------------------------------------

_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_EMPH = re.compile(r"(\*\*|__)(.+?)\1")
_CODE = re.compile(r"`([^`]*)`")


def markdown_to_text(markdown: str) -> str:
    """A plain-text rendering of a rule doc: headings become lines, code blocks are indented, inline
    markup is dropped, and links keep their target in parentheses."""
    out: list[str] = []
    in_fence = False
    for line in markdown.splitlines():
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence:
            out.append("    " + line if line else "")
            continue
        heading = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", stripped)
        if heading:
            title = heading.group(1)
            out.append(title if title.endswith(("?", ":", ".", "!")) else title + ":")
            continue
        text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", line)
        text = _REF_LINK.sub(r"\1", text)
        text = _EMPH.sub(r"\2", text)
        text = _CODE.sub(r"\1", text)
        out.append(text.rstrip())
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _section(doc: str, title: str) -> str:
    """The body of the ``## title`` section of a ruff-style rule doc, or ''."""
    lines = doc.splitlines()
    body: list[str] = []
    inside = False
    for line in lines:
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line.strip())
        if m:
            if inside:
                break
            inside = m.group(1).strip().rstrip("?:").lower() == title.lower()
            continue
        if inside:
            body.append(line)
    return "\n".join(body).strip()


def _unique(items: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item and item not in seen:
            seen.append(item)
    return seen
