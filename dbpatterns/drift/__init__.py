"""``dbpatterns drift``: a live database against the migration history, the models and the checksums.

    from dbpatterns.drift import check_drift

    summary = check_drift("path/to/project", ["postgresql://app@db/prod"], schemas=None)
    summary.in_sync, summary.to_dict()

For every target (a database URL, or one tenant schema of it with ``schemas``) it reports:

- revision status: the ``alembic_version`` rows against the project's heads: ``up to date``, ``behind``
  (with the pending revisions), ``unknown`` (a revision the repository does not have: the database is
  ahead of this checkout or on another branch) or ``unversioned`` (no version table);
- schema drift: the live catalog against the schema the history produces at the database's own revision
  (the history applied to a scratch database on a throwaway embedded PostgreSQL, as a role made for the run
  that owns only that database, as trace and verify run it; ``--superuser`` opts out; on a server named by
  ``DBPATTERNS_SERVER_URL`` or ``server_url`` as the URL's role; the heads when the database's revision is
  unknown). The summary's ``run_as`` says whom the history ran as (absent when it came from the cache).
  Tables, columns (type, nullability, default), indexes (INVALID ones
  too), constraints (NOT VALID ones too), enums, sequences, views, functions, triggers, extensions,
  policies and comments; privileges and extension versions are not compared. The children of a table that
  is added or removed as a whole are folded into its line;
- model drift, when models are configured (``--models`` or ``[tool.dbpatterns] models``): Alembic's
  autogenerate comparison of the models with the live database;
- checksum drift: the revision files against the sum file (``dbpatterns sum``) and against the checksums
  the env.py helper :func:`dbpatterns.env.record_applied` logged when each revision was applied.

Targets are read concurrently, every connection read-only (``default_transaction_read_only=on``); nothing
is ever written to them. Passwords never appear in the output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_attributes
from .model import Difference, DriftReport, DriftSummary, Revision

if TYPE_CHECKING:
    from .run import check_drift, read_db_file

__all__ = ["Difference", "DriftReport", "DriftSummary", "Revision", "check_drift", "read_db_file"]


__getattr__ = lazy_attributes(__name__, {"check_drift": "run", "read_db_file": "run"})
