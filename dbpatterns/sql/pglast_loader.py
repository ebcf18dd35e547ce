"""pglast's parser module, loaded without the rest of pglast until something else of pglast is used.

The lint reads pglast's JSON parse trees (``parse_sql_json``), never its Python AST objects: the package's
own module imports ``pglast.enums``, ``pglast.ast`` and ``typing`` for those. Here the parser module is
loaded alone and the package, its enums and its AST are left to importlib's LazyLoader: reading any pglast
attribute, or importing another of its modules, loads the package whole (tests/test_pglast_import.py).
"""

from __future__ import annotations

import importlib.util
import sys
from importlib.machinery import PathFinder


def parser_module():
    """``pglast.parser``, with the package, its enums and its AST left to load on first use."""
    if "pglast" in sys.modules:
        from pglast import parser

        return parser
    spec = importlib.util.find_spec("pglast")
    names = ("pglast", "pglast.enums", "pglast.ast", "pglast.error", "pglast.parser")
    try:
        package = importlib.util.module_from_spec(spec)  # not run yet: only its __path__ is needed
        sys.modules["pglast"] = package
        for name in names[1:]:
            sub = PathFinder.find_spec(name, spec.submodule_search_locations)
            if name in ("pglast.enums", "pglast.ast"):
                sub.loader = importlib.util.LazyLoader(sub.loader)
            module = sys.modules[name] = importlib.util.module_from_spec(sub)
            sub.loader.exec_module(module)
            setattr(package, name.rpartition(".")[2], module)
            if name == "pglast.error":
                package.Error = module.Error  # the parser takes it from the package (``from . import Error``)
        importlib.util.LazyLoader(spec.loader).exec_module(package)  # runs pglast/__init__ on first use
        return module
    except Exception:  # noqa: BLE001 - an unusual install: import it the ordinary way
        for name in names:
            sys.modules.pop(name, None)
    from pglast import parser

    return parser
