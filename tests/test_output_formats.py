"""SARIF and GitHub Actions output, on hand-built findings and rules (no lint engine involved)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest

from dbpatterns.findings import Finding
from dbpatterns.lint.registry import Rule
from dbpatterns.output.github import escape_data, escape_property, render_github
from dbpatterns.output.sarif import markdown_to_text, render_sarif

SCHEMA_PATH = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"

DOC = """\
## What it does
Flags `ALTER TABLE ... ADD COLUMN ... DEFAULT` with a **volatile** default.

## Why is this bad?
It rewrites the table under an `ACCESS EXCLUSIVE` lock. See [the docs](https://www.postgresql.org/docs/current/sql-altertable.html).

## Example
```sql
ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();
```

## Use instead
Add the column without a default, then backfill in batches.
"""

RULES = [
    Rule(
        id="adding-field-with-volatile-default",
        summary="Adding a column with a volatile default rewrites the table",
        severity="error",
        aliases=("adding-field-with-default",),
        doc=DOC,
    ),
    Rule(
        id="prefer-robust-stmts",
        summary="Statements should be safe to retry",
        severity="info",
        default=False,
        category="style",
    ),
]


def finding(**kw) -> Finding:
    base = dict(
        rule="adding-field-with-volatile-default",
        severity="error",
        path="migrations/0001_add token.sql",
        line=3,
        column=1,
        message="Adding column token with a volatile default rewrites users",
        lock="ACCESS EXCLUSIVE",
        table="users",
        rewrites=True,
        fix="Add the column without a default,\nthen backfill in batches.",
    )
    base.update(kw)
    return Finding(**base)


FINDINGS = [
    finding(),
    finding(
        rule="prefer-robust-stmts",
        severity="info",
        line=7,
        column=5,
        message="CREATE TABLE without IF NOT EXISTS",
        lock=None,
        table=None,
        rewrites=False,
        fix="",
    ),
    finding(rule="adding-field-with-default", severity="warning", line=9, column=0),  # an alias
    finding(rule="parse-error", line=0, column=0, message="syntax error at or near 'TABL'", lock=None),
]


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def sarif(findings=FINDINGS, rules=RULES, root=None) -> dict:
    return json.loads(render_sarif(findings, rules, "0.1.0", root=root))


def test_sarif_validates_against_the_official_schema(validator, tmp_path):
    log = sarif(root=tmp_path)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_sarif_with_no_findings_and_no_rules_validates(validator):
    log = sarif(findings=[], rules=[])
    assert not list(validator.iter_errors(log))
    assert log["runs"][0]["results"] == []


def test_the_schema_catches_a_broken_log(validator):
    # Guard against a validator that accepts anything (e.g. a schema that failed to load its refs).
    log = sarif()
    log["runs"][0]["results"][0]["level"] = "fatal"
    del log["runs"][0]["tool"]["driver"]["name"]
    assert len(list(validator.iter_errors(log))) == 2


def test_sarif_uris_are_well_formed(tmp_path):
    # The validator has no rfc3987 here, so `format: uri` is not checked by it: check it ourselves.
    run = sarif(root=tmp_path)["runs"][0]
    assert urlsplit(run["tool"]["driver"]["informationUri"]).scheme == "https"
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base.startswith("file:///") and base.endswith("/")
    for result in run["results"]:
        loc = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert " " not in loc["uri"] and not loc["uri"].startswith("/")


def test_sarif_run_tool_and_rules():
    run = sarif()["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "dbpatterns"
    assert driver["version"] == "0.1.0"
    by_id = {r["id"]: r for r in driver["rules"]}
    # All rules passed in are described, plus a stub for the unregistered rule a finding used.
    assert list(by_id) == ["adding-field-with-volatile-default", "prefer-robust-stmts", "parse-error"]

    rule = by_id["adding-field-with-volatile-default"]
    assert rule["shortDescription"]["text"] == RULES[0].summary
    assert rule["help"]["markdown"] == DOC.strip()
    assert "## " not in rule["help"]["text"] and "`" not in rule["help"]["text"]
    assert "What it does:\n" in rule["help"]["text"] and "Why is this bad?\n" in rule["help"]["text"]
    assert "the docs (https://www.postgresql.org/docs/current/sql-altertable.html)" in rule["help"]["text"]
    assert rule["fullDescription"]["text"].startswith("Flags ALTER TABLE ... ADD COLUMN ... DEFAULT")
    assert rule["defaultConfiguration"] == {"level": "error", "enabled": True}
    assert rule["properties"]["aliases"] == ["adding-field-with-default"]
    assert rule["properties"]["category"] == "hazard"

    style = by_id["prefer-robust-stmts"]
    assert style["defaultConfiguration"] == {"level": "note", "enabled": False}
    assert style["help"]["text"] == RULES[1].summary
    assert style["properties"]["category"] == "style"


def test_sarif_results(tmp_path):
    run = sarif(root=tmp_path)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    first, second, aliased, parse_error = run["results"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]

    assert first["ruleId"] == "adding-field-with-volatile-default"
    assert first["level"] == "error"
    assert first["message"]["text"] == (
        "Adding column token with a volatile default rewrites users. "
        'Lock: ACCESS EXCLUSIVE on "users". Rewrites the table.'
    )
    loc = first["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "migrations/0001_add%20token.sql", "uriBaseId": "%SRCROOT%"}
    assert loc["region"] == {"startLine": 3, "startColumn": 1}
    assert first["properties"] == {
        "rewrites": True,
        "lock": "ACCESS EXCLUSIVE",
        "table": "users",
        "fix": "Add the column without a default,\nthen backfill in batches.",
    }

    assert second["level"] == "note"
    assert second["message"]["text"] == "CREATE TABLE without IF NOT EXISTS"
    assert second["properties"] == {"rewrites": False}

    assert aliased["ruleId"] == "adding-field-with-volatile-default"  # canonical id for an alias
    assert aliased["level"] == "warning"
    assert aliased["locations"][0]["physicalLocation"]["region"] == {"startLine": 9}

    assert parse_error["ruleId"] == "parse-error"
    assert "region" not in parse_error["locations"][0]["physicalLocation"]


def test_sarif_paths_are_relative_posix_under_the_root(tmp_path):
    inside = tmp_path / "db" / "versions" / "0002.sql"
    outside = tmp_path.parent / "elsewhere.sql"
    run = sarif([finding(path=str(inside)), finding(path=str(outside)), finding(path="-")], root=tmp_path)
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["runs"][0]["results"]]
    assert uris[0] == {"uri": "db/versions/0002.sql", "uriBaseId": "%SRCROOT%"}
    assert uris[1] == {"uri": outside.resolve().as_uri()}
    assert uris[2] == {"uri": "stdin"}


def test_markdown_to_text_keeps_code_blocks_indented():
    text = markdown_to_text(DOC)
    assert "    ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();" in text
    assert "```" not in text and "**" not in text


# --- GitHub Actions ----------------------------------------------------------------------------------------


def unescape_property(value: str) -> str:
    """What the Actions runner does to a property value (ActionCommand.UnescapeProperty)."""
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        value = value.replace(escaped, raw)
    return value


def unescape_data(value: str) -> str:
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%25", "%")):
        value = value.replace(escaped, raw)
    return value


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """Parse one workflow command the way the runner does: split the properties on ',' and '='."""
    assert line.startswith("::")
    head, _, data = line[2:].partition("::")
    command, _, prop_text = head.partition(" ")
    props = {}
    for pair in prop_text.split(","):
        key, _, value = pair.partition("=")
        props[key] = unescape_property(value)
    return command, props, unescape_data(data)


def test_escape_data():
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_data("a:b,c") == "a:b,c"  # ':' and ',' are only escaped in properties
    assert escape_data("%0A") == "%250A"  # a literal escape sequence survives the round trip


def test_escape_property():
    assert escape_property("a:b,c%d\ne\rf") == "a%3Ab%2Cc%25d%0Ae%0Df"
    assert escape_property("%3A") == "%253A"


@pytest.mark.parametrize("text", ["plain", "50%", "a,b:c", "x\r\ny", "%0A%2C%3A", "::error::", "ü, ä: %"])
def test_escape_round_trips(text):
    assert unescape_property(escape_property(text)) == text
    assert unescape_data(escape_data(text)) == text


def test_render_github_lines():
    out = render_github(FINDINGS[:2])
    lines = out.splitlines()
    assert out.endswith("\n") and len(lines) == 2
    assert lines[0] == (
        "::error file=migrations/0001_add token.sql,line=3,col=1,title=adding-field-with-volatile-default::"
        "Adding column token with a volatile default rewrites users%0A"
        'Lock: ACCESS EXCLUSIVE on "users". Rewrites the table.%0A'
        "Fix: Add the column without a default,%0Athen backfill in batches."
    )
    assert lines[1] == (
        "::notice file=migrations/0001_add token.sql,line=7,col=5,title=prefer-robust-stmts::"
        "CREATE TABLE without IF NOT EXISTS"
    )


def test_render_github_escapes_hostile_values():
    f = finding(
        path="db/a,b:c%.sql",
        rule="weird,rule:id",
        severity="warning",
        message="100% sure: bad\nreally",
        lock=None,
        table=None,
        rewrites=False,
        fix="",
    )
    (line,) = render_github([f]).splitlines()
    assert "\n" not in line
    command, props, data = parse_command(line)
    assert command == "warning"
    assert props == {"file": "db/a,b:c%.sql", "line": "3", "col": "1", "title": "weird,rule:id"}
    assert data == "100% sure: bad\nreally"


def test_render_github_omits_unknown_positions():
    out = render_github([finding(line=0, column=0, message="m", lock=None, rewrites=False, fix="")])
    assert out == "::error file=migrations/0001_add token.sql,title=adding-field-with-volatile-default::m\n"
    assert render_github([]) == ""


def test_cli_sarif_of_the_bundled_examples_validates(validator, capsys, monkeypatch):
    """End to end: every real rule and finding of `dbpatterns lint --format sarif` fits the schema."""
    from dbpatterns.cli import main

    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    assert main(["lint", "--format", "sarif", "examples/project", "examples/unsafe"]) == 1
    log = json.loads(capsys.readouterr().out)
    validator.validate(log)
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"set-not-null", "missing-downgrade"}
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1 for r in results)
