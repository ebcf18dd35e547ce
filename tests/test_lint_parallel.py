"""Linting many files in forked workers gives what linting them in one process gives, in the same order."""

from __future__ import annotations

import json
import sys

import pytest

from dbpatterns.errors import InputError
from dbpatterns.lint import Settings, lint_paths
from dbpatterns.lint import run as lint_run

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")

STATEMENTS = [
    "ALTER TABLE users ADD COLUMN n{i} integer NOT NULL;",
    "CREATE INDEX ix_{i} ON orders (customer_id);",
    "BEGIN;\nALTER TABLE t{i} ADD CONSTRAINT c FOREIGN KEY (a) REFERENCES p (id);\nUPDATE t{i} SET a = 1;",
    "SELECT 1;",
    "ALTER TABLE users ADD COLUMN broken {i} syntax;",
]


@pytest.fixture
def folder(tmp_path):
    for i in range(150):
        (tmp_path / f"{i:04d}_m.sql").write_text(STATEMENTS[i % len(STATEMENTS)].format(i=i) + "\n")
    (tmp_path / "0200_latin1.sql").write_bytes("-- caf\xe9\n".encode("latin-1"))
    return tmp_path


@pytest.mark.parametrize("jobs", [2, 3, 7])
def test_forked_workers_match_one_process(folder, jobs):
    alone, count = lint_paths([str(folder)], Settings(), jobs=1)
    shared, shared_count = lint_paths([str(folder)], Settings(), jobs=jobs)
    assert shared_count == count == 151
    assert shared == alone
    assert [f.source for f in shared] == [f.source for f in alone]
    assert {f.rule for f in alone} >= {"add-column-required", "syntax-error", "create-index-non-concurrently"}


def test_findings_without_their_source_lines_differ_in_nothing_else(folder, tmp_path_factory):
    """JSON output has no place for the source line, so its lint skips reading it out."""
    revision = tmp_path_factory.mktemp("rev") / "0001_r.py"
    revision.write_text(
        'revision = "a1"\ndown_revision = None\nfrom alembic import op\nimport sqlalchemy as sa\n\n'
        'def upgrade():\n    op.add_column("users", sa.Column("n", sa.Integer(), nullable=False))\n\n'
        'def downgrade():\n    op.drop_column("users", "n")\n'
    )
    for path in (folder, revision):
        with_sources, *_ = lint_run._lint_chunks([str(path)], Settings(), jobs=1)
        without, *_ = lint_run._lint_chunks([str(path)], Settings(), jobs=1, sources=False)
        assert without == with_sources and with_sources[0]
        assert any(f.source for f in with_sources[0]) and not any(f.source for f in without[0])


def test_an_error_in_a_worker_is_raised_here(folder, monkeypatch):
    text_of = lint_run.lint_text

    def failing(text, path, settings, **options):
        if path.endswith(("0007_m.sql", "0120_m.sql")):
            raise InputError(f"{path}: cannot read")
        return text_of(text, path, settings, **options)

    monkeypatch.setattr(lint_run, "lint_text", failing)
    with pytest.raises(InputError, match="0007_m.sql"):  # the first failing file, whichever process read it
        lint_paths([str(folder)], Settings(), jobs=3)


def test_an_empty_folder_with_jobs(tmp_path):
    assert lint_paths([str(tmp_path)], Settings(), jobs=4) == ([], 0)


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_workers_render_the_json_document_json_bytes_renders(folder, jobs):
    from dbpatterns.lint.run import lint_paths_json, lint_report
    from dbpatterns.output.text import json_items, json_pieces

    result = lint_report([str(folder)], Settings(), jobs=1)
    findings, files = result.findings, result.files
    pieces, count, rendered_files = lint_paths_json([str(folder)], Settings(), jobs=jobs)
    assert b"".join(pieces) == b"".join(json_pieces([json_items(findings)], {"stats": result.stats}))
    assert result.stats["seen"] > 100
    assert (count, rendered_files) == (len(findings), files) and count > 100


