"""verify's data check reads only tables that may hold rows: a table with no storage (no row ever written,
PostgreSQL allocates none) is not digested, and a round trip with no row anywhere skips the data check.
Small tables are read whole and digested in Python, big ones digested by the server: both find the same.
Rows that come from somewhere else than the generator (a hook, the revision itself) are still checked,
and a downgrade that empties a table (TRUNCATE: new, empty storage) is still a loss."""

from __future__ import annotations

import psycopg
import pytest

from dbpatterns.verify import verify_empty_database
from dbpatterns.verify.checks import RAW_BYTES, _columns, _digest, _fingerprint
from tests.alembic_builder import linear, write_project

TABLE = ('op.execute("CREATE TABLE t (id int PRIMARY KEY, x text)")', 'op.execute("DROP TABLE t")')


def _failed(report) -> list[tuple[str, str | None]]:
    return [(c.name, c.revision) for c in report.checks if not c.ok]


def test_storage_size_tells_empty_tables_inside_the_transaction(pg_url):
    with psycopg.connect(pg_url) as conn, conn.cursor() as cur:  # one transaction, as a migration's
        cur.execute("CREATE TABLE a (id int, v text); CREATE TABLE b (id int); CREATE TABLE c (id int)")
        cur.execute("INSERT INTO a VALUES (1, 'x'), (2, NULL)")  # not committed: its pages exist
        cur.execute("INSERT INTO c VALUES (1); TRUNCATE c")  # new storage, empty
        cur.execute("CREATE TABLE p (id int) PARTITION BY RANGE (id)")
        cur.execute("CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10); INSERT INTO p VALUES (1)")
        columns = _columns(cur, ("alembic_version",))
        assert columns.filled == {"a", "p"}  # a partitioned table has no storage of its own: read
        data = _fingerprint(cur, columns)
        assert data["b"] == (0, {}) and data["c"] == (0, {})
        assert data["a"][0] == 2 and set(data["a"][1]) == {"id", "v"} and data["p"][0] == 1


def test_rows_from_a_hook_are_checked_without_generated_rows(tmp_path, pg_server):
    clears = (
        'op.add_column("t", sa.Column("z", sa.Text))',
        'op.drop_column("t", "z")\nop.execute("DELETE FROM t")',
    )
    root = write_project(tmp_path / "p", linear(TABLE, clears))
    (root / "pyproject.toml").write_text(
        "[tool.dbpatterns]\nverify_rows = 0\n"
        "[tool.dbpatterns.verify_hooks]\nr2 = { before = \"INSERT INTO t VALUES (1, 'a'), (2, 'b')\" }\n"
    )
    with pg_server.scratch_database() as url:
        report = verify_empty_database(root, url)
    assert _failed(report) == [("downgrade_keeps_data", "r2")]
    (lost,) = [c for c in report.checks if c.name == "downgrade_keeps_data"]
    assert "2 row(s) before the upgrade, 0 after the downgrade" in lost.detail


def test_a_truncating_downgrade_is_a_loss_and_empty_history_passes(tmp_path, pg_server):
    truncates = (
        'op.add_column("t", sa.Column("z", sa.Text))',
        'op.drop_column("t", "z")\nop.execute("TRUNCATE t")',
    )
    root = write_project(tmp_path / "p", linear(TABLE, truncates))
    with pg_server.scratch_database() as url:
        report = verify_empty_database(root, url)  # generated rows (the default)
    assert _failed(report) == [("downgrade_keeps_data", "r2")]
    with pg_server.scratch_database() as url:
        report = verify_empty_database(root, url, rows=0)  # no row anywhere: nothing to lose
    assert report.ok, report.to_dict()


@pytest.mark.parametrize("raw_bytes", [0, RAW_BYTES], ids=["server_digests", "values_read_whole"])
def test_both_ways_of_fingerprinting_find_the_same_losses(tmp_path, pg_server, monkeypatch, raw_bytes):
    from tests.test_verify_data import make_case

    monkeypatch.setattr("dbpatterns.verify.checks.RAW_BYTES", raw_bytes)
    for case, failed in (
        ("downgrade_loses_data", [("downgrade_keeps_data", "r2")]),
        ("seeded_data_migration", []),
        ("not_implemented_stop", []),
    ):
        with pg_server.scratch_database() as url:
            report = verify_empty_database(make_case(case, tmp_path / case), url)
        assert _failed(report) == failed, (case, report.to_dict())


def test_a_big_table_is_digested_by_the_server_and_its_loss_found(tmp_path, pg_server):
    big = (
        'op.execute("CREATE TABLE big (id int PRIMARY KEY, x text)")\n'
        "op.execute(\"INSERT INTO big SELECT g, repeat('v', 200) || g FROM generate_series(1, 3000) g\")",
        'op.execute("DROP TABLE big")',
    )
    clears = (
        'op.add_column("big", sa.Column("z", sa.Text))',
        'op.drop_column("big", "z")\nop.execute("UPDATE big SET x = NULL WHERE id = 7")',
    )
    root = write_project(tmp_path / "p", linear(big, clears))
    with pg_server.scratch_database() as url:
        with psycopg.connect(url) as conn:
            conn.execute(
                "CREATE TABLE probe AS SELECT g AS id, repeat('v', 200) || g AS x"
                " FROM generate_series(1, 3000) g"
            )  # the same rows: past the size read whole
            assert conn.execute("SELECT pg_relation_size('probe')").fetchone()[0] > RAW_BYTES
            conn.execute("DROP TABLE probe")
        report = verify_empty_database(root, url)
    assert _failed(report) == [("downgrade_keeps_data", "r2")]
    (lost,) = [c for c in report.checks if c.name == "downgrade_keeps_data"]
    assert "column public.big.x" in lost.detail or "column big.x" in lost.detail


def test_a_digest_ignores_order_and_tells_null_from_empty_text():
    assert _digest(["b", None, "a"]) == _digest(["a", "b", None])
    assert _digest([None]) != _digest([""]) and _digest(["a", "a"]) != _digest(["a"])
