"""dbpatterns drift on the embedded PostgreSQL: a project is migrated (with the env.py helpers), then the
live database is changed behind the history's back; drift reports each change and nothing else."""

from __future__ import annotations

import json
import shutil
from urllib.parse import quote

import pytest

from dbpatterns.cli import main
from dbpatterns.drift import check_drift
from dbpatterns.errors import InputError
from dbpatterns.trace.database import psycopg_url
from tests.alembic_builder import linear, write_project

ENV_WITH_HELPERS = """
from alembic import context
from sqlalchemy import engine_from_config, pool

from dbpatterns.env import migration_lock, record_applied

config = context.config


def run(connection):
    with migration_lock(connection, timeout=5):
        context.configure(connection=connection, target_metadata=None, on_version_apply=record_applied)
        with context.begin_transaction():
            context.run_migrations()


connectable = config.attributes.get("connection")
if connectable is None:
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as connection:
        run(connection)
else:
    run(connectable)
"""

HISTORY = linear(
    (
        """
        op.execute("CREATE TYPE mood AS ENUM ('ok', 'bad')")
        op.execute("CREATE TABLE t (id serial PRIMARY KEY, name text NOT NULL DEFAULT 'x', n int, m mood)")
        op.execute("CREATE INDEX ix_t_n ON t (n)")
        op.execute("CREATE TABLE u (id int PRIMARY KEY, t_id int REFERENCES t (id))")
        """,
        'op.execute("DROP TABLE u; DROP TABLE t; DROP TYPE mood")',
    ),
    (
        """
        op.execute("CREATE VIEW tv AS SELECT id, name FROM t")
        op.execute("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'")
        op.execute("CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION touch()")
        op.execute("CREATE SEQUENCE counter")
        """,
        'op.execute("DROP SEQUENCE counter; DROP TRIGGER tr ON t; DROP FUNCTION touch(); DROP VIEW tv")',
    ),
)

# (what is done behind the history's back, the differences drift must report: (kind, object, change))
CHANGES = {
    "add column": (["ALTER TABLE t ADD COLUMN extra int"], {("column", "public.t.extra", "added")}),
    "change type": (["ALTER TABLE t ALTER COLUMN n TYPE bigint"], {("column", "public.t.n", "changed")}),
    "drop default": (
        ["ALTER TABLE t ALTER COLUMN name DROP DEFAULT"],
        {("column", "public.t.name", "changed")},
    ),
    "set not null": (["ALTER TABLE t ALTER COLUMN n SET NOT NULL"], {("column", "public.t.n", "changed")}),
    "drop not null": (
        ["ALTER TABLE t ALTER COLUMN name DROP NOT NULL"],
        {("column", "public.t.name", "changed")},
    ),
    "add index": (["CREATE INDEX ix_t_name ON t (name)"], {("index", "public.ix_t_name", "added")}),
    "drop index": (["DROP INDEX ix_t_n"], {("index", "public.ix_t_n", "removed")}),
    "invalid index": (
        ["INSERT INTO t (n) VALUES (1), (1)", "CREATE UNIQUE INDEX CONCURRENTLY ix_t_n_unique ON t (n)"],
        {("index", "public.ix_t_n_unique", "added")},
    ),
    "not valid constraint": (
        ["ALTER TABLE t ADD CONSTRAINT n_positive CHECK (n > 0) NOT VALID"],
        {("constraint", "public.t.n_positive", "added")},
    ),
    "enum value": (["ALTER TYPE mood ADD VALUE 'meh'"], {("enum", "public.mood", "changed")}),
    "sequence": (["CREATE SEQUENCE other_counter"], {("sequence", "public.other_counter", "added")}),
    "sequence changed": (
        ["ALTER SEQUENCE counter INCREMENT BY 10"],
        {("sequence", "public.counter", "changed")},
    ),
    "view dropped": (["DROP VIEW tv"], {("view", "public.tv", "removed")}),
    "view added": (["CREATE VIEW tv2 AS SELECT n FROM t"], {("view", "public.tv2", "added")}),
    "trigger disabled": (["ALTER TABLE t DISABLE TRIGGER tr"], {("trigger", "public.t.tr", "changed")}),
    "trigger dropped": (["DROP TRIGGER tr ON t"], {("trigger", "public.t.tr", "removed")}),
    "extension": (["CREATE EXTENSION pg_trgm"], {("extension", "pg_trgm", "added")}),
    "table added": (
        ["CREATE TABLE extra (id int PRIMARY KEY, v text)"],
        {("table", "public.extra", "added")},
    ),
    "table dropped": (["DROP TABLE u"], {("table", "public.u", "removed")}),
}


