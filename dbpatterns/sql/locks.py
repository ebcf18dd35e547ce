"""Which table-level lock a statement takes (PostgreSQL 12-18; see the lock matrix test on a real server)."""

from __future__ import annotations

from .nodes import bare, bare_relation, option_names, qualified, truthy

ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"
EXCLUSIVE = "EXCLUSIVE"
SHARE_ROW_EXCLUSIVE = "SHARE ROW EXCLUSIVE"
SHARE = "SHARE"
SHARE_UPDATE_EXCLUSIVE = "SHARE UPDATE EXCLUSIVE"
ROW_EXCLUSIVE = "ROW EXCLUSIVE"
ROW_SHARE = "ROW SHARE"
ACCESS_SHARE = "ACCESS SHARE"

LOCK_STRENGTH = {
    ACCESS_SHARE: 1,
    ROW_SHARE: 2,
    ROW_EXCLUSIVE: 3,
    SHARE_UPDATE_EXCLUSIVE: 4,
    SHARE: 5,
    SHARE_ROW_EXCLUSIVE: 6,
    EXCLUSIVE: 7,
    ACCESS_EXCLUSIVE: 8,
}
LOCK_BY_NUMBER = {v: k for k, v in LOCK_STRENGTH.items()}

# Locks that block ordinary writes (INSERT/UPDATE/DELETE take ROW EXCLUSIVE) while held or queued.
BLOCKS_WRITES = SHARE
BLOCKS_READS = ACCESS_EXCLUSIVE


def blocks(mode: str | None) -> str:
    """'reads and writes', 'writes', or '' for a lock mode."""
    if mode is None:
        return ""
    if mode == ACCESS_EXCLUSIVE:
        return "reads and writes"
    if LOCK_STRENGTH[mode] >= LOCK_STRENGTH[SHARE]:
        return "writes"
    return ""


# ALTER TABLE subcommands that take less than ACCESS EXCLUSIVE (AlterTableGetLockLevel in tablecmds.c).
_ALTER_LOCKS = {
    "AT_SetStatistics": SHARE_UPDATE_EXCLUSIVE,
    "AT_ClusterOn": SHARE_UPDATE_EXCLUSIVE,
    "AT_DropCluster": SHARE_UPDATE_EXCLUSIVE,
    "AT_SetOptions": SHARE_UPDATE_EXCLUSIVE,
    "AT_ResetOptions": SHARE_UPDATE_EXCLUSIVE,
    "AT_ValidateConstraint": SHARE_UPDATE_EXCLUSIVE,
    "AT_AttachPartition": SHARE_UPDATE_EXCLUSIVE,
    "AT_DetachPartitionFinalize": SHARE_UPDATE_EXCLUSIVE,
    "AT_EnableTrig": SHARE_ROW_EXCLUSIVE,
    "AT_EnableAlwaysTrig": SHARE_ROW_EXCLUSIVE,
    "AT_EnableReplicaTrig": SHARE_ROW_EXCLUSIVE,
    "AT_EnableTrigAll": SHARE_ROW_EXCLUSIVE,
    "AT_EnableTrigUser": SHARE_ROW_EXCLUSIVE,
    "AT_DisableTrig": SHARE_ROW_EXCLUSIVE,
    "AT_DisableTrigAll": SHARE_ROW_EXCLUSIVE,
    "AT_DisableTrigUser": SHARE_ROW_EXCLUSIVE,
}


def alter_cmd_lock(cmd: dict) -> str:
    sub = cmd.get("subtype", "")
    if sub == "AT_AddConstraint":
        con = cmd.get("def", {}).get("Constraint", {})
        return SHARE_ROW_EXCLUSIVE if con.get("contype") == "CONSTR_FOREIGN" else ACCESS_EXCLUSIVE
    if sub == "AT_DetachPartition":
        part = cmd.get("def", {}).get("PartitionCmd", {})
        return SHARE_UPDATE_EXCLUSIVE if part.get("concurrent") else ACCESS_EXCLUSIVE
    if sub in ("AT_SetRelOptions", "AT_ResetRelOptions"):
        return SHARE_UPDATE_EXCLUSIVE
    return _ALTER_LOCKS.get(sub, ACCESS_EXCLUSIVE)


def _strongest(a: str | None, b: str) -> str:
    return b if a is None or LOCK_STRENGTH[b] > LOCK_STRENGTH[a] else a


def _referenced_tables(node) -> list[str]:
    """Tables named by FOREIGN KEY / REFERENCES constraints in a column or constraint list."""
    out = []
    for con in node:
        c = con.get("Constraint", con)
        if c.get("contype") == "CONSTR_FOREIGN" and c.get("pktable"):
            out.append(bare(qualified(c["pktable"])))
    return out


_LOCKING_KINDS = frozenset(
    {
        "AlterTableStmt",
        "IndexStmt",
        "CreateStmt",
        "DropStmt",
        "RenameStmt",
        "TruncateStmt",
        "LockStmt",
        "VacuumStmt",
        "ClusterStmt",
        "ReindexStmt",
        "UpdateStmt",
        "DeleteStmt",
        "InsertStmt",
        "MergeStmt",
        "CreateTrigStmt",
        "RefreshMatViewStmt",
    }
)
_PARTITION_SUBCOMMANDS = frozenset(
    {"AT_AttachPartition", "AT_DetachPartition"}
)  # the statements statement_locks knows; every other one locks no table here


