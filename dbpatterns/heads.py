"""``dbpatterns heads``: the heads and branches of an Alembic project's history, read from the revision files
statically (:mod:`dbpatterns.alembic.graph`): no revision and no application module imported unless a
revision's ids are not literals.

from dbpatterns.heads import show_heads

report = show_heads("path/to/project")
report.heads        # [Head(revision, branch_labels, doc, path, down_revision), ...]
report.single       # one head: nothing to merge
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from .alembic.graph import project_graph
from .alembic.project import as_project
from .shapes import Record, computed, described


@dataclass(frozen=True, slots=True)
class Head(Record):
    revision: str
    branch_labels: tuple[str, ...]
    doc: str
    path: str
    down_revision: tuple[str, ...]


@dataclass
class HeadsReport(Record):
    JSON_COMPUTED: ClassVar[dict] = {"single": computed(bool, "one head: nothing to merge")}

    heads: list[Head]
    branch_points: list[str] = described("revisions with several children", default_factory=list)
    merge_points: list[str] = described("revisions with several parents", default_factory=list)
    revisions: int = 0

    @property
    def single(self) -> bool:
        return len(self.heads) <= 1


def show_heads(project_dir=".", name: str | None = None) -> HeadsReport:
    """The heads of the project (a folder, or a :class:`~dbpatterns.alembic.project.Project`) read from the
    revision files statically: a file is imported only when its ids are not literals."""
    project = as_project(project_dir, name)
    return heads_of_graph(project_graph(project), project.root)


def heads_of_graph(graph, root: Path) -> HeadsReport:
    """The report of a :class:`~dbpatterns.alembic.graph.RevisionGraph`."""
    heads = [
        Head(
            node.revision,
            tuple(sorted(node.branch_labels)),
            node.doc,
            os.path.relpath(node.path, root),
            node.down_revisions,
        )
        for node in (graph.nodes[r] for r in graph.heads)
    ]
    return HeadsReport(heads, graph.branch_points, graph.merge_points, len(graph.nodes))


def heads_of(script, root: Path) -> HeadsReport:
    """The report of Alembic's ``ScriptDirectory`` (every revision imported)."""
    revisions = list(script.walk_revisions())
    heads = []
    for rev in script.get_revisions("heads"):
        heads.append(
            Head(
                rev.revision,
                tuple(sorted(rev.branch_labels)),
                (rev.doc or "").strip().splitlines()[0] if rev.doc else "",
                os.path.relpath(rev.path, root) if getattr(rev, "path", None) else "",
                tuple(rev._versioned_down_revisions),
            )
        )
    heads.sort(key=lambda h: h.revision)
    return HeadsReport(
        heads,
        sorted(r.revision for r in revisions if r.is_branch_point),
        sorted(r.revision for r in revisions if r.is_merge_point),
        len(revisions),
    )


def render_text(report: HeadsReport) -> str:
    lines = []
    for head in report.heads:
        labels = f" ({', '.join(head.branch_labels)})" if head.branch_labels else ""
        parents = ", ".join(head.down_revision) or "base"
        lines.append(f"{head.revision}{labels} (head) <- {parents}: {head.doc}  [{head.path}]")
    if report.branch_points:
        lines.append(f"branch points: {', '.join(report.branch_points)}")
    if report.merge_points:
        lines.append(f"merge points: {', '.join(report.merge_points)}")
    if not report.heads:
        lines.append("no revisions")
    elif report.single:
        lines.append(f"one head, {report.revisions} revision(s)")
    else:
        lines.append(f"{len(report.heads)} heads: merge them (dbpatterns new merge, or alembic merge heads)")
    return "\n".join(lines) + "\n"