@pytest.fixture(autouse=True)
def cache_dir(tmp_path_factory, monkeypatch):
    folder = tmp_path_factory.getbasetemp() / "drift-cache"
    monkeypatch.setenv("DBPATTERNS_CACHE_DIR", str(folder))
    return folder / "drift"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return write_project(tmp_path_factory.mktemp("drift") / "proj", HISTORY, env_text=ENV_WITH_HELPERS)


def migrate(project, url: str, destination: str = "heads") -> None:
    from dbpatterns.alembic.project import find_project
    from dbpatterns.alembic.runner import Runner

    runner = Runner(find_project(project), psycopg_url(url))
    try:
        runner.run(lambda heads, ctx: runner.upgrade_steps(destination, heads), destination)
    finally:
        runner.close()


def run_sql(pg_server, url: str, statements: list[str]) -> None:
    import psycopg

    name = url.split("?", 1)[0].rsplit("/", 1)[1]
    with pg_server.connect(name, autocommit=True) as conn:
        for sql in statements:
            try:
                conn.execute(sql)
            except psycopg.Error:
                if "CONCURRENTLY" not in sql:  # a failed concurrent build leaves an INVALID index behind
                    raise


def differences(summary) -> set[tuple[str, str, str]]:
    (report,) = summary.reports
    return {(d.kind, d.object, d.change) for d in report.differences}


def test_in_sync_after_migrating(project, pg_server, pg_url):
    migrate(project, pg_url)
    summary = check_drift(project, [pg_url], server=pg_server)
    (report,) = summary.reports
    assert report.differences == []
    assert report.revision.status == "up to date"
    assert report.revision.database == ["r2"] and report.revision.heads == ["r2"]
    assert summary.in_sync


@pytest.mark.parametrize("name", list(CHANGES))
def test_each_change_behind_the_history_is_reported_alone(name, project, pg_server, pg_url):
    statements, expected = CHANGES[name]
    migrate(project, pg_url)
    run_sql(pg_server, pg_url, statements)
    summary = check_drift(project, [pg_url], server=pg_server)
    assert differences(summary) == expected
    assert not summary.in_sync


def test_invalid_index_and_not_valid_constraint_are_named(project, pg_server, pg_url):
    migrate(project, pg_url)
    run_sql(pg_server, pg_url, CHANGES["invalid index"][0] + CHANGES["not valid constraint"][0])
    (report,) = check_drift(project, [pg_url], server=pg_server).reports
    details = {d.kind: d.detail for d in report.differences}
    assert "INVALID" in details["index"] and "drop it and build it again" in details["index"]
    assert "NOT VALID" in details["constraint"] and "VALIDATE CONSTRAINT" in details["constraint"]


def test_behind_lists_pending_and_compares_at_the_database_revision(project, pg_server, pg_url):
    migrate(project, pg_url, "r1")
    (report,) = check_drift(project, [pg_url], server=pg_server).reports
    assert report.revision.status == "behind"
    assert report.revision.pending == ["r2"]
    assert report.compared_with == ["r1"]
    assert report.differences == []  # the schema is what r1 produces
    assert not report.in_sync


def test_unknown_revision(project, pg_server, pg_url):
    migrate(project, pg_url)
    run_sql(pg_server, pg_url, ["UPDATE alembic_version SET version_num = 'f00dfeed'"])
    (report,) = check_drift(project, [pg_url], server=pg_server).reports
    assert report.revision.status == "unknown"
    assert report.revision.unknown == ["f00dfeed"]


def test_unversioned_database(project, pg_server, pg_url):
    (report,) = check_drift(project, [pg_url], server=pg_server).reports
    assert report.revision.status == "unversioned"
    assert report.revision.pending == ["r1", "r2"]
    assert ("table", "public.t", "removed") in {(d.kind, d.object, d.change) for d in report.differences}


