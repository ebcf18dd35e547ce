"""A package's entry points, loaded on first use (PEP 562): importing the package's records (its
``model`` module, which the JSON contracts derive from) then loads no database library."""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_attributes(package: str, homes: dict[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package``: a name of ``homes`` (name -> the submodule defining it) is
    taken from that submodule, imported when the name is first read."""

    def __getattr__(name: str) -> object:
        if name in homes:
            return getattr(importlib.import_module(f"{package}.{homes[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
