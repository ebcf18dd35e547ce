"""Load the data-driven lint rule fixtures (tests/fixtures/rules/<rule-id>.toml) and lint their cases.

Shared by tests/test_rule_fixtures.py (does each rule fire where it should and stay quiet where it should)
and tests/test_rewrite_claims.py (are the lock and rewrite claims of the findings true on a real server).

A fixture file holds ``[[fire]]`` cases (the rule must report at least once) and ``[[clean]]`` cases (it
must not report). Each case has a ``name`` and exactly one of:

* ``sql``: the text of a .sql migration;
* ``python``: the body of ``upgrade()`` of an Alembic revision (wrapped in a full revision file by
  :func:`revision_text`, with ``from alembic import op``, ``import sqlalchemy as sa``, revision ids and a
  downgrade, ``downgrade`` when given, else a harmless ``op.execute("SELECT 1")``);
* ``revision``: the whole text of an Alembic revision file.

Optional keys: ``pg_version`` (a major version, or "14.3" with the minor release), ``sql_in_transaction``,
``lock_timeout_in_env``, ``statement_timeout_in_env``, ``extend_select`` (lint settings); ``rule`` (the rule
the case is about, when not the file's: doc-only rules such as ``use-repack`` share a file); ``line`` (line of
the rule's first finding: in ``python`` counted from the first line of the snippet, elsewhere from the first
line of the text); ``count`` (exact number of findings of the rule); ``message`` (a substring of the first
finding's message); ``offline`` (lint the revision through Alembic's offline mode, ``dbpatterns lint
--offline``); and, for the server test, ``setup`` (SQL that creates what the case's statements need),
``server_error`` (a substring of the error PostgreSQL raises running the case: the statement is rejected, so
there are no locks to compare), ``expect_scan`` (true or false: whether the last statement scans a table to
validate it) and, on clean cases, ``expect_no_rewrite`` (no table or index of the setup gets a new
relfilenode)."""

from __future__ import annotations

import re
import textwrap
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from dbpatterns.findings import Finding
from dbpatterns.lint import Settings, lint_revision, lint_sql
from dbpatterns.settings import CURRENT_PG_VERSION, pg_minor_of

FIXTURES = Path(__file__).parent / "fixtures" / "rules"

SOURCE_KEYS = ("sql", "python", "revision")
CASE_KEYS = {
    "name",
    *SOURCE_KEYS,
    "downgrade",
    "rule",
    "pg_version",
    "sql_in_transaction",
    "lock_timeout_in_env",
    "statement_timeout_in_env",
    "extend_select",
    "line",
    "count",
    "message",
    "offline",
    "setup",
    "server_error",
    "expect_no_rewrite",
    "expect_scan",
    "trace_setup",  # lint --trace: SQL run before the case on a throwaway server (cross-check only)
    "summed",  # checksum-mismatch: the revision's text when `dbpatterns sum` ran (the case lints a project)
}
KINDS = ("fire", "clean")

REVISION_ID = "1f2e3d4c5b6a"
DOWN_REVISION_ID = "0a9b8c7d6e5f"
_HEADER = '''"""{title}

Revision ID: {rev}
Revises: {down}
Create Date: 2025-01-01 00:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "{rev}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
'''
UPGRADE_BODY_LINE = _HEADER.count("\n") + 1  # the line of the snippet's first line in the revision