def test_edited_revision_caught_by_the_migration_log_and_the_sum_file(project, tmp_path, pg_server, pg_url):
    from dbpatterns.checksums import write_sums

    copy = shutil.copytree(project, tmp_path / "copy")
    write_sums(copy)
    migrate(copy, pg_url)
    revision = copy / "migrations" / "versions" / "r2.py"
    revision.write_text(
        revision.read_text().replace("CREATE SEQUENCE counter", "CREATE SEQUENCE counter CACHE 5")
    )
    found = {
        (d.kind, d.object, d.source)
        for d in check_drift(copy, [pg_url], server=pg_server).reports[0].differences
    }
    assert found == {
        ("checksum", "r2", "checksum"),  # the migration log: applied with another checksum
        ("checksum", "versions/r2.py", "checksum"),  # the sum file
        ("sequence", "public.counter", "schema"),  # and the edited history now makes another schema
    }


def test_comment_only_edit_is_not_drift(project, tmp_path, pg_server, pg_url):
    copy = shutil.copytree(project, tmp_path / "copy")
    migrate(copy, pg_url)
    revision = copy / "migrations" / "versions" / "r2.py"
    revision.write_text(revision.read_text() + "\n# a comment added later\n")
    assert check_drift(copy, [pg_url], server=pg_server).in_sync


def test_migration_log_records_each_revision(project, pg_server, pg_url):
    from dbpatterns.checksums import file_checksum

    migrate(project, pg_url)
    name = pg_url.split("?", 1)[0].rsplit("/", 1)[1]
    with pg_server.connect(name) as conn:
        rows = conn.execute(
            "SELECT revision, operation, checksum, applied_by, applied_at <= now() "
            "FROM dbpatterns_migration_log ORDER BY applied_at"
        ).fetchall()
    versions = project / "migrations" / "versions"
    assert rows == [
        ("r1", "upgrade", file_checksum(versions / "r1.py"), "postgres", True),
        ("r2", "upgrade", file_checksum(versions / "r2.py"), "postgres", True),
    ]


def test_drift_never_writes(project, pg_server, pg_url):
    import psycopg

    from dbpatterns.drift.live import Target, connect
    from dbpatterns.schema import snapshot

    migrate(project, pg_url)
    run_sql(pg_server, pg_url, ["ALTER TABLE t ADD COLUMN extra int"])
    name = pg_url.split("?", 1)[0].rsplit("/", 1)[1]

    def state():
        with pg_server.connect(name) as conn:
            log = conn.execute("SELECT count(*) FROM dbpatterns_migration_log").fetchone()
            version = conn.execute("SELECT version_num FROM alembic_version").fetchall()
            return snapshot(conn, skip=()), log, version

    before = state()
    check_drift(project, [pg_url], server=pg_server)
    assert state() == before
    conn = connect(Target(pg_url))
    try:
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE written (id int)")
    finally:
        conn.close()


def test_several_databases_one_summary(project, pg_server, tmp_path, capsys):
    good = pg_server.create_database()
    bad = pg_server.create_database()
    try:
        migrate(project, good)
        migrate(project, bad)
        run_sql(pg_server, bad, ["DROP INDEX ix_t_n"])
        db_file = tmp_path / "dbs.txt"
        db_file.write_text(f"# fleet\n{bad}\n\n")
        code = main(
            ["drift", "--project", str(project), "--db", good, "--db-file", str(db_file), "--format", "json"]
        )
        data = json.loads(capsys.readouterr().out)
    finally:
        pg_server.drop_database(good)
        pg_server.drop_database(bad)
    assert code == 1
    assert data["summary"] == {"targets": 2, "in_sync": 1, "drifted": 1, "errors": 0}
    assert [t["in_sync"] for t in data["targets"]] == [True, False]
    assert data["targets"][1]["differences"][0]["object"] == "public.ix_t_n"


