"""The shape DESIGN.md gives the code: layers whose imports only point down, no import circle between
packages, no private name imported from another package, and a plain lint that loads no heavy library."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dbpatterns"

#: Bottom up: errors/settings/findings/SQL, then Alembic project and revision reading (and the server
#: machinery the runner uses), then the lint, then the commands, then the faces.
LAYERS = {
    0: {
        "__init__",
        "errors",
        "settings",
        "findings",
        "sql",
        "files",
        "signals",
        "masking",
        "gitref",
        "shapes",
        "ruleinfo",
        "lazy",
    },
    1: {"alembic", "pg", "schema", "env", "checksums"},
    2: {"lint", "output"},
    3: {"trace", "verify", "detect", "drift", "templates", "heads", "check", "contracts", "baseline"},
    4: {"cli", "mcp", "pytest_plugin"},
}
RANK = {unit: rank for rank, units in LAYERS.items() for unit in units}


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _runtime_imports(tree: ast.Module):
    """Import nodes that run (those under ``if TYPE_CHECKING:`` do not)."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            skip.update(id(n) for child in node.body for n in ast.walk(child))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in skip:
            yield node


def _edges():
    """(importing module, imported module, names) for every import of a dbpatterns module."""
    for file in PACKAGE.rglob("*.py"):
        module = ".".join(file.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        package = module if file.name == "__init__.py" else module.rpartition(".")[0]
        for node in _runtime_imports(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [(a.name, []) for a in node.names]
            elif node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                targets = [
                    (".".join(base + ([node.module] if node.module else [])), [a.name for a in node.names])
                ]
            else:
                targets = [(node.module or "", [a.name for a in node.names])]
            for target, names in targets:
                if target == "dbpatterns" and names and names[0] in RANK:
                    target = f"dbpatterns.{names[0]}"
                if target.startswith("dbpatterns"):
                    yield module, target, names


def test_every_module_belongs_to_a_layer():
    units = {_unit(m) for m, _, _ in _edges()} | {_unit(t) for _, t, _ in _edges()}
    assert units <= set(RANK), units - set(RANK)


def test_imports_only_point_down_and_packages_import_no_private_names():
    upward, private = [], []
    for module, target, names in _edges():
        if _unit(module) == _unit(target):
            continue
        if RANK[_unit(target)] > RANK[_unit(module)]:
            upward.append(f"{module} -> {target}")
        private += [
            f"{module} -> {target}.{n}" for n in names if n.startswith("_") and not n.startswith("__")
        ]
    assert not upward and not private, upward + private


def test_no_import_circle_between_packages():
    graph = defaultdict(set)
    for module, target, _ in _edges():
        if _unit(module) != _unit(target):
            graph[_unit(module)].add(_unit(target))
    circles = sorted({tuple(sorted((a, b))) for a in graph for b in graph[a] if a in graph.get(b, ())})
    assert not circles, circles


def test_a_plain_lint_loads_no_heavy_library(tmp_path):
    (tmp_path / "m.sql").write_text("ALTER TABLE t ADD COLUMN c int;\n")
    code = (
        "import sys\n"
        "from dbpatterns.lint import Settings, lint_paths\n"
        f"lint_paths([{str(tmp_path)!r}], Settings())\n"
        "heavy = ('sqlalchemy', 'alembic', 'mcp', 'pydantic', 'psycopg')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


#: Modules whose in-function imports are the point: the front ends' handlers and tools, the pytest plugin
#: (loaded into every pytest run) and the rule registry (loads the rule modules on first use).
ENTRY_POINTS = ("dbpatterns.cli", "dbpatterns.mcp", "dbpatterns.pytest_plugin", "dbpatterns.lint.registry")
#: Heavy third-party libraries a plain lint must not load: imported where they are used.
HEAVY = {"sqlalchemy", "alembic", "psycopg", "pydantic", "mcp", "jinja2", "pglast", "orjson"}
PATTERNS_ONLY = "the CLI's parsers and the MCP server import the package for .patterns only"
#: Every other import inside a function, (module, imported module): why it cannot sit at the top.
LAZY = {
    ("dbpatterns", "importlib.metadata"): "__version__ alone needs it; a lint never asks",
    ("dbpatterns.alembic.ops", "dbpatterns.sql.params"): "loads pglast; reading a revision does not",
    ("dbpatterns.alembic.ops", "dbpatterns.sql.pglast_loader"): "loads pglast; reading a revision does not",
    ("dbpatterns.alembic.ops", "dbpatterns.sql.parse"): "loads pglast; reading a revision does not",
    ("dbpatterns.alembic.static", "dbpatterns.sql.parse"): "loads pglast; reading a revision does not",
    ("dbpatterns.check", "dbpatterns.lint.run"): "loads pglast: the contracts import check's records",
    ("dbpatterns.lint.history", "dbpatterns.alembic.project"): "a plain .sql lint loads no alembic",
    ("dbpatterns.lint.history", "dbpatterns.alembic.graph"): "a plain .sql lint loads no alembic",
    ("dbpatterns.lint.history", "dbpatterns.alembic.types"): "a plain .sql lint loads no alembic",
    ("dbpatterns.lint.history", "dbpatterns.lint.run"): "run imports history: a circle inside lint/",
    ("dbpatterns.lint.history", "dbpatterns.lint.rules.columns"): "rules load through the registry, on use",
    (
        "dbpatterns.lint.history",
        "dbpatterns.lint.rules.constraints",
    ): "rules load through the registry, on use",
    ("dbpatterns.lint.history", "dbpatterns.files"): "only a cached history touches the cache",
    ("dbpatterns.lint.rules.checksums", "dbpatterns.checksums"): "a plain .sql lint loads no sum checker",
    ("dbpatterns.lint.rules.checksums", "dbpatterns.alembic.project"): "a plain .sql lint loads no alembic",
    ("dbpatterns.lint.run", "dbpatterns.alembic.static"): "a plain .sql lint loads no alembic",
    ("dbpatterns.lint.run", "dbpatterns.alembic.offline"): "a plain .sql lint loads no alembic",
    ("dbpatterns.lint.run", "dbpatterns.alembic.project"): "a plain .sql lint loads no alembic",
    ("dbpatterns.lint.run", "dbpatterns.alembic.envpy"): "a plain .sql lint loads no alembic",
    ("dbpatterns.lint.run", "dbpatterns.alembic.types"): "a plain .sql lint loads no alembic",
    ("dbpatterns.lint.run", "dbpatterns.lint.rules.checksums"): "rules load through the registry, on use",
    ("dbpatterns.lint.run", "dbpatterns.gitref"): "git is asked only with --since",
    ("dbpatterns.lint.run", "fcntl"): "POSIX only",
    ("dbpatterns.lint.run", "pickle"): "only the forked parallel lint uses it",
    ("dbpatterns.lint.run", "select"): "only the forked parallel lint uses it",
    ("dbpatterns.pg", "dbpatterns.pg.locks"): "module __getattr__: locks imports psycopg",
    ("dbpatterns.templates", "dbpatterns.templates.revision"): PATTERNS_ONLY,
    ("dbpatterns.templates", "dbpatterns.templates.context"): PATTERNS_ONLY,
    ("dbpatterns.templates", "dbpatterns.templates.jinja"): PATTERNS_ONLY,
    ("dbpatterns.templates", "dbpatterns.alembic.project"): PATTERNS_ONLY,
    ("dbpatterns.templates", "dbpatterns.alembic.static"): PATTERNS_ONLY,
    ("dbpatterns.templates", "dbpatterns.sql.parse"): PATTERNS_ONLY,
}


def _submodule(source: str, name: str) -> str:
    """``from source import name``: the module imported, ``source.name`` when that is a module."""
    folder = ROOT.joinpath(*source.split("."))
    return f"{source}.{name}" if (folder / f"{name}.py").is_file() or (folder / name).is_dir() else source


def _imports_in_functions():
    """(module, imported module) for every import that runs inside a function."""
    for file in PACKAGE.rglob("*.py"):
        module = ".".join(file.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        package = module if file.name == "__init__.py" else module.rpartition(".")[0]
        for function in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import):
                    targets = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    parts = package.split(".")
                    base = parts[: len(parts) - node.level + 1] if node.level else []
                    source = ".".join(base + ([node.module] if node.module else []))
                    targets = [_submodule(source, a.name) for a in node.names]
                else:
                    continue
                for target in targets:
                    yield module, target


def test_imports_sit_at_the_top_of_modules_but_where_a_reason_keeps_them_lazy():
    found = {
        (module, target)
        for module, target in _imports_in_functions()
        if not module.startswith(ENTRY_POINTS) and target.split(".")[0] not in HEAVY
    }
    assert found - LAZY.keys() == set(), "move these imports to the top of their module, or say why in LAZY"
    assert LAZY.keys() - found == set(), "these imports are no longer lazy: drop them from LAZY"
