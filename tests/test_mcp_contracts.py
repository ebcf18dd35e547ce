"""The command line's `--format json` output validates against the contract models of
dbpatterns/contracts.py (the models the MCP tools return), command by command."""

from __future__ import annotations

import json

import pytest

from dbpatterns import contracts
from dbpatterns.cli import main
from tests.test_mcp_support import ROOT, UNSAFE_SQL, make_project


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = make_project(tmp_path / "proj")
    monkeypatch.chdir(root)
    return root


def cli_json(capsys, *args: str, codes=(0, 1)):
    code = main([*args, "--format", "json"])
    out, err = capsys.readouterr()
    assert code in codes, err
    return json.loads(out)


def test_lint(capsys):
    data = cli_json(capsys, "lint", str(ROOT / "examples/unsafe"), str(ROOT / "examples/project"))
    result = contracts.LintResult.model_validate(data)
    assert result.findings and result.truncated == 0
    assert result.stats is not None and result.stats.seen > 0


def test_rules(capsys):
    listed = contracts.RulesResult.model_validate(cli_json(capsys, "rules"))
    assert {r.default for r in listed.rules} == {True, False}  # opt-in rules are listed too
    for rule in listed.rules[:3]:
        assert contracts.RuleDoc.model_validate(cli_json(capsys, "rules", rule.id)).id == rule.id


def test_trace(project, capsys):
    data = cli_json(capsys, "trace", "m.sql", "--setup", "setup.sql")
    (statement,) = contracts.TraceResult.model_validate(data).statements
    assert statement.sql.strip().rstrip(";") == UNSAFE_SQL.strip().rstrip(";")
    assert "t" in statement.rewritten


def test_verify(project, capsys):
    result = contracts.VerifyResult.model_validate(cli_json(capsys, "verify"))
    assert result.ok and result.checks


def test_heads(project, capsys):
    result = contracts.HeadsResult.model_validate(cli_json(capsys, "heads"))
    assert [h.revision for h in result.heads] == ["r2"]


def test_new(project, capsys):
    listed = contracts.PatternsResult.model_validate(cli_json(capsys, "new", "--list"))
    assert "add-index" in {p.name for p in listed.patterns}
    printed = cli_json(capsys, "new", "add-index", "--table", "t", "--column", "x", "--print")
    result = contracts.NewResult.model_validate(printed)
    assert result.text and result.down_revision == "r2"
    written = cli_json(
        capsys, "new", "rename-column", "--table", "t", "--column", "x", "--new-name", "y", "--type", "text"
    )
    result = contracts.NewResult.model_validate(written)
    assert len(result.revisions) == 2 and result.text is None


def test_detect(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path / "p", "mcp_contract_models")
    mako = (ROOT / "examples/project/migrations/script.py.mako").read_text()
    (root / "migrations/script.py.mako").write_text(mako)
    monkeypatch.chdir(root)
    found = contracts.DetectResult.model_validate(cli_json(capsys, "detect"))
    assert [(c.kind, c.column) for c in found.changes] == [("add_column", "y")]
    written = contracts.DetectResult.model_validate(cli_json(capsys, "detect", "--write", "add t.y"))
    assert written.written and written.written[0].down_revision == "r2"


def test_drift(project, capsys, pg_url):
    single = contracts.DriftResult.model_validate(cli_json(capsys, "drift", "--db", pg_url))
    assert single.revision.status == "unversioned" and not single.in_sync
    several = cli_json(capsys, "drift", "--db", pg_url, "--db", pg_url)
    assert contracts.DriftSummary.model_validate(several).summary.targets == 2


def test_check(project, capsys):
    result = contracts.CheckResult.model_validate(cli_json(capsys, "check"))
    assert result.verify.checks and result.lint.findings
    assert result.lint.stats is not None and result.lint.stats.seen > 0
