"""orjson imported for reading only: without dataclasses and uuid, in a process of its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str):
    """What a fresh Python running ``code`` prints last: a line of JSON, after a "#" when ``code``
    printed something before it."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(proc.stdout.strip().rsplit("\n", 1)[-1].lstrip("#"))


def test_orjson_reads_without_dataclasses_or_uuid_and_they_import_afterwards():
    found = _python(
        "import json, sys\n"
        "from dbpatterns.leanjson import import_for_reading\n"
        "lean = import_for_reading()\n"
        "skipped = [m for m in ('dataclasses', 'uuid', 'inspect', 'platform') if m in sys.modules]\n"
        "import orjson\n"
        'tree = orjson.loads(b\'{"stmts": [{"stmt": {"SelectStmt": {}}}]}\')\n'
        "dumped = orjson.dumps({'a': [1, 'b', None, True]}).decode()\n"
        "import dataclasses, uuid\n"
        "real = hasattr(dataclasses, 'dataclass') and hasattr(uuid, 'uuid4')\n"
        "print(json.dumps([lean, skipped, tree, dumped, real]))\n"
    )
    assert found == [True, [], {"stmts": [{"stmt": {"SelectStmt": {}}}]}, '{"a":[1,"b",null,true]}', True]


@pytest.mark.parametrize("first", ["orjson", "dataclasses", "uuid"])
def test_an_earlier_import_leaves_the_ordinary_one(first):
    lean, dataclasses_loaded = _python(
        f"import json, sys, {first}\n"
        "from dbpatterns.leanjson import import_for_reading\n"
        "lean = import_for_reading()\n"
        "import orjson\n"
        "print(json.dumps([lean, 'dataclasses' in sys.modules]))\n"
    )
    assert lean is False and dataclasses_loaded


def test_an_orjson_that_wants_more_is_imported_the_ordinary_way():
    """An orjson whose init needs an attribute the stand-ins lack: the import fails quietly, then works."""
    lean, works = _python(
        "import json, sys, types\n"
        "import dbpatterns.leanjson as lj\n"
        "import builtins\n"
        "real_import = builtins.__import__\n"
        "def picky(name, *args, **kwargs):\n"
        "    if name == 'orjson' and isinstance(sys.modules.get('uuid'), types.ModuleType)"
        " and not hasattr(sys.modules['uuid'], 'uuid4'):\n"
        "        raise AttributeError('uuid4')\n"
        "    return real_import(name, *args, **kwargs)\n"
        "builtins.__import__ = picky\n"
        "lean = lj.import_for_reading()\n"
        "builtins.__import__ = real_import\n"
        "import orjson, uuid\n"
        "print(json.dumps([lean, orjson.dumps(uuid.UUID(int=1)).decode()]))\n"
    )
    assert lean is False and works == '"00000000-0000-0000-0000-000000000001"'


def test_the_lint_command_line_takes_the_lean_import():
    """cli.run (the console script) marks the process as its own; a plain lint then reads lean."""
    loaded = _python(
        "import json, os, sys\n"
        "import dbpatterns.cli as cli\n"
        "cli._SOLE_PROCESS = True\n"
        "code = cli.main(['lint', '--format', 'json', 'examples/unsafe/002_index_and_not_null.sql'])\n"
        "sys.stdout.flush()\n"
        "os.write(1, ('\\n#' + json.dumps(['dataclasses' in sys.modules, code])).encode())\n"
    )
    assert loaded == [False, 1]
