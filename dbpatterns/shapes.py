"""One definition per JSON shape: a core record (a dataclass) is its JSON. :func:`as_json` turns one into
the dict the command line prints and the MCP tools return; :mod:`dbpatterns.contracts` derives its
pydantic models from the same dataclasses (:func:`dbpatterns.contracts.derived`), so a shape is written
once, here in the core.

A record's JSON is its fields in order, each under its name, as :func:`described` (or plain ``field``)
declares them:

- ``described(description)``: the schema's description of the key;
- ``described(..., key="class")``: the key, when it is not the field's name (a Python keyword);
- ``described(..., optional=True)``: the key is left out while the value is None; ``omit=predicate``:
  left out while ``predicate(record)`` holds. The contract's default is then None and the key not
  required; every other key is always written, so required;
- ``described(..., absent=value)``: readers take ``value`` when the key is missing (the contract's
  default: a looser contract than the writer needs, for readers of hand-made objects);
- ``described(..., items=Record)``: a dict written as a list of ``Record(key, value)``;
- ``described(..., after="key")``: the key comes right after that one, not in field order (the
  constructor's order stays free); ``last=True``: after every other key (a base class's fields closing
  its subclasses' objects);
- :func:`internal`: a field the JSON leaves out (what only text output or the code uses);
- :func:`spread`: a field whose keys are the record's own: a dict's items (the contract then allows keys
  it does not name), or a nested record's JSON (the contract takes its keys; a key of the outer record
  with the same name keeps the nested one's place).

A key that is computed rather than stored (a property, or a method without arguments) is declared once,
in the record's ``JSON_COMPUTED`` (key -> :func:`computed`): first, or placed by ``after``/``before``.
Values: nested records by their ``to_dict()`` (or :func:`as_json`), tuples as lists (a NamedTuple as an
object of its fields), paths as strings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import PurePath

FIELD, OPTIONAL, SPREAD, COMPUTED = "field", "optional", "spread", "computed"
NO_DEFAULT = object()  # no ``absent`` value: a reader needs the key


def described(
    description: str | None = None,
    *,
    key: str | None = None,
    optional: bool = False,
    omit: Callable[[object], bool] | None = None,
    absent=NO_DEFAULT,
    items: type | None = None,
    after: str | None = None,
    last: bool = False,
    **options,
):
    """A dataclass field of the JSON, as the module's documentation says (``options``: as for ``field``)."""
    metadata = {"description": description, "key": key, "optional": optional or omit is not None}
    metadata.update(omit=omit, absent=absent, items=items, after=after, last=last)
    return field(metadata=metadata, **options)


def internal(**options):
    """A dataclass field the JSON leaves out (``options``: as for ``field``)."""
    return field(metadata={"json": False}, **options)


def spread(**options):
    """A field whose keys are the record's own: a dict's items, or a nested record's JSON, in its place."""
    return field(metadata={"spread": True}, **options)


@dataclass(frozen=True, slots=True)
class Computed:
    type: object
    description: str | None = None
    after: str | None = None  # the key it follows in the JSON
    before: str | None = None  # the key it precedes; neither: it comes first


def computed(
    type_: object, description: str | None = None, *, after: str | None = None, before: str | None = None
) -> Computed:
    """A key of ``JSON_COMPUTED``: the value's type, its description, the key it follows or precedes
    (neither: it comes first)."""
    return Computed(type_, description, after, before)


@dataclass(frozen=True, slots=True)
class Key:
    """One key of a record's JSON: its name, the attribute it reads, how (FIELD, OPTIONAL, SPREAD or
    COMPUTED), its type (a computed key's; None: the field's annotation), description, the value readers
    take when it is missing, when it is left out, and the record a dict's items are written as."""

    name: str
    attribute: str
    how: str
    type: object = None
    description: str | None = None
    absent: object = NO_DEFAULT
    omit: Callable[[object], bool] | None = None
    items: type | None = None


_KEYS: dict[type, tuple[Key, ...]] = {}


