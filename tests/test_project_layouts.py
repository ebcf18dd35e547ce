"""Alembic projects laid out as real ones are, each found as `alembic` (or `flask db`) run from the config
file's folder finds it, from another working directory: heads (read statically), lint and verify (on the
session's embedded server) through the command line.

Layouts: alembic.ini beside pyproject.toml's [tool.alembic]; [tool.alembic] alone; Flask-Migrate (the ini
beside env.py, no script_location); named sections with [DEFAULT]; script_location as a package resource
(pkg:path, pkg:sub:path), the package importable or not; several version locations with each separator;
recursive version locations; prepend_sys_path without path_separator."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from dbpatterns.alembic.project import find_project, load_project
from dbpatterns.cli import main
from dbpatterns.errors import InputError
from tests.alembic_builder import REVISION, SYNC_ENV

ENV = SYNC_ENV.replace("TARGET", "None")
# a package whose import fails: locating a pkg:path location must not import it
EXPLODING_INIT = "raise RuntimeError('the application package was imported')\n"


def revision(folder: Path, rev: str, parent, table: str, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    up = f"op.execute('CREATE TABLE {table} (id int)')"
    down = f"op.execute('DROP TABLE {table}')"
    text = REVISION.format(rev=rev, parent=parent, up="    " + up, down="    " + down)
    path = folder / f"{rev}_{table}.py"
    path.write_text(extra + text)
    return path


def script_folder(folder: Path, env: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if env:
        (folder / "env.py").write_text(ENV)
    return folder


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


LOGGING = """
[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """Commands run from a folder that is not the project's."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def heads(root: Path, capsys, *name: str) -> dict:
    args = ["--name", name[0]] if name else []
    code = main(["heads", "--project", str(root), "--format", "json", *args])
    out = capsys.readouterr()
    assert code in (0, 1), out.err
    return json.loads(out.out)


def head_ids(root: Path, capsys, *name: str) -> list[str]:
    return [h["revision"] for h in heads(root, capsys, *name)["heads"]]


def linted(root: Path, capsys, *name: str) -> set[str]:
    """The file names the lint of the project's folder reports (every revision has a finding: CREATE TABLE
    without IF NOT EXISTS... any finding will do; the opt-in opaque-operation rule is not needed)."""
    args = ["--name", name[0]] if name else []
    code = main(["lint", str(root), "--format", "json", "--select", "ALL", *args])
    out = capsys.readouterr()
    assert code in (0, 1), out.err
    return {Path(f["path"]).name for f in json.loads(out.out)["findings"]}


def verified(root: Path, pg_server, capsys, *name: str) -> dict:
    args = ["--name", name[0]] if name else []
    code = main(["verify", "--project", str(root), "--db", pg_server.url(), "--format", "json", *args])
    out = capsys.readouterr()
    data = json.loads(out.out)
    assert code == 0, (out.err, data)
    return data


# -- alembic.ini + pyproject.toml ([tool.alembic]), and pyproject.toml alone ----------------------------


def test_ini_for_the_url_and_pyproject_for_the_rest(tmp_path, elsewhere, pg_server, capsys):
    """What `alembic init --template pyproject` writes: the ini holds the URL and logging only."""
    root = tmp_path / "proj"
    write(root / "alembic.ini", "[alembic]\nsqlalchemy.url = postgresql://nowhere/db\n" + LOGGING)
    write(root / "pyproject.toml", '[tool.alembic]\nscript_location = "%(here)s/alembic"\n')
    script_folder(root / "alembic")
    r1 = revision(root / "alembic" / "versions", "a1", None, "t_a1")
    revision(root / "alembic" / "versions", "a2", "a1", "t_a2")
    project = load_project(root)
    assert project.ini_file == root / "alembic.ini" and project.toml_file == root / "pyproject.toml"
    assert project.script_location == (root / "alembic").resolve()
    assert head_ids(root, capsys) == ["a2"]
    assert {r1.name, "a2_t_a2.py"} <= linted(root, capsys)
    assert verified(root, pg_server, capsys)["ok"] is True


def test_pyproject_alone_with_relative_paths(tmp_path, elsewhere, pg_server, capsys):
    root = tmp_path / "proj"
    write(
        root / "pyproject.toml",
        """
        [tool.alembic]
        script_location = "db"
        version_locations = ["db/versions", "db/more"]
        """,
    )
    script_folder(root / "db")
    revision(root / "db" / "versions", "p1", None, "t_p1")
    revision(root / "db" / "more", "p2", "p1", "t_p2")
    assert head_ids(root, capsys) == ["p2"]
    assert {"p1_t_p1.py", "p2_t_p2.py"} <= linted(root, capsys)
    assert verified(root, pg_server, capsys)["ok"] is True


def test_an_ini_option_wins_over_the_toml_one(tmp_path):
    root = tmp_path / "proj"
    write(root / "alembic.ini", "[alembic]\nscript_location = from_ini\n")
    write(root / "pyproject.toml", '[tool.alembic]\nscript_location = "from_toml"\n')
    script_folder(root / "from_ini")
    script_folder(root / "from_toml")
    assert find_project(root).script_location == (root / "from_ini").resolve()


# -- Flask-Migrate ---------------------------------------------------------------------------------------


def test_flask_migrate_layout(tmp_path, elsewhere, pg_server, capsys):
    """`flask db init` writes alembic.ini beside env.py with no script_location; `flask db` sets it to the
    ini's folder."""
    root = script_folder(tmp_path / "app" / "migrations")
    write(root / "alembic.ini", "[alembic]\n# template used to generate migration files\n" + LOGGING)
    revision(root / "versions", "f1", None, "t_f1")
    revision(root / "versions", "f2", "f1", "t_f2")
    assert find_project(root).script_location == root.resolve()
    assert head_ids(root, capsys) == ["f2"]
    assert {"f1_t_f1.py", "f2_t_f2.py"} <= linted(root, capsys)
    assert verified(root, pg_server, capsys)["ok"] is True


