"""references/postgres-lock-matrix.md is what the embedded PostgreSQL does: regenerated and compared."""

from __future__ import annotations

from pathlib import Path

from dbpatterns.pg.lockmatrix import CASES, collect, render

MATRIX = Path(__file__).resolve().parent.parent / "references" / "postgres-lock-matrix.md"


def test_document_and_server_agree(pg_server):
    rows, conflicts = collect(pg_server)
    measured = render(rows, conflicts, pg_server.version // 10000)
    assert MATRIX.read_text(encoding="utf-8") == measured, (
        "references/postgres-lock-matrix.md differs from the server: "
        "run `python -m dbpatterns.pg.lockmatrix > references/postgres-lock-matrix.md`"
    )


def test_every_statement_is_measured_and_named():
    text = MATRIX.read_text(encoding="utf-8")
    assert len(CASES) >= 50
    for case in CASES:
        assert f"`{case.sql}`" in text
    version_dependent = [c for c in CASES if c.since]
    assert text.count("**version-dependent:**") == len(version_dependent) >= 8
