"""One definition per JSON shape (dbpatterns.shapes): a contract derived from a core record has exactly
the keys of the record's JSON, in order; the contracts written by hand are the shapes built outside a
record, each listed here with where its keys are written, and checked against that code."""

from __future__ import annotations

from typing import get_type_hints

import pytest
from pydantic import BaseModel

from dbpatterns import contracts
from dbpatterns.findings import STAT_KEYS, Finding, LintStats
from dbpatterns.pg.sandbox import Access
from dbpatterns.shapes import SPREAD, as_json, json_keys

CONTRACTS = {
    name: model
    for name, model in vars(contracts).items()
    if isinstance(model, type) and issubclass(model, BaseModel) and model.__module__ == contracts.__name__
}
DERIVED = {name: model for name, model in CONTRACTS.items() if hasattr(model, "__record__")}

#: contracts with no core record, and the code that writes their keys
HAND_WRITTEN = {
    "Contract": "the base of every contract",
    "Truncatable": "the base of the MCP results: truncated",
    "LintResult": "dbpatterns.lint.run (json_pieces, report_extra): the lint's hot path",
    "RulesResult": "the rules command and list_rules: {rules: [...]}",
    "PatternsResult": "new --list: {patterns: [...]}",
}


def own_keys(model: type[BaseModel]) -> list[str]:
    inherited = set(model.__base__.model_fields)
    return [info.alias or name for name, info in model.model_fields.items() if name not in inherited]


def test_every_contract_is_derived_or_listed():
    assert set(CONTRACTS) - set(DERIVED) == set(HAND_WRITTEN)


def hints(record: type) -> dict:
    """The record's field types (records name the sandbox's Access only for type checkers)."""
    if not hasattr(record, "__dataclass_fields__"):
        return {}
    return get_type_hints(record, localns={"Access": Access})


def record_keys(record: type) -> list[str]:
    """The keys of a record's JSON, a spread record's in its place (a dict's items are not named)."""
    types = hints(record)
    keys: list[str] = []
    for key in json_keys(record):
        if key.how != SPREAD:
            keys.append(key.name)
        elif hasattr(types[key.attribute], "__dataclass_fields__"):
            keys += record_keys(types[key.attribute])
    return list(dict.fromkeys(keys))


@pytest.mark.parametrize("name", sorted(DERIVED))
def test_a_derived_contract_has_the_record_keys(name):
    model = DERIVED[name]
    record = model.__record__
    assert own_keys(model) == record_keys(record)
    open_ = any(key.how == SPREAD and hints(record)[key.attribute] is dict for key in json_keys(record))
    assert (model.model_config.get("extra") == "allow") == open_


def test_finding_to_dict_is_its_json():
    finding = Finding(
        "set-not-null", "error", "m.sql", 3, 1, "x", "ACCESS EXCLUSIVE", "t", True, "fix", "src"
    )
    assert finding.to_dict() == as_json(finding)
    assert list(finding.to_dict()) == own_keys(contracts.Finding)
    assert "source" not in finding.to_dict() and "hedged" not in finding.to_dict()


def test_the_lint_counts_the_stats_keys():
    assert tuple(own_keys(contracts.LintStats)) == STAT_KEYS
    assert list(as_json(LintStats(1, 1, 0, 0, 0))) == list(STAT_KEYS)


def test_rule_json_has_the_rule_contract_keys():
    from dbpatterns.lint.docs import rule_json
    from dbpatterns.lint.registry import all_rules

    rule = all_rules()[0]
    assert list(rule_json(rule)) == own_keys(contracts.Rule)
    assert list(rule_json(rule, full=True)) == own_keys(contracts.RuleDoc)
    assert own_keys(contracts.RuleDoc)[: len(own_keys(contracts.Rule))] == own_keys(contracts.Rule)
