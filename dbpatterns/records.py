"""Record classes for the lint's start-up path: what ``@dataclass`` gives them, without its start-up cost.

``dataclasses`` imports ``inspect`` (and with it ``ast``, ``dis`` and ``tokenize``) and compiles every
class's methods from source as the class is made: 25-30 ms of each lint run's start on our 2-core VM (the
import 12-17 ms, nine classes 12-15 ms), paid before the worker processes fork. A record lists its fields
in ``__slots__`` (in ``__init__``'s order) and writes its own ``__init__``; this base gives it equality, a
repr and ``replace``.
"""

from __future__ import annotations

_set = object.__setattr__


class Record:
    """Equality and repr over the fields in ``__slots__`` (but ``_uncompared`` in equality)."""

    __slots__ = ()
    _uncompared: frozenset[str] = frozenset()

    def _values(self) -> tuple:
        skip = self._uncompared
        return tuple(getattr(self, name) for name in self.__slots__ if name not in skip)

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    __hash__ = None  # mutable, so unhashable (as a dataclass with eq and not frozen)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def replace(self, **changes):
        """A copy with ``changes`` (``dataclasses.replace``)."""
        unknown = set(changes) - set(self.__slots__)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        new = object.__new__(type(self))
        for name in self.__slots__:
            _set(new, name, changes[name] if name in changes else getattr(self, name))
        return new


class FrozenRecord(Record):
    """A record whose fields are set once, by ``__init__`` calling ``_fill``, and which can be hashed."""

    __slots__ = ()

    def _fill(self, *values) -> None:
        """Set the fields, in ``__slots__`` order."""
        for name, value in zip(self.__slots__, values, strict=True):
            _set(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"cannot assign to field {name!r} of frozen {type(self).__name__}")

    def __delattr__(self, name):
        raise AttributeError(f"cannot delete field {name!r} of frozen {type(self).__name__}")

    def __hash__(self) -> int:
        return hash(self._values())

    def __reduce__(self):  # pickle and copy: rebuilt through ``_fill``, as __setattr__ refuses
        return _rebuild, (type(self), tuple(getattr(self, name) for name in self.__slots__))


def _rebuild(cls: type[FrozenRecord], values: tuple) -> FrozenRecord:
    record = object.__new__(cls)
    record._fill(*values)
    return record
