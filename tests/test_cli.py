"""The command line as a user meets it: exit codes, formats, configuration, bad input."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dbpatterns import cli
from dbpatterns.cli import main

ROOT = Path(__file__).resolve().parent.parent
UNSAFE = "ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();\n"


def run(args, capsys, cwd=None, monkeypatch=None):
    if cwd is not None:
        monkeypatch.chdir(cwd)
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def sql_file(tmp_path):
    path = tmp_path / "m.sql"
    path.write_text(UNSAFE)
    return path


def test_findings_exit_1_and_text_output(sql_file, capsys):
    code, out, _ = run(["lint", str(sql_file)], capsys)
    assert code == 1
    assert f"{sql_file}:1:1: add-column-volatile-default" in out
    assert "lock: ACCESS EXCLUSIVE on orders; rewrites the table" in out
    assert "| ALTER TABLE orders ADD COLUMN public_id" in out
    assert "fix:" in out


def test_clean_exit_0(tmp_path, capsys):
    path = tmp_path / "ok.sql"
    path.write_text("SET lock_timeout = '2s';\nALTER TABLE t ADD COLUMN c text;\n")
    code, out, _ = run(["lint", str(path)], capsys)
    assert code == 0, out
    assert "No problems found in 1 file(s)." in out


def test_exit_zero(sql_file, capsys):
    assert run(["lint", "--exit-zero", str(sql_file)], capsys)[0] == 0


def test_json_contract(sql_file, capsys):
    code, out, _ = run(["lint", "--format", "json", str(sql_file)], capsys)
    data = json.loads(out)
    keys = {"rule", "severity", "path", "line", "column", "message", "lock", "rewrites", "fix"}
    assert data["findings"] and all(keys <= set(f) for f in data["findings"])
    first = data["findings"][0]
    assert (first["rule"], first["lock"], first["rewrites"]) == (
        "add-column-volatile-default",
        "ACCESS EXCLUSIVE",
        True,
    )


def test_github_format(sql_file, capsys):
    code, out, _ = run(["lint", "--format", "github", str(sql_file)], capsys)
    assert out.startswith("::error file=")
    assert "title=add-column-volatile-default" in out


def test_stdin(capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("DROP TABLE users;\n"))
    code, out, _ = run(["lint", "--format", "json", "-"], capsys)
    assert code == 1
    assert [f["rule"] for f in json.loads(out)["findings"]][:1] == ["drop-table"]
    assert json.loads(out)["findings"][0]["path"] == "-"


@pytest.mark.parametrize(
    "args, message",
    [
        (["lint", "/no/such/file.sql"], "/no/such/file.sql: no such file or directory"),
        (["lint", "--pg-version", "eleven", "x.sql"], "--pg-version: 'eleven' is not a PostgreSQL major"),
        (["lint", "--select", "no-such-rule", "x.sql"], "unknown rule id 'no-such-rule'"),
        (["lint", "--format", "xml", "x.sql"], "invalid choice: 'xml'"),
        (["lint", "--bogus"], "unrecognized arguments: --bogus"),
        (["rules", "no-such-rule"], "rules: unknown rule id 'no-such-rule'"),
        (["rules", "set-not-nul"], "did you mean set-not-null"),
        (["lint", "--project", "/nonexistent", "x.sql"], "/nonexistent is not a folder"),
        (["lint", "--trace", "--rows", "-5", "x.sql"], "--rows must be 0 or more"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, message, capsys):
    code, out, err = run(args, capsys)
    assert code == 2
    assert message in err
    assert err.count("dbpatterns:") == 1 and err.count("\n") == 1  # one line, the prefix said once
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out


def test_bad_config_is_exit_2(tmp_path, capsys, monkeypatch, sql_file):
    (tmp_path / "pyproject.toml").write_text("[tool.dbpatterns]\npg_version = 16\nselekt = []\n")
    code, _, err = run(["lint", str(sql_file)], capsys, cwd=tmp_path, monkeypatch=monkeypatch)
    assert code == 2
    assert "unknown key(s) in [tool.dbpatterns]: selekt" in err
    (tmp_path / "pyproject.toml").write_text("[tool.dbpatterns]\npg_version = 'new'\n")
    code, _, err = run(["lint", str(sql_file)], capsys, cwd=tmp_path, monkeypatch=monkeypatch)
    assert code == 2 and "pg_version" in err
    (tmp_path / "pyproject.toml").write_text("[tool.dbpatterns\n")
    code, _, err = run(["lint", str(sql_file)], capsys, cwd=tmp_path, monkeypatch=monkeypatch)
    assert code == 2 and "cannot read pyproject.toml" in err


def test_config_pg_version_and_ignores(tmp_path, capsys, monkeypatch):
    (tmp_path / "pyproject.toml").write_text(
        "[tool.dbpatterns]\npg_version = 10\nignore = ['require-lock-timeout']\n"
        "per_path_ignores = { 'legacy/*' = ['drop-table'] }\n"
    )
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "a.sql").write_text("DROP TABLE old;\n")
    (tmp_path / "b.sql").write_text("ALTER TABLE t ADD COLUMN c int DEFAULT 0;\n")
    code, out, _ = run(["lint", "--format", "json", "."], capsys, cwd=tmp_path, monkeypatch=monkeypatch)
    rules = sorted((Path(f["path"]).name, f["rule"]) for f in json.loads(out)["findings"])
    # PG 10: a constant default rewrites; the squawk alias ignores missing-lock-timeout; legacy/ drops pass
    assert rules == [("b.sql", "add-column-volatile-default")]
    code, out, _ = run(
        ["lint", "--format", "json", "--pg-version", "11", "b.sql"],
        capsys,
        cwd=tmp_path,
        monkeypatch=monkeypatch,
    )
    assert json.loads(out)["findings"] == []


def test_inline_suppression(tmp_path, capsys):
    path = tmp_path / "m.sql"
    path.write_text(
        "SET lock_timeout = '1s';\n"
        "-- dbpatterns: ignore[drop-table]\nDROP TABLE a;\n"
        "DROP TABLE b; -- dbpatterns: ignore[drop-table]\n"
        "DROP TABLE c;\n"
    )
    _, out, _ = run(["lint", "--format", "json", str(path)], capsys)
    assert [(f["rule"], f["line"]) for f in json.loads(out)["findings"]] == [("drop-table", 5)]


def test_syntax_error_is_a_finding_and_other_files_still_lint(tmp_path, capsys):
    (tmp_path / "a.sql").write_text(
        "SET lock_timeout = '1s';\nALTER TABEL t ADD COLUMN c int;\nDROP TABLE x;\n"
    )
    (tmp_path / "b.sql").write_text("DROP TABLE y;\n")
    (tmp_path / "c.py").write_text("revision = 'x'\ndef upgrade(:\n    pass\n")
    (tmp_path / "d.sql").write_bytes(b"\xff\xfe DROP TABLE z;")
    code, out, err = run(["lint", "--format", "json", str(tmp_path)], capsys)
    found = {(Path(f["path"]).name, f["rule"], f["line"]) for f in json.loads(out)["findings"]}
    assert ("a.sql", "syntax-error", 2) in found
    assert ("a.sql", "drop-table", 3) in found
    assert ("b.sql", "drop-table", 1) in found
    assert ("d.sql", "syntax-error", 1) in found
    assert err == ""


def test_rules_list_and_explain(capsys):
    code, out, _ = run(["rules", "--format", "json"], capsys)
    rules = {r["id"]: r for r in json.loads(out)["rules"]}
    assert "require-concurrent-index-creation" in rules["create-index-non-concurrently"]["aliases"]
    code, out, _ = run(["rules", "require-lock-timeout"], capsys)  # a squawk name finds our rule
    assert code == 0 and out.startswith("# missing-lock-timeout")
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix"):
        assert heading in out


def test_console_script_end_to_end(tmp_path):
    """The installed `dbpatterns` command, as pre-commit and CI call it."""
    path = tmp_path / "m.sql"
    path.write_text(UNSAFE)
    exe = Path(sys.executable).with_name("dbpatterns")
    proc = subprocess.run([str(exe), "lint", str(path)], capture_output=True, text=True)
    assert proc.returncode == 1 and "add-column-volatile-default" in proc.stdout


def test_console_script_lint_output_matches_main_and_is_complete(tmp_path, capsys):
    """The console script ends a plain lint without Python's teardown: every byte is still written (a
    pipe, thousands of findings) and the exit code is main()'s."""
    for i in range(300):
        (tmp_path / f"{i:04}_m.sql").write_text(UNSAFE * 3)
    exe = Path(sys.executable).with_name("dbpatterns")
    for fmt in ("json", "text"):
        proc = subprocess.run([str(exe), "lint", "--format", fmt, str(tmp_path)], capture_output=True)
        code = main(["lint", "--format", fmt, str(tmp_path)])
        out, _ = capsys.readouterr()
        assert (proc.returncode, proc.stdout.decode()) == (code, out) and code == 1
        if fmt == "json":
            assert len(json.loads(proc.stdout)["findings"]) >= 900  # 3 unsafe statements a file


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("buffered", [True, False])
@pytest.mark.parametrize("argv", [["lint", "--format", "json"], ["lint"], ["rules"], ["--version"]])
def test_output_that_cannot_be_written_is_one_line_exit_2(argv, buffered, sql_file):
    """Written as it goes (PYTHONUNBUFFERED) or only at the end (stdout to a file is block-buffered)."""
    exe = Path(sys.executable).with_name("dbpatterns")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    with open("/dev/full", "w") as full:
        args = [*argv, str(sql_file)] if argv[0] == "lint" else argv
        proc = subprocess.run([str(exe), *args], stdout=full, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.returncode == 2
    assert proc.stderr == "dbpatterns: cannot write the output: No space left on device\n"


@pytest.mark.parametrize(
    ("error", "told", "code"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device"),
            "cannot write the output: No space left on device",
            2,
        ),
        (PermissionError(errno.EACCES, "Permission denied", "/x/y"), "/x/y: Permission denied", 2),
        (
            BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable"),
            "Resource temporarily unavailable",
            2,
        ),
        (BrokenPipeError(errno.EPIPE, "Broken pipe"), None, 0),
    ],
)
def test_an_os_error_no_command_handled_is_one_line(error, told, code, capsys, monkeypatch):
    def failing(args):
        raise error

    monkeypatch.setitem(cli._HANDLERS, "rules", failing)
    assert main(["rules"]) == code
    assert capsys.readouterr().err == (f"dbpatterns: {told}\n" if told else "")


