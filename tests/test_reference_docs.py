"""references/lint-rules.md is generated from the rules; every rule has complete docs."""

from pathlib import Path

import pytest

from dbpatterns.lint.docs import render_reference
from dbpatterns.lint.registry import all_rules

ROOT = Path(__file__).resolve().parent.parent
HEADINGS = ("## What it does", "## Why is this bad?", "## Example", "## Use instead")


def test_reference_is_up_to_date():
    current = (ROOT / "references" / "lint-rules.md").read_text()
    assert current == render_reference(), (
        "references/lint-rules.md is stale: run `python -m dbpatterns.lint.docs > references/lint-rules.md`"
    )


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.id)
def test_rule_docs_have_ruff_headings_and_a_fix(rule):
    for heading in HEADINGS:
        assert heading in rule.doc, f"{rule.id}: missing {heading!r}"
    assert rule.fix, f"{rule.id}: no fix recipe"
    assert rule.summary and not rule.summary.endswith(".")
    assert rule.severity in ("error", "warning", "info")
