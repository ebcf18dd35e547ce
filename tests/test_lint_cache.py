"""Lint results cached by content (dbpatterns.lint.cache): a warm run gives what a cold one gives, the
history still settles against the predecessors as they are now, and nothing stale survives a change of
text, settings or code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dbpatterns.lint import cache as cache_module
from dbpatterns.lint import run as lint_run
from dbpatterns.settings import Settings


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("DBPATTERNS_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def counted(monkeypatch):
    """How many files were really linted (not taken from the cache)."""
    calls = []
    real = lint_run.lint_text

    def lint_text(text, path, *args, **kwargs):
        calls.append(path)
        return real(text, path, *args, **kwargs)

    monkeypatch.setattr(lint_run, "lint_text", lint_text)
    return calls


def _history(folder: Path, first_type: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "V1__create.sql").write_text(
        f"CREATE TABLE accounts (id bigint PRIMARY KEY, note {first_type});\n"
    )
    (folder / "V2__widen.sql").write_text(
        "SET lock_timeout = '2s';\nALTER TABLE accounts ALTER COLUMN note TYPE varchar(200);\n"
    )
    return folder


def _shards(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "lint").glob("*/*.json"))


def _lint(paths, settings=None, **kwargs):
    return [
        f.to_dict() for f in lint_run.lint_paths([str(p) for p in paths], settings or Settings(), **kwargs)[0]
    ]


def test_warm_run_reads_the_cache_and_gives_the_same_findings(tmp_path, cache_dir, counted):
    folder = _history(tmp_path / "migrations", "integer")
    cold = _lint([folder], jobs=1)
    assert len(counted) == 2
    warm = _lint([folder], jobs=1)
    assert warm == cold
    assert len(counted) == 2  # nothing linted again
    assert any(f["rule"] == "change-column-type" for f in cold)


def test_a_cached_file_is_settled_against_its_predecessors_as_they_are_now(tmp_path, cache_dir, counted):
    folder = _history(tmp_path / "migrations", "integer")
    before = [f for f in _lint([folder], jobs=1) if f["rule"] == "change-column-type"]
    assert before and before[0]["rewrites"]  # integer to varchar(200): a rewrite
    _history(folder, "varchar(100)")  # only V1 changes: V2 comes from the cache
    counted.clear()
    after = [f for f in _lint([folder], jobs=1) if f["rule"] == "change-column-type"]
    assert counted == [str(folder / "V1__create.sql")]
    assert after == []  # varchar(100) to varchar(200) is binary-coercible: no finding now


def test_other_settings_or_text_are_not_served_from_the_cache(tmp_path, cache_dir, counted):
    file = tmp_path / "one.sql"
    file.write_text("CREATE INDEX ix_accounts_note ON accounts (note);\n")
    assert {f["rule"] for f in _lint([file])} >= {"create-index-non-concurrently"}
    ignoring = Settings(ignore=frozenset({"create-index-non-concurrently"}))
    assert "create-index-non-concurrently" not in {f["rule"] for f in _lint([file], ignoring)}
    file.write_text("CREATE INDEX CONCURRENTLY ix_accounts_note ON accounts (note);\n")
    assert "create-index-non-concurrently" not in {f["rule"] for f in _lint([file])}
    assert len(counted) == 3


def test_changed_code_drops_the_cache(tmp_path, cache_dir, counted, monkeypatch):
    file = tmp_path / "one.sql"
    file.write_text("ALTER TABLE accounts ADD COLUMN n integer NOT NULL;\n")
    _lint([file])
    _lint([file])
    assert len(counted) == 1
    monkeypatch.setattr(cache_module, "code_stamp", lambda: [1, 1])
    _lint([file])
    assert len(counted) == 2


def test_a_damaged_cache_file_is_ignored_and_replaced(tmp_path, cache_dir, counted):
    file = tmp_path / "one.sql"
    file.write_text("ALTER TABLE accounts ADD COLUMN n integer NOT NULL;\n")
    first = _lint([file])
    (stored,) = _shards(cache_dir)
    stored.write_bytes(b"{not json")
    assert _lint([file]) == first
    assert [s for s in _shards(cache_dir) if s != stored]  # linted again and stored again


def test_no_cache_lints_everything_and_stores_nothing(tmp_path, cache_dir, counted):
    file = tmp_path / "one.sql"
    file.write_text("ALTER TABLE accounts ADD COLUMN n integer NOT NULL;\n")
    _lint([file], cache=False)
    _lint([file], cache=False)
    assert len(counted) == 2
    assert not (cache_dir / "lint").exists()


@pytest.mark.skipif(sys.platform != "linux", reason="worker processes are forked on Linux only")
def test_entries_made_by_worker_processes_are_stored(tmp_path, cache_dir):
    """Through the CLI with two workers: the second run is served whole from the cache the first stored,
    and prints the same bytes."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    for i in range(1, 81):
        table = f"t{i % 7}"
        (folder / f"{i:04d}_step.sql").write_text(
            f"ALTER TABLE {table} ADD COLUMN c{i} integer NOT NULL DEFAULT 0;\n"
            f"CREATE INDEX ix_{table}_c{i} ON {table} (c{i});\n"
        )
    command = [sys.executable, "-m", "dbpatterns.cli", "lint", "--format", "json", "--jobs", "2", str(folder)]
    cold = subprocess.run(command, capture_output=True, cwd=tmp_path, check=False)
    stored = _shards(cache_dir)
    assert len(stored) == 2  # one per process
    assert sum(len(json.loads(s.read_bytes())) for s in stored) == 80
    warm = subprocess.run(command, capture_output=True, cwd=tmp_path, check=False)
    assert warm.stdout == cold.stdout and cold.returncode == warm.returncode == 1
    assert _shards(cache_dir) == stored  # nothing was added: nothing written
    uncached = subprocess.run([*command, "--no-cache"], capture_output=True, cwd=tmp_path, check=False)
    assert uncached.stdout == cold.stdout


def test_many_shards_are_merged_into_one_of_the_entries_still_used(tmp_path, cache_dir, counted):
    file = tmp_path / "one.sql"
    for i in range(20):  # twenty runs, each with new text: twenty shards
        file.write_text(f"ALTER TABLE accounts ADD COLUMN c{i} integer NOT NULL;\n")
        _lint([file])
    assert len(_shards(cache_dir)) <= 17
    counted.clear()
    assert _lint([file])  # the newest text is still served from the cache
    assert counted == []


def test_shards_of_other_code_are_removed(tmp_path, cache_dir, counted, monkeypatch):
    file = tmp_path / "one.sql"
    file.write_text("ALTER TABLE accounts ADD COLUMN n integer NOT NULL;\n")
    _lint([file])
    (old,) = _shards(cache_dir)
    monkeypatch.setattr(cache_module, "code_stamp", lambda: [1, 1])
    _lint([file])
    assert old not in _shards(cache_dir) and len(_shards(cache_dir)) == 1
