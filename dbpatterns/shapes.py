"""One definition per JSON shape: a core record (a dataclass) is its JSON. :func:`as_json` turns one into
the dict the command line prints and the MCP tools return; :mod:`dbpatterns.contracts` derives its
pydantic models from the same dataclasses, a field's ``metadata={"description": ...}`` becoming the
schema's description. A key that is computed rather than stored is declared once, in the record's
``JSON_COMPUTED`` (key -> (type, description)), and comes first."""

from __future__ import annotations

from dataclasses import field, fields


def described(description: str, **options):
    """A dataclass field whose description the JSON schema carries (``options``: as for ``field``)."""
    return field(metadata={"description": description}, **options)


def as_json(record) -> dict:
    """The record's computed keys (``JSON_COMPUTED``), then its fields in order: nested records by their
    ``to_dict()``, tuples as lists."""
    out = {key: _plain(getattr(record, key)) for key in getattr(record, "JSON_COMPUTED", {})}
    for item in fields(record):
        out[item.name] = _plain(getattr(record, item.name))
    return out


def _plain(value):
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