def test_schema_per_tenant(project, pg_server, pg_url):
    run_sql(pg_server, pg_url, ["CREATE SCHEMA tenant_a", "CREATE SCHEMA tenant_b"])
    for schema in ("tenant_a", "tenant_b"):
        migrate(project, pg_url + "&options=" + quote(f"-csearch_path={schema}"))
    run_sql(pg_server, pg_url, ["ALTER TABLE tenant_b.t ADD COLUMN extra int"])
    summary = check_drift(project, [pg_url], schemas=["tenant_a", "tenant_b"], server=pg_server)
    a, b = summary.reports
    assert a.in_sync, a.differences
    assert {(d.kind, d.object, d.change) for d in b.differences} == {("column", "public.t.extra", "added")}
    assert b.target.endswith("schema tenant_b")


def test_cli_json_contract(project, pg_server, pg_url, capsys):
    migrate(project, pg_url)
    assert main(["drift", "--project", str(project), "--db", pg_url, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["in_sync"] is True
    assert set(data["revision"]) >= {"database", "heads", "status"}
    assert data["differences"] == []


def test_cli_text_reports_differences(project, pg_server, pg_url, capsys):
    migrate(project, pg_url)
    run_sql(pg_server, pg_url, ["ALTER TABLE t ADD COLUMN extra int"])
    assert main(["drift", "--project", str(project), "--db", pg_url]) == 1
    out = capsys.readouterr().out
    assert "column public.t.extra added" in out and "up to date" in out


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:hunter2secret@127.0.0.1:1/prod",  # nothing listens on port 1
        "postgresql://nosuchrole:hunter2secret@/postgres?host={socket}&port={port}",  # no such role
    ],
)
def test_unreachable_or_wrong_credentials_one_line_masked(project, pg_server, url, capsys):
    url = url.format(socket=quote(str(pg_server.socket_dir)), port=pg_server.port)
    assert main(["drift", "--project", str(project), "--db", url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("dbpatterns: cannot connect")
    assert "hunter2secret" not in err and "***" in err


def test_bad_models_path(project, pg_url, capsys):
    assert main(["drift", "--project", str(project), "--db", pg_url, "--models", "no_such_module:Base"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no_such_module" in err


def test_no_db_is_a_usage_error(project):
    with pytest.raises(InputError, match="--db"):
        check_drift(project, [])


MODELS = """
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "item"
    id = sa.Column(sa.Integer, primary_key=True)
    label = sa.Column(sa.Text, nullable=False)
"""


def test_model_drift(tmp_path, pg_server, pg_url):
    history = linear(
        ("op.execute('CREATE TABLE item (id int PRIMARY KEY, label text NOT NULL)')", "op.drop_table('item')")
    )
    project = write_project(
        tmp_path / "p", history, models="drift_models:Base", models_code=MODELS, module="drift_models"
    )
    migrate(project, pg_url)
    assert check_drift(project, [pg_url], server=pg_server).in_sync
    run_sql(pg_server, pg_url, ["ALTER TABLE item ADD COLUMN note text"])
    found = {
        (d.source, d.kind, d.change)
        for d in check_drift(project, [pg_url], server=pg_server).reports[0].differences
    }
    assert found == {("schema", "column", "added"), ("models", "column", "added")}


def test_cached_history_gives_the_same_answer_without_a_server(
    project, pg_server, pg_url, cache_dir, monkeypatch
):
    migrate(project, pg_url)
    run_sql(pg_server, pg_url, ["ALTER TABLE t ADD COLUMN extra int"])
    fresh = check_drift(project, [pg_url], server=pg_server, cache=False).to_dict()
    assert fresh.pop("run_as")["mode"] == "restricted"  # the history ran: as a role made for the run
    check_drift(project, [pg_url])  # fills the cache (its own throwaway server)
    assert any(cache_dir.iterdir())

    def no_server(*args, **kwargs):
        raise AssertionError("a cached history must not start a server")

    monkeypatch.setattr("dbpatterns.pg.start", no_server)
    assert check_drift(project, [pg_url]).to_dict() == fresh


def test_one_unreachable_database_among_several(project, pg_server, pg_url, capsys):
    migrate(project, pg_url)
    bad = "postgresql://app:hunter2secret@127.0.0.1:1/prod"
    assert main(["drift", "--project", str(project), "--db", pg_url, "--db", bad, "--format", "json"]) == 2
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["summary"] == {"targets": 2, "in_sync": 1, "drifted": 0, "errors": 1}
    assert data["targets"][1]["error"].startswith("cannot connect")
    assert captured.err.count("\n") == 1 and "hunter2secret" not in captured.out + captured.err


def _record_starts(monkeypatch) -> list:
    """Every throwaway server drift starts, with the thread it was started in."""
    import threading

    import dbpatterns.pg

    started = []
    real = dbpatterns.pg.start

    def start(*args, **kwargs):
        server = real(*args, **kwargs)
        started.append((threading.current_thread().name, server))
        return server

    monkeypatch.setattr("dbpatterns.pg.start", start)
    return started


def test_cold_run_boots_its_server_while_importing(project, pg_server, pg_url, tmp_path, monkeypatch):
    migrate(project, pg_url)
    monkeypatch.setenv("DBPATTERNS_CACHE_DIR", str(tmp_path / "empty-cache"))
    started = _record_starts(monkeypatch)
    cold, given = check_drift(project, [pg_url]), check_drift(project, [pg_url], server=pg_server)
    assert cold.run_as.mode == given.run_as.mode == "restricted"  # each ran the history (keys differ)
    cold.run_as = given.run_as = None
    assert cold.to_dict() == given.to_dict()
    ((thread, server),) = started
    assert thread.startswith("dbpatterns-scratch-server") and not server.running
    assert check_drift(project, [pg_url]).in_sync and len(started) == 1  # warm: no server at all


def test_server_started_early_is_stopped_when_the_revisions_do_not_load(
    project, tmp_path, pg_url, monkeypatch
):
    copy = shutil.copytree(project, tmp_path / "copy")
    (copy / "migrations" / "versions" / "r2.py").write_text("import no_such_module_here\n")
    started = _record_starts(monkeypatch)
    with pytest.raises(InputError, match=r"cannot load the revisions: .*r2\.py:1: ModuleNotFoundError"):
        check_drift(copy, [pg_url])
    ((thread, server),) = started
    assert thread.startswith("dbpatterns-scratch-server") and not server.running


@pytest.mark.parametrize("variable", ["DBPATTERNS_PG_TMPDIR", "XDG_CACHE_HOME", "TMPDIR"])
def test_no_early_start_with_a_relative_folder_in_the_environment(project, variable, monkeypatch):
    from dbpatterns.alembic.project import find_project
    from dbpatterns.drift.history import History, _absolute_paths

    history = History(find_project(project))
    monkeypatch.setenv(variable, "relative/folder")
    history.start_server()  # the working directory changes while a project is imported: not in a thread
    assert history._starting is None and history.server is None
    monkeypatch.setenv(variable, "/an/absolute/folder")
    assert _absolute_paths()


def test_cycle_collection_is_paused_only_during_the_run(project, pg_server, pg_url, monkeypatch):
    import gc

    migrate(project, pg_url)
    seen = []
    real = check_drift.__globals__["_check"]

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setitem(check_drift.__globals__, "_check", spy)
    assert gc.isenabled()
    assert check_drift(project, [pg_url], server=pg_server).in_sync
    assert seen == [False] and gc.isenabled()
    gc.disable()  # a caller that paused it itself keeps it paused
    try:
        with pytest.raises(InputError):
            check_drift(project, ["postgresql://nobody@127.0.0.1:1/x"], server=pg_server)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_tenant_schemas_named_like_keywords_or_inside_other_names(project, pg_server, pg_url):
    """A schema named "user" is quoted in the catalog ("user".t), and schema a's objects are not data's."""
    schemas = ("user", "a", "data")
    run_sql(pg_server, pg_url, [f'CREATE SCHEMA "{s}"' for s in schemas])
    for schema in schemas:
        migrate(project, pg_url + "&options=" + quote(f'-csearch_path="{schema}"'))
    run_sql(pg_server, pg_url, ["ALTER TABLE data.t ADD COLUMN extra int"])
    summary = check_drift(project, [pg_url], schemas=list(schemas), server=pg_server)
    keyword, a, data = summary.reports
    assert keyword.in_sync and a.in_sync, (keyword.differences, a.differences)
    assert {(d.kind, d.object, d.change) for d in data.differences} == {("column", "public.t.extra", "added")}
