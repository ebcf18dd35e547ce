"""``dbpatterns verify``: run an Alembic project's whole history on a scratch database and check it.

    from dbpatterns.verify import verify_project

    report = verify_project("path/to/project")          # embedded throwaway PostgreSQL
    report = verify_project("path", db="postgresql://u@host/postgres")   # a scratch database on that server
    report.ok, [c.to_dict() for c in report.checks]

Checks (see :mod:`dbpatterns.verify.checks`): single_head, upgrade, models_match, downgrade, stairway,
downgrade_no_trace, downgrade_keeps_data; every table gets generated rows before each revision (``rows``,
default ``[tool.dbpatterns] verify_rows`` or 3; 0 turns them off). ``progress(text)`` is told each step.
Input errors (not an Alembic project, an env.py that does not import, unknown models) raise
:class:`~dbpatterns.errors.InputError` before any server starts where they can.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_attributes
from .model import CHECKS, Check, Report

if TYPE_CHECKING:
    from .run import verify_empty_database, verify_project

__all__ = ["CHECKS", "Check", "Report", "verify_empty_database", "verify_project"]


__getattr__ = lazy_attributes(__name__, {"verify_empty_database": "run", "verify_project": "run"})
