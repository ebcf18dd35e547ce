"""Find an Alembic project and its version folders as Alembic's own command line (or Flask-Migrate's
``flask db``) would, run from the configuration file's folder, without importing Alembic or any
application module: linting a project must start fast. Commands that run the project use Alembic's own
Config and ScriptDirectory (:func:`alembic_config`, :func:`load_script`, Alembic imported only there).

What is read, following ``alembic.config.Config``:

- ``alembic.ini`` and ``pyproject.toml`` in the same folder, together or alone: an option comes from the
  ini's section (``[alembic]``, or ``[NAME]`` with ``--name``, plus ``[DEFAULT]``; configparser
  interpolation, ``%(here)s`` the ini's folder), else from ``[tool.alembic]`` (``%(here)s`` the toml's
  folder); ``[alembic]`` is not inherited by another section;
- no ``script_location`` but an ``env.py`` beside the ini: Flask-Migrate's layout, the ini's folder is the
  script location;
- ``script_location = pkg:path`` (or ``pkg:sub:path``): the package located on disk without importing it
  (under a ``prepend_sys_path`` entry or the folder, the folder or an ancestor named like it, else where
  :func:`importlib.util.find_spec` of the top package says, which imports nothing);
- ``version_locations``: split on ``path_separator``, or the older ``version_path_separator``, or else on
  spaces and commas (Alembic's legacy); ``prepend_sys_path``: split on ``path_separator``, else on spaces,
  commas and colons; ``recursive_version_locations``;
- neither, but the folder is a script directory (``env.py`` and ``versions/``): a project that configures
  Alembic in code (``Config()`` and ``set_main_option("script_location", ...)``, as warehouse and aiida
  do), whose script location is that folder (:func:`script_directory_project`);
- a versions folder holding only one subfolder of revisions per database (``versions/postgresql``,
  ``versions/sqlite``, chosen by env.py at run time): the PostgreSQL one (:func:`postgresql_folder`).

Relative paths are taken from the configuration file's folder, whatever the working directory.
"""

from __future__ import annotations

import configparser
import contextlib
import importlib.util
import os
import re
import sys
import tomllib
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, ProjectNotFound, first_line
from ..settings import Settings, load_settings

DEFAULT_SECTION = "alembic"


@dataclass(slots=True)
class Project:
    """An Alembic project as a command sees it, loaded once (:func:`load_project`) and passed down."""

    root: Path  # the folder holding the configuration file(s), where Alembic would be run
    config_file: (
        Path  # the ini file when there is one, else the pyproject.toml, else env.py (configured in code)
    )
    script_location: Path
    version_locations: list[Path] = field(default_factory=list)
    settings: Settings = field(default_factory=Settings)  # [tool.dbpatterns] of the nearest pyproject.toml
    name: str = DEFAULT_SECTION  # the ini section (alembic -n NAME)
    ini_file: Path | None = None
    toml_file: Path | None = None  # a pyproject.toml with [tool.alembic]
    recursive: bool = False  # recursive_version_locations
    prepend_sys_path: list[Path] = field(default_factory=list)
    # the version_locations option as resolved (None: not set, the script location's versions/)
    configured_version_locations: list[Path] | None = None

    @property
    def env_py(self) -> Path:
        return self.script_location / "env.py"


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


def find_project(folder: Path, name: str | None = None) -> Project | None:
    """The Alembic project configured in ``folder`` (alembic.ini, pyproject.toml's ``[tool.alembic]``, or
    both), else the script directory ``folder`` is (:func:`script_directory_project`), or None.
    ``name``: the ini section (``alembic -n NAME``)."""
    folder = Path(folder)
    ini = folder / "alembic.ini"
    ini = ini if ini.is_file() else None
    toml, table = _toml_with_alembic(folder / "pyproject.toml")
    options = _Options(folder.resolve(), ini, toml, table, name)
    if options.ini is None and options.toml is None or _template(options.alembic_option("script_location")):
        # no configuration here, or the template of one the application writes at run time (jupyterhub's
        # alembic.ini says script_location = {alembic_dir}): the folder is what it holds
        return script_directory_project(folder) if name is None else None
    return options.project()


