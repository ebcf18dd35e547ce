"""drift replays the migration history as a role made for the run (as trace and verify do), on its own
embedded server: a revision that needs a superuser (``COPY ... FROM PROGRAM``, ``ALTER SYSTEM``) is refused
with one line naming the privilege and the opt-in (exit 2), and leaves no trace of having run; a history
that names its extensions literally still replays. With a server named by URL (DBPATTERNS_SERVER_URL) the
URL's role is used as given, and the report says so. PostgreSQL 15+ wording for ALTER SYSTEM (the
embedded server is 18)."""

from __future__ import annotations

import json

import pytest

from dbpatterns.cli import main
from tests.alembic_builder import alembic_config, linear, write_project

TABLE = ('op.execute("CREATE TABLE t (id int PRIMARY KEY, note text)")', 'op.execute("DROP TABLE t")')


def _migrated(root, url) -> None:
    from alembic import command

    command.upgrade(alembic_config(root, url), "heads")


def _drift(root, url, *extra) -> list[str]:
    return ["drift", "--project", str(root), "--db", url, "--no-cache", *extra]


@pytest.mark.parametrize(
    ("attack", "names"),
    [
        ("COPY t (note) FROM PROGRAM 'touch {ran}'", "pg_execute_server_program"),
        ("ALTER SYSTEM SET work_mem = '64MB'", 'permission denied to set parameter "work_mem"'),
    ],
    ids=["copy_from_program", "alter_system"],
)
def test_a_revision_that_needs_a_superuser_is_refused(tmp_path, pg_url, capsys, attack, names):
    ran = tmp_path / "program-ran"
    sql = attack.format(ran=ran)
    # ALTER SYSTEM cannot run in a transaction block: outside one, it meets the privilege check
    up = f"with op.get_context().autocommit_block():\n    op.execute({sql!r})"
    root = write_project(tmp_path / "p", linear(TABLE, (up, "pass")))
    live = write_project(tmp_path / "live", linear(TABLE))  # the target: migrated to r1 only
    _migrated(live, pg_url)
    for extra in ([], ["--format", "json"]):
        assert main(_drift(root, pg_url, *extra)) == 2
        captured = capsys.readouterr()
        err = captured.err.strip()
        assert "\n" not in err and "Traceback" not in err, err
        assert err.startswith("dbpatterns: the history does not apply on a scratch database: upgrade of r2")
        assert names in err and "--superuser" in err and "not a superuser" in err
        if extra:
            assert json.loads(captured.out)["error"]["message"] in err
    assert not ran.exists()


def test_the_superuser_opt_in_runs_it(tmp_path, pg_url, capsys):
    up = "op.execute(\"COPY t (id) FROM PROGRAM 'echo 1'\")"
    root = write_project(tmp_path / "p", linear(TABLE, (up, 'op.execute("DELETE FROM t")')))
    _migrated(root, pg_url)
    assert main(_drift(root, pg_url, "--superuser", "--format", "json")) == 0, capsys.readouterr()
    data = json.loads(capsys.readouterr().out)
    assert data["in_sync"] is True and data["run_as"] == {"mode": "superuser", "role": "postgres"}


def test_a_history_with_extensions_replays_as_the_role(tmp_path, pg_server, pg_url, capsys):
    with pg_server.connect(autocommit=True) as conn:  # vector needs the superuser, citext does not
        trusted = dict(
            conn.execute(
                "SELECT name, bool_or(trusted) FROM pg_available_extension_versions"
                " WHERE name IN ('vector', 'citext', 'btree_gist') GROUP BY name"
            ).fetchall()
        )
    assert trusted == {"vector": False, "citext": True, "btree_gist": True}
    extensions = (
        'op.execute("CREATE EXTENSION IF NOT EXISTS citext")\n'
        'op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")\n'
        'op.execute("CREATE EXTENSION IF NOT EXISTS vector")\n'
        'op.execute("CREATE TABLE e (id int, email citext, v vector(3), during tstzrange,'
        ' EXCLUDE USING gist (id WITH =, during WITH &&))")',
        'op.execute("DROP TABLE e")',
    )
    root = write_project(tmp_path / "p", linear(TABLE, extensions))
    _migrated(root, pg_url)
    assert main(_drift(root, pg_url, "--format", "json")) == 0, capsys.readouterr().err
    data = json.loads(capsys.readouterr().out)
    assert data["in_sync"] is True, data["differences"]
    assert data["run_as"]["mode"] == "restricted" and data["run_as"]["role"].startswith("dbpatterns_run_")
    assert main(_drift(root, pg_url)) == 0
    assert "a role made for this run that owns only the scratch database" in capsys.readouterr().out


def test_a_server_named_by_url_is_used_with_its_role_as_given(
    tmp_path, pg_server, pg_url, capsys, monkeypatch
):
    # the session server's socket written another way: not recognised as one of this process's servers
    url = pg_server.url().replace(f"host={pg_server.socket_dir}", f"host={pg_server.socket_dir}/")
    monkeypatch.setenv("DBPATTERNS_SERVER_URL", url)
    up = "op.execute(\"COPY t (id) FROM PROGRAM 'echo 1'\")"  # the user's superuser may
    root = write_project(tmp_path / "p", linear(TABLE, (up, 'op.execute("DELETE FROM t")')))
    _migrated(root, pg_url)
    assert main(_drift(root, pg_url, "--format", "json")) == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["run_as"] == {"mode": "given", "role": "postgres"}
    assert main(_drift(root, pg_url)) == 0
    assert "ran as postgres, the role of the server URL given" in capsys.readouterr().out
    with pg_server.connect(autocommit=True) as conn:  # its scratch database is dropped
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'dbpatterns%'").fetchall()
    assert left == []


def test_a_cached_history_says_nothing_about_a_role(tmp_path, pg_url, capsys):
    root = write_project(tmp_path / "p", linear(TABLE))
    _migrated(root, pg_url)
    base = ["drift", "--project", str(root), "--db", pg_url, "--format", "json"]
    assert main(base) == 0
    assert json.loads(capsys.readouterr().out)["run_as"]["mode"] == "restricted"
    assert main(base) == 0  # from the cache: the history did not run
    assert "run_as" not in json.loads(capsys.readouterr().out)
