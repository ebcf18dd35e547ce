"""Claims of the per-operation rules checked on the embedded PostgreSQL (18)."""

from __future__ import annotations

import psycopg

from dbpatterns.lint import Settings, lint_sql


def test_drop_schema_cascade_takes_access_exclusive_on_each_table(pg_url):
    sql = "DROP SCHEMA legacy CASCADE"
    [finding] = [f for f in lint_sql(sql, "m.sql", Settings()) if f.rule == "drop-schema-cascade"]
    assert finding.lock == "ACCESS EXCLUSIVE"
    with psycopg.connect(pg_url) as conn:
        conn.execute(
            "CREATE SCHEMA legacy; CREATE TABLE legacy.events (id int); CREATE TABLE legacy.runs (id int)"
        )
        conn.commit()
        oids = {
            oid
            for (oid,) in conn.execute(
                "SELECT 'legacy.events'::regclass::oid UNION SELECT 'legacy.runs'::regclass::oid"
            )
        }
        conn.commit()
        conn.execute(sql)  # in a transaction: the locks are held until it ends
        held = {
            oid: mode
            for oid, mode in conn.execute(
                "SELECT relation, mode FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation'"
            )
        }
        assert {oid: held.get(oid) for oid in oids} == dict.fromkeys(oids, "AccessExclusiveLock")
        conn.rollback()
