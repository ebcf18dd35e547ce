"""The lint report's ``stats``: every operation seen is counted as analysed (partially or not), skipped
under a guard that is false on PostgreSQL, or unanalysed, summed over every migration linted, whether one
process linted them or forked workers did."""

from __future__ import annotations

import json
import sys

import pytest
from alembic_builder import write_project

from dbpatterns.cli import main
from dbpatterns.contracts import LintResult
from dbpatterns.lint import Settings
from dbpatterns.lint.run import STAT_KEYS, lint_report

REVISIONS = 40  # with --jobs 3 the files are cut into several chunks (at least 4 files each)
SQL_FILES = 6

# one revision: 2 analysed operations (one with a name known only at run time), 2 under a MySQL guard,
# 1 whose SQL is built at run time, and 1 analysed operation in downgrade()
UPGRADE = """
name = os.environ["NAME"]
op.add_column("t", sa.Column("a{i}", sa.Integer()))
op.create_index(f"ix_{{name}}", "t", ["a{i}"])
if op.get_bind().dialect.name == "mysql":
    op.execute("ALTER TABLE `t` ENGINE=InnoDB")
    op.drop_column("t", "b")
op.execute(build_sql())
"""
DOWNGRADE = 'op.drop_column("t", "a{i}")'
PER_REVISION = {"seen": 6, "analysed": 3, "partial": 1, "skipped": 2, "unanalysed": 1}

# one SQL file: two statements that parse, one that does not
SQL = "CREATE TABLE s{i} (id int);\nALTER TABLE s{i} ADD COLUMN b int;\nALTER TABLE s{i} ADD COLUMN c 1 x;\n"
PER_SQL_FILE = {"seen": 3, "analysed": 2, "partial": 0, "skipped": 0, "unanalysed": 1}


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    root = tmp_path_factory.mktemp("stats")
    revisions, parent = [], None
    for i in range(1, REVISIONS + 1):
        revisions.append((f"r{i}", parent, UPGRADE.format(i=i), DOWNGRADE.format(i=i)))
        parent = f"r{i}"
    project = write_project(root / "project", revisions)
    sql = root / "sql"
    sql.mkdir()
    for i in range(1, SQL_FILES + 1):
        (sql / f"V{i}__s.sql").write_text(SQL.format(i=i))
    return [str(project), str(sql)]


def expected(revisions: int, sql_files: int) -> dict:
    return {k: revisions * PER_REVISION[k] + sql_files * PER_SQL_FILE[k] for k in STAT_KEYS}


def test_the_counts_add_up_per_migration():
    for per in (PER_REVISION, PER_SQL_FILE):
        assert per["analysed"] + per["skipped"] + per["unanalysed"] == per["seen"]


@pytest.mark.parametrize("jobs", [1, 3])
def test_stats_are_summed_over_every_migration(paths, jobs):
    if jobs > 1 and sys.platform != "linux":
        pytest.skip("workers are forked on Linux only")
    result = lint_report(paths, Settings(), jobs=jobs)
    assert result.files == REVISIONS + SQL_FILES
    assert result.stats == expected(REVISIONS, SQL_FILES)
    # every unanalysed operation is reported: an opaque revision op, or a SQL piece that does not parse
    rules = [f.rule for f in result.findings]
    assert rules.count("opaque-operation") == REVISIONS
    assert rules.count("syntax-error") == SQL_FILES


def test_migrations_skipped_by_start_after_are_not_counted(paths):
    result = lint_report(paths[:1], Settings(), jobs=1, start_after=["r10"])
    assert result.skipped == 10
    assert result.stats == expected(REVISIONS - 10, 0)


@pytest.mark.parametrize("jobs", ["1", "3"])
def test_the_json_report_carries_stats(paths, jobs, capsys):
    if jobs != "1" and sys.platform != "linux":
        pytest.skip("workers are forked on Linux only")
    assert main(["lint", "--format", "json", "--jobs", jobs, *paths]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["stats"] == expected(REVISIONS, SQL_FILES)
    LintResult.model_validate(doc)


def test_sarif_run_properties_carry_stats(paths, capsys):
    assert main(["lint", "--format", "sarif", "--jobs", "1", *paths]) == 1
    run = json.loads(capsys.readouterr().out)["runs"][0]
    assert run["properties"]["stats"] == expected(REVISIONS, SQL_FILES)


def test_text_says_what_was_not_checked_only_when_something_was_not(paths, tmp_path, capsys):
    assert main(["lint", "--jobs", "1", *paths]) == 1
    last = capsys.readouterr().out.splitlines()[-1]
    want = expected(REVISIONS, SQL_FILES)
    assert last == (
        f"{want['seen']} operation(s) seen, {want['analysed']} analysed; {want['skipped']} skipped under a "
        f"guard that is false on PostgreSQL, {want['unanalysed']} not analysed (see opaque-operation and "
        "syntax-error)"
    )
    (tmp_path / "V1__ok.sql").write_text("CREATE TABLE t (id int);\n")
    main(["lint", str(tmp_path / "V1__ok.sql")])
    out = capsys.readouterr().out
    assert "operation(s) seen" not in out


def test_a_revision_that_is_not_python_counts_nothing(tmp_path):
    (tmp_path / "r.py").write_text('revision = "x"\ndown_revision = None\n\ndef upgrade(:\n    pass\n')
    result = lint_report([str(tmp_path / "r.py")], Settings(), jobs=1)
    assert [f.rule for f in result.findings] == ["syntax-error"]
    assert result.stats == dict.fromkeys(STAT_KEYS, 0)
