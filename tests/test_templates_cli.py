"""dbpatterns new from the command line: --list, --help, --print, JSON, bad input (exit 2, nothing written),
the project's own conventions (file_template, script.py.mako, post_write_hooks, [tool.alembic], async
env.py), template overrides, heads and merges, quoting, and the backfill resuming after a failure."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest

from dbpatterns.cli import main
from dbpatterns.errors import InputError
from dbpatterns.files import create_new_file
from dbpatterns.lint import Settings, lint_revision
from dbpatterns.templates import generate, list_patterns
from dbpatterns.verify import verify_empty_database
from tests.alembic_builder import alembic_config, write_project

USERS = (
    'op.execute("CREATE TABLE users (id bigint PRIMARY KEY, email text)")\n'
    "op.execute(\"INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 300) g\")",
    'op.execute("DROP TABLE users")',
)


def project(tmp_path: Path, revisions=None, **kwargs) -> Path:
    revisions = [("r0", None, *USERS)] if revisions is None else revisions
    return write_project(tmp_path / "p", revisions, **kwargs)


def versions(root: Path) -> dict[str, str]:
    folder = root / "migrations" / "versions"
    return {p.name: p.read_text() for p in sorted(folder.iterdir()) if p.is_file()}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # --help
            code = exc.code
    return code, out.getvalue(), err.getvalue()


# --- listing and help ----------------------------------------------------------------------------------


def test_list_names_every_pattern_once():
    code, out, _ = run("new", "--list")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert names == [p.name for p in list_patterns()]
    assert len(names) == 15
    code, out, _ = run("new", "--list", "--format", "json")
    data = json.loads(out)
    assert code == 0 and {p["name"] for p in data["patterns"]} == set(names)


def test_pattern_help_shows_its_options():
    code, out, _ = run("new", "add-foreign-key", "--help")
    assert code == 0
    for flag in (
        "--table",
        "--column",
        "--references",
        "--on-delete",
        "--message",
        "--print",
        "--pg-version",
    ):
        assert flag in out


# --- writing -------------------------------------------------------------------------------------------


def test_writes_one_revision_on_the_head_and_reports_json(tmp_path):
    root = project(tmp_path)
    code, out, err = run(
        "new",
        "add-index",
        "--table",
        "users",
        "--column",
        "email",
        "--project",
        str(root),
        "--format",
        "json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert set(data) >= {"path", "revision", "down_revision"} and data["down_revision"] == "r0"
    text = Path(data["path"]).read_text()
    assert f"revision: str = {data['revision']!r}" in text
    assert "CREATE INDEX CONCURRENTLY users_email_idx ON users (email)" in text
    assert not [p for p in Path(data["path"]).parent.iterdir() if p.name.startswith(".")]  # no temp files


def test_print_writes_nothing(tmp_path):
    root = project(tmp_path)
    before = versions(root)
    code, out, _ = run(
        "new",
        "add-column",
        "--table",
        "users",
        "--column",
        "plan",
        "--type",
        "text",
        "--project",
        str(root),
        "--print",
    )
    assert code == 0
    assert "ALTER TABLE users ADD COLUMN plan text" in out and "down_revision" in out
    assert versions(root) == before


def test_expand_contract_chain_and_message(tmp_path):
    root = project(tmp_path)
    made = generate(
        "rename-column",
        {"table": "users", "column": "email", "new_name": "mail", "type": "text"},
        root,
        message="rename email",
    )
    expand, contract = made
    assert contract.down_revision == expand.revision and expand.down_revision == "r0"
    assert expand.path.name.endswith("_rename_email_expand.py")
    assert contract.path.name.endswith("_rename_email_contract.py")
    assert "Application steps:" in expand.text and expand.revision in contract.text


def test_never_overwrites_an_existing_file(tmp_path):
    root = project(tmp_path)
    ini = root / "alembic.ini"
    ini.write_text(ini.read_text() + "file_template = %%(slug)s\n")
    generate("add-column", {"table": "users", "column": "plan", "type": "text"}, root, message="same name")
    first = versions(root)
    with pytest.raises(InputError, match="already exists"):
        generate("add-column", {"table": "users", "column": "x", "type": "text"}, root, message="same name")
    assert versions(root) == first


def test_write_new_file_is_exclusive(tmp_path):
    target = tmp_path / "a.py"
    create_new_file(target, b"one\n")
    with pytest.raises(InputError, match="already exists"):
        create_new_file(target, b"two\n")
    assert target.read_text() == "one\n" and [p.name for p in tmp_path.iterdir()] == ["a.py"]


def test_project_file_template_header_and_hooks(tmp_path):
    root = project(tmp_path)
    hook = tmp_path / "hook.py"
    hook.write_text("import sys\nopen(sys.argv[1], 'a').write('# formatted by the hook\\n')\n")
    ini = root / "alembic.ini"
    ini.write_text(
        ini.read_text()
        + "file_template = %%(year)d_%%(rev)s_%%(slug)s\n\n[post_write_hooks]\nhooks = mark\n"
        + f"mark.type = exec\nmark.executable = {sys.executable}\n"
        + f"mark.options = {hook} REVISION_SCRIPT_FILENAME\n"
    )
    mako = root / "migrations" / "script.py.mako"
    mako.write_text(
        '"""${message}"""\n# house style header\nfrom alembic import op\nimport sqlalchemy as sa\n'
        "revision = ${repr(up_revision)}\ndown_revision = ${repr(down_revision)}\n\n\n"
        "def upgrade():\n    ${upgrades if upgrades else 'pass'}\n\n\ndef downgrade():\n"
        "    ${downgrades if downgrades else 'pass'}\n"
    )
    (made,) = generate("add-column", {"table": "users", "column": "plan", "type": "text"}, root)
    assert re.fullmatch(rf"\d{{4}}_{made.revision}_add_column_users_plan\.py", made.path.name)
    text = made.path.read_text()
    assert "# house style header" in text and text.endswith("# formatted by the hook\n")
    assert lint_revision(text, str(made.path), Settings()) == []


def test_user_templates_folder_overrides(tmp_path):
    root = project(tmp_path)
    (root / "pyproject.toml").write_text('[tool.dbpatterns]\ntemplates = "templates"\n')
    (root / "templates").mkdir()
    (root / "templates" / "add-column.py.j2").write_text(
        textwrap.dedent(
            """\
            {% block message %}team add {{ column_name }}{% endblock %}
            {% block upgrade %}
            # our team's way
            {{ m.set_lock_timeout() }}
            {{ m.execute("ALTER TABLE " ~ table ~ " ADD COLUMN " ~ column ~ " " ~ type) }}
            {% endblock %}
            {% block downgrade %}
            {{ m.execute("ALTER TABLE " ~ table ~ " DROP COLUMN " ~ column) }}
            {% endblock %}
            """
        )
    )
    (made,) = generate("add-column", {"table": "users", "column": "plan", "type": "text"}, root)
    assert "# our team's way" in made.text and made.path.name.endswith("_team_add_plan.py")
    # the other patterns still come from the package
    (index,) = generate("add-index", {"table": "users", "column": ["plan"]}, root, write=False)
    assert "CONCURRENTLY" in index.text


def test_pg_version_chooses_the_sql(tmp_path):
    root = project(tmp_path)
    options = {"table": "users", "column": "plan", "type": "text", "default": "'free'"}
    (pg18,) = generate("add-not-null-column", options, root, pg_version=18, write=False)
    (pg16,) = generate("add-not-null-column", options, root, pg_version=16, write=False)
    assert "NOT NULL plan NOT VALID" in pg18.text and "SET NOT NULL" not in pg18.text
    assert "CHECK (plan IS NOT NULL) NOT VALID" in pg16.text and "SET NOT NULL" in pg16.text
    (pg10,) = generate("add-column-default", options, root, pg_version=10, write=False)
    assert "backfill_rows()" in pg10.text and "MATERIALIZED" not in pg10.text
    rename = {"table": "users", "column": "plan", "type": "text", "new_name": "tier"}
    pg13 = generate("rename-column", rename, root, pg_version=13, write=False)[0]
    assert "DROP TRIGGER IF EXISTS" in pg13.text and "CREATE OR REPLACE TRIGGER" not in pg13.text
    code, out, _ = run(
        "new",
        "add-not-null-column",
        "--table",
        "users",
        "--column",
        "plan",
        "--type",
        "text",
        "--default",
        "'free'",
        "--project",
        str(root),
        "--pg-version",
        "15",
        "--print",
    )
    assert code == 0 and "SET NOT NULL" in out


# --- bad input: one line, exit 2, nothing written ------------------------------------------------------

BAD = {
    "unknown pattern": (["new", "add-colum", "--table", "users"], "invalid choice"),
    "missing option": (["new", "add-index", "--table", "users"], "required: --column"),
    "no pattern": (["new"], "give a PATTERN"),
    "invalid table": (
        ["new", "add-column", "--table", "users; drop", "--column", "x", "--type", "text"],
        "not a valid identifier",
    ),
    "invalid column": (
        ["new", "add-column", "--table", "users", "--column", "1x", "--type", "text"],
        "not a valid identifier",
    ),
    "long column": (
        ["new", "add-column", "--table", "users", "--column", "c" * 64, "--type", "text"],
        "longer than 63 bytes",
    ),
    "invalid type": (
        ["new", "add-column", "--table", "users", "--column", "x", "--type", "text; drop table users"],
        "not a SQL type",
    ),
    "invalid default": (
        [
            "new",
            "add-column-default",
            "--table",
            "users",
            "--column",
            "x",
            "--type",
            "int",
            "--default",
            "1); DROP TABLE users; SELECT (1",
        ],
        "not a SQL expression",
    ),
    "bind parameter": (
        ["new", "backfill", "--table", "users", "--column", "x", "--value", "concat(email, ' :x')"],
        "bind parameter",
    ),
    "bad batch size": (
        ["new", "backfill", "--table", "users", "--column", "x", "--value", "1", "--batch-size", "0"],
        "--batch-size",
    ),
    "bad on delete": (
        [
            "new",
            "add-foreign-key",
            "--table",
            "users",
            "--column",
            "a",
            "--references",
            "t",
            "--on-delete",
            "explode",
        ],
        "--on-delete",
    ),
    "unknown head": (
        ["new", "add-column", "--table", "users", "--column", "x", "--type", "text", "--head", "nope"],
        "no such revision",
    ),
    "merge one head": (["new", "merge"], "nothing to merge"),
    "bad pg version": (
        [
            "new",
            "add-column",
            "--table",
            "users",
            "--column",
            "x",
            "--type",
            "text",
            "--pg-version",
            "banana",
        ],
        "--pg-version",
    ),
}


@pytest.mark.parametrize("argv, expected", BAD.values(), ids=BAD.keys())
def test_bad_input_is_one_line_exit_2_nothing_written(argv, expected, tmp_path):
    root = project(tmp_path)
    before = versions(root)
    code, out, err = run(*argv, "--project", str(root)) if len(argv) > 1 else run(*argv)
    assert code == 2
    assert err.count("\n") == 1 and expected in err and "Traceback" not in err, err
    assert versions(root) == before


def test_no_alembic_project_is_an_input_error(tmp_path):
    (tmp_path / "empty").mkdir()
    code, _, err = run(
        "new",
        "add-column",
        "--table",
        "t",
        "--column",
        "c",
        "--type",
        "text",
        "--project",
        str(tmp_path / "empty"),
    )
    assert code == 2 and "no Alembic project" in err and err.count("\n") == 1
    assert list((tmp_path / "empty").iterdir()) == []


def test_several_heads_need_a_choice_then_merge(tmp_path, pg_url):
    revisions = [("r0", None, *USERS), ("a1", "r0", "pass", "pass"), ("b1", "r0", "pass", "pass")]
    root = project(tmp_path, revisions)
    code, _, err = run(
        "new", "add-column", "--table", "users", "--column", "x", "--type", "text", "--project", str(root)
    )
    assert code == 2 and "a1, b1" in err and "--head" in err
    (chosen,) = generate("add-column", {"table": "users", "column": "x", "type": "text"}, root, head="a1")
    assert chosen.down_revision == "a1"
    (merged,) = generate("merge", {}, root)
    assert set(merged.down_revision) == {"b1", chosen.revision}
    assert lint_revision(merged.text, str(merged.path), Settings()) == []
    # (verify's stairway cannot walk below a merge point yet: "Ambiguous walk"; run it with Alembic)
    from alembic import command

    config = alembic_config(root, pg_url)
    command.upgrade(config, "head")
    command.downgrade(config, "r0")
    command.upgrade(config, "head")
    with psycopg.connect(pg_url) as conn:
        heads = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    assert heads == [(merged.revision,)]


# --- projects as users have them, names that need quoting -----------------------------------------------


def test_toml_project_with_async_env_and_quoted_names(tmp_path, pg_url):
    setup = (
        'op.execute(\'CREATE TABLE "user" (id bigint PRIMARY KEY, "Plan" text)\')\n'
        "op.execute('INSERT INTO \"user\" SELECT g FROM generate_series(1, 500) g')",
        "op.execute('DROP TABLE \"user\"')",
    )
    root = project(tmp_path, [("r0", None, *setup)], toml=True, env="async")
    made = generate("backfill", {"table": "user", "column": "Plan", "value": "'pro'", "batch_size": 64}, root)
    made += generate("add-index", {"table": "user", "column": ["Plan"]}, root)
    text = made[0].text
    assert 'UPDATE "user" SET "Plan" = \'pro\'' in text and 'WHERE "Plan" IS NULL' in text
    assert 'CREATE INDEX CONCURRENTLY "user_Plan_idx" ON "user" ("Plan")' in made[1].text
    _lints_clean_and_verifies(made, root, pg_url)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute('SELECT count(*) FROM "user" WHERE "Plan" = \'pro\'').fetchone()[0] == 500


def test_backfill_resumes_after_a_failure(tmp_path, pg_url, caplog):
    from alembic import command

    blocker = (
        "CREATE FUNCTION stop_at_700() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN IF NEW.id = 700 THEN RAISE EXCEPTION 'stopped at 700'; END IF; RETURN NEW; END $$"
    )
    setup = (
        'op.execute("CREATE TABLE users (id bigint PRIMARY KEY, plan text)")\n'
        'op.execute("INSERT INTO users SELECT g FROM generate_series(1, 1000) g")',
        'op.execute("DROP TABLE users")',
    )
    root = project(tmp_path, [("r0", None, *setup)])
    generate(
        "backfill",
        {"table": "users", "column": "plan", "value": "'free'", "batch_size": 100, "pause": 0},
        root,
    )
    config = alembic_config(root, pg_url)
    command.upgrade(config, "r0")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(blocker)
        conn.execute("CREATE TRIGGER stop BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION stop_at_700()")
        with pytest.raises(Exception, match="stopped at 700"), contextlib.redirect_stdout(io.StringIO()):
            command.upgrade(config, "head")
        assert conn.execute("SELECT count(*) FROM users WHERE plan = 'free'").fetchone()[0] == 600
        conn.execute("DROP TRIGGER stop ON users")
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="alembic.runtime.migration"):
            command.upgrade(config, "head")
        assert "users.plan: 400 rows in 4 batches" in caplog.text
        assert conn.execute("SELECT count(*) FROM users WHERE plan IS NULL").fetchone()[0] == 0


def test_offline_sql_backfills_in_batches(tmp_path, pg_url):
    from alembic import command
    from pglast import split

    root = project(tmp_path)
    generate(
        "backfill",
        {
            "table": "users",
            "column": "email",
            "value": "'x'",
            "where": "id > 100 AND id % 2 = 0",
            "batch_size": 64,
        },
        root,
    )
    config = alembic_config(root, pg_url)
    command.upgrade(config, "r0")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        command.upgrade(config, "r0:head", sql=True)
    script = out.getvalue()
    assert "DO $$" in script and "COMMIT;" in script
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for statement in split(script):  # as psql runs it: statement by statement, autocommit
            conn.execute(statement)
        counts = conn.execute("SELECT count(*) FILTER (WHERE email = 'x'), count(*) FROM users").fetchone()
    assert counts == (100, 300)


def test_first_revision_of_an_empty_project(tmp_path):
    root = project(tmp_path, [])
    (made,) = generate("create-table", {"table": "users", "column": ["email text NOT NULL"]}, root)
    assert made.down_revision is None and "down_revision: Union[str, Sequence[str], None] = None" in made.text


def test_schema_qualified_tables(tmp_path, pg_url):
    setup = (
        'op.execute("CREATE SCHEMA app")\n'
        'op.execute("CREATE TABLE app.accounts (id bigint PRIMARY KEY)")\n'
        'op.execute("INSERT INTO app.accounts SELECT g FROM generate_series(1, 10) g")\n'
        'op.execute("CREATE TABLE app.users (id bigint PRIMARY KEY, name text, account_id bigint)")\n'
        "op.execute(\"INSERT INTO app.users SELECT g, 'n' || g, 1 + g % 10 FROM generate_series(1, 400) g\")",
        'op.execute("DROP SCHEMA app CASCADE")',
    )
    root = project(tmp_path, [("r0", None, *setup)])
    made = generate(
        "add-foreign-key", {"table": "app.users", "column": "account_id", "references": "app.accounts"}, root
    )
    made += generate(
        "rename-column",
        {"table": "app.users", "column": "name", "new_name": "title", "type": "text", "batch_size": 50},
        root,
    )
    assert "DROP INDEX CONCURRENTLY IF EXISTS app.users_account_id_idx" in made[0].text
    assert "CREATE OR REPLACE FUNCTION app.users_name_title_sync()" in made[1].text
    _lints_clean_and_verifies(made, root, pg_url)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM app.users WHERE title LIKE 'n%'").fetchone()[0] == 400


def test_backfill_keyset_on_a_text_primary_key(tmp_path, pg_url):
    setup = (
        'op.execute("CREATE TABLE codes (code text PRIMARY KEY, label text)")\n'
        "op.execute(\"INSERT INTO codes SELECT 'c' || g FROM generate_series(1, 250) g\")",
        'op.execute("DROP TABLE codes")',
    )
    root = project(tmp_path, [("r0", None, *setup)])
    options = {"table": "codes", "column": "label", "value": "upper(code)", "pk": "code", "batch_size": 7}
    (made,) = generate("backfill", options, root, write=True)
    assert "ORDER BY code LIMIT :size" in made.text
    _lints_clean_and_verifies([made], root, pg_url)
    with psycopg.connect(pg_url) as conn:
        left = conn.execute("SELECT count(*) FROM codes WHERE label IS DISTINCT FROM upper(code)").fetchone()[
            0
        ]
    assert left == 0


def test_broken_history_is_one_line(tmp_path):
    root = project(tmp_path, [("r0", None, *USERS), ("r2", "r1", "pass", "pass")])  # r1 is missing
    before = versions(root)
    code, _, err = run(
        "new", "add-column", "--table", "users", "--column", "x", "--type", "text", "--project", str(root)
    )
    assert code == 2 and err.count("\n") == 1 and "r1" in err and "not present" in err, err
    assert versions(root) == before


def _lints_clean_and_verifies(made, root, pg_url) -> None:
    """Every generated file lints clean, and the project passes verify (stairway, no trace)."""
    for g in made:
        assert lint_revision(g.text, str(g.path), Settings()) == []
    report = verify_empty_database(root, pg_url)
    assert report.ok, report.to_dict()