def test_json_parts_join_into_one_document():
    from dbpatterns.findings import Finding
    from dbpatterns.output.text import json_bytes, json_items, json_pieces

    a = [Finding("r", "error", "p.sql", 1, 2, 'say "x"\n é {t}', "SHARE", "t", True, "fix\n  step")]
    b = [Finding("q", "warning", "q.sql", 3, 1, "tab\there \u2028")] * 2
    for parts in ([], [a], [[], a, [], b, []], [b, a]):
        joined = b"".join(json_pieces([json_items(p) for p in parts]))
        assert joined == json_bytes([f for p in parts for f in p])
        whole = {"findings": [f.to_dict() for p in parts for f in p]}
        assert json.loads(joined) == whole
        assert joined.decode() == json.dumps(whole, indent=2, ensure_ascii=False) + "\n"  # the layout


@pytest.mark.parametrize("jobs", [2, 3, 7])
def test_a_history_settled_while_the_workers_lint_matches_one_process(tmp_path, jobs):
    """A folder of versioned SQL files whose name order is not its version order (V2 before V10, but
    "V10" < "V2" as text): the questions settled as the chunks come in (history.Streaming) give what the
    settle after the lint gives in one process, JSON included."""
    for i in range(1, 121):
        if i % 3 == 1:
            sql = f"CREATE TABLE t{i} (id int PRIMARY KEY, name varchar(50), n int, code int);"
        elif i % 3 == 2:  # the table of the file before: widening is clean, int to bigint a rewrite
            sql = (
                f"SET lock_timeout = '2s';\nALTER TABLE t{i - 1} ALTER COLUMN name TYPE varchar(80);\n"
                f"ALTER TABLE t{i - 1} ALTER COLUMN n TYPE bigint;\n"
                f"ALTER TABLE t{i - 1} ALTER COLUMN id SET NOT NULL;"
            )
        else:  # a table no file created: the old type stays unknown ("may")
            sql = f"SET lock_timeout = '2s';\nALTER TABLE elsewhere ALTER COLUMN c{i} TYPE text;"
        (tmp_path / f"V{i}__m.sql").write_text(sql + "\n")
    alone, _ = lint_paths([str(tmp_path)], Settings(), jobs=1)
    shared, _ = lint_paths([str(tmp_path)], Settings(), jobs=jobs)
    assert shared == alone
    messages = {f.message.split(";")[1].strip()[:20] for f in alone if f.rule == "change-column-type"}
    assert messages == {"integer to bigint is", "the old type is not "}  # the widening is clean
    assert not [f for f in alone if f.rule == "set-not-null"]  # a primary key column is NOT NULL already
    one, _, _ = lint_run.lint_paths_json([str(tmp_path)], Settings(), jobs=1)
    many, _, _ = lint_run.lint_paths_json([str(tmp_path)], Settings(), jobs=jobs)
    assert b"".join(many) == b"".join(one)


def test_ctrl_c_during_a_forked_lint_stops_the_workers_and_says_so(tmp_path):
    """SIGINT while the workers lint: the command says it was interrupted, exits 130, and leaves no worker
    behind (they are stopped, not waited for)."""
    import signal
    import subprocess
    import time

    for i in range(4000):
        (tmp_path / f"{i:05d}_m.sql").write_text(f"ALTER TABLE t ADD COLUMN c{i} integer NOT NULL;\n" * 50)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dbpatterns.cli", "lint", "--no-cache", "--jobs", "2", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.8)  # the workers are forked and linting (the whole lint takes several seconds)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert (proc.returncode, err.strip()) == (130, "dbpatterns: interrupted")
    time.sleep(0.2)
    assert not _processes_naming(str(tmp_path))  # no worker outlives the command


def _processes_naming(text: str) -> list[str]:
    """The ids of the processes whose command line holds ``text`` (from /proc)."""
    from pathlib import Path

    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                found.append(entry.name)
        except OSError:
            continue
    return found
