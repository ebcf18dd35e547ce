"""Load the project's SQLAlchemy models: ``"pkg.module:Base"`` (a declarative base, or anything with a
``metadata``) or ``"pkg.module:metadata"`` (a ``MetaData``), as ``[tool.dbpatterns] models`` names them.

The module is imported with the project's folder first on ``sys.path``, as the project's own code sees it.
Every failure is an :class:`InputError` on one line.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from pathlib import Path

from ..errors import InputError


def load_metadata(spec: str, root: Path):
    """The ``MetaData`` that ``spec`` (``module:attr``) names, importing from ``root``."""
    from sqlalchemy import MetaData

    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise InputError(f"models {spec!r}: expected 'package.module:Base' or 'package.module:metadata'")
    with _importable(root):
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # noqa: BLE001 - the project's code: one line whatever it raises
            raise InputError(f"models {spec!r}: cannot import {module_name}: {_why(exc)}") from None
    target = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise InputError(f"models {spec!r}: {module_name} has no attribute {attr!r}")
        target = getattr(target, part)
    metadata = target if isinstance(target, MetaData) else getattr(target, "metadata", None)
    if not isinstance(metadata, MetaData):
        raise InputError(f"models {spec!r}: {attr} is neither a MetaData nor a declarative base")
    return metadata


@contextlib.contextmanager
def _importable(root: Path):
    path = str(Path(root).resolve())
    added = path not in sys.path
    if added:
        sys.path.insert(0, path)
    try:
        yield
    finally:
        if added:
            with contextlib.suppress(ValueError):
                sys.path.remove(path)


def _why(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__
