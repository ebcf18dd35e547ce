"""The record base classes that stand in for dataclasses on the lint's start-up path."""

import pytest

from dbpatterns.findings import Finding
from dbpatterns.lint.settings import Settings


def test_equality_skips_the_uncompared_fields_and_repr_names_every_field():
    a = Finding("r", "error", "p.sql", 1, 2, "m", source="x", hedged=True)
    assert a == Finding("r", "error", "p.sql", 1, 2, "m")
    assert a != Finding("r", "error", "p.sql", 1, 3, "m")
    assert a != ("r", "error")
    assert repr(a).startswith("Finding(rule='r', severity='error'") and "hedged=True" in repr(a)
    with pytest.raises(TypeError):
        hash(a)  # mutable: rewrites is set after the fact


def test_a_frozen_record_is_hashable_and_cannot_change():
    s = Settings(pg_version=14)
    assert hash(s) == hash(Settings(pg_version=14, root=s.root)) and s == Settings(pg_version=14, root=s.root)
    with pytest.raises(AttributeError):
        s.pg_version = 15
    with pytest.raises(AttributeError):
        del s.pg_version


def test_replace_copies_with_changes_and_refuses_unknown_fields():
    s = Settings(pg_version=14, exclude=("a",))
    t = s.replace(pg_version=16)
    assert (t.pg_version, t.exclude, s.pg_version) == (16, ("a",), 14)
    assert s.with_overrides(pg_version=None, exclude=("b",)).exclude == ("b",)
    with pytest.raises(TypeError, match="no field 'pg_versoin'"):
        s.replace(pg_versoin=16)


def test_records_pickle_and_copy():
    import copy
    import pickle

    s = Settings(pg_version=14, exclude=("a",))
    f = Finding("r", "error", "p.sql", 1, 2, "m", source="x")
    for record in (s, f):
        for twin in (pickle.loads(pickle.dumps(record)), copy.copy(record), copy.deepcopy(record)):
            assert twin == record and twin is not record and repr(twin) == repr(record)
