"""Every lint rule against its data-driven cases in tests/fixtures/rules/<rule-id>.toml (see rule_fixtures).

One generic test runs each ``[[fire]]`` and ``[[clean]]`` case; the format is documented in
tests/rule_fixtures.py.
"""

from __future__ import annotations

from collections import Counter

import pytest
from rule_fixtures import (
    CASE_KEYS,
    KINDS,
    SOURCE_KEYS,
    alembic_static_available,
    lint_case,
    load_cases,
    load_files,
)

from dbpatterns.lint.registry import all_rules

CASES = load_cases()

# Rules without a fixture file of their own: their cases live in the files of the rules whose checks
# report them (with `rule = "<id>"` on each case).
SHARES_A_FILE = {"use-repack": ("vacuum-full", "cluster")}


def _describe(findings) -> str:
    return "\n".join(f"  {f.line}:{f.column} {f.rule}: {f.message}" for f in findings) or "  (no findings)"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_case(case, tmp_path):
    if case.is_python and (why := alembic_static_available()):
        pytest.skip(why)
    findings = lint_case(case, tmp_path)
    mine = [f for f in findings if f.rule == case.rule]
    data = case.data
    if case.kind == "clean":
        assert not mine, f"{case.rule} must not fire:\n{_describe(findings)}\n--- migration:\n{case.text()}"
        return
    assert mine, f"{case.rule} must fire:\n{_describe(findings)}\n--- migration:\n{case.text()}"
    if "count" in data:
        assert len(mine) == data["count"], _describe(mine)
    if "line" in data:
        assert mine[0].line == data["line"] + case.line_offset(), _describe(mine)
    if "message" in data:
        assert data["message"] in mine[0].message, _describe(mine)
    for finding in mine:
        assert finding.severity in ("error", "warning", "info")
        assert finding.fix, f"{case.rule} findings carry a fix"


def test_every_rule_has_fire_and_clean_cases():
    rules = {r.id for r in all_rules()}
    files = set(load_files())
    missing_files = sorted(rules - files - set(SHARES_A_FILE))
    assert not missing_files, f"rules without tests/fixtures/rules/<id>.toml: {missing_files}"
    assert not files - rules, f"fixture files for unknown rules: {sorted(files - rules)}"
    kinds = Counter((c.rule, c.kind) for c in CASES)
    for rule_id in sorted(rules):
        for kind in KINDS:
            assert kinds[(rule_id, kind)] >= 1, f"{rule_id} has no [[{kind}]] case"
    for rule_id, homes in SHARES_A_FILE.items():
        used = {c.file for c in CASES if c.rule == rule_id}
        assert used <= set(homes), f"{rule_id} cases belong in {homes}, found in {sorted(used)}"


def test_fixture_cases_are_well_formed():
    ids = Counter(c.id for c in CASES)
    assert not [i for i, n in ids.items() if n > 1], "duplicate case ids (rename one)"
    rules = {r.id for r in all_rules()}
    for stem, data in load_files().items():
        assert set(data) <= set(KINDS), f"{stem}.toml: only [[fire]] and [[clean]] tables"
    for case in CASES:
        data = case.data
        assert set(data) <= CASE_KEYS, f"{case.id}: unknown keys {sorted(set(data) - CASE_KEYS)}"
        assert data.get("name"), f"{case.file}.toml {case.kind}[{case.index}] has no name"
        assert sum(k in data for k in SOURCE_KEYS) == 1, f"{case.id}: exactly one of {SOURCE_KEYS}"
        assert case.rule in rules, f"{case.id}: unknown rule {case.rule}"
        if case.kind == "clean":
            assert not {"line", "count", "message"} & set(data), f"{case.id}: line/count/message are for fire"
        else:
            assert "expect_no_rewrite" not in data, f"{case.id}: expect_no_rewrite is for clean cases"
        if "downgrade" in data:
            assert case.source == "python", f"{case.id}: downgrade goes with python"