def test_a_script_directory_with_alembic_configured_in_code(tmp_path, elsewhere, pg_server, capsys):
    """No alembic.ini and no [tool.alembic]: the application builds Alembic's Config in code (warehouse,
    aiida). The folder holding env.py and versions/ is the project, its script location."""
    root = script_folder(tmp_path / "app" / "migrations")
    revision(root / "versions", "c1", None, "t_c1")
    revision(root / "versions", "c2", "c1", "t_c2")
    project = find_project(root)
    assert project.script_location == root.resolve() and project.config_file == root.resolve() / "env.py"
    assert find_project(tmp_path / "app") is None  # a folder that is not a script directory
    assert head_ids(root, capsys) == ["c2"]
    assert {"c1_t_c1.py", "c2_t_c2.py"} <= linted(root, capsys)
    assert verified(root, pg_server, capsys)["ok"] is True


def test_an_alembic_ini_the_application_fills_in_is_no_configuration(tmp_path, elsewhere, capsys):
    """jupyterhub ships alembic.ini as a template (``script_location = {alembic_dir}``) it writes out at
    run time: the lint reads the folder as it is (its script directory below), and ``--project`` on it says
    what to pass instead of "no alembic.ini"."""
    app = tmp_path / "hub"
    write(app / "alembic.ini", "[alembic]\nscript_location = {alembic_dir}\nsqlalchemy.url = {db_url}\n")
    root = script_folder(app / "alembic")
    revision(root / "versions", "h1", None, "t_h1")
    revision(root / "versions", "h2", "h1", "t_h2")
    assert find_project(app) is None
    assert {"h1_t_h1.py", "h2_t_h2.py"} <= linted(app, capsys)
    assert head_ids(root, capsys) == ["h2"]
    assert main(["heads", "--project", str(app)]) == 2
    err = capsys.readouterr().err
    assert "alembic.ini is a template the application fills in (script_location = {alembic_dir})" in err
    assert f"pass the folder that holds env.py and versions/ ({root.resolve()})" in err


_TYPE_CHANGE = "    op.alter_column('t', 'n', type_=sa.BigInteger())"


