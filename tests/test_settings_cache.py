"""pyproject.toml's [tool.dbpatterns] table, remembered with the text it came from."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dbpatterns.findings import InputError
from dbpatterns.lint import load_settings
from dbpatterns.lint import settings as settings_module

CONFIG = '[project]\nname = "x"\n[tool.dbpatterns]\npg_version = 13\nignore = ["truncate"]\n'


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("DBPATTERNS_CACHE_DIR", str(folder))
    settings_module._parsed.cache_clear()  # this process's own memory of texts read before
    yield folder / "settings"
    settings_module._parsed.cache_clear()


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "pyproject.toml").write_text(CONFIG)
    return folder


def _in_fresh_python(project, cache) -> list:
    """(pg_version, ignore, whether tomllib was imported) as a new process reads the settings."""
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from dbpatterns.lint import load_settings\n"
        f"s = load_settings(Path({str(project)!r}))\n"
        "print(json.dumps([s.pg_version, sorted(s.ignore), 'tomllib' in sys.modules]))\n"
    )
    env = {**os.environ, "DBPATTERNS_CACHE_DIR": str(cache.parent)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return json.loads(proc.stdout)


def test_an_unchanged_pyproject_is_not_parsed_again(project, cache):
    assert _in_fresh_python(project, cache) == [13, ["truncate"], True]
    assert len(list(cache.glob("*.json"))) == 1
    assert _in_fresh_python(project, cache) == [13, ["truncate"], False]


def test_a_changed_pyproject_is_read_again_whatever_its_size_and_time(project, cache):
    path = project / "pyproject.toml"
    assert load_settings(project).pg_version == 13
    stat = path.stat()
    path.write_text(CONFIG.replace("13", "14"))  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same time
    settings_module._parsed.cache_clear()
    assert load_settings(project).pg_version == 14
    assert _in_fresh_python(project, cache)[:2] == [14, ["truncate"]]


def test_a_damaged_or_foreign_entry_is_parsed_over(project, cache):
    load_settings(project)
    (entry,) = cache.glob("*.json")
    for damage in (b"{not json", b'{"path": "/elsewhere", "text": "", "table": {}}', b"[]"):
        entry.write_bytes(damage)
        settings_module._parsed.cache_clear()
        assert load_settings(project).pg_version == 13
    assert json.loads(entry.read_bytes())["table"] == {"pg_version": 13, "ignore": ["truncate"]}


def test_a_cache_that_cannot_be_written_only_costs_time(project, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("DBPATTERNS_CACHE_DIR", str(blocker))
    settings_module._parsed.cache_clear()
    assert load_settings(project).pg_version == 13


def test_bad_toml_and_bad_tables_are_input_errors_and_not_remembered(project, cache):
    path = project / "pyproject.toml"
    for text, message in (
        ("[tool.dbpatterns\n", "cannot read pyproject.toml"),
        ("[tool]\ndbpatterns = 5\n", "must be a table"),
        ("[tool.dbpatterns]\nwhen = 2024-01-01\n", "unknown key"),
    ):
        path.write_text(text)
        settings_module._parsed.cache_clear()
        with pytest.raises(InputError, match=message):
            load_settings(project)
    assert not list(cache.glob("*.json"))  # the TOML date cannot be stored as JSON: parsed every time


def test_old_entries_go_when_there_are_too_many(project, cache, monkeypatch):
    monkeypatch.setattr(settings_module, "SETTINGS_CACHE_ENTRIES", 3)
    for i in range(7):
        folder = project.parent / f"p{i}"
        folder.mkdir()
        (folder / "pyproject.toml").write_text(CONFIG)
        load_settings(folder)
        entries = list(cache.glob("*.json"))
        assert len(entries) <= 6
    assert len(entries) == 3  # the 7th made 7 > 2 x 3 entries: the 3 newest stay, the 7th's among them
    assert str(folder / "pyproject.toml") in {json.loads(e.read_bytes())["path"] for e in entries}
