"""Shared pieces of the MCP tests (no tests here): a project to serve, and checks every result passes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from tests.alembic_builder import linear, write_project

ROOT = Path(__file__).resolve().parent.parent
#: npm packages (MCP Inspector, Claude Code) are installed once here, outside the repository, and reused.
NPM_CACHE = Path(os.environ.get("DBPATTERNS_NPM_CACHE", Path.home() / ".cache" / "dbpatterns-npm"))

UNSAFE_SQL = "ALTER TABLE t ADD COLUMN c uuid DEFAULT gen_random_uuid();\n"
SETUP_SQL = "CREATE TABLE t (id int PRIMARY KEY, x text);\n"
SECRET = "pw-Secret-4711"

TABLE = (
    'op.create_table("t", sa.Column("id", sa.Integer, primary_key=True), sa.Column("x", sa.Text))',
    'op.drop_table("t")',
)
INDEX = ('op.create_index("ix_t_x", "t", ["x"])', 'op.drop_index("ix_t_x", table_name="t")')


MODELS = """
    import sqlalchemy as sa
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    class Base(DeclarativeBase):
        pass

    class T(Base):
        __tablename__ = "t"
        __table_args__ = (sa.Index("ix_t_x", "x"),)
        id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
        x: Mapped[str | None] = mapped_column(sa.Text)
        y: Mapped[int | None] = mapped_column(sa.Integer)
"""


def make_project(root: Path, models_module: str | None = None) -> Path:
    """An Alembic project (two revisions, the second one unsafe) with .sql migrations beside it; with
    ``models_module`` also models (one column ahead of the history) in ``[tool.dbpatterns] models``.
    Model modules stay imported for the whole session: give each in-process project its own name."""
    if models_module:
        models = f"{models_module}:Base"
        write_project(root, linear(TABLE, INDEX), models=models, models_code=MODELS, module=models_module)
    else:
        write_project(root, linear(TABLE, INDEX))
    (root / "m.sql").write_text(UNSAFE_SQL)
    (root / "setup.sql").write_text(SETUP_SQL)
    (root / "broken.sql").write_text("ALTER TABLE t ADD COLUMN;\n")
    return root


#: the MCP server's two structured-output modes the tool tests run in
MODES = ["auto", "legacy"]


def served_project(tmp_path: Path, monkeypatch) -> Path:
    """:func:`make_project` as the project the MCP server is started in (``CLAUDE_PROJECT_DIR``), with no
    database URL in the environment."""
    root = make_project(tmp_path / "proj")
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(root))
    monkeypatch.delenv("DBPATTERNS_DATABASE_URL", raising=False)
    return root


def contract_of(tool_name: str):
    """The contract model a tool returns (from its signature)."""
    from dbpatterns.mcp.tools import TOOLS

    fn = next(fn for fn, _, _ in TOOLS if fn.__name__ == tool_name)
    return fn.__annotations__["return"]


def structured(result, tool, output_schema: dict | None = None):
    """The structured result of a successful call, validated against the tool's contract model and the
    output schema the server published; its text content must be the same JSON."""
    assert not result.is_error, result.content
    data = result.structured_content
    model = contract_of(tool).model_validate(data)
    if output_schema is not None:
        jsonschema.validate(data, output_schema)
    assert json.loads(result.content[0].text) == data
    return model


def error_text(result, *, one_line: bool = True) -> str:
    """The error of a failed call: one line from our tools (the SDK's own argument validation errors
    span several); never a traceback or a password."""
    assert result.is_error, result.structured_content
    text = " ".join(c.text for c in result.content)
    assert "Traceback" not in text and SECRET not in text
    assert not one_line or "\n" not in text.strip()
    return text


def npm_tool(package: str, version: str, binary: str) -> Path:
    """``binary`` of ``package@version`` installed once into the npm cache folder (outside the repo)."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: the MCP Inspector and Claude Code CLIs come from npm")
    path = NPM_CACHE / "node_modules" / ".bin" / binary
    installed = NPM_CACHE / "node_modules" / package / "package.json"
    if not path.exists() or json.loads(installed.read_text()).get("version") != version:
        NPM_CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", f"{package}@{version}"],
            cwd=NPM_CACHE,
            check=True,
            timeout=600,
        )
    return path