def _one_revision_types(path: Path, capsys) -> list[tuple[str, bool]]:
    main(["lint", str(path), "--format", "json", "--select", "change-column-type"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    return [(f["message"].split(" takes")[0], "may rewrite" in f["message"]) for f in findings]


def test_a_revision_of_a_script_directory_knows_its_ancestors(tmp_path, elsewhere, capsys):
    root = script_folder(tmp_path / "migrations")
    write(root / "versions" / "c1.py", REVISION.format(rev="c1", parent=None, up=_CREATE_T, down="    pass"))
    r2 = write(
        root / "versions" / "c2.py", REVISION.format(rev="c2", parent="c1", up=_TYPE_CHANGE, down="    pass")
    )
    assert _one_revision_types(r2, capsys) == [("ALTER COLUMN n TYPE bigint", False)]  # integer: a rewrite


def test_a_configured_project_wins_over_the_script_directory_it_points_at(tmp_path, elsewhere, capsys):
    """alembic.ini above the script directory names a second version folder: a revision whose parent lives
    there is read with the configured project (its ancestors known), not as the script directory alone."""
    root = tmp_path / "proj"
    write(root / "alembic.ini", "[alembic]\nscript_location = db\nversion_locations = db/versions more\n")
    script_folder(root / "db")
    write(root / "more" / "c1.py", REVISION.format(rev="c1", parent=None, up=_CREATE_T, down="    pass"))
    r2 = write(
        root / "db" / "versions" / "c2.py",
        REVISION.format(rev="c2", parent="c1", up=_TYPE_CHANGE, down="    pass"),
    )
    assert _one_revision_types(r2, capsys) == [("ALTER COLUMN n TYPE bigint", False)]


_CREATE_T = (
    "    op.create_table('t', sa.Column('id', sa.Integer(), primary_key=True), sa.Column('n', sa.Integer()))"
)


def test_an_ini_without_script_location_and_no_env_py_is_refused(tmp_path, capsys):
    write(tmp_path / "alembic.ini", "[alembic]\nsqlalchemy.url = x\n")
    assert main(["heads", "--project", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "[alembic] has no script_location" in err


# -- named sections ---------------------------------------------------------------------------------------


def named_sections(root: Path) -> Path:
    write(
        root / "alembic.ini",
        """
        [DEFAULT]
        base = %(here)s/revisions

        [alembic]
        script_location = nowhere
        version_locations = nowhere/else

        [core]
        script_location = %(base)s/core

        [tenant]
        script_location = %(base)s/tenant
        version_locations = %(script_location)s/versions %(script_location)s/extra
        """,
    )
    script_folder(root / "revisions" / "core")
    script_folder(root / "revisions" / "tenant")
    revision(root / "revisions" / "core" / "versions", "c1", None, "t_c1")
    revision(root / "revisions" / "tenant" / "versions", "t1", None, "t_t1")
    revision(root / "revisions" / "tenant" / "extra", "t2", "t1", "t_t2")
    return root


def test_named_sections_with_default(tmp_path, elsewhere, pg_server, capsys):
    root = named_sections(tmp_path / "proj")
    core, tenant = load_project(root, name="core"), load_project(root, name="tenant")
    # [DEFAULT] is read, [alembic] is not inherited: core's versions are its own
    assert core.name == "core" and core.version_locations == [(root / "revisions/core/versions").resolve()]
    assert [p.name for p in tenant.version_locations] == ["versions", "extra"]
    assert head_ids(root, capsys, "core") == ["c1"]
    assert head_ids(root, capsys, "tenant") == ["t2"]
    assert linted(root, capsys, "tenant") >= {"t1_t_t1.py", "t2_t_t2.py"}
    assert "c1_t_c1.py" not in linted(root, capsys, "tenant")
    assert verified(root, pg_server, capsys, "tenant")["ok"] is True
    assert verified(root, pg_server, capsys, "core")["ok"] is True


def test_an_unknown_section_names_the_sections(tmp_path, elsewhere, capsys):
    root = named_sections(tmp_path / "proj")
    assert main(["heads", "--project", str(root), "--name", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no [nope] section" in err and "alembic, core, tenant" in err


def test_a_section_name_is_asked_for_when_alembic_has_no_location(tmp_path, capsys):
    root = tmp_path / "proj"
    write(root / "alembic.ini", "[alembic]\nfile_template = %%(rev)s\n\n[core]\nscript_location = core\n")
    script_folder(root / "core")
    assert main(["heads", "--project", str(root)]) == 2
    assert "give --name with one of the sections that have one: core" in capsys.readouterr().err


def test_mcp_tools_take_the_section(tmp_path, elsewhere, monkeypatch):
    from tests.test_mcp_server import ok

    root = named_sections(tmp_path / "proj")
    for section, parent in (("core", "c1"), ("tenant", "t2")):  # a plain CREATE INDEX: a default finding
        write(
            root / "revisions" / section / "versions" / f"{section}_index.py",
            f"""
            from alembic import op
            revision = "{section}_index"
            down_revision = "{parent}"
            def upgrade():
                op.create_index("ix_{section}", "t_{parent}", ["id"])
            """,
        )
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(root))
    assert [h.revision for h in ok("auto", "show_heads", {"name": "tenant"}).heads] == ["tenant_index"]
    assert [h.revision for h in ok("auto", "show_heads", {"name": "core"}).heads] == ["core_index"]
    found = ok("auto", "lint_migration", {"path": ".", "name": "core"}).findings
    assert {Path(f.path).name for f in found} == {"core_index.py"}


# -- script_location as a package resource --------------------------------------------------------------


def test_package_location_inside_the_package_not_importable(tmp_path, elsewhere, pg_server, capsys):
    """The ini inside its package (src/app/alembic.ini, script_location = app:db/migrations); the package
    is not installed and importing it would fail."""
    package = tmp_path / "repo" / "src" / "app"
    write(package / "__init__.py", EXPLODING_INIT)
    write(package / "alembic.ini", "[alembic]\nscript_location = app:db/migrations\n")
    script_folder(package / "db" / "migrations")
    revision(package / "db" / "migrations" / "versions", "k1", None, "t_k1")
    assert find_project(package).script_location == (package / "db" / "migrations").resolve()
    assert "app" not in sys.modules
    assert head_ids(package, capsys) == ["k1"]
    assert "k1_t_k1.py" in linted(package, capsys)
    assert verified(package, pg_server, capsys)["ok"] is True


def test_package_sub_path_beside_the_ini(tmp_path, elsewhere, capsys):
    """pkg:sub:path: Alembic joins every part after the package."""
    root = tmp_path / "repo"
    write(root / "app" / "__init__.py", EXPLODING_INIT)
    write(root / "alembic.ini", "[alembic]\nscript_location = app:db:migrations\n")
    script_folder(root / "app" / "db" / "migrations")
    revision(root / "app" / "db" / "migrations" / "versions", "s1", None, "t_s1")
    assert find_project(root).script_location == (root / "app" / "db" / "migrations").resolve()
    assert head_ids(root, capsys) == ["s1"]
    assert "s1_t_s1.py" in linted(root, capsys)


def test_a_config_below_the_root_names_its_folders_from_the_root(tmp_path, elsewhere, capsys):
    """alembic -c app/alembic.ini run at the repository's root: Alembic takes the relative script_location
    and prepend_sys_path from the current directory, the root, not the ini's folder."""
    root = tmp_path / "repo"
    write(
        root / "app" / "alembic.ini", "[alembic]\nscript_location = app/db/migrations\nprepend_sys_path = .\n"
    )
    script_folder(root / "app" / "db" / "migrations")
    revision(root / "app" / "db" / "migrations" / "versions", "b1", None, "t_b1")
    project = find_project(root / "app")
    assert project.script_location == (root / "app" / "db" / "migrations").resolve()
    assert project.prepend_sys_path == [root.resolve()]
    assert head_ids(root / "app", capsys) == ["b1"]
    assert "b1_t_b1.py" in linted(root / "app", capsys)


def test_package_location_of_an_importable_package(tmp_path, elsewhere, monkeypatch, pg_server, capsys):
    """The package installed elsewhere (on sys.path): found with find_spec, which does not import it."""
    site = tmp_path / "site"
    write(site / "installed_app_k2" / "__init__.py", EXPLODING_INIT)
    script_folder(site / "installed_app_k2" / "migrations")
    revision(site / "installed_app_k2" / "migrations" / "versions", "i1", None, "t_i1")
    monkeypatch.syspath_prepend(str(site))
    root = tmp_path / "deploy"
    write(root / "alembic.ini", "[alembic]\nscript_location = installed_app_k2:migrations\n")
    assert find_project(root).script_location == (site / "installed_app_k2" / "migrations").resolve()
    assert "installed_app_k2" not in sys.modules
    assert head_ids(root, capsys) == ["i1"]
    assert verified(root, pg_server, capsys)["ok"] is True
    assert "installed_app_k2" not in sys.modules


def test_package_under_a_prepend_sys_path_entry(tmp_path, elsewhere, capsys):
    root = tmp_path / "repo"
    write(root / "alembic.ini", "[alembic]\nscript_location = app:migrations\nprepend_sys_path = src\n")
    write(root / "src" / "app" / "__init__.py", EXPLODING_INIT)
    script_folder(root / "src" / "app" / "migrations")
    revision(root / "src" / "app" / "migrations" / "versions", "q1", None, "t_q1")
    assert head_ids(root, capsys) == ["q1"]


def test_a_package_that_is_nowhere_is_named(tmp_path, elsewhere, capsys):
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = no_such_app_k3:migrations\n")
    assert main(["heads", "--project", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "package 'no_such_app_k3' not found" in err


# -- several version locations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "joiner"),
    [
        ("path_separator = os", os.pathsep),
        ("path_separator = ;", ";"),
        ("path_separator = :", ":"),
        ("path_separator = space", " "),
        ("path_separator = newline", "\n    "),
        ("version_path_separator = ;", ";"),  # the older option: version_locations only
        ("", ", "),  # no separator: Alembic's legacy split on spaces and commas
    ],
)
def test_several_version_locations(tmp_path, elsewhere, capsys, option, joiner):
    root = tmp_path / "proj"
    locations = joiner.join(["%(here)s/db/one", "%(here)s/db/two"])
    write(
        root / "alembic.ini", f"[alembic]\nscript_location = db\n{option}\nversion_locations = {locations}\n"
    )
    script_folder(root / "db")
    revision(root / "db" / "one", "v1", None, "t_v1")
    revision(root / "db" / "two", "v2", "v1", "t_v2")
    project = find_project(root)
    assert project.version_locations == [(root / "db" / "one").resolve(), (root / "db" / "two").resolve()]
    assert heads(root, capsys)["revisions"] == 2 and head_ids(root, capsys) == ["v2"]
    assert {"v1_t_v1.py", "v2_t_v2.py"} <= linted(root, capsys)


def test_version_path_separator_does_not_split_prepend_sys_path(tmp_path):
    """As in Alembic: prepend_sys_path looks at path_separator only (else spaces, commas and colons)."""
    root = tmp_path / "proj"
    write(
        root / "alembic.ini",
        "[alembic]\nscript_location = db\nversion_path_separator = ;\nprepend_sys_path = a;b\n",
    )
    script_folder(root / "db")
    assert [p.name for p in find_project(root).prepend_sys_path] == ["a;b"]


def test_a_bad_separator_is_named(tmp_path, capsys):
    root = tmp_path / "proj"
    write(
        root / "alembic.ini",
        "[alembic]\nscript_location = db\npath_separator = os # a comment\nversion_locations = db/v\n",
    )
    script_folder(root / "db")
    assert main(["heads", "--project", str(root)]) == 2
    assert "path_separator = 'os # a comment' is not one of" in capsys.readouterr().err


def test_several_version_locations_verify(tmp_path, elsewhere, pg_server, capsys):
    root = tmp_path / "proj"
    write(
        root / "alembic.ini",
        "[alembic]\nscript_location = db\npath_separator = os\n"
        f"version_locations = db/one{os.pathsep}db/two\n",
    )
    script_folder(root / "db")
    revision(root / "db" / "one", "w1", None, "t_w1")
    revision(root / "db" / "two", "w2", "w1", "t_w2")
    assert verified(root, pg_server, capsys)["ok"] is True


# -- recursive version locations -------------------------------------------------------------------------


@pytest.mark.parametrize("recursive", [True, False])
def test_recursive_version_locations(tmp_path, elsewhere, pg_server, capsys, recursive):
    root = tmp_path / "proj"
    flag = "recursive_version_locations = true\n" if recursive else ""
    write(root / "alembic.ini", f"[alembic]\nscript_location = db\n{flag}")
    script_folder(root / "db")
    revision(root / "db" / "versions", "e1", None, "t_e1")
    revision(root / "db" / "versions" / "2025", "e2", "e1", "t_e2")
    revision(root / "db" / "versions" / "2025" / "june", "e3", "e2", "t_e3")
    assert find_project(root).recursive is recursive
    # as Alembic: without the option, the subfolders are not read
    assert head_ids(root, capsys) == (["e3"] if recursive else ["e1"])
    if recursive:
        data = verified(root, pg_server, capsys)
        assert data["checks"][0]["detail"].startswith("3 revisions")


# -- one history per database, chosen by env.py -----------------------------------------------------------


def test_one_versions_folder_per_database_reads_the_postgresql_one(tmp_path, elsewhere, capsys):
    """versions/ holds no revision itself, one subfolder per database: env.py sets the dialect's folder as
    the version location at run time, so PostgreSQL runs the postgresql/ history and never the other."""
    root = tmp_path / "proj"
    write(root / "alembic.ini", "[alembic]\nscript_location = db\n")
    script_folder(root / "db")
    revision(root / "db" / "versions" / "postgresql", "p1", None, "t_p1")
    revision(root / "db" / "versions" / "postgresql", "p2", "p1", "t_p2")
    lite = root / "db" / "versions" / "sqlite"
    lite.mkdir(parents=True)
    pragma = "    op.execute('PRAGMA foreign_keys=OFF')"  # SQLite's, not PostgreSQL's
    text = REVISION.format(rev="s1", parent=None, up=pragma, down="    pass")
    (lite / "s1_pragma.py").write_text(text)
    project = find_project(root)
    assert project.version_locations == [root / "db" / "versions" / "postgresql"]
    assert head_ids(root, capsys) == ["p2"]
    names = linted(root, capsys)
    assert {"p1_t_p1.py", "p2_t_p2.py"} <= names and "s1_pragma.py" not in names


def test_a_versions_folder_with_revisions_of_its_own_keeps_its_subfolders_as_alembic_does(
    tmp_path, elsewhere, capsys
):
    root = tmp_path / "proj"
    write(root / "alembic.ini", "[alembic]\nscript_location = db\n")
    script_folder(root / "db")
    revision(root / "db" / "versions", "v1", None, "t_v1")
    revision(root / "db" / "versions" / "postgresql", "v2", "v1", "t_v2")
    assert find_project(root).version_locations == [root / "db" / "versions"]
    assert head_ids(root, capsys) == ["v1"]  # not recursive: the subfolder is not read


# -- prepend_sys_path ------------------------------------------------------------------------------------


def prepend_project(root: Path, module: str) -> Path:
    write(root / "alembic.ini", "[alembic]\nscript_location = migrations\nprepend_sys_path = . lib\n")
    write(root / "lib" / "helpers_k4.py", "TABLE = 't_h1'\n")
    script_folder(root / "migrations")
    extra = f"from {module} import TABLE  # noqa\n"
    return revision(root / "migrations" / "versions", "h1", None, "t_h1", extra=extra)


def test_prepend_sys_path_without_path_separator(tmp_path, elsewhere, pg_server, capsys):
    """`prepend_sys_path = . lib` (no path_separator): Alembic's legacy split; the helper module under lib/
    is importable from any working directory."""
    root = tmp_path / "proj"
    prepend_project(root, "helpers_k4")
    assert find_project(root).prepend_sys_path == [root.resolve(), (root / "lib").resolve()]
    assert head_ids(root, capsys) == ["h1"]
    assert verified(root, pg_server, capsys)["ok"] is True


def test_a_missing_module_names_the_import_error_and_the_file(tmp_path, elsewhere, pg_server, capsys):
    """heads reads the ids without importing; verify imports the revisions and fails: the error names the
    ImportError and the revision file, not Alembic's deprecation warning about path_separator."""
    root = tmp_path / "proj"
    path = prepend_project(root, "no_such_module_k5")
    assert head_ids(root, capsys) == ["h1"]
    code = main(["verify", "--project", str(root), "--db", pg_server.url()])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert f"{path}:1: ModuleNotFoundError: No module named 'no_such_module_k5'" in err
    assert "path_separator" not in err


# -- statically: nothing imported --------------------------------------------------------------------------


def test_heads_imports_no_revision_unless_its_ids_are_computed(tmp_path, elsewhere, capsys):
    root = tmp_path / "proj"
    write(root / "alembic.ini", "[alembic]\nscript_location = db\n")
    script_folder(root / "db")
    revision(root / "db" / "versions", "n1", None, "t_n1", extra="import no_such_app_k6  # noqa\n")
    computed = root / "db" / "versions" / "n2.py"
    computed.write_text("PARENT = 'n1'\nrevision = 'n' + '2'\ndown_revision = PARENT\n")
    data = heads(root, capsys)
    assert [h["revision"] for h in data["heads"]] == ["n2"] and data["revisions"] == 2
    assert data["heads"][0]["down_revision"] == ["n1"] and data["heads"][0]["path"] == "db/versions/n2.py"


def test_a_computed_revision_that_does_not_import_is_named(tmp_path, elsewhere, capsys):
    root = tmp_path / "proj"
    write(root / "alembic.ini", "[alembic]\nscript_location = db\n")
    script_folder(root / "db")
    computed = root / "db" / "versions" / "n2.py"
    computed.parent.mkdir(parents=True)
    computed.write_text("import no_such_app_k7\nrevision = 'n' + '2'\ndown_revision = None\n")
    assert main(["heads", "--project", str(root)]) == 2
    err = capsys.readouterr().err
    assert f"{computed}:1: ModuleNotFoundError: No module named 'no_such_app_k7'" in err


def test_finding_a_project_does_not_import_alembic(tmp_path):
    """The plain lint of a folder must start fast: find_project needs no Alembic."""
    import subprocess

    root = named_sections(tmp_path / "proj")
    code = (
        "import sys; from dbpatterns.alembic.project import find_project; "
        f"p = find_project({str(root)!r}, 'tenant'); "
        "assert len(p.version_locations) == 2; assert 'alembic' not in sys.modules, 'alembic imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_project_error_is_an_input_error(tmp_path):
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = db\nrecursive_version_locations = true\n")
    with pytest.raises(InputError, match="is not a folder"):
        find_project(tmp_path)


def test_new_and_sum_take_the_section(tmp_path, elsewhere, capsys):
    root = named_sections(tmp_path / "proj")
    args = ["add-index", "--table", "t_t2", "--column", "id", "--print", "--format", "json"]
    assert main(["new", *args, "--project", str(root), "--section", "tenant"]) == 0
    assert json.loads(capsys.readouterr().out)["down_revision"] in ("t2", ["t2"])
    assert main(["new", *args, "--project", str(root), "--section", "core"]) == 0
    assert json.loads(capsys.readouterr().out)["down_revision"] in ("c1", ["c1"])
    assert main(["sum", "--project", str(root), "-n", "tenant"]) == 0
    written = (root / "revisions" / "tenant" / "dbpatterns.sum").read_text()
    assert "versions/t1_t_t1.py" in written and "extra/t2_t_t2.py" in written and "t_c1" not in written
    assert main(["sum", "--check", "--project", str(root), "--name", "tenant"]) == 0
    assert main(["sum", "--check", "--project", str(root), "--name", "core"]) == 0  # no sum file there yet
    assert "no sum file" in capsys.readouterr().out
