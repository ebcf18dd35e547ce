"""The MCP server in process, through the SDK's Client in both modes: ``auto`` (the 2026 protocol,
dispatched directly without JSON-RPC framing) and ``legacy`` (the initialize handshake over in-memory
JSON-RPC streams). Every tool with good and bad input; resources; prompts; annotations; caps."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest
from mcp import Client

from tests.test_mcp_support import (
    MODES,
    SECRET,
    SETUP_SQL,
    UNSAFE_SQL,
    contract_of,
    error_text,
    make_project,
    served_project,
    structured,
)


@pytest.fixture
def project(tmp_path, monkeypatch):
    return served_project(tmp_path, monkeypatch)


def session(mode: str, steps):
    """Run ``await steps(client, schemas)`` against a fresh server; ``schemas``: tool -> output schema."""
    from dbpatterns.mcp.server import build_server

    async def main():
        async with Client(build_server(), mode=mode) as client:
            tools = (await client.list_tools()).tools
            return await steps(client, {t.name: t.output_schema for t in tools})

    return anyio.run(main)


def call(mode: str, tool: str, args: dict):
    async def steps(client, schemas):
        return await client.call_tool(tool, args), schemas[tool]

    return session(mode, steps)


def ok(mode, tool, args):
    result, schema = call(mode, tool, args)
    return structured(result, tool, schema)


def fails(mode, tool, args, *, one_line: bool = True) -> str:
    return error_text(call(mode, tool, args)[0], one_line=one_line)


# ---- listing and annotations


@pytest.mark.parametrize("mode", MODES)
def test_tools_list_annotations_and_output_schemas(project, mode):
    async def steps(client, schemas):
        return (await client.list_tools()).tools

    tools = {t.name: t for t in session(mode, steps)}
    from dbpatterns.mcp.tools import TOOLS

    assert set(tools) == {fn.__name__ for fn, _, _ in TOOLS}
    for name, tool in tools.items():
        hints = tool.annotations
        assert tool.description and tool.title
        assert tool.output_schema == contract_of(name).model_json_schema(mode="serialization", by_alias=True)
        changes_files = name == "generate_migration"
        runs_project_code = name in ("trace_locks", "verify_history", "detect_changes")
        assert hints.read_only_hint is (not changes_files and not runs_project_code), name
        assert hints.destructive_hint is False, name
        assert hints.idempotent_hint is (not changes_files), name
        assert hints.open_world_hint is (name == "check_drift"), name
        params = tool.input_schema.get("properties", {})
        assert not [p for p in params if any(w in p.lower() for w in ("url", "dsn", "db", "database"))], name


# ---- lint_migration and the rules


@pytest.mark.parametrize("mode", MODES)
def test_lint_sql_text(project, mode):
    result = ok(mode, "lint_migration", {"sql": UNSAFE_SQL})
    rules = {f.rule for f in result.findings}
    assert "add-column-volatile-default" in rules
    first = next(f for f in result.findings if f.rule == "add-column-volatile-default")
    assert (first.path, first.lock, first.rewrites, first.table) == ("<sql>", "ACCESS EXCLUSIVE", True, "t")


@pytest.mark.parametrize("mode", MODES)
def test_lint_path_matches_the_cli_json(project, mode, capsys, monkeypatch):
    import json

    from dbpatterns.cli import main

    result = ok(mode, "lint_migration", {"path": "m.sql"})
    monkeypatch.chdir(project)
    assert main(["lint", "--format", "json", "m.sql"]) == 1
    assert result.model_dump(exclude={"truncated", "skipped"}) == json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("mode", MODES)
def test_lint_an_alembic_project_and_a_revision_text(project, mode):
    whole = ok(mode, "lint_migration", {"path": "."})
    assert {f.path for f in whole.findings} >= {"migrations/versions/r2.py"}
    text = (project / "migrations/versions/r2.py").read_text()
    pasted = ok(mode, "lint_migration", {"sql": text})
    assert {f.rule for f in pasted.findings} == {f.rule for f in whole.findings if f.path.endswith("r2.py")}


@pytest.mark.parametrize("mode", MODES)
def test_lint_start_after_skips_a_revision_and_its_ancestors(project, mode):
    whole = ok(mode, "lint_migration", {"path": "."})
    assert whole.skipped is None and any(f.path.endswith("r2.py") for f in whole.findings)
    after = ok(mode, "lint_migration", {"path": ".", "start_after": "r2"})
    assert after.findings == [] and after.skipped == 2


@pytest.mark.parametrize("mode", MODES)
def test_lint_malformed_sql_is_a_finding(project, mode):
    result = ok(mode, "lint_migration", {"path": "broken.sql"})
    assert [f.rule for f in result.findings] == ["syntax-error"]
    assert result.findings[0].line == 1


@pytest.mark.parametrize("mode", MODES)
def test_lint_bad_paths(project, mode, tmp_path):
    outside = tmp_path / "outside.sql"
    outside.write_text(UNSAFE_SQL)
    (project / "link.sql").symlink_to(outside)
    assert "no such file" in fails(mode, "lint_migration", {"path": "missing.sql"})
    for path in (str(outside), "../outside.sql", "link.sql", "/etc/passwd"):
        message = fails(mode, "lint_migration", {"path": path})
        assert "outside the project root" in message
        assert str(tmp_path) not in message
    assert "either" in fails(mode, "lint_migration", {})
    assert "either" in fails(mode, "lint_migration", {"sql": "SELECT 1", "path": "m.sql"})
    bad_version = fails(mode, "lint_migration", {"sql": "SELECT 1", "pg_version": 3}, one_line=False)
    assert "pg_version" in bad_version and "greater than or equal to 9" in bad_version


@pytest.mark.parametrize("mode", MODES)
def test_lint_results_are_capped(project, mode):
    from dbpatterns.mcp.safety import MAX_ITEMS

    many = "".join(f"ALTER TABLE t{i} ALTER COLUMN c SET NOT NULL;\n" for i in range(MAX_ITEMS + 40))
    result = ok(mode, "lint_migration", {"sql": many})
    assert len(result.findings) == MAX_ITEMS
    assert result.truncated >= 40


def test_lint_a_text_over_the_input_limit_is_refused(project):
    from dbpatterns.mcp.safety import MAX_INPUT_CHARS

    assert "limit" in fails("auto", "lint_migration", {"sql": "-" * (MAX_INPUT_CHARS + 1)})


@pytest.mark.parametrize("mode", MODES)
def test_rules(project, mode):
    from dbpatterns.lint.registry import all_rules, get_rule

    listed = ok(mode, "list_rules", {})
    assert [r.id for r in listed.rules] == [r.id for r in all_rules()]
    doc = ok(mode, "explain_rule", {"rule": "set-not-null"})
    assert (doc.id, doc.doc, doc.fix) == (
        "set-not-null",
        get_rule("set-not-null").doc,
        get_rule("set-not-null").fix,
    )
    alias = get_rule("set-not-null").aliases[0]
    assert ok(mode, "explain_rule", {"rule": alias}).id == "set-not-null"
    message = fails(mode, "explain_rule", {"rule": "set-not-nul"})
    assert "Unknown lint rule 'set-not-nul'" in message and "set-not-null" in message


# ---- trace, verify, heads


@pytest.mark.parametrize("mode", MODES)
def test_trace_sql(project, mode):
    result = ok(mode, "trace_locks", {"sql": UNSAFE_SQL, "setup_sql": SETUP_SQL})
    (statement,) = result.statements
    assert ("t", "ACCESS EXCLUSIVE") in {(lock.relation, lock.mode) for lock in statement.locks}
    assert "t" in statement.rewritten
    assert [(b.relation, b.reads, b.writes) for b in statement.blocks if b.relation == "t"] == [
        ("t", True, True)
    ]


def test_trace_files_and_bad_input(project):
    result = ok("auto", "trace_locks", {"path": "m.sql", "setup_path": "setup.sql"})
    assert result.statements[0].line == 1
    assert "outside the project root" in fails("auto", "trace_locks", {"path": "../x.sql"})
    assert "no such file" in fails("auto", "trace_locks", {"path": "nope.sql"})
    message = fails("auto", "trace_locks", {"path": "broken.sql"})
    assert "syntax error" in message.lower()
    assert "not both" in fails("auto", "trace_locks", {"sql": "SELECT 1", "revision": "r1"})


def test_one_scratch_server_for_the_process_and_no_database_left(project):
    from dbpatterns.mcp.safety import scratch_server

    ok("auto", "trace_locks", {"sql": UNSAFE_SQL, "setup_sql": SETUP_SQL})
    server = scratch_server()
    ok("auto", "verify_history", {})
    assert scratch_server() is server and server.running
    with server.connect() as connection:
        names = [row[0] for row in connection.execute("SELECT datname FROM pg_database")]
    assert sorted(names) == ["postgres", "template0", "template1"]


def test_trace_a_revision(project):
    result = ok("legacy", "trace_locks", {"revision": "r2"})
    assert any(s.sql.upper().startswith("CREATE INDEX") for s in result.statements)


@pytest.mark.parametrize("mode", MODES)
def test_verify_history(project, mode):
    result = ok(mode, "verify_history", {})
    assert result.ok, result
    assert {c.name for c in result.checks} >= {"single_head", "upgrade", "downgrade", "stairway"}


def test_verify_bad_projects(project, tmp_path):
    (project / "empty").mkdir()
    assert "no Alembic project" in fails("auto", "verify_history", {"project": "empty"})
    assert "no such file" in fails("auto", "verify_history", {"project": "missing"})
    assert "outside the project root" in fails("auto", "verify_history", {"project": str(tmp_path)})
    assert "not a folder" in fails("auto", "verify_history", {"project": "m.sql"})


@pytest.mark.parametrize("mode", MODES)
def test_show_heads(project, mode):
    result = ok(mode, "show_heads", {})
    assert result.single and [h.revision for h in result.heads] == ["r2"]
    assert result.heads[0].path == "migrations/versions/r2.py"
    (project / "migrations/versions/r3.py").write_text(
        (project / "migrations/versions/r2.py").read_text().replace("'r2'", "'r3'")
    )
    forked = ok(mode, "show_heads", {})
    assert not forked.single and sorted(h.revision for h in forked.heads) == ["r2", "r3"]
    assert forked.branch_points == ["r1"]


# ---- drift: database URLs from the environment or named targets only


def _with_password(url: str) -> str:
    return url.replace("postgres@", f"postgres:{SECRET}@", 1)


def test_drift_without_a_database(project):
    message = fails("auto", "check_drift", {})
    assert "DBPATTERNS_DATABASE_URL" in message
    assert "Unknown database target 'prod'" in fails("auto", "check_drift", {"target": "prod"})


@pytest.mark.parametrize("mode", MODES)
def test_drift_of_the_configured_database(project, mode, pg_url, monkeypatch):
    monkeypatch.setenv("DBPATTERNS_DATABASE_URL", _with_password(pg_url))
    result = ok(mode, "check_drift", {})
    (report,) = result.targets
    assert report.revision.status == "unversioned" and not result.in_sync
    assert SECRET not in report.model_dump_json()


def test_drift_of_a_named_target(project, pg_url, monkeypatch):
    (project / "pyproject.toml").write_text(
        '[tool.dbpatterns]\ntargets = { staging = "${STAGING_URL}", down = "postgresql://u:'
        + SECRET
        + '@127.0.0.1:1/db" }\n'
    )
    monkeypatch.setenv("STAGING_URL", _with_password(pg_url))
    result = ok("auto", "check_drift", {"target": "staging"})
    assert result.summary.targets == 1 and result.targets[0].revision.status == "unversioned"
    message = fails("auto", "check_drift", {"target": "down"})  # an unreachable database
    assert "connect" in message.lower()
    monkeypatch.delenv("STAGING_URL")
    assert "STAGING_URL" in fails("auto", "check_drift", {"target": "staging"})


def test_drift_unreachable_database_from_the_environment(project, monkeypatch):
    monkeypatch.setenv("DBPATTERNS_DATABASE_URL", f"postgresql://app:{SECRET}@127.0.0.1:1/app")
    message = fails("legacy", "check_drift", {})
    assert "connect" in message.lower()


# ---- unexpected failures never leak internals


def test_unexpected_error_is_generic(project, monkeypatch):
    import dbpatterns.lint

    def boom(*args, **kwargs):
        raise RuntimeError(f"/home/someone/.secret/config postgresql://u:{SECRET}@db/x exploded")

    monkeypatch.setattr(dbpatterns.lint, "lint_text", boom)
    message = fails("auto", "lint_migration", {"sql": "SELECT 1"})
    assert "failed unexpectedly (RuntimeError)" in message
    assert "/home/someone" not in message and "exploded" not in message


def test_input_errors_keep_paths_inside_the_project(project):
    (project / "pyproject.toml").write_text("[tool.dbpatterns]\nbogus = 1\n")
    message = fails("auto", "lint_migration", {"sql": "SELECT 1"})
    assert "unknown key(s) in [tool.dbpatterns]: bogus" in message
    assert str(project) not in message and "pyproject.toml" in message


# ---- resources and prompts


def _documents() -> set[str]:
    from dbpatterns.mcp.content import FOLDERS, bundle_root

    uris = set()
    for folder in FOLDERS:
        base = bundle_root() / folder
        for file in base.rglob("*") if base.is_dir() else ():
            if file.is_file() and not any(p.startswith((".", "_")) for p in file.relative_to(base).parts):
                name = file.relative_to(base).as_posix()
                uris.add(f"dbpatterns://{folder}/{name.removesuffix('.md')}")
    return uris


@pytest.mark.parametrize("mode", MODES)
def test_resources(project, mode):
    from dbpatterns.lint.docs import rule_markdown
    from dbpatterns.lint.registry import get_rule
    from dbpatterns.mcp.content import bundle_root

    async def steps(client, schemas):
        listed = {str(r.uri) for r in (await client.list_resources()).resources}
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
        reference = await client.read_resource("dbpatterns://references/lint-rules")
        rule = await client.read_resource("dbpatterns://lint-rules/set-not-null")
        return listed, templates, reference, rule

    listed, templates, reference, rule = session(mode, steps)
    assert listed == _documents() and "dbpatterns://references/lint-rules" in listed
    assert "dbpatterns://lint-rules/{rule_id}" in templates
    assert reference.contents[0].text == (bundle_root() / "references/lint-rules.md").read_text()
    assert rule.contents[0].text == rule_markdown(get_rule("set-not-null"))


@pytest.mark.parametrize("uri", ["dbpatterns://lint-rules/no-such-rule", "dbpatterns://rules/no-such-doc"])
def test_unknown_resources(project, uri):
    from mcp import MCPError

    async def steps(client, schemas):
        with pytest.raises(MCPError) as caught:
            await client.read_resource(uri)
        return caught.value

    error = session("auto", steps)
    assert "no-such" in str(error) and "Traceback" not in str(error)


def test_a_document_added_after_start_is_readable(project, monkeypatch, tmp_path):
    bundle = tmp_path / "bundle"
    (bundle / "checklists").mkdir(parents=True)
    monkeypatch.setenv("DBPATTERNS_BUNDLE_DIR", str(bundle))
    from dbpatterns.mcp.server import build_server

    async def main():
        server = build_server()
        (bundle / "checklists" / "deploy.md").write_text("# Deploy\n\n- [ ] lock_timeout\n")
        async with Client(server) as client:
            listed = {str(r.uri) for r in (await client.list_resources()).resources}
            read = await client.read_resource("dbpatterns://checklists/deploy")
        return listed, read

    listed, read = anyio.run(main)
    assert "dbpatterns://checklists/deploy" not in listed  # enumerated at start
    assert read.contents[0].text.startswith("# Deploy")


@pytest.mark.parametrize("mode", MODES)
def test_prompts(project, mode):
    async def steps(client, schemas):
        names = {p.name for p in (await client.list_prompts()).prompts}
        review = await client.get_prompt("review_migration", {"path": "m.sql"})
        plan = await client.get_prompt("plan_zero_downtime_change", {"change": "rename column a to b"})
        return names, review, plan

    names, review, plan = session(mode, steps)
    assert names == {"review_migration", "plan_zero_downtime_change"}
    review_text = review.messages[0].content.text
    assert "`m.sql`" in review_text and "lint_migration" in review_text and "trace_locks" in review_text
    plan_text = plan.messages[0].content.text
    assert "rename column a to b" in plan_text and "lint_migration" in plan_text
    guides = [uri for uri in _documents() if "zero-downtime" in uri]
    assert all(f"`{uri}`" in plan_text for uri in guides)
    checklist = next((uri for uri in _documents() if "checklists/" in uri and "review" in uri), None)
    assert checklist is None or checklist in review_text


# ---- fast start


def test_building_the_server_loads_no_heavy_library():
    import subprocess
    import sys

    from tests.test_mcp_support import ROOT

    code = (
        "import sys; from dbpatterns.mcp.server import build_server; build_server(); "
        "heavy = ('sqlalchemy', 'alembic', 'pglast', 'psycopg', 'jinja2'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "[]"


def test_root_is_the_start_directory_without_claude_project_dir(tmp_path):
    import subprocess
    import sys

    from tests.test_mcp_support import ROOT

    code = (
        "import os, sys; sys.path.insert(0, sys.argv[1]); from dbpatterns.mcp.safety import project_root; "
        "a = project_root(); os.chdir('/'); b = project_root(); "
        "os.environ['CLAUDE_PROJECT_DIR'] = sys.argv[2]; print(a, b, project_root())"
    )
    env = {k: v for k, v in os.environ.items() if k != "CLAUDE_PROJECT_DIR"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT), str(tmp_path / "missing")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == [str(tmp_path.resolve())] * 3


# ---- detect


@pytest.mark.parametrize("mode", MODES)
def test_detect_changes(tmp_path, monkeypatch, mode):
    root = make_project(tmp_path / "proj", f"mcp_detect_models_{mode}")
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(root))
    result = ok(mode, "detect_changes", {})
    assert [(c.kind, c.table, c.column) for c in result.changes] == [("add_column", "t", "y")]
    assert result.changes[0].risk == "safe" and result.head == "r2"
    assert "no such file" in fails(mode, "detect_changes", {"project": "nope"})
    message = fails(mode, "detect_changes", {"models": "no_such_module_here:Base"})
    assert "no_such_module_here" in message


# ---- generate_migration: returns the files, writes only when asked


def _versions(project) -> set[str]:
    return {p.name for p in (project / "migrations/versions").iterdir() if p.suffix == ".py"}


@pytest.mark.parametrize("mode", MODES)
def test_generate_returns_without_writing(project, mode):
    before = _versions(project)
    result = ok(
        mode, "generate_migration", {"pattern": "add-index", "options": {"table": "t", "column": ["x"]}}
    )
    assert _versions(project) == before
    assert result.down_revision == "r2" and result.path.startswith("migrations/versions/")
    (text,) = result.text
    assert "CREATE INDEX CONCURRENTLY" in text and repr(result.revision) in text.replace('"', "'")


@pytest.mark.parametrize("mode", MODES)
def test_generate_writes_new_files_when_asked(project, mode):
    before = _versions(project)
    options = {"table": "t", "column": "x", "new_name": "y", "type": "text"}
    result = ok(mode, "generate_migration", {"pattern": "rename-column", "options": options, "write": True})
    expand, contract = result.revisions
    assert contract.down_revision == expand.revision and expand.down_revision == "r2"
    assert _versions(project) - before == {Path(expand.path).name, Path(contract.path).name}
    for revision, text in zip(result.revisions, result.text, strict=True):
        assert (project / revision.path).read_text() == text
    heads = ok(mode, "show_heads", {})
    assert [h.revision for h in heads.heads] == [contract.revision]


def test_generate_bad_input(project, tmp_path):
    before = _versions(project)
    assert "--column is required" in fails(
        "auto", "generate_migration", {"pattern": "add-index", "options": {"table": "t"}}
    )
    bad = fails("auto", "generate_migration", {"pattern": "no-such", "options": {}}, one_line=False)
    assert "pattern" in bad and "add-index" in bad
    options = {"table": "t", "column": ["x"]}
    assert "outside the project root" in fails(
        "auto", "generate_migration", {"pattern": "add-index", "options": options, "project": str(tmp_path)}
    )
    assert "not an option" in fails(
        "auto", "generate_migration", {"pattern": "add-index", "options": {**options, "colour": "red"}}
    )
    assert _versions(project) == before


def test_cap_cuts_long_strings_and_counts_dropped_items():
    from dbpatterns.contracts import LintResult
    from dbpatterns.mcp.safety import MAX_ITEMS, MAX_TEXT, cap

    finding = {
        "rule": "r",
        "severity": "error",
        "path": "p.sql",
        "line": 1,
        "column": 1,
        "message": "x" * (MAX_TEXT + 5000),
        "lock": None,
        "rewrites": False,
        "fix": "",
    }
    result = cap(LintResult(findings=[finding] * (MAX_ITEMS + 7)))
    assert len(result.findings) == MAX_ITEMS and result.truncated == 7
    assert result.findings[0].message.startswith("x" * MAX_TEXT)
    assert result.findings[0].message.endswith("[5000 characters left out]")
    small = LintResult(findings=[{**finding, "message": "short"}])
    assert cap(small) == small


def test_lint_pg_version_changes_the_version_dependent_rules(project):
    sql = "ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0;\n"
    old = {f.rule for f in ok("auto", "lint_migration", {"sql": sql, "pg_version": 10}).findings}
    new = {f.rule for f in ok("auto", "lint_migration", {"sql": sql, "pg_version": 16}).findings}
    assert old - new == {"add-column-volatile-default"}  # before PostgreSQL 11 any default rewrites


def test_a_plain_install_serves_the_knowledge_from_its_share_folder(tmp_path):
    # pyproject's data-files put rules/, references/, checklists/ under <prefix>/share/database-patterns
    from dbpatterns.mcp.content import choose_bundle, documents

    site, prefix = tmp_path / "site-packages", tmp_path / "venv"
    site.mkdir()
    installed = prefix / "share" / "database-patterns"
    (installed / "rules").mkdir(parents=True)
    (installed / "rules" / "schema-indexing.md").write_text("# Indexing\n")
    assert choose_bundle(site, prefix) == installed
    assert "dbpatterns://rules/schema-indexing" in documents(installed)
    checkout = Path(__file__).resolve().parents[1]
    assert choose_bundle(checkout, prefix) == checkout  # a checkout (or plugin root) wins


def test_a_symlink_out_of_the_project_is_not_followed_by_lint(tmp_path, monkeypatch):
    from dbpatterns.mcp import tools

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.sql").write_text("ALTER TABLE secret_table ADD COLUMN c int NOT NULL;\n")
    project = tmp_path / "project"
    (project / "migrations").mkdir(parents=True)
    (project / "migrations" / "ok.sql").write_text("ALTER TABLE t ADD COLUMN c int NOT NULL;\n")
    (project / "migrations" / "linked").symlink_to(outside)
    (project / "migrations" / "linked.sql").symlink_to(outside / "secret.sql")
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(project))
    import anyio

    result = anyio.run(lambda: tools.lint_migration(path="migrations"))
    paths = {f.path for f in result.findings}
    assert paths and all("secret" not in p for p in paths)
    assert not any("secret_table" in f.message for f in result.findings)


def test_overlong_arguments_are_refused_before_any_work():
    from dbpatterns.mcp.server import build_server

    async def steps(client):
        return await client.call_tool("explain_rule", {"rule": "x" * 100_000})

    async def main():
        from mcp import Client

        async with Client(build_server()) as client:
            return await steps(client)

    import anyio

    result = anyio.run(main)
    assert result.is_error and "200" in str(result.content[0].text)
