"""The skill's knowledge is checked like code: SKILL.md, rules/, references/, checklists/, examples/.

* Every fenced ``sql`` block parses with pglast, every ``python`` block compiles.
* A block marked ``<!-- incorrect: rule-id[, rule-id...] -->`` (the line right before its fence) makes
  the lint report each rule it names (opt-in rules are switched on for it); a block marked
  ``<!-- correct -->`` lints clean with the default rules. ``pg=N`` in the
  marker lints for PostgreSQL N. SQL is linted with ``lint_sql``, Python as an Alembic revision.
* Every relative link resolves (files, and ``#anchors`` to a heading of the target).
* SKILL.md's frontmatter is what Claude Code expects; it is under 500 lines and links every file one
  level deep; every rule file has its parts and links only real lint rules and templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pglast
import pytest

from dbpatterns.lint import Settings, lint_revision, lint_sql
from dbpatterns.lint.registry import all_rules

ROOT = Path(__file__).resolve().parent.parent
GENERATED = {ROOT / "references" / "lint-rules.md"}  # generated from the rule code, tested elsewhere


def _templates() -> list[str]:
    from dbpatterns.templates import list_patterns

    return [p.name for p in list_patterns()]


TEMPLATES = _templates()
CATEGORIES = ("alembic", "schema", "versioning", "zero-downtime", "database-selection")
RULE_IDS = {r.id for r in all_rules()}

_FENCE = re.compile(r"^(?P<indent>[ ]*)(?P<fence>```+|~~~+)(?P<lang>[\w+-]*)[^\n]*$")
_MARKER = re.compile(r"^\s*<!--\s*(?P<body>(?:correct|incorrect|runs)\b[^>]*?)\s*-->\s*$")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\((?P<target>[^)\s]+)\)")


def knowledge_files() -> list[Path]:
    files = [ROOT / "SKILL.md"]
    for folder in ("rules", "references", "checklists", "examples"):
        files += sorted((ROOT / folder).rglob("*.md"))
    return [f for f in files if f not in GENERATED and f.is_file()]


@dataclass
class Block:
    path: Path
    line: int  # of the opening fence
    lang: str
    text: str
    marker: str | None  # "correct" / "incorrect"
    rules: tuple[str, ...] = ()
    pg_version: int | None = None
    runs: bool = False  # executed on the embedded server, in order with the file's other such blocks

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks_of(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, lang, start = match["fence"], match["lang"].lower(), i
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i][len(match["indent"]) :])
            i += 1
        i += 1
        previous = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        marker = _MARKER.match(previous)
        words = [w for w in re.split(r"[\s,:]+", marker["body"]) if w] if marker else []
        kind = words[0] if words and words[0] in ("correct", "incorrect") else None
        rules = tuple(w for w in words[1:] if w != "runs" and not w.startswith("pg="))
        pg = next((int(w[3:]) for w in words if w.startswith("pg=")), None)
        text = "\n".join(body) + "\n"
        out.append(Block(path, start + 1, lang, text, kind, rules, pg, runs="runs" in words))
    return out


ALL_BLOCKS = [b for f in knowledge_files() for b in blocks_of(f)]
CODE = [b for b in ALL_BLOCKS if b.lang in ("sql", "python", "py")]
MARKED = [b for b in CODE if b.marker]


def _lint(block: Block):
    # the rules an incorrect block names are switched on (opt-in rules included)
    settings = Settings().with_overrides(pg_version=block.pg_version, extend_select=frozenset(block.rules))
    if block.lang == "sql":
        return lint_sql(block.text, block.id, settings)
    return lint_revision(block.text, block.id, settings)


@pytest.mark.parametrize("block", CODE, ids=lambda b: b.id)
def test_code_blocks_parse(block):
    if block.lang == "sql":
        pglast.parse_sql(block.text)
    else:
        compile(block.text, block.id, "exec")


@pytest.mark.parametrize("block", MARKED, ids=lambda b: f"{b.id}:{b.marker}")
def test_marked_blocks_lint_as_they_claim(block):
    found = {f.rule for f in _lint(block)}
    if block.marker == "correct":
        assert not found, f"a block marked correct gets findings: {sorted(found)}"
    else:
        assert block.rules, "name the rule(s) the incorrect block breaks: <!-- incorrect: rule-id -->"
        assert set(block.rules) <= RULE_IDS, sorted(set(block.rules) - RULE_IDS)
        assert set(block.rules) <= found, f"expected {sorted(block.rules)}, the lint found {sorted(found)}"


RUNNABLE: dict[Path, list[Block]] = {}
for _block in CODE:
    if _block.runs and _block.lang == "sql":
        RUNNABLE.setdefault(_block.path, []).append(_block)


@pytest.mark.parametrize("path", sorted(RUNNABLE), ids=lambda p: str(p.relative_to(ROOT)))
def test_runnable_blocks_run_on_postgres(path, pg_url):
    """Blocks marked ``runs`` run on a scratch database, statement by statement in autocommit (as psql
    runs a file), in the order of the file: the examples work, not just parse."""
    import psycopg

    from dbpatterns.sql.parse import parse

    with psycopg.connect(pg_url, autocommit=True) as conn:
        for block in RUNNABLE[path]:
            for stmt in parse(block.text).statements:
                sql = block.text[stmt.start : stmt.end]
                try:
                    conn.execute(sql)
                except psycopg.Error as exc:
                    pytest.fail(f"{block.id}: {sql.strip()[:80]!r} failed: {exc}")


def test_there_are_many_marked_examples():
    assert sum(b.marker == "incorrect" for b in MARKED) >= 20
    assert sum(b.marker == "correct" for b in MARKED) >= 20
    assert sum(len(blocks) for blocks in RUNNABLE.values()) >= 10


# ---- links ------------------------------------------------------------------------------------------


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", text))


def _anchors(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return {_slug(m[1]) for m in re.finditer(r"^#+\s+(.*)$", text, flags=re.M)}


def _links(path: Path) -> list[tuple[str, int]]:
    out = []
    in_code = False
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if _FENCE.match(line):
            in_code = not in_code
            continue
        if not in_code:
            out += [(m["target"], n) for m in _LINK.finditer(line)]
    return out


LINKED = [f for f in knowledge_files() + [ROOT / "README.md"]]


@pytest.mark.parametrize("path", LINKED, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    broken = []
    for target, line in _links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            broken.append(f"line {line}: {target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"line {line}: {target} (no heading #{anchor})")
    assert not broken, "\n".join(broken)


# ---- SKILL.md -----------------------------------------------------------------------------------------

ALLOWED_KEYS = {
    "name",
    "description",
    "context",
    "agent",
    "user-invocable",
    "license",
    "compatibility",
    "metadata",
    "allowed-tools",
    "argument-hint",
    "model",
    "disable-model-invocation",
}


def frontmatter(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """Top-level ``key: value`` pairs and the ``metadata:`` block's, of the YAML frontmatter."""
    assert text.startswith("---\n"), "SKILL.md must start with YAML frontmatter"
    head = text[4 : text.index("\n---\n", 4)]
    top: dict[str, str] = {}
    meta: dict[str, str] = {}
    current = None
    for line in head.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.strip().partition(":")
        if line.startswith((" ", "\t")):
            assert current == "metadata", f"indented key outside metadata: {line!r}"
            meta[key] = value.strip()
        else:
            top[key] = value.strip()
            current = key
    return top, meta