def _template(location: object) -> bool:
    """A ``script_location`` with a ``{name}`` placeholder an application fills in before running Alembic
    (Alembic's own interpolation is ``%(here)s``)."""
    return isinstance(location, str) and "{" in location and "}" in location


def script_directory_project(folder: Path) -> Project | None:
    """An Alembic script directory with no configuration file (``env.py`` and ``versions/`` in ``folder``):
    the project of an application that configures Alembic in code, its script location ``folder``; None
    for any other folder."""
    folder = Path(folder).resolve()
    env_py, versions = folder / "env.py", folder / "versions"
    if not env_py.is_file() or not versions.is_dir():
        return None
    return Project(
        root=folder,
        config_file=env_py,
        script_location=folder,
        version_locations=[postgresql_folder(versions)],
        settings=load_settings(folder),
    )


def find_projects(folder: Path) -> list[Project]:
    """Every Alembic project configured in ``folder``: the default one, else one per alembic.ini section
    that has a ``script_location`` (a multi-database layout such as ``[core]`` and ``[tenant]``)."""
    try:
        project = find_project(folder)
    except InputError:
        project = None
    if project is not None:
        return [project]
    ini = Path(folder) / "alembic.ini"
    if not ini.is_file():
        return []
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(ini, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return []
    found = []
    for section in parser.sections():
        if parser.has_option(section, "script_location"):
            try:
                named = find_project(folder, section)
            except InputError:
                continue
            if named is not None:
                found.append(named)
    return found


def load_project(folder, what: str = "", name: str | None = None) -> Project:
    """The Alembic project in ``folder`` (a :class:`Project` already loaded is returned as it is), with its
    settings; :class:`ProjectNotFound` when there is none (an input error prefixed with ``what`` when
    ``folder`` is not a folder)."""
    if isinstance(folder, Project):
        return folder
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{what + ': ' if what else ''}{folder} is not a folder")
    project = find_project(folder, name)
    if project is None:
        raise ProjectNotFound(folder, _template_why(folder))
    return project


def _template_why(folder: Path) -> str:
    """Why a folder whose alembic.ini is a template is no project ("" for any other folder)."""
    ini = folder / "alembic.ini"
    if not ini.is_file():
        return ""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(ini, encoding="utf-8")
        location = parser.get("alembic", "script_location", fallback=None)
    except (configparser.Error, UnicodeDecodeError):
        return ""
    if not _template(location):
        return ""
    found = [str(p.parent) for p in sorted(folder.glob("*/env.py")) if (p.parent / "versions").is_dir()]
    hint = f": pass the folder that holds env.py and versions/ ({found[0]})" if found else ""
    return f"its alembic.ini is a template the application fills in (script_location = {location}){hint}"


def as_project(project, name: str | None = None) -> Project:
    """``project`` itself when it is a :class:`Project` already loaded, else the one in that folder."""
    return project if isinstance(project, Project) else load_project(project, name=name)


def _toml_with_alembic(path: Path) -> tuple[Path | None, dict]:
    """(``path``, its ``[tool.alembic]`` table) when it is a pyproject.toml with one, else (None, {})."""
    if not path.is_file():
        return None, {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    if "alembic" not in text:  # another tool's file (which may not even parse)
        return None, {}
    table = _toml_table(path, text)
    return (path, table) if table is not None else (None, {})


def _toml_table(path: Path, text: str) -> dict | None:
    try:
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {first_line(exc)}") from None
    tool = data.get("tool", {})
    table = tool.get("alembic") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise InputError(f"{path}: [tool.alembic] must be a table")
    return table


_SEPARATORS = {"space": " ", "newline": "\n", "os": os.pathsep, ":": ":", ";": ";"}
_LEGACY_VERSION_SPLIT = re.compile(r", *|(?: +)")  # Alembic's split without a path_separator
_LEGACY_SYS_PATH_SPLIT = re.compile(r", *|(?: +)|\:")


class _Options:
    """The options of one project as ``alembic.config.Config`` reads them (``get_alembic_option``,
    ``get_main_option``, ``get_version_locations_list``, ``get_prepend_sys_paths_list``)."""

    def __init__(
        self, folder: Path, ini: Path | None, toml: Path | None, table: dict, name: str | None
    ) -> None:
        self.folder, self.ini, self.toml = folder, ini, toml
        self.run_from = folder  # where relative paths are taken from (Alembic: the current directory)
        self.section = name or DEFAULT_SECTION
        self.named = name is not None
        self.parser = None
        if ini is not None:
            self.parser = configparser.ConfigParser({"here": ini.resolve().parent.as_posix()})
            try:
                self.parser.read(ini, encoding="utf-8")
            except (configparser.Error, UnicodeDecodeError) as exc:
                raise InputError(f"{ini}: cannot read: {first_line(exc)}") from None
        self.table = table
        self.toml_args = {"here": toml.resolve().parent.as_posix()} if toml is not None else {}

    @property
    def where(self) -> str:
        return f"{self.ini}: [{self.section}]" if self.ini is not None else f"{self.toml}: [tool.alembic]"

    def _ini(self, key: str) -> str | None:
        """The ini's value (``[section]`` and ``[DEFAULT]``, interpolated), None when not there."""
        if self.parser is None or not self.parser.has_option(self.section, key):
            return None

        try:
            return self.parser.get(self.section, key)
        except configparser.Error as exc:
            raise InputError(f"{self.ini}: [{self.section}] {key}: {first_line(exc)}") from None

    def _toml(self, key: str):
        value = self.table.get(key)
        try:
            if isinstance(value, str):
                return value % self.toml_args
            if isinstance(value, list):
                if not all(isinstance(v, str) for v in value):
                    raise InputError(f"{self.toml}: [tool.alembic] {key} must be a string or a list of them")
                return [v % self.toml_args for v in value]
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(f"{self.toml}: [tool.alembic] {key}: bad %-interpolation ({exc})") from None
        return value

    def alembic_option(self, key: str):
        value = self._ini(key)
        return value if value is not None else self._toml(key)

    def boolean(self, key: str) -> bool:
        value = self._ini(key)
        if value is not None:
            return value == "true"
        value = self.table.get(key, False)
        if not isinstance(value, bool):
            raise InputError(f"{self.toml}: [tool.alembic] {key} must be true or false")
        return value

    def separator(self, *keys: str) -> str | None:
        for key in keys:
            value = self._ini(key)
            if value is not None:
                if value not in _SEPARATORS:
                    raise InputError(
                        f"{self.ini}: [{self.section}] {key} = {value!r} is not one of space, newline, "
                        "os, ':', ';' (as Alembic reads it)"
                    )
                return _SEPARATORS[value]
        return None

    def path_list(self, key: str, separators: tuple[str, ...], legacy: re.Pattern) -> list[str] | None:
        value = self._ini(key)
        if value:
            sep = self.separator(*separators)
            parts = legacy.split(value) if sep is None else value.split(sep)
            return [p.strip() for p in parts if p.strip()]
        value = self._toml(key)
        if isinstance(value, str):
            raise InputError(f"{self.toml}: [tool.alembic] {key} must be a list of paths")
        return value

    def project(self) -> Project:
        location = self.alembic_option("script_location")
        config = self.ini or self.toml
        if location is not None and not isinstance(location, str):
            raise InputError(f"{self.where} script_location must be a string")
        if location:
            self.run_from = run_folder(self.folder, location)
        prepend = [
            self._path(p)
            for p in self.path_list("prepend_sys_path", ("path_separator",), _LEGACY_SYS_PATH_SPLIT) or []
        ]
        if location:
            script = self._location(location, prepend, "script_location")
            if not script.is_dir():
                raise InputError(f"{config}: script_location {location!r} is not a folder ({script})")
        elif self._flask_migrate():
            script = self.ini.resolve().parent  # Flask-Migrate: the ini beside env.py (flask db)
        else:
            raise InputError(self._no_script_location())
        versions = self.path_list(
            "version_locations", ("path_separator", "version_path_separator"), _LEGACY_VERSION_SPLIT
        )
        configured = [self._location(v, prepend, "version_locations") for v in versions or []]
        folders = configured or [script / "versions"]
        recursive = self.boolean("recursive_version_locations")
        if not recursive:
            dialect = [postgresql_folder(f) for f in folders]
            if dialect != folders:  # env.py picks the dialect's folder at run time: PostgreSQL's
                folders = configured = dialect
        return Project(
            root=self.folder,
            config_file=config,
            script_location=script,
            version_locations=[f for f in folders if f.is_dir()],
            # a named section's project lints its own section (and reads its start_after)
            settings=load_settings(self.folder).replace(alembic_section=self.section if self.named else None),
            name=self.section,
            ini_file=self.ini,
            toml_file=self.toml,
            recursive=recursive,
            prepend_sys_path=prepend,
            configured_version_locations=configured or None,
        )

    def _flask_migrate(self) -> bool:
        """Flask-Migrate's layout: an ini beside env.py with no script_location (``flask db`` sets it to
        the ini's folder)."""
        if self.ini is None or not (self.ini.parent / "env.py").is_file():
            return False
        return not self.named or self.parser.has_section(self.section)

    def _no_script_location(self) -> str:
        if self.parser is None:
            return f"{self.toml}: [tool.alembic] has no script_location"
        named = [s for s in self.parser.sections() if self.parser.has_option(s, "script_location")]
        if self.named and not self.parser.has_section(self.section):
            found = f"; sections with a script_location: {', '.join(named)}" if named else ""
            return f"{self.ini}: no [{self.section}] section (--name){found}"
        hint = ""
        if named and self.section not in named:
            hint = f"; give --name with one of the sections that have one: {', '.join(named)}"
        return f"{self.ini}: [{self.section}] has no script_location{hint}"

    def _path(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.run_from / path).resolve()

    def _location(self, value: str, prepend: list[Path], key: str) -> Path:
        """A path or a package resource (``pkg:path``, ``pkg:sub:path``), as Alembic's
        ``coerce_resource_to_filename`` reads it, run from the project's folder."""
        if os.path.isabs(value) or ":" not in value:
            return self._path(value)
        package, *rest = value.split(":")
        found = package_folder(package, [*prepend, self.folder])
        if found is None:
            raise InputError(
                f"{self.ini or self.toml}: {key} {value!r}: package {package!r} not found (not under "
                f"{self.folder} or a prepend_sys_path folder, not installed)"
            )
        return found.joinpath(*rest).resolve()


def run_folder(folder: Path, location: str) -> Path:
    """Where Alembic is run for a relative ``script_location``: Alembic takes relative paths from the
    current directory, and a configuration kept below the repository's root (``alembic -c
    app/alembic.ini`` run at the root) names its folders from the root. ``folder`` (the configuration's
    folder) when the location is there, else the nearest ancestor that holds it, else ``folder``."""
    path = Path(location).expanduser()
    if path.is_absolute() or ":" in location or (folder / path).is_dir():
        return folder
    for ancestor in folder.resolve().parents:
        if (ancestor / path).is_dir():
            return ancestor
    return folder


_POSTGRESQL_FOLDERS = ("postgresql", "postgres", "pg")


def postgresql_folder(folder: Path) -> Path:
    """A versions folder with no revision of its own and one subfolder of revisions per database
    (``versions/postgresql``, ``versions/sqlite``): the history PostgreSQL runs is the PostgreSQL one,
    whose folder the project's env.py sets as the version location at run time
    (``context.script.version_locations = [...]``). Any other folder is returned as it is."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return folder
    if any(e.name.endswith(".py") and e.name != "__init__.py" and e.is_file() for e in entries):
        return folder
    for entry in entries:
        if entry.name.lower() in _POSTGRESQL_FOLDERS and entry.is_dir():
            with contextlib.suppress(OSError):
                if any(name.endswith(".py") for name in os.listdir(entry.path)):
                    return Path(entry.path)
    return folder


def package_folder(package: str, search: list[Path]) -> Path | None:
    """The folder of ``package`` (dotted names too), found without importing it: under a folder of
    ``search`` (the prepend_sys_path entries, then the project's folder), the first of them or one of its
    ancestors named like the package (a config file inside its package), else where
    :func:`importlib.util.find_spec` of the top package (which imports nothing) says."""
    parts = package.split(".")
    if not all(p.isidentifier() for p in parts):
        return None
    relative = Path(*parts)
    for base in search:
        if (base / relative).is_dir():
            return base / relative
    start = search[-1]
    for folder in (start, *start.parents):
        if folder.parts[-len(parts) :] == tuple(parts):
            return folder
    if (start / "src" / relative).is_dir():
        return start / "src" / relative

    try:
        spec = importlib.util.find_spec(parts[0])
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        candidate = Path(location, *parts[1:])
        if candidate.is_dir():
            return candidate
    return None


def alembic_config(project: Project):
    """Alembic's ``Config`` of the project: its ini file and pyproject.toml, its section, with the paths
    this module resolved set in it (so Alembic finds the same folders from any working directory, and
    imports no package to find a ``pkg:path`` location)."""
    try:
        from alembic.config import Config
    except ImportError:
        raise InputError("this command needs Alembic (pip install alembic)") from None
    ini = str(project.ini_file.resolve()) if project.ini_file is not None else None
    toml = str(project.toml_file.resolve()) if project.toml_file is not None else None
    if ini is None and toml is None and project.config_file.name != "env.py":  # a Project built by hand
        config_file = project.config_file.resolve()
        ini, toml = (None, str(config_file)) if config_file.suffix == ".toml" else (str(config_file), None)
    config = Config(ini, toml_file=toml, ini_section=project.name)  # neither: configured in code
    if not config.file_config.has_section(project.name):
        config.file_config.add_section(project.name)

    def put(key: str, value: str) -> None:
        config.set_section_option(project.name, key, value.replace("%", "%%"))

    put("script_location", str(project.script_location))
    if project.configured_version_locations or project.prepend_sys_path:
        put("path_separator", "os")
        if project.configured_version_locations:
            put("version_locations", os.pathsep.join(map(str, project.configured_version_locations)))
        if project.prepend_sys_path:
            put("prepend_sys_path", os.pathsep.join(map(str, project.prepend_sys_path)))
    return config


def load_script(project: Project, config=None):
    """Alembic's ``ScriptDirectory`` of the project with every revision file imported (from the project's
    folder, as Alembic's command line does); errors are input errors naming the revision file and the
    error (an ImportError, a missing down revision). ``config``: the project's :func:`alembic_config`,
    when the caller has it."""
    config = alembic_config(project) if config is None else config

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
            raise InputError(
                f"{where}: cannot load the revisions: {load_error(project, exc, warned)}"
            ) from None
    return script


def load_error(project: Project, exc: BaseException, warned=()) -> str:
    """What went wrong importing the revisions: the revision file and line with the exception; else what
    Alembic warned of before failing (a down revision that is not there), deprecation warnings left out."""
    folders = [Path(f).resolve() for f in (*project.version_locations, project.script_location)]

    def ours(filename: str | None) -> bool:
        if not filename:
            return False
        path = Path(filename).resolve()
        return any(path.is_relative_to(f) for f in folders)

    what = f"{type(exc).__name__}: {first_line(exc)}"
    if isinstance(exc, SyntaxError) and ours(exc.filename):
        return f"{exc.filename}:{exc.lineno}: {type(exc).__name__}: {exc.msg}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if ours(f.filename)]
    if frames:
        return f"{frames[-1].filename}:{frames[-1].lineno}: {what}"
    told = [w for w in warned if not issubclass(w.category, DeprecationWarning)]
    return first_line(told[0].message) if told else what
