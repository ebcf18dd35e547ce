"""dbpatterns.sql.parse imports pglast's parser without running pglast's package module, pglast.ast and
pglast.enums, and pglast still works whole afterwards (each loads on first use)."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import dbpatterns.sql.parse as parse
assert parse.parse("ALTER TABLE t ADD COLUMN a int;").statements[0].kind == "AlterTableStmt"
assert parse.parse("ALTER TABLE t ADD COLUMN;").errors and "typing" not in sys.modules
names = ("pglast", "pglast.ast", "pglast.enums")
lazy = sorted(n for n in names if type(sys.modules[n]).__name__ == "_LazyModule")
print(",".join(lazy))
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
    assert lazy == "pglast,pglast.ast,pglast.enums"
    name, subtype_ok, version = parsed.split()
    assert (name, subtype_ok) == ("AlterTableStmt", "True") and version.startswith("v")
    assert pretty == "SELECT 1"


def test_fragments_parse_through_the_shared_reader():
    """A type, an expression and an index definition: one reader (sql.parse), None when they do not parse."""
    from dbpatterns.drift.compare import _index_table
    from dbpatterns.sql.knowledge import parse_type
    from dbpatterns.sql.parse import parse_expression, parse_tree

    assert parse_type("varchar(50)") == ("varchar", (50,)) and parse_type("int (") is None
    assert "FuncCall" in parse_expression("now()") and parse_expression("((") is None
    assert parse_tree("SELECT 1; SELECT 2")[1]["stmt"]["SelectStmt"] and parse_tree("SELEC 1") is None
    assert _index_table('CREATE INDEX i ON public."Users" USING btree (a) INVALID') == 'public."Users"'
    assert _index_table("CREATE TABLE t (a int)") is None and _index_table("((") is None