def test_skill_frontmatter_and_size():
    text = (ROOT / "SKILL.md").read_text(encoding="utf-8")
    top, meta = frontmatter(text)
    assert set(top) <= ALLOWED_KEYS, (
        f"unknown to Claude Code (move under metadata): {set(top) - ALLOWED_KEYS}"
    )
    for key in ("name", "description", "context", "agent", "user-invocable", "license", "compatibility"):
        assert top.get(key), f"frontmatter needs {key}"
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", top["name"]) and len(top["name"]) <= 64
    description = top["description"].strip("\"'")
    assert 50 < len(description) < 1024
    assert "<" not in description and ">" not in description
    assert not re.match(r"(?i)(i|you|we|use)\b", description), "the description is in the third person"
    assert top["context"] == "fork" and top["agent"] == "database-engineer"
    assert top["user-invocable"] in ("true", "false")
    assert meta, "tags, version and the like go under metadata"
    assert len(text.splitlines()) < 500


def test_skill_links_every_file_one_level_deep():
    text = (ROOT / "SKILL.md").read_text(encoding="utf-8")
    linked = {(ROOT / target.partition("#")[0]).resolve() for target, _ in _links(ROOT / "SKILL.md")}
    expected = [
        p for folder in ("rules", "references", "checklists", "examples") for p in (ROOT / folder).iterdir()
    ]
    missing = [str(p.relative_to(ROOT)) for p in expected if p.resolve() not in linked]
    assert not missing, f"SKILL.md does not link: {missing}"
    for command in ("lint", "trace", "verify", "new", "detect", "drift", "sum", "heads", "check"):
        assert f"dbpatterns {command}" in text
    for name in TEMPLATES:  # every template of `dbpatterns new` is named
        assert f"`{name}`" in text, name
    for script in sorted((ROOT / "scripts").glob("[a-z]*.py")):
        assert f"scripts/{script.name}" in text, f"SKILL.md does not name {script.name}"


# ---- rules/ -------------------------------------------------------------------------------------------

RULE_FILES = sorted((ROOT / "rules").glob("*.md"))


def test_rules_cover_the_categories():
    names = [p.stem for p in RULE_FILES]
    assert len(names) >= 16
    for category in CATEGORIES:
        assert any(n.startswith(category + "-") for n in names), f"no rule in category {category}"
    assert all(n.startswith(tuple(c + "-" for c in CATEGORIES)) for n in names)


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.stem)
def test_rule_file_has_its_parts(path):
    text = path.read_text(encoding="utf-8")
    assert re.search(r"^\*\*Impact: (CRITICAL|HIGH|MEDIUM|LOW)\*\*", text, re.M), "an impact line"
    for heading in ("## What it teaches", "## Why", "## Incorrect", "## Correct", "## PostgreSQL versions"):
        assert heading in text, f"missing {heading!r}"
    blocks = blocks_of(path)
    assert any(b.marker == "incorrect" for b in blocks) or "incorrect" in text.lower()
    assert any(b.marker == "correct" for b in blocks), "at least one block marked correct"
    lint_links = re.findall(r"lint-rules\.md#([\w-]+)", text)
    template_links = re.findall(r"`dbpatterns new ([\w-]+)", text)
    assert lint_links or template_links, "link the lint rules or templates that enforce or apply it"
    assert set(lint_links) <= RULE_IDS, sorted(set(lint_links) - RULE_IDS)
    assert set(template_links) <= set(TEMPLATES), sorted(set(template_links) - set(TEMPLATES))
