"""examples/: the project passes lint, verify (models included) and check on PostgreSQL; the unsafe folder
gets exactly the findings its README lists; the schema examples run on PostgreSQL and lint clean."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from dbpatterns.lint import Settings, lint_paths, lint_sql
from dbpatterns.sql.parse import parse

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PROJECT = EXAMPLES / "project"
SCHEMAS = sorted((EXAMPLES / "schemas").glob("*.sql"))


def test_project_has_ten_or_more_revisions_and_typed_models():
    revisions = sorted((PROJECT / "migrations" / "versions").glob("*.py"))
    assert len(revisions) >= 10
    models = (PROJECT / "example_shop" / "models.py").read_text(encoding="utf-8")
    assert "Mapped[" in models and "mapped_column(" in models and "DeclarativeBase" in models
    assert 'models = "example_shop.models:Base"' in (PROJECT / "pyproject.toml").read_text(encoding="utf-8")


def test_project_lints_clean():
    findings, files = lint_paths([str(PROJECT)], Settings())
    assert files >= 10
    assert not findings, [(f.path, f.line, f.rule) for f in findings]


def test_project_verifies_with_its_models(pg_url):
    from dbpatterns.verify import verify_empty_database

    report = verify_empty_database(PROJECT, pg_url)
    assert report.ok, report.to_dict()
    checks = {c.name: c for c in report.checks}
    assert checks["models_match"].ok and not report.skipped


def test_project_passes_check(pg_server):
    from dbpatterns.check import run_check

    report = run_check(PROJECT, db=pg_server.url())
    assert report.ok, report.to_dict()
    parts = {p.name: p for p in report.parts}
    assert not parts["sums"].skipped, "examples/project/migrations/dbpatterns.sum is committed"


def _claimed_findings() -> set[tuple[str, int, str]]:
    text = (EXAMPLES / "unsafe" / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\S+\.(?:sql|py)) \| (\d+) \| ([\w-]+) \|", text, flags=re.M)
    return {(name, int(line), rule) for name, line, rule in rows}


def test_unsafe_readme_lists_exactly_what_the_lint_finds():
    findings, _ = lint_paths([str(EXAMPLES / "unsafe")], Settings())
    found = {(Path(f.path).name, f.line, f.rule) for f in findings}
    claimed = _claimed_findings()
    assert len(claimed) >= 20
    assert found == claimed, {"not listed": sorted(found - claimed), "not found": sorted(claimed - found)}


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_schema_example_runs_and_lints_clean(path, pg_url):
    text = path.read_text(encoding="utf-8")
    assert not lint_sql(text, str(path)), "a schema example must lint clean"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for stmt in parse(text).statements:
            conn.execute(text[stmt.start : stmt.end])
