"""What detect reports: one :class:`Change` per model change no migration covers, with its risk and the
``dbpatterns new`` template that makes it safely."""

from __future__ import annotations

from dataclasses import dataclass, field

# Risks, mildest first. A change carries every risk that applies; ``risk`` is the worst of them.
SAFE = "safe"
LOCKS = "locks"  # blocks reads or writes of the table while it runs (a scan or build under a strong lock)
REWRITES = "rewrites"  # rewrites every row (and rebuilds the indexes) under ACCESS EXCLUSIVE
BREAKS = "breaks-running-code"  # code deployed before the change fails against the new schema
DESTROYS = "destroys-data"  # data is gone after the change
RISKS = (SAFE, LOCKS, REWRITES, BREAKS, DESTROYS)


@dataclass(slots=True)
class Change:
    kind: str  # add_table, drop_column, rename_column, change_type, add_enum_value, ...
    table: str | None
    column: str | None
    risks: tuple[str, ...]
    template: str | None  # the `dbpatterns new` pattern that makes the change safely, when one does
    detail: str
    name: str | None = None  # the index, constraint or enum the change is about
    model: str | None = None  # the model class mapped to the table, when known
    extra: dict = field(default_factory=dict)  # kind-specific facts (old name, enum value, types)

    @property
    def risk(self) -> str:
        return max(self.risks, key=RISKS.index) if self.risks else SAFE

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "table": self.table,
            "column": self.column,
            "name": self.name,
            "risk": self.risk,
            "risks": list(self.risks),
            "template": self.template,
            "detail": self.detail,
            "model": self.model,
            **self.extra,
        }


@dataclass(slots=True)
class Written:
    """A revision file ``--write`` created."""

    path: str
    revision: str
    down_revision: str | None

    def to_dict(self) -> dict:
        return {"path": self.path, "revision": self.revision, "down_revision": self.down_revision}


@dataclass(slots=True)
class ModelEdit:
    """A model class whose definition changed since a git ref (``--since``)."""

    path: str
    name: str
    status: str  # added, changed, removed
    table: str | None = None

    def to_dict(self) -> dict:
        return {"path": self.path, "class": self.name, "status": self.status, "table": self.table}


@dataclass(slots=True)
class DetectReport:
    changes: list[Change] = field(default_factory=list)
    head: str | None = None  # the history's head the models were compared with
    since: str | None = None  # the git ref of --since
    edits: list[ModelEdit] = field(default_factory=list)
    written: list[Written] = field(default_factory=list)
    deferred: list[Change] = field(default_factory=list)  # --write left these out: see their detail
    lint: list = field(default_factory=list)  # lint findings on the written revisions

    @property
    def ok(self) -> bool:
        """No change left: the history covers the models (after --write, nothing was deferred)."""
        if self.written:
            return not self.deferred and not self.lint
        return not self.changes  # (--write with every change left out writes nothing)

    def to_dict(self) -> dict:
        out: dict = {"changes": [c.to_dict() for c in self.changes], "head": self.head}
        if self.since is not None:
            out["since"] = {"ref": self.since, "models": [e.to_dict() for e in self.edits]}
        if self.written or self.deferred:
            out["written"] = [w.to_dict() for w in self.written]
            out["deferred"] = [c.to_dict() for c in self.deferred]
            out["lint"] = [f.to_dict() for f in self.lint]
        return out
