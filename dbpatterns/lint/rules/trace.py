"""The rule `lint --trace` reports when a finding's claim and the server disagree."""

from __future__ import annotations

from ..registry import doc_only_rule

doc_only_rule(
    "trace-disagrees",
    summary="`lint --trace`: what a finding says about locks or rewrites is not what PostgreSQL did",
    fix="Nothing to change in the migration: trust the trace (`dbpatterns trace`). When the rule said the "
    "statement *may* rewrite or lock (it could not see the schema), the trace settles it (severity info); "
    "otherwise the rule has a bug: report the finding and this message to dbpatterns.",
    doc="""
    ## What it does
    With `--trace` (and `--setup FILE` for the schema the migration changes), every `.sql` file is run
    statement by statement on a scratch PostgreSQL database, and each finding that names a lock mode or a
    table rewrite is compared with what the statement did there: the lock modes its backend took on the
    table (`pg_locks`) and whether the table got a new relfilenode. Each disagreement is reported at the
    finding's line. Statements that cannot run in a transaction (`CONCURRENTLY`, `VACUUM`) are observed by
    sampling `pg_locks` from a second connection; a lock held for less than a sampling round trip is not
    counted as a disagreement. A claim the rule itself qualifies ("may rewrite": it could not see the old
    column type) is reported with severity info: the trace settles it, nothing is wrong with the rule.

    ## Why is this bad?
    The lint's claims decide whether a migration is reviewed as blocking reads, blocking writes or safe.
    A wrong claim is a bug in dbpatterns' rules, not in the migration: the trace is what the server did.

    ## Example
    ```sql
    -- setup: CREATE TABLE t (v varchar(100));
    ALTER TABLE t ALTER COLUMN v TYPE varchar(200);  -- a rule claiming a rewrite here would be wrong
    ```

    ## Use instead
    Keep the migration; report the disagreement so the rule is fixed.

    ## References
    - https://www.postgresql.org/docs/current/explicit-locking.html
    - https://www.postgresql.org/docs/current/view-pg-locks.html
    """,
)
