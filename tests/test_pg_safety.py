"""Hostile SQL cannot hurt: trace and verify run users' SQL as a role made for the run (real PostgreSQL).

Each attack runs through the library (on the session server, which must stay usable afterwards: the MCP
server reuses its server the same way) and through the command line (its own embedded server). The
server's own messages are checked for what they name (PostgreSQL 16+ wording for roles, 15+ for
ALTER SYSTEM's parameter privilege; the embedded server is 18).
"""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from dbpatterns.cli import main
from dbpatterns.errors import InputError
from dbpatterns.pg.sandbox import ROLE_PREFIX, reap_dead_runs, sandbox
from dbpatterns.trace import trace_sql
from dbpatterns.verify import verify_project
from tests.alembic_builder import linear, write_project


def _attacks(tmp_path: Path) -> list[tuple[str, str, str, Path | None]]:
    """(id, SQL, what the error must name, a file the attack must not create)."""
    ran, written = tmp_path / "program-ran", tmp_path / "copied-out"
    return [
        ("pg_read_file", "SELECT CAST(pg_read_file('/etc/passwd') AS int)", "function pg_read_file", None),
        (
            "copy_from_program",
            f"CREATE TABLE x (a text);\nCOPY x FROM PROGRAM 'touch {ran}'",
            "pg_execute_server_program",
            ran,
        ),
        ("copy_to_file", f"COPY (SELECT 1) TO '{written}'", "pg_write_server_files", written),
        (
            "alter_system",
            "ALTER SYSTEM SET work_mem = '64MB'",
            'permission denied to set parameter "work_mem"',
            None,
        ),
        (
            "alter_role",
            "ALTER ROLE postgres SET default_transaction_read_only = on",
            "SUPERUSER attribute",
            None,
        ),
        ("create_role", "CREATE ROLE intruder SUPERUSER LOGIN", "CREATEROLE attribute", None),
    ]


ATTACK_IDS = [a[0] for a in _attacks(Path("/x"))]


def _attack(tmp_path: Path, name: str):
    return next(a for a in _attacks(tmp_path) if a[0] == name)


def _server_unharmed(pg_server) -> None:
    with pg_server.connect(autocommit=True) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("off",)
        assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'intruder'").fetchone() == (0,)
        assert conn.execute("SELECT setting FROM pg_file_settings WHERE name = 'work_mem'").fetchall() == []
        left = conn.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'dbpatterns\\_run\\_%'"
        ).fetchone()
        assert left == (0,)


@pytest.mark.parametrize("name", ATTACK_IDS)
def test_library_refuses_the_attack_and_names_the_privilege(pg_server, tmp_path, name):
    _, sql, names, created = _attack(tmp_path, name)
    with pytest.raises(InputError) as caught:
        trace_sql(sql, db=pg_server.url())
    message = str(caught.value)
    assert names in message and "--superuser" in message and ROLE_PREFIX in message
    assert "root:" not in message  # nothing of the file read comes back
    assert created is None or not created.exists()
    _server_unharmed(pg_server)
    (ok,) = trace_sql("CREATE TABLE after_attack (id int)", db=pg_server.url())
    assert ok.locks == [("after_attack", "ACCESS EXCLUSIVE")]