@dataclass(frozen=True)
class Case:
    file: str  # the fixture file's stem (a rule id)
    kind: str  # "fire" or "clean"
    index: int  # position among the file's cases of this kind
    data: dict

    @property
    def rule(self) -> str:
        return self.data.get("rule", self.file)

    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def id(self) -> str:
        return f"{self.rule}/{self.kind}/{slug(self.name)}"

    @property
    def source(self) -> str:
        return next(key for key in SOURCE_KEYS if key in self.data)

    @property
    def is_python(self) -> bool:
        return self.source != "sql"

    @property
    def pg_major(self) -> int | None:
        """The ``pg_version`` the case is linted for (None: the default, the newest release)."""
        version = self.data.get("pg_version")
        return None if version is None else int(str(version).split(".")[0])

    def settings(self) -> Settings:
        data = self.data
        version = data.get("pg_version", CURRENT_PG_VERSION)
        return Settings(
            pg_version=int(str(version).split(".")[0]),
            pg_minor=pg_minor_of(version),
            sql_in_transaction=data.get("sql_in_transaction", False),
            lock_timeout_in_env=data.get("lock_timeout_in_env", False),
            statement_timeout_in_env=data.get("statement_timeout_in_env"),
            extend_select=frozenset(data.get("extend_select", ())),
        )

    def text(self) -> str:
        """The migration file's text: SQL or a whole revision."""
        if self.source == "sql":
            return self.data["sql"]
        if self.source == "revision":
            return self.data["revision"]
        return revision_text(self.name, self.data["python"], self.data.get("downgrade"))

    def line_offset(self) -> int:
        """Added to a ``line`` given in the fixture to get the line in :meth:`text`."""
        return UPGRADE_BODY_LINE - 1 if self.source == "python" else 0


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def revision_text(title: str, upgrade_body: str, downgrade_body: str | None = None) -> str:
    """A complete Alembic revision file around the body of ``upgrade()``."""
    if downgrade_body is None:
        downgrade_body = 'op.execute("SELECT 1")'
    title = title.replace('"""', "'''")
    return (
        _HEADER.format(title=title, rev=REVISION_ID, down=DOWN_REVISION_ID)
        + textwrap.indent(textwrap.dedent(upgrade_body).strip("\n"), "    ")
        + "\n\n\ndef downgrade() -> None:\n"
        + textwrap.indent(textwrap.dedent(downgrade_body).strip("\n"), "    ")
        + "\n"
    )


@cache
def load_files() -> dict[str, dict]:
    """Every fixture file, parsed: {stem: {"fire": [...], "clean": [...]}}."""
    files = {}
    for path in sorted(FIXTURES.glob("*.toml")):
        with path.open("rb") as handle:
            files[path.stem] = tomllib.load(handle)
    return files


@cache
def load_cases() -> tuple[Case, ...]:
    cases = []
    for stem, data in load_files().items():
        for kind in KINDS:
            for i, case in enumerate(data.get(kind, ())):
                cases.append(Case(stem, kind, i, case))
    return tuple(cases)


def alembic_static_available() -> str | None:
    """None when Alembic revisions can be linted statically, else why not."""
    try:
        from dbpatterns.alembic.static import read_revision  # noqa: F401
    except ImportError as exc:  # another engineer's module, possibly mid-change
        return f"dbpatterns.alembic.static is not importable yet: {exc}"
    return None


def _trace_findings(case: Case, text: str, findings: list[Finding], tmp_dir: Path | None) -> list[Finding]:
    """What ``lint --trace`` adds: the findings' claims cross-checked on a throwaway server."""
    from dbpatterns.trace import trace_and_cross_check

    if tmp_dir is None:
        raise ValueError("trace cases need a folder to write the migration to")
    display = f"{slug(case.name)}.sql"
    (tmp_dir / display).write_text(text, encoding="utf-8")
    (tmp_dir / "setup.sql").write_text(case.data["trace_setup"], encoding="utf-8")
    return trace_and_cross_check([(display, tmp_dir / display)], findings, setup=tmp_dir / "setup.sql")


def lint_case(case: Case, tmp_dir: Path | None = None) -> list[Finding]:
    """All findings of the case's migration (every rule of the default set, plus ``extend_select``)."""
    settings = case.settings()
    text = case.text()
    if case.source == "sql":
        findings = lint_sql(text, f"{slug(case.name)}.sql", settings)
        if "trace_setup" in case.data:
            findings += _trace_findings(case, text, findings, tmp_dir)
        return findings
    if "summed" in case.data:
        return _summed_project_findings(case, text, tmp_dir)
    if case.data.get("offline"):
        if tmp_dir is None:
            raise ValueError("offline cases need a folder to write the revision to")
        path = tmp_dir / f"{REVISION_ID}_{slug(case.name).replace('-', '_')}.py"
        path.write_text(text, encoding="utf-8")
        return lint_revision(text, str(path), settings, offline=path)
    return lint_revision(text, f"versions/{REVISION_ID}_{slug(case.name)}.py", settings)


def _summed_project_findings(case: Case, text: str, tmp_dir: Path) -> list[Finding]:
    """Lint an Alembic project whose sum file was written when the revision read ``summed``."""
    from dbpatterns.checksums import write_sums
    from dbpatterns.lint import lint_paths

    versions = tmp_dir / "project" / "migrations" / "versions"
    versions.mkdir(parents=True)
    (tmp_dir / "project" / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    revision = versions / f"{REVISION_ID}_{slug(case.name).replace('-', '_')}.py"
    revision.write_text(case.data["summed"], encoding="utf-8")
    write_sums(tmp_dir / "project")
    revision.write_text(text, encoding="utf-8")
    return lint_paths([str(tmp_dir / "project")], case.settings())[0]