def test_quick_start_main_job_on_bundled_examples(capsys, monkeypatch):
    code, out, _ = run(
        ["lint", "--format", "json", "examples/project", "examples/unsafe"],
        capsys,
        cwd=ROOT,
        monkeypatch=monkeypatch,
    )
    findings = json.loads(out)["findings"]
    assert code == 1
    assert not [f for f in findings if f["path"].startswith("examples/project")], (
        "the safe project lints clean"
    )
    assert {
        "add-column-volatile-default",
        "set-not-null",
        "missing-downgrade",
        "concurrently-in-transaction",
    } <= {f["rule"] for f in findings}


@pytest.mark.parametrize(
    "argv",
    [
        ["lint", "--format", "json", "-j", "2", "a.sql", "b"],
        ["trace", "m.sql", "--rows", "10", "--in-transaction"],
        ["verify", "--project", "p"],
        ["rules", "add-column-required", "--all"],
        ["detect", "--models", "m:Base", "--write", "msg"],
        ["drift", "--db", "postgresql://x/a", "--db", "postgresql://x/b", "--no-cache"],
        ["sum", "--check"],
        ["heads", "--format", "json"],
        ["check", "--project", "p"],
        ["new", "add-index", "--table", "t", "--column", "c", "--print"],
        ["mcp", "--transport", "http", "--port", "9"],
    ],
)
def test_the_command_parser_alone_parses_as_the_whole_one(argv):
    """Only the parser of the command being run is built; it reads its arguments as the whole one does."""
    from dbpatterns.cli import _HANDLERS, build_parser

    alone, whole = build_parser(argv[0]), build_parser(None)
    assert vars(alone.parse_args(argv)) == vars(whole.parse_args(argv))
    assert set(whole._subparsers._group_actions[0].choices) == set(_HANDLERS)
    assert list(alone._subparsers._group_actions[0].choices) == [argv[0]]