def _take(locks: dict[str, str], table: str | None, mode: str) -> None:
    """Record that a statement takes ``mode`` on ``table`` (the strongest mode per table wins)."""
    if table:
        held = locks.get(table)
        if held is None or LOCK_STRENGTH[mode] > LOCK_STRENGTH[held]:
            locks[table] = mode


def statement_locks(kind: str, body: dict) -> list[tuple[str, str]]:
    """[(table, lock mode)] for the tables a statement locks (bare names; strongest mode per table)."""
    if kind not in _LOCKING_KINDS:
        return []
    locks: dict[str, str] = {}
    if kind == "AlterTableStmt":
        if body.get("objtype") == "OBJECT_INDEX":
            return []
        table = bare_relation(body.get("relation"))
        for item in body.get("cmds") or ():
            cmd = item.get("AlterTableCmd", {})
            _take(locks, table, alter_cmd_lock(cmd))
            definition = cmd.get("def")
            if not definition:
                continue
            if "Constraint" in definition:
                for ref in _referenced_tables([definition]):
                    _take(locks, ref, SHARE_ROW_EXCLUSIVE)
            elif "ColumnDef" in definition:
                constraints = definition["ColumnDef"].get("constraints")
                if constraints:
                    for ref in _referenced_tables(constraints):
                        _take(locks, ref, SHARE_ROW_EXCLUSIVE)
            elif "PartitionCmd" in definition and cmd.get("subtype") in _PARTITION_SUBCOMMANDS:
                # the partition itself: ACCESS EXCLUSIVE to attach, and to detach (CONCURRENTLY too: in
                # its second transaction), measured on PostgreSQL 18
                _take(locks, bare_relation(definition["PartitionCmd"].get("name")), ACCESS_EXCLUSIVE)
    elif kind == "IndexStmt":
        _take(
            locks,
            bare_relation(body.get("relation")),
            SHARE_UPDATE_EXCLUSIVE if body.get("concurrent") else SHARE,
        )
    elif kind == "CreateStmt":
        for elt in body.get("tableElts") or ():
            if "ColumnDef" in elt:
                constraints = elt["ColumnDef"].get("constraints")
                if constraints:
                    for ref in _referenced_tables(constraints):
                        _take(locks, ref, SHARE_ROW_EXCLUSIVE)
            elif "Constraint" in elt:
                for ref in _referenced_tables([elt]):
                    _take(locks, ref, SHARE_ROW_EXCLUSIVE)
        if body.get("partbound") and body.get("inhRelations"):
            # CREATE TABLE ... PARTITION OF: ACCESS EXCLUSIVE on the parent (unlike ATTACH PARTITION,
            # which takes SHARE UPDATE EXCLUSIVE since PG 12), measured on PostgreSQL 18
            for parent in body["inhRelations"]:
                _take(locks, bare_relation(parent), ACCESS_EXCLUSIVE)
    elif kind == "DropStmt" and body.get("removeType") in ("OBJECT_TABLE", "OBJECT_MATVIEW"):
        for obj in body.get("objects") or ():
            names = [n["String"]["sval"] for n in obj.get("List", {}).get("items", ()) if "String" in n]
            if names:
                _take(locks, names[-1], ACCESS_EXCLUSIVE)
    elif kind == "RenameStmt" and body.get("relation"):
        mode = SHARE_UPDATE_EXCLUSIVE if body.get("renameType") == "OBJECT_INDEX" else ACCESS_EXCLUSIVE
        _take(locks, bare_relation(body["relation"]), mode)
    elif kind == "TruncateStmt":
        for rel in body.get("relations") or ():
            _take(locks, bare_relation(rel), ACCESS_EXCLUSIVE)
    elif kind == "LockStmt":
        mode = LOCK_BY_NUMBER.get(body.get("mode", 8), ACCESS_EXCLUSIVE)
        for rel in body.get("relations") or ():
            _take(locks, bare_relation(rel), mode)
    elif kind == "VacuumStmt":
        opts = option_names(body.get("options"))
        full = "full" in opts and truthy(opts["full"])
        for rel in body.get("rels") or ():
            target = rel.get("VacuumRelation", {}).get("relation")
            _take(locks, bare_relation(target), ACCESS_EXCLUSIVE if full else SHARE_UPDATE_EXCLUSIVE)
    elif kind == "ClusterStmt":
        _take(locks, bare_relation(body.get("relation")), ACCESS_EXCLUSIVE)
    elif kind == "ReindexStmt" and body.get("kind") == "REINDEX_OBJECT_TABLE":
        concurrent = "concurrently" in option_names(body.get("params"))
        _take(locks, bare_relation(body.get("relation")), SHARE_UPDATE_EXCLUSIVE if concurrent else SHARE)
    elif kind in ("UpdateStmt", "DeleteStmt", "InsertStmt", "MergeStmt"):
        _take(locks, bare_relation(body.get("relation")), ROW_EXCLUSIVE)
    elif kind == "RefreshMatViewStmt":  # CONCURRENTLY lets reads through, not writes
        _take(
            locks,
            bare_relation(body.get("relation")),
            EXCLUSIVE if body.get("concurrent") else ACCESS_EXCLUSIVE,
        )
    elif kind == "CreateTrigStmt":
        _take(locks, bare_relation(body.get("relation")), SHARE_ROW_EXCLUSIVE)
    return list(locks.items())
