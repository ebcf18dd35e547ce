"""The project loader reads each layout as Alembic's own Config and ScriptDirectory do, run from the config
file's folder (``alembic [-n NAME]``): the same script location, version locations, recursion and
prepend_sys_path entries."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from pathlib import Path

import pytest

from dbpatterns.alembic.project import load_project
from tests.test_project_layouts import LOGGING, named_sections, revision, script_folder, write


def ini_and_toml(root: Path) -> tuple[Path, str | None]:
    write(root / "alembic.ini", "[alembic]\nsqlalchemy.url = postgresql://x/y\n" + LOGGING)
    write(root / "pyproject.toml", '[tool.alembic]\nscript_location = "%(here)s/alembic"\n')
    script_folder(root / "alembic")
    return root, None


def toml_alone(root: Path) -> tuple[Path, str | None]:
    write(
        root / "pyproject.toml",
        '[tool.alembic]\nscript_location = "db"\nversion_locations = ["db/a", "%(here)s/db/b"]\n'
        'prepend_sys_path = ["."]\nrecursive_version_locations = true\n',
    )
    script_folder(root / "db")
    (root / "db" / "a").mkdir()
    (root / "db" / "b").mkdir()
    return root, None


def section(name: str):
    def build(root: Path) -> tuple[Path, str | None]:
        return named_sections(root), name

    return build


def separators(option: str, joiner: str):
    def build(root: Path) -> tuple[Path, str | None]:
        locations = joiner.join(["db/one", "%(here)s/db/two"])
        write(
            root / "alembic.ini",
            f"[alembic]\nscript_location = db\n{option}\nversion_locations = {locations}\n"
            "prepend_sys_path = .,lib:src\n",
        )
        script_folder(root / "db")
        for sub in ("one", "two"):
            (root / "db" / sub).mkdir()
        return root, None

    return build


def recursive(root: Path) -> tuple[Path, str | None]:
    write(root / "alembic.ini", "[alembic]\nscript_location = db\nrecursive_version_locations = true\n")
    script_folder(root / "db")
    revision(root / "db" / "versions" / "sub", "x1", None, "t_x1")
    return root, None


def package_sub_path(root: Path) -> tuple[Path, str | None]:
    write(root / "agree_app_k10" / "__init__.py", "")
    write(root / "alembic.ini", "[alembic]\nscript_location = agree_app_k10:db:migrations\n")
    script_folder(root / "agree_app_k10" / "db" / "migrations")
    (root / "agree_app_k10" / "db" / "migrations" / "versions").mkdir()
    return root, None


LAYOUTS = {
    "ini+toml": ini_and_toml,
    "toml alone": toml_alone,
    "section core": section("core"),
    "section tenant": section("tenant"),
    "path_separator os": separators("path_separator = os", os.pathsep),
    "path_separator ;": separators("path_separator = ;", ";"),
    "path_separator space": separators("path_separator = space", " "),
    "version_path_separator :": separators("version_path_separator = :", ":"),
    "legacy": separators("", ", "),
    "recursive": recursive,
    "pkg:sub:path": package_sub_path,
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_as_alembic_reads_it(tmp_path, monkeypatch, layout):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    root, name = LAYOUTS[layout](tmp_path / "proj")
    project = load_project(root, name=name)
    monkeypatch.syspath_prepend(str(root))  # `python -m alembic` from the folder: it is importable
    saved = list(sys.path)
    with contextlib.chdir(root), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        config = Config("alembic.ini", toml_file="pyproject.toml", ini_section=name or "alembic")
        script = ScriptDirectory.from_config(config)
        prepend = [Path(p).resolve() for p in config.get_prepend_sys_paths_list() or []]
        locations = [p.resolve() for p in script._version_locations if p.is_dir()]
        directory = Path(script.dir).resolve()
    sys.path[:] = saved
    assert project.script_location == directory
    assert project.version_locations == locations
    assert project.recursive is script.recursive_version_locations
    assert project.prepend_sys_path == prepend
