"""Turn a live database's state into a drift report: revision status, schema, models, checksums."""

from __future__ import annotations

from ..schema import Snapshot, diff
from ..sql.names import quote
from .model import Difference, Revision

# Children of a table or view are folded into its own line when the whole table is added or removed.
_CHILD_KINDS = ("column", "constraint", "trigger", "policy", "index", "sequence", "comment")


def revision_status(graph, versions: list[str] | None) -> Revision:
    """``graph``: a :class:`~dbpatterns.drift.graph.Graph`; ``versions``: the alembic_version rows."""
    heads = list(graph.heads)
    if versions is None:
        return Revision(None, heads, "unversioned", graph.pending([]))
    unknown = sorted(r for r in versions if not graph.known(r))
    if unknown:
        return Revision(versions, heads, "unknown", unknown=unknown)
    pending = graph.pending(versions)
    return Revision(versions, heads, "behind" if pending else "up to date", pending)


def destination(revision: Revision) -> tuple[str, ...]:
    """The revisions whose schema the database should have: its own when the repository knows them."""
    if revision.status in ("up to date", "behind"):
        return tuple(revision.database or ())
    return tuple(revision.heads)


# -- schema ----------------------------------------------------------------------------------------------


def normalize(shot: Snapshot, schema: str | None = None, as_schema: str = "public") -> Snapshot:
    """What drift compares: privileges and extension versions left out (they belong to the server, not
    the history); with ``schema`` only that schema's objects, renamed as if they were in ``as_schema``."""
    out: Snapshot = {}
    prefix, to = (f"{quote(schema)}.", f"{quote(as_schema)}.") if schema else (None, None)
    for (kind, name), detail in shot.items():
        if prefix is not None:
            # names start with the schema; a comment's names its object after a space ("table tenant_a.t",
            # "constraint c on tenant_a.t")
            ours = f" {prefix}" in name if kind == "comment" else name.startswith(prefix)
            if kind == "schema" or not ours:
                continue
            name, detail = _swap_schema(name, prefix, to), _swap_schema(detail, prefix, to)
        if kind == "constraint" and detail.startswith("NOT NULL "):
            continue  # PostgreSQL 18's not-null constraints: the column's nullability says it
        if kind in ("table", "foreign table"):
            detail = detail.split("grants ", 1)[0].strip()
        elif kind == "extension":
            detail = "in " + detail.partition(" in ")[2] if " in " in detail else detail
        out[(kind, name)] = detail
    return out


def _swap_schema(text: str, prefix: str, to: str) -> str:
    """``text`` with the schema ``prefix`` ("tenant_a.") made ``to`` where it starts a name: not inside a
    longer one ("data." does not hold the schema "a.")."""
    out, at = [], 0
    while (found := text.find(prefix, at)) != -1:
        before = text[found - 1] if found else " "
        out.append(text[at:found])
        out.append(prefix if before.isalnum() or before in '_$"' else to)
        at = found + len(prefix)
    out.append(text[at:])
    return "".join(out)


def schema_differences(expected: Snapshot, live: Snapshot) -> list[Difference]:
    found = diff(expected, live)
    whole = {
        d.name: d.change
        for d in found
        if d.kind in ("table", "view", "materialized view") and d.change != "changed"
    }
    folded: dict[str, dict[str, int]] = {}
    out = []
    for d in found:
        parent = _parent(d, whole) if d.kind in _CHILD_KINDS else None
        if parent is not None and whole[parent] == d.change:
            counts = folded.setdefault(parent, {})
            counts[d.kind] = counts.get(d.kind, 0) + 1
            continue
        out.append(d)
    return [_difference(d, folded.get(d.name)) for d in out]


def _parent(d, whole: dict[str, str]) -> str | None:
    name = d.name
    if d.kind == "comment":
        name = name.split(" ", 1)[-1]
    if d.kind == "index":
        table = _index_table(d.after or d.before or "")
        return table if table in whole else None
    if d.kind == "sequence":
        owner = (d.after or d.before or "").partition("owned by ")[2].rsplit(".", 1)[0]
        for table in whole:
            if owner and (table == owner or table.endswith("." + owner)):
                return table
        return None
    for table in whole:
        if name.startswith(table + ".") or name == table:
            return table
    return None


def _index_table(definition: str) -> str | None:
    """The table of a ``CREATE INDEX`` statement (pg_get_indexdef's text), as ``schema.table``."""
    from ..sql.parse import parse_tree

    stmts = parse_tree(definition.removesuffix(" INVALID").removesuffix(" NOT READY"))
    index = stmts[0]["stmt"].get("IndexStmt") if stmts else None
    if index is None:
        return None  # not an index definition
    rel = index.get("relation", {})
    return ".".join(quote(p) for p in (rel.get("schemaname"), rel.get("relname")) if p)


def _difference(d, folded: dict[str, int] | None) -> Difference:
    before, after = d.before or "", d.after or ""
    if d.change == "added":
        detail = "in the database, not in the history" + (f": {after}" if after else "")
    elif d.change == "removed":
        detail = "in the history, missing from the database" + (f": {before}" if before else "")
    else:
        detail = f"history: {before or '(empty)'}; database: {after or '(empty)'}"
    if folded:
        detail += " (with " + ", ".join(f"{n} {kind}(s)" for kind, n in sorted(folded.items())) + ")"
    if d.kind == "index" and after.endswith(("INVALID", "NOT READY")):
        detail += "; the index is INVALID (a failed CREATE INDEX CONCURRENTLY?): drop it and build it again"
    if d.kind == "constraint" and "NOT VALID" in after and "NOT VALID" not in before:
        detail += "; the constraint is NOT VALID: run ALTER TABLE ... VALIDATE CONSTRAINT"
    return Difference(d.kind, d.name, detail, "schema", d.change)


# -- checksums --------------------------------------------------------------------------------------------


def log_differences(graph, log: dict, file_sum) -> list[Difference]:
    """The migration log (revision -> last operation, checksum at apply time) against the files now;
    ``file_sum(revision)``: the checksum of the revision's file now, None when it has no file."""
    out = []
    for revision, (operation, applied) in sorted(log.items()):
        if operation == "downgrade":
            continue
        now = file_sum(revision)
        if now is None:
            if not graph.known(revision):
                out.append(
                    Difference(
                        "checksum",
                        revision,
                        "applied to the database but not in the repository",
                        "checksum",
                        "added",
                    )
                )
            continue
        if applied and applied != now:
            out.append(
                Difference(
                    "checksum",
                    revision,
                    f"the revision file changed after it was applied (applied {applied}, file now {now}): "
                    "the database did not run what the file says; undo the edit and add a new revision",
                    "checksum",
                    "changed",
                )
            )
    return out
