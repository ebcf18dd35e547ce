"""Find an Alembic project (alembic.ini or ``[tool.alembic]``) and its version folders, without importing
Alembic: linting a project must start fast. Commands that run the project use Alembic's own Config and
ScriptDirectory (:func:`alembic_config`, :func:`load_script`, Alembic imported only there)."""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, ProjectNotFound, first_line
from ..settings import Settings, load_settings


@dataclass(slots=True)
class Project:
    """An Alembic project as a command sees it, loaded once (:func:`load_project`) and passed down."""

    root: Path  # the folder holding the configuration file
    config_file: Path
    script_location: Path
    version_locations: list[Path] = field(default_factory=list)
    settings: Settings = field(default_factory=Settings)  # [tool.dbpatterns] of the nearest pyproject.toml

    @property
    def env_py(self) -> Path:
        return self.script_location / "env.py"


def find_project(folder: Path) -> Project | None:
    """The Alembic project configured in ``folder`` (alembic.ini first, then pyproject.toml), or None."""
    folder = Path(folder)
    ini = folder / "alembic.ini"
    if ini.is_file():
        return _from_ini(ini)
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        return _from_pyproject(pyproject)
    return None


def load_project(folder, what: str = "") -> Project:
    """The Alembic project in ``folder``, with its settings; :class:`ProjectNotFound` when there is none
    (an input error prefixed with ``what`` when ``folder`` is not a folder)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{what + ': ' if what else ''}{folder} is not a folder")
    project = find_project(folder)
    if project is None:
        raise ProjectNotFound(folder)
    return project


def as_project(project) -> Project:
    """``project`` itself when it is a :class:`Project` already loaded, else the one in that folder."""
    return project if isinstance(project, Project) else load_project(project)


@contextlib.contextmanager
def importable_in(root: Path):
    """In ``root`` and first on ``sys.path``, as Alembic's own command line runs a project."""
    root = str(root)
    added = root not in sys.path
    if added:
        sys.path.insert(0, root)
    try:
        with contextlib.chdir(root):
            yield
    finally:
        if added:
            with contextlib.suppress(ValueError):
                sys.path.remove(root)


# Environment variables env.py files commonly read their URL from: set to the scratch URL while one runs.
URL_VARIABLES = (
    "DATABASE_URL",
    "SQLALCHEMY_DATABASE_URL",
    "SQLALCHEMY_DATABASE_URI",
    "DB_URL",
    "POSTGRES_URL",
)
# What an env.py that can be pointed at another database says (else running it could migrate the wrong one)
URL_READERS = (
    "sqlalchemy.url",
    "get_main_option",
    "get_section",
    "config.attributes",
    "get_x_argument",
    *URL_VARIABLES,
)


def env_takes_url(env_py: Path) -> bool:
    """Whether a project's env.py reads its URL from something we can set (see ``URL_READERS``)."""
    text = env_py.read_text(encoding="utf-8") if env_py.is_file() else ""
    return any(reader in text for reader in URL_READERS)


@contextlib.contextmanager
def url_in_environment(url: str):
    """``URL_VARIABLES`` set to ``url`` while the block runs, restored after."""
    saved = {key: os.environ.get(key) for key in URL_VARIABLES}
    os.environ.update(dict.fromkeys(URL_VARIABLES, url))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def alembic_config(project: Project):
    """Alembic's ``Config`` of the project (alembic.ini, or pyproject.toml's ``[tool.alembic]``)."""
    config_file = project.config_file.resolve()
    try:
        from alembic.config import Config
    except ImportError:
        raise InputError("this command needs Alembic (pip install alembic)") from None
    return Config(toml_file=str(config_file)) if config_file.suffix == ".toml" else Config(str(config_file))


def load_script(project: Project, config=None):
    """Alembic's ``ScriptDirectory`` of the project with every revision file imported (from the project's
    folder, as Alembic's command line does); errors are input errors. ``config``: the project's
    :func:`alembic_config`, when the caller has it."""
    config = alembic_config(project) if config is None else config
    import warnings

    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    where = project.config_file.resolve()
    with importable_in(project.root), warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        try:
            script = ScriptDirectory.from_config(config)
            script.revision_map.heads  # noqa: B018 - import every revision now: errors are input errors
        except CommandError as exc:
            raise InputError(f"{where}: cannot read the Alembic project: {first_line(exc)}") from None
        except Exception as exc:  # noqa: BLE001 - a revision file that does not import
            # Alembic warns first about what it then fails on (a down_revision that is not there)
            why = first_line(warned[0].message) if warned else f"{type(exc).__name__}: {first_line(exc)}"
            raise InputError(f"{where}: cannot load the revisions: {why}") from None
    return script


def _from_ini(ini: Path) -> Project:
    import configparser  # only here: a folder of plain .sql files never needs it

    here = str(ini.parent.resolve())
    parser = configparser.ConfigParser(defaults={"here": here})
    try:
        parser.read(ini, encoding="utf-8")
        section = "alembic" if parser.has_section("alembic") else None
        if section is None:
            raise InputError(f"{ini}: no [alembic] section")
        location = parser.get(section, "script_location", fallback=None)
        versions = parser.get(section, "version_locations", fallback=None)
        separator = parser.get(section, "path_separator", fallback=None) or parser.get(
            section, "version_path_separator", fallback=None
        )
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise InputError(f"{ini}: cannot read: {first_line(exc)}") from None
    if not location:
        raise InputError(f"{ini}: [alembic] has no script_location")
    split = _split_paths(versions, separator) if versions else []
    return _project(ini, location, split)


def _from_pyproject(pyproject: Path) -> Project | None:
    import tomllib

    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{pyproject}: cannot read: {exc}") from None
    table = data.get("tool", {}).get("alembic")
    if table is None:
        return None
    location = table.get("script_location")
    if not isinstance(location, str):
        raise InputError(f"{pyproject}: [tool.alembic] has no script_location")
    here = str(pyproject.parent.resolve())
    versions = table.get("version_locations") or []
    if isinstance(versions, str):
        versions = _split_paths(versions, None)
    return _project(
        pyproject, location.replace("%(here)s", here), [v.replace("%(here)s", here) for v in versions]
    )


def _project(config: Path, location: str, versions: list[str]) -> Project:
    root = config.parent.resolve()
    script = _resolve(root, location)
    if not script.is_dir():
        raise InputError(f"{config}: script_location {location!r} is not a folder ({script})")
    folders = [_resolve(root, v) for v in versions] or [script / "versions"]
    return Project(root, config, script, [f for f in folders if f.is_dir()], load_settings(root))


def _resolve(root: Path, location: str) -> Path:
    if ":" in location and not os.path.isabs(location) and not Path(root, location).exists():
        # package resource form "mypkg:migrations"
        pkg, _, sub = location.partition(":")
        return (root / Path(*pkg.split(".")) / sub).resolve()
    path = Path(location)
    return path if path.is_absolute() else (root / path).resolve()


def _split_paths(value: str, separator: str | None) -> list[str]:
    seps = {"os": os.pathsep, ":": ":", ";": ";", ",": ",", "space": " ", "newline": "\n"}
    if separator in seps:
        parts = value.split(seps[separator]) if seps[separator] != " " else value.split()
    else:  # Alembic's legacy default: whitespace or commas
        parts = value.replace(",", " ").split()
    return [p.strip() for p in parts if p.strip()]