def test_a_pyproject_without_our_table_is_not_parsed(tmp_path, capsys, monkeypatch, sql_file):
    """A project's pyproject.toml that never names dbpatterns gives the defaults, even when it does not
    parse (it belongs to other tools); one that names it is read and checked."""
    (tmp_path / "pyproject.toml").write_text("[project\nname = 'x'\n")
    code, _, err = run(["lint", "--exit-zero", str(sql_file)], capsys, cwd=tmp_path, monkeypatch=monkeypatch)
    assert code == 0 and not err
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n[tool.dbpatterns]\npg_version = 10\n")
    from dbpatterns.lint import load_settings

    assert load_settings(tmp_path).pg_version == 10
    (tmp_path / "pyproject.toml").write_text("[tool]\ndbpatterns = { pg_version = 12 }\n")
    assert load_settings(tmp_path).pg_version == 12


def test_version_is_the_package_metadata(capsys):
    from importlib.metadata import version

    import dbpatterns

    assert dbpatterns.__version__ == version("database-patterns")
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out == f"dbpatterns {dbpatterns.__version__}\n"


def test_unknown_rule_in_the_config_names_the_file_and_key(tmp_path, capsys, monkeypatch, sql_file):
    (tmp_path / "pyproject.toml").write_text("[tool.dbpatterns]\nignore = ['set-not-nul']\n")
    code, _, err = run(["lint", str(sql_file)], capsys, cwd=tmp_path, monkeypatch=monkeypatch)
    assert code == 2 and "[tool.dbpatterns] ignore: unknown rule id 'set-not-nul'" in err
    assert "did you mean set-not-null" in err


@pytest.mark.parametrize(
    "args, kind",
    [
        (["lint", "--format", "json", "/no/such/file.sql"], "input"),
        (["rules", "--format=json", "set-not-nul"], "unknown-rule"),
        (["heads", "--format", "json", "--project", "/"], "project-not-found"),
        (["lint", "--format", "json", "--bogus"], "input"),
    ],
)
def test_json_input_error_is_a_json_object_on_stdout(args, kind, capsys):
    code, out, err = run(args, capsys)
    assert code == 2 and err.count("\n") == 1
    error = json.loads(out)["error"]
    assert error["kind"] == kind and error["message"] in err
