"""dbpatterns.sql.parse imports pglast's parser without running pglast.ast and pglast.enums, and pglast
still works whole afterwards (each loads on first use)."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import dbpatterns.sql.parse as parse
lazy = sorted(n for n in ("pglast.ast", "pglast.enums") if type(sys.modules[n]).__name__ == "_LazyModule")
print(",".join(lazy))
assert parse.parse("ALTER TABLE t ADD COLUMN a int;").statements[0].kind == "AlterTableStmt"
import pglast
from pglast.enums import AlterTableType
stmt = pglast.parse_sql("ALTER TABLE t ADD COLUMN a int")[0].stmt
print(type(stmt).__name__, stmt.cmds[0].subtype == AlterTableType.AT_AddColumn, pglast.__version__)
print(pglast.prettify("select 1"))
"""


def test_parser_first_then_the_whole_of_pglast():
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    lazy, parsed, pretty = done.stdout.splitlines()
    assert lazy == "pglast.ast,pglast.enums"
    name, subtype_ok, version = parsed.split()
    assert (name, subtype_ok) == ("AlterTableStmt", "True") and version.startswith("v")
    assert pretty == "SELECT 1"
