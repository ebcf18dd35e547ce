"""orjson, imported without the modules it loads only to serialize their types.

orjson's module init imports ``dataclasses`` (which imports ``inspect``, ``ast``, ``dis`` and
``tokenize``) and ``uuid`` (which imports ``platform``), to recognise dataclass fields and UUIDs when it
*serializes*. A plain ``dbpatterns lint`` only *reads* JSON with orjson and serializes dicts of strings,
numbers and booleans, and those imports were 37M of the 217M instructions of a one-file lint.

``import_for_reading()`` imports orjson with stand-ins for those two modules, then takes the stand-ins out
of ``sys.modules`` (a later ``import dataclasses`` gets the real one). The orjson it leaves behind
serializes a UUID or a slotted dataclass wrongly (the lint's own slotted dataclasses, for Alembic
revisions, never meet orjson), so only a process that runs no one else's code may call it: the console
script's plain lint (see ``cli.run``), never a library caller, a test or the MCP server.
"""

from __future__ import annotations

import sys
from types import ModuleType


class _StandIn:
    """The type orjson notes down for a stand-in module's attribute."""


def import_for_reading() -> bool:
    """Import orjson without ``dataclasses`` and ``uuid`` unless something has imported it (or them)
    already; False when it could not (no orjson, or an orjson whose init wants more: it is then left
    for the ordinary import)."""
    if "orjson" in sys.modules or "dataclasses" in sys.modules or "uuid" in sys.modules:
        return False
    stand_ins = {
        "dataclasses": {"_FIELD": _StandIn()},
        "uuid": {"NAMESPACE_DNS": _StandIn(), "UUID": _StandIn},
    }
    for name, attributes in stand_ins.items():
        module = sys.modules[name] = ModuleType(name)
        module.__dict__.update(attributes)
    try:
        import orjson  # noqa: F401
    except Exception:  # noqa: BLE001 - anything its init raised: the ordinary import decides
        for name in ("orjson", "orjson.orjson"):
            sys.modules.pop(name, None)
        return False
    finally:
        for name in stand_ins:
            del sys.modules[name]
    return True