def json_keys(record_type: type) -> tuple[Key, ...]:
    """The keys of the JSON of ``record_type`` (a dataclass or a NamedTuple), in order."""
    keys = _KEYS.get(record_type)
    if keys is None:
        keys = _KEYS[record_type] = tuple(_keys(record_type))
    return keys


def _keys(record_type: type):
    if hasattr(record_type, "_fields"):  # a NamedTuple: its fields, in order
        yield from (Key(name, name, FIELD) for name in record_type._fields)
        return
    first: list[Key] = []
    last: list[Key] = []
    after: dict[str, list[Key]] = {}  # a key's attribute -> the keys right after it
    before: dict[str, list[Key]] = {}  # ... right before it

    def place(key: Key, follows: str | None, precedes: str | None, at_end: bool = False) -> None:
        if follows:
            after.setdefault(follows, []).append(key)
        elif precedes:
            before.setdefault(precedes, []).append(key)
        else:
            (last if at_end else first).append(key)

    for name, spec in getattr(record_type, "JSON_COMPUTED", {}).items():
        place(Key(name, name, COMPUTED, spec.type, spec.description), spec.after, spec.before)
    for item in fields(record_type):
        meta = item.metadata
        if not meta.get("json", True):
            continue
        how = SPREAD if meta.get("spread") else OPTIONAL if meta.get("optional") else FIELD
        key = Key(
            meta.get("key") or item.name,
            item.name,
            how,
            description=meta.get("description"),
            absent=meta.get("absent", NO_DEFAULT),
            omit=meta.get("omit"),
            items=meta.get("items"),
        )
        place(key, meta.get("after"), None, meta.get("last", False))

    def around(key: Key):
        for earlier in before.pop(key.attribute, ()):
            yield from around(earlier)
        yield key
        for later in after.pop(key.attribute, ()):
            yield from around(later)

    for key in (*first, *last):
        yield from around(key)
    if after or before:
        raise TypeError(f"{record_type.__name__}: no JSON key {sorted(after | before)} to place keys by")


def as_json(record) -> dict:
    """The JSON object of ``record`` (see the module's documentation)."""
    out: dict = {}
    for key in json_keys(type(record)):
        value = getattr(record, key.attribute)
        if key.how is COMPUTED:
            if callable(value):
                value = value()
        elif key.how is OPTIONAL:
            if value is None or key.omit is not None and key.omit(record):
                continue
        elif key.how is SPREAD:
            out.update(_plain(value))
            continue
        if key.items is not None:
            value = [key.items(k, v) for k, v in value.items()]
        out[key.name] = _plain(value)
    return out


class Record:
    """A core record whose JSON is :func:`as_json` (a dataclass subclasses it for its ``to_dict``)."""

    __slots__ = ()

    def to_dict(self) -> dict:
        """The record's JSON object (see the module's documentation)."""
        return as_json(self)


def flat_to_dict(record_type: type):
    """A ``to_dict`` for a record whose JSON keys are all plain values of fields (str, int, bool, None),
    written out as a dict display: as quick as one written by hand, for records made by the thousand."""
    keys = json_keys(record_type)
    if any(key.how is not FIELD for key in keys):
        raise TypeError(f"{record_type.__name__}: only plain fields make a flat to_dict")
    items = ", ".join(f"{key.name!r}: self.{key.attribute}" for key in keys)
    scope: dict = {}
    exec(f"def to_dict(self):\n    return {{{items}}}\n", scope)  # noqa: S102 - built from field names
    to_dict = scope["to_dict"]
    to_dict.__qualname__ = f"{record_type.__name__}.to_dict"
    to_dict.__doc__ = "The record's JSON object (dbpatterns.shapes)."
    return to_dict


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain(value):
    if type(value) in _SCALARS:  # most values: no attribute to look for
        return value
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "__dataclass_fields__"):
        return as_json(value)
    if hasattr(value, "_asdict"):  # a NamedTuple
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, PurePath):
        return str(value)
    return value
