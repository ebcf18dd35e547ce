"""``dbpatterns baseline``: adopt the tool on a project with a long history.

    from dbpatterns.baseline import record_baseline

    done = record_baseline("path/to/project")   # done.start_after, done.path

Records the current head(s) of the Alembic project (read statically, :mod:`dbpatterns.alembic.graph`) as
``[tool.dbpatterns] start_after`` in the nearest pyproject.toml (the one the settings are read from),
keeping its comments and formatting (tomlkit), or in a new pyproject.toml beside the Alembic configuration
holding only ``[tool.dbpatterns]``. The file is replaced whole (never left half-written). From then on the
lint reports only the revisions that come after: the deployed history still feeds what it knows about the
schema, and ``dbpatterns check`` passes until the next unsafe revision.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import tomlkit
from tomlkit.exceptions import TOMLKitError

from .alembic.graph import read_graph
from .alembic.project import as_project
from .errors import InputError, ProjectNotFound
from .files import replace_file
from .lint.history import natural_key, sql_version
from .settings import find_pyproject
from .shapes import Record


@dataclass
class Baseline(Record):
    start_after: list[str]
    path: Path
    created: bool = False


def record_baseline(project_dir: str | os.PathLike = ".", name: str | None = None) -> Baseline:
    """Write the project's heads as ``start_after``; an input error for a project without revisions. A
    folder of versioned SQL files (no Alembic project) records its last forward file's name. ``name``: an
    alembic.ini section, recorded as ``start_after = {name = [...]}`` beside the other sections'."""
    try:
        project = as_project(project_dir, name)
    except ProjectNotFound:
        return _sql_baseline(Path(project_dir))
    graph = read_graph([Path(p) for p in project.version_locations], recursive=True)
    heads = graph.heads
    if not heads:
        where = ", ".join(str(p) for p in project.version_locations)
        raise InputError(f"baseline: no revision in {where}: nothing to start after")
    pyproject = find_pyproject(project.root)
    created = pyproject is None
    if created:
        pyproject = project.config_file.parent / "pyproject.toml"
    write_start_after(pyproject, heads, section=name)
    return Baseline(heads, pyproject, created)


def _sql_baseline(folder: Path) -> Baseline:
    names = [n.name for n in folder.iterdir() if n.is_file() and (sql_version(n.name) or (None, False))[1]]
    if not names:
        raise InputError(
            f"baseline: {folder} holds no Alembic project (alembic.ini or [tool.alembic]) and no versioned "
            "SQL files (V1__x.sql, 1_x.up.sql, 0001_x.sql)"
        )
    last = max(names, key=natural_key)
    pyproject = find_pyproject(folder)
    created = pyproject is None
    if created:
        pyproject = folder / "pyproject.toml"
    write_start_after(pyproject, [last])
    return Baseline([last], pyproject, created)


def write_start_after(pyproject: Path, values: list[str], section: str | None = None) -> None:
    """Set ``[tool.dbpatterns] start_after`` (with ``section``, its entry for that alembic.ini section) in
    ``pyproject`` (created when missing), everything else in the file kept as written."""
    text = ""
    if pyproject.is_file():
        try:
            text = pyproject.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{pyproject}: cannot read: {exc}") from None
    try:
        document = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise InputError(f"{pyproject}: cannot read pyproject.toml: {exc}") from None
    tool = document.get("tool")
    if tool is None:
        tool = tomlkit.table(is_super_table=True)
        document["tool"] = tool
    elif not isinstance(tool, dict):
        raise InputError(f"{pyproject}: tool must be a table")
    table = tool.get("dbpatterns")
    if table is None:
        table = tomlkit.table()
        tool["dbpatterns"] = table
    elif not isinstance(table, dict):
        raise InputError(f"{pyproject}: [tool.dbpatterns] must be a table")
    array = tomlkit.array()
    array.extend(values)
    if section is None:
        table["start_after"] = array
        return _write(pyproject, document)
    current = table.get("start_after")
    per_section = current if isinstance(current, dict) else tomlkit.inline_table()
    if current is not None and not isinstance(current, dict):  # a plain list: the default section's
        per_section["alembic"] = current
    per_section[section] = array
    table["start_after"] = per_section
    _write(pyproject, document)


def _write(pyproject: Path, document) -> None:

    try:
        replace_file(pyproject, tomlkit.dumps(document).encode("utf-8"))
    except OSError as exc:
        raise InputError(f"{pyproject}: cannot write: {exc.strerror or exc}") from None
