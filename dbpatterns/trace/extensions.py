"""The extensions SQL names literally (``CREATE EXTENSION [IF NOT EXISTS] name``), read with pglast: in a
trace's SQL, or in every revision of an Alembic history (the SQL its ``op.execute`` calls pass, from the
revisions' static reading). The sandbox creates the ones a database owner cannot create beforehand."""

from __future__ import annotations

from collections.abc import Iterable

from ..alembic.static import read_revision
from ..checksums import revision_files
from ..sql.parse import parse


def sql_extensions(texts: Iterable[str]) -> set[str]:
    names: set[str] = set()
    for text in texts:
        if "extension" not in text.lower():  # most statements: skip the parse
            continue
        for stmt in parse(text).statements:
            if stmt.kind == "CreateExtensionStmt" and stmt.body.get("extname"):
                names.add(stmt.body["extname"])
    return names


def history_extensions(project) -> set[str]:
    """The extensions the revisions of ``project`` (upgrades and downgrades) create literally."""
    texts: list[str] = []
    for file in revision_files(project).values():
        try:
            source = read_revision(file.read_text(encoding="utf-8", errors="replace"), str(file))
        except OSError:
            continue
        texts += [s.sql for s in (source.upgrade or []) + (source.downgrade or []) if s.sql]
    return sql_extensions(texts)