@pytest.mark.parametrize("name", ATTACK_IDS)
def test_cli_refuses_the_attack_in_one_line(tmp_path, capsys, name):
    _, sql, names, created = _attack(tmp_path, name)
    change = tmp_path / "change.sql"
    change.write_text(sql + ";\n")
    assert main(["trace", str(change)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert err.startswith(f"dbpatterns: {change}:") and names in err and "--superuser" in err
    assert created is None or not created.exists()


def test_superuser_is_an_explicit_opt_in(tmp_path, capsys):
    change = tmp_path / "change.sql"
    change.write_text("SELECT CAST(pg_read_file('PG_VERSION') AS int);\n")  # the data directory's file
    assert main(["trace", str(change), "--format", "json"]) == 2
    assert "pg_read_file" in capsys.readouterr().err
    assert main(["trace", str(change), "--format", "json", "--superuser"]) == 0
    assert json.loads(capsys.readouterr().out)["run_as"] == {"mode": "superuser", "role": "postgres"}


def test_the_report_says_whom_the_sql_ran_as(tmp_path, capsys, pg_server):
    change = tmp_path / "change.sql"
    change.write_text("CREATE TABLE t (id int);\n")
    assert main(["trace", str(change), "--format", "json"]) == 0
    run_as = json.loads(capsys.readouterr().out)["run_as"]
    assert run_as["mode"] == "restricted" and run_as["role"].startswith(ROLE_PREFIX)
    assert main(["trace", str(change)]) == 0
    assert "a role made for this run that owns only the scratch database" in capsys.readouterr().out
    # --db names a server that is not one of ours (the session server's socket written another way): its
    # role is used as given, superuser or not, and the report says so
    url = pg_server.url().replace(f"host={pg_server.socket_dir}", f"host={pg_server.socket_dir}/")
    assert main(["trace", str(change), "--db", url, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["run_as"] == {"mode": "given", "role": "postgres"}
    assert trace_sql("SELECT pg_read_file('PG_VERSION')", db=url).access.mode == "given"


def test_the_time_limit_cannot_be_lifted_by_the_sql(pg_server, monkeypatch):
    monkeypatch.setenv("DBPATTERNS_STATEMENT_TIMEOUT", "0.5")
    with pytest.raises(InputError) as caught:
        trace_sql("SET statement_timeout = 0;\nSELECT pg_sleep(60);", db=pg_server.url())
    message = str(caught.value)
    assert (
        message.startswith("<sql>:2:")
        and "time limit" in message
        and "DBPATTERNS_STATEMENT_TIMEOUT" in message
    )
    with pytest.raises(InputError, match="time limit"):  # the setup too
        trace_sql("SELECT 1", setup="SET statement_timeout = 0; SELECT pg_sleep(60)", db=pg_server.url())
    with pytest.raises(InputError, match="time limit"):  # and a statement that runs in autocommit
        trace_sql(
            "SET statement_timeout = 0; VACUUM (ANALYZE) pg_class; SELECT pg_sleep(60)", db=pg_server.url()
        )
    with pg_server.connect(autocommit=True) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%'"
            " AND state = 'active' AND pid <> pg_backend_pid()"
        ).fetchone() == (0,)


def test_a_caller_sets_its_own_limit(pg_server, monkeypatch):
    from dbpatterns.pg.sandbox import statement_limit

    monkeypatch.setenv("DBPATTERNS_STATEMENT_TIMEOUT", "600")
    with statement_limit(0.5), pytest.raises(InputError, match="longer than 0.5 s"):
        trace_sql("SELECT pg_sleep(60)", db=pg_server.url())


def test_the_time_limit_holds_on_a_users_server_too(pg_server, monkeypatch):
    monkeypatch.setenv("DBPATTERNS_STATEMENT_TIMEOUT", "0.5")
    url = pg_server.url().replace(f"host={pg_server.socket_dir}", f"host={pg_server.socket_dir}/")
    with pytest.raises(InputError, match="time limit"):
        trace_sql("SET statement_timeout = 0; SELECT pg_sleep(60)", db=url)


def test_a_bad_time_limit_is_an_input_error(monkeypatch):
    monkeypatch.setenv("DBPATTERNS_STATEMENT_TIMEOUT", "soon")
    with pytest.raises(InputError, match="DBPATTERNS_STATEMENT_TIMEOUT must be a number"):
        trace_sql("SELECT 1")


EXTENSIONS = (
    'op.execute("CREATE EXTENSION IF NOT EXISTS vector")\n'
    'op.execute("CREATE TABLE items (id int PRIMARY KEY, embedding vector(3))")',
    'op.execute("DROP TABLE items")',
)
CITEXT = (
    'op.execute("CREATE EXTENSION citext")\nop.execute("ALTER TABLE items ADD COLUMN name citext")',
    'op.execute("ALTER TABLE items DROP COLUMN name")\nop.execute("DROP EXTENSION citext")',
)


def test_a_history_with_extensions_verifies_as_the_role(tmp_path, pg_server):
    # vector is not trusted: created beforehand by the superuser; citext is (PostgreSQL 13+): the role,
    # as the database's owner, creates and drops it itself, again and again in the stairway
    with pg_server.connect(autocommit=True) as conn:
        trusted = dict(
            conn.execute(
                "SELECT name, bool_or(trusted) FROM pg_available_extension_versions"
                " WHERE name IN ('vector', 'citext') GROUP BY name"
            ).fetchall()
        )
    assert trusted == {"vector": False, "citext": True}
    project = write_project(tmp_path / "p", linear(EXTENSIONS, CITEXT))
    report = verify_project(project, db=pg_server.url())
    assert report.ok, report.to_dict()
    assert report.to_dict()["run_as"]["mode"] == "restricted"
    _server_unharmed(pg_server)


def test_a_verify_step_the_role_may_not_run_names_the_opt_in(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DBPATTERNS_STATEMENT_TIMEOUT", "0.5")
    steps = (
        (
            'op.execute("CREATE TABLE t (id int)")',
            'op.execute("DROP TABLE t")',
        ),
        (
            'op.execute("ALTER ROLE postgres SET default_transaction_read_only = on")',
            "pass",
        ),
    )
    project = write_project(tmp_path / "p", linear(*steps))
    assert main(["verify", "--project", str(project), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    failed = [c for c in data["checks"] if not c["ok"]][0]  # later checks meet the same revision again
    assert failed["revision"] == "r2" and "SUPERUSER attribute" in failed["detail"]
    assert "--superuser" in failed["detail"] and data["run_as"]["mode"] == "restricted"
    slow = write_project(
        tmp_path / "q",
        linear(('op.execute("SET statement_timeout = 0")\nop.execute("SELECT pg_sleep(60)")', "pass")),
    )
    assert main(["verify", "--project", str(slow), "--format", "json"]) == 1
    failed = [c for c in json.loads(capsys.readouterr().out)["checks"] if not c["ok"]][0]
    assert "time limit" in failed["detail"]


def test_leftovers_of_a_run_whose_process_is_gone_are_dropped(pg_server):
    import os

    from psycopg import sql

    from dbpatterns.pg.owner import my_mark, start_time

    pid = os.getpid()
    reused = f"{pid} {int(start_time(pid)) + 1}"  # our pid, another start: a process that reused the id
    with pg_server.connect(autocommit=True) as admin:
        for role, mark in (("dbpatterns_run_gone", reused), ("dbpatterns_run_alive", my_mark())):
            admin.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
            admin.execute(
                sql.SQL("COMMENT ON ROLE {} IS {}").format(
                    sql.Identifier(role), sql.Literal(f"dbpatterns run of process {mark}")
                )
            )
        admin.execute("CREATE DATABASE dbpatterns_scratch_gone OWNER dbpatterns_run_gone")
        admin.execute(f"COMMENT ON DATABASE dbpatterns_scratch_gone IS 'dbpatterns run of process {reused}'")
        try:
            with sandbox(pg_server.url()) as box:  # a new run on the same server reaps first
                assert box.access.mode == "restricted"
            names = {
                r
                for (r,) in admin.execute(
                    "SELECT rolname FROM pg_roles WHERE rolname LIKE 'dbpatterns%'"
                    " UNION ALL SELECT datname FROM pg_database WHERE datname LIKE 'dbpatterns%'"
                )
            }
            assert names == {"dbpatterns_run_alive"}
        finally:
            admin.execute("DROP DATABASE IF EXISTS dbpatterns_scratch_gone")
            admin.execute("DROP ROLE IF EXISTS dbpatterns_run_gone")
            admin.execute("DROP ROLE IF EXISTS dbpatterns_run_alive")
        reap_dead_runs(admin)


def test_verify_superuser_is_an_explicit_opt_in(tmp_path, capsys):
    reads = ("op.execute(\"SELECT pg_read_file('PG_VERSION')\")", "pass")
    project = write_project(tmp_path / "p", linear(reads))
    assert main(["verify", "--project", str(project), "--format", "json"]) == 1
    failed = [c for c in json.loads(capsys.readouterr().out)["checks"] if not c["ok"]]
    assert failed and all("permission denied for function pg_read_file" in c["detail"] for c in failed)
    assert main(["verify", "--project", str(project), "--format", "json", "--superuser"]) == 0
    assert json.loads(capsys.readouterr().out)["run_as"]["mode"] == "superuser"


def test_the_mcp_tool_runs_the_sql_as_the_role(tmp_path, monkeypatch):
    # the MCP server hands its own embedded server's URL to the core: that is recognized as ours
    from dbpatterns.mcp import tools

    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(tmp_path))
    with pytest.raises(Exception) as caught:
        anyio.run(lambda: tools.trace_locks(sql="SELECT CAST(pg_read_file('/etc/passwd') AS int)"))
    message = str(caught.value)
    assert "permission denied for function pg_read_file" in message and "root:" not in message


def test_dropping_an_extension_made_beforehand_says_why_and_the_opt_in(tmp_path, capsys):
    drops = (EXTENSIONS[0], 'op.execute("DROP TABLE items")\nop.execute("DROP EXTENSION IF EXISTS vector")')
    project = write_project(tmp_path / "p", linear(drops))
    assert main(["verify", "--project", str(project), "--format", "json"]) == 1
    failed = [c for c in json.loads(capsys.readouterr().out)["checks"] if not c["ok"]]
    assert failed and "must be owner of extension vector" in failed[0]["detail"]
    assert (
        "created the extension vector beforehand" in failed[0]["detail"]
        and "--superuser" in failed[0]["detail"]
    )
    assert main(["verify", "--project", str(project), "--superuser"]) == 0


@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        (
            "CREATE EXTENSION IF NOT EXISTS dblink;\n"
            "SELECT * FROM dblink('host={socket} port={port} user=postgres dbname=postgres',"
            " 'SELECT 1') t(x int)",
            "password or GSSAPI delegated credentials required",
        ),
        (
            "CREATE EXTENSION IF NOT EXISTS file_fdw;\nCREATE SERVER files FOREIGN DATA WRAPPER file_fdw",
            "permission denied for foreign-data wrapper file_fdw",
        ),
    ],
    ids=["dblink_to_the_superuser", "file_fdw"],
)
def test_extensions_made_beforehand_open_no_way_out(pg_server, sql, refusal):
    # untrusted extensions the SQL names are created by the superuser: their dangerous parts stay closed
    change = sql.format(socket=pg_server.socket_dir, port=pg_server.port)
    with pytest.raises(InputError, match=refusal):
        trace_sql(change, db=pg_server.url())
