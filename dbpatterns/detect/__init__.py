"""``dbpatterns detect``: model changes that no migration covers yet, with their risk and safe template.

    from dbpatterns.detect import detect_changes, write_revision

    report = detect_changes("path/to/project", models="app.models:Base")
    [c.to_dict() for c in report.changes]          # kind, table, column, risk, template, detail
    report = write_revision("path/to/project", "add orders.note")   # the revision(s), safe forms

The history is applied to a scratch database (embedded PostgreSQL, or created on ``db``'s server and
dropped after) by the project's own env.py; the models are compared there with Alembic's autogenerate
(types and server defaults included) plus the catalog for CHECK constraints and enum values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_attributes
from .model import RISKS, Change, DetectReport, ModelEdit, Written

if TYPE_CHECKING:
    from .changes import at_head, detect_changes, write_revision

__all__ = [
    "RISKS",
    "Change",
    "DetectReport",
    "ModelEdit",
    "Written",
    "at_head",
    "detect_changes",
    "write_revision",
]


__getattr__ = lazy_attributes(
    __name__, {"at_head": "changes", "detect_changes": "changes", "write_revision": "changes"}
)
