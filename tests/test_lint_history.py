"""The schema flows through a history (issue 17): a revision knows what its ancestors created, whichever
way it is selected; SQL folders in version order; start_after, --since and baseline (issue 16)."""

from __future__ import annotations

import json
import subprocess

import pytest
from alembic_builder import linear, write_project

from dbpatterns.cli import main
from dbpatterns.errors import InputError
from dbpatterns.lint import Settings, load_settings
from dbpatterns.lint.history import natural_key, sql_version
from dbpatterns.lint.run import lint_report

CREATE = """
op.create_table(
    "events",
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("name", sa.String(100)),
    sa.Column("price", sa.Numeric(10, 2)),
    sa.Column("n", sa.Integer()),
)
op.create_table("settings", sa.Column("id", sa.Integer()), sa.Column("v", sa.String(10)), schema="new")
"""

CHANGE = """
op.alter_column("events", "name", type_=sa.String(200))
op.alter_column("events", "price", type_=sa.Numeric())
op.alter_column("events", "n", type_=sa.BigInteger())
op.alter_column("settings", "v", type_=sa.Text(), schema="events")
"""


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DBPATTERNS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _project(root, *more):
    revisions = [("r1", None, CREATE, "pass"), ("r2", "r1", CHANGE, "pass")]
    parent = "r2"
    for i, body in enumerate(more, 3):
        revisions.append((f"r{i}", parent, body, "pass"))
        parent = f"r{i}"
    return write_project(root, revisions)


def _types(findings, file=None):
    return sorted(
        (f.message.split(" TYPE ")[1].split(" ")[0], f.hedged, f.rewrites)
        for f in findings
        if f.rule == "change-column-type" and (file is None or f.path.endswith(file))
    )


def test_a_revision_knows_the_columns_its_ancestors_created(tmp_path, cache):
    root = _project(tmp_path / "p")
    result = lint_report([str(root)], Settings(), jobs=1)
    type_changes = [f for f in result.findings if f.rule == "change-column-type"]
    # varchar(100) -> varchar(200) and numeric(10,2) -> numeric: binary-coercible, not reported;
    # int -> bigint: a certain rewrite; events.settings is not the new.settings that r1 created
    assert [(f.message, f.hedged) for f in type_changes if "bigint" in f.message] == [
        (
            "ALTER COLUMN n TYPE bigint takes ACCESS EXCLUSIVE; integer to bigint is not binary-coercible: "
            "events and its indexes are rewritten",
            False,
        )
    ]
    twin = [f for f in type_changes if f.table == "events.settings"]
    assert len(twin) == 1 and twin[0].hedged and "may rewrite" in twin[0].message
    assert len(type_changes) == 2


def test_an_existing_type_of_another_dialect_leaves_the_old_type_to_the_history(tmp_path, cache):
    """existing_type=mysql.TINYTEXT() (autogenerate run on MySQL): PostgreSQL's column is what r1 created."""
    mysql_change = """
op.alter_column("events", "name", existing_type=sa.dialects.mysql.TINYTEXT(), type_=sa.Text())
op.alter_column("events", "n", existing_type=sa.dialects.mysql.BIGINT(), type_=sa.Text())
"""
    root = _project(tmp_path / "p", mysql_change)
    findings = lint_report([str(root)], Settings(), jobs=1).findings
    assert _types(findings, "r3.py") == [("text", False, True)]  # bigint (r2) to text; varchar to text: none


def test_one_revision_alone_gets_its_ancestors_state_from_the_cache(tmp_path, cache):
    root = _project(tmp_path / "p")
    full = lint_report([str(root)], Settings(), jobs=1).findings
    one = root / "migrations" / "versions" / "r2.py"
    for _ in range(2):  # the second run reads the ancestors' state from the cache
        alone = lint_report([str(one)], Settings(), jobs=1).findings
        assert _types(alone) == _types(full, "r2.py") == [("bigint", False, True), ("text", True, True)]
    assert list(cache.rglob("*.json"))
    # an edit of the ancestor is seen (the cache is keyed by content)
    r1 = root / "migrations" / "versions" / "r1.py"
    r1.write_text(r1.read_text().replace('sa.Column("n", sa.Integer())', 'sa.Column("n", sa.BigInteger())'))
    assert _types(lint_report([str(one)], Settings(), jobs=1).findings) == [("text", True, True)]


def test_a_lone_revision_file_keeps_the_hedged_wording(tmp_path, cache):
    alone = tmp_path / "r2.py"
    alone.write_text((_project(tmp_path / "p") / "migrations" / "versions" / "r2.py").read_text())
    found = lint_report([str(alone)], Settings(), jobs=1).findings
    assert _types(found) == [
        ("bigint", True, True),
        ("numeric", True, True),
        ("text", True, True),
        ("varchar(200)", True, True),
    ]


def test_a_downgrade_knows_what_its_upgrade_changed(tmp_path, cache):
    root = write_project(
        tmp_path / "p",
        [
            ("r1", None, 'op.create_table("t", sa.Column("n", sa.Integer()))', "pass"),
            (
                "r2",
                "r1",
                'op.alter_column("t", "n", type_=sa.BigInteger())',
                'op.alter_column("t", "n", type_=sa.Integer())',
            ),
        ],
    )
    found = lint_report([str(root)], Settings(), jobs=1).findings
    assert _types(found) == [("bigint", False, True), ("integer", False, True)]


def test_branches_see_only_their_own_ancestors(tmp_path, cache):
    root = write_project(
        tmp_path / "p",
        [
            ("a", None, 'op.create_table("t", sa.Column("n", sa.Integer()))', "pass"),
            ("b1", "a", 'op.alter_column("t", "n", type_=sa.Text())', "pass"),
            ("b2", "a", 'op.alter_column("t", "n", type_=sa.BigInteger())', "pass"),
        ],
    )
    found = lint_report([str(root)], Settings(), jobs=1).findings
    # b2 does not see b1's text column: integer -> bigint, not text -> bigint
    assert [f.message.split("; ")[1].split(":")[0] for f in found if f.rule == "change-column-type"] == [
        "integer to text is not binary-coercible",
        "integer to bigint is not binary-coercible",
    ]


SQL_V1 = "CREATE TABLE events (id int PRIMARY KEY, name varchar(100), n int);\n"
SQL_V2 = "ALTER TABLE events ALTER COLUMN name TYPE varchar(50);\n"
SQL_V10 = "ALTER TABLE events ALTER COLUMN name TYPE text;\nALTER TABLE events ALTER COLUMN n TYPE bigint;\n"


@pytest.mark.parametrize(
    "names",
    [
        ("V1__init.sql", "V2__narrow.sql", "V10__later.sql"),
        ("1_init.up.sql", "2_narrow.up.sql", "10_later.up.sql"),
        ("0001_init.sql", "0002_narrow.sql", "0010_later.sql"),
    ],
)
def test_sql_folders_in_version_order(tmp_path, cache, names):
    folder = tmp_path / "migrations"
    folder.mkdir()
    for name, text in zip(names, (SQL_V1, SQL_V2, SQL_V10), strict=True):
        (folder / name).write_text(text)
    if names[0].endswith(".up.sql"):  # a down file is not part of the forward state
        (folder / "3_undo.down.sql").write_text("ALTER TABLE events ALTER COLUMN n TYPE text;\n")
    found = lint_report([str(folder)], Settings(), jobs=1).findings
    # V2 narrows varchar(100) to varchar(50): a rewrite; V10 comes after V2 (varchar(50) -> text: clean)
    assert _types(found, names[1]) == [("varchar(50)", False, True)]
    assert _types(found, names[2]) == [("bigint", False, True)]
    alone = lint_report([str(folder / names[2])], Settings(), jobs=1).findings
    assert _types(alone) == [("bigint", False, True)]


def test_version_names():
    assert sql_version("V1_2__x.sql") == ((1, 2), True)
    assert sql_version("U3__x.sql") == ((3,), False)
    assert sql_version("12_add.down.sql") == ((12,), False)
    assert sql_version("R__views.sql") is None and sql_version("schema.sql") is None
    assert sorted(["V10__b.sql", "V2__a.sql", "V1.1__c.sql"], key=natural_key) == [
        "V1.1__c.sql",
        "V2__a.sql",
        "V10__b.sql",
    ]


UNSAFE = 'op.add_column("events", sa.Column("plan", sa.Text(), nullable=False))'
SAFE = 'op.add_column("events", sa.Column("note", sa.Text()))'


def test_start_after_reports_only_what_comes_after(tmp_path, cache, capsys):
    root = _project(tmp_path / "p", UNSAFE)
    full = lint_report([str(root)], Settings(), jobs=1)
    assert {f.path.rsplit("/", 1)[-1] for f in full.findings} >= {"r2.py", "r3.py"}
    after_head = lint_report([str(root)], Settings(), jobs=1, start_after=["r3"])
    assert after_head.findings == [] and after_head.skipped == 3
    after_r2 = lint_report([str(root)], Settings(), jobs=1, start_after="r2")
    assert after_r2.findings == [f for f in full.findings if f.path.endswith("r3.py")]
    assert after_r2.skipped == 2
    # the JSON report's top-level skipped, and the text report's line
    assert main(["lint", str(root), "--start-after", "r2", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["skipped"] == 2 and {f["path"].rsplit("/", 1)[-1] for f in doc["findings"]} == {"r3.py"}
    assert main(["lint", str(root), "--start-after", "r3"]) == 0
    assert "3 migration(s) at or before start_after skipped" in capsys.readouterr().out
    with pytest.raises(InputError, match="'nope' is not a revision"):
        lint_report([str(root)], Settings(), jobs=1, start_after=["nope"])


def test_start_after_names_a_file_in_a_sql_folder(tmp_path, cache):
    folder = tmp_path / "m"
    folder.mkdir()
    for name, text in (("V1__a.sql", SQL_V1), ("V2__b.sql", SQL_V2), ("V10__c.sql", SQL_V10)):
        (folder / name).write_text(text)
    result = lint_report([str(folder)], Settings(), jobs=1, start_after=["V2__b.sql"])
    assert {f.path.rsplit("/", 1)[-1] for f in result.findings} == {"V10__c.sql"} and result.skipped == 2
    assert _types(result.findings) == [("bigint", False, True)]


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_since_lints_only_what_changed_with_the_ancestors_state(tmp_path, cache):
    root = _project(tmp_path / "p")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "-c", "user.email=t@t", "-c", "user.name=t", "add", ".")
    _git(root, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "history")
    _git(root, "checkout", "-qb", "feature")
    (root / "migrations" / "versions" / "r3.py").write_text(
        (root / "migrations" / "versions" / "r2.py")
        .read_text()
        .replace("revision = 'r2'", "revision = 'r3'")
        .replace("down_revision = 'r1'", "down_revision = 'r2'")
        .replace(CHANGE.strip().splitlines()[0], 'op.alter_column("events", "n", type_=sa.Text())')
    )
    result = lint_report([str(root)], Settings(), jobs=1, since="main")
    assert {f.path.rsplit("/", 1)[-1] for f in result.findings} == {"r3.py"} and result.files == 1
    assert "bigint to text is not binary-coercible" in " ".join(f.message for f in result.findings)
    with pytest.raises(InputError, match="fetch-depth: 0"):
        lint_report([str(root)], Settings(), jobs=1, since="origin/main")


def test_baseline_keeps_comments_and_check_passes_then_fails(tmp_path, cache, capsys):
    root = _project(tmp_path / "p")
    (root / "pyproject.toml").write_text(
        '# the project\n[project]\nname = "app"  # keep me\n\n'
        "[tool.dbpatterns]\n# our settings\npg_version = 16\n"
    )
    assert main(["baseline", "--project", str(root), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["start_after"] == ["r2"] and doc["path"] == str(root / "pyproject.toml")
    text = (root / "pyproject.toml").read_text()
    assert text.startswith('# the project\n[project]\nname = "app"  # keep me\n')
    assert "# our settings\npg_version = 16\n" in text and 'start_after = ["r2"]' in text
    assert main(["lint", str(root), "--project", str(root)]) == 0  # the settings' start_after
    capsys.readouterr()
    (root / "migrations" / "versions" / "r3.py").write_text(
        (root / "migrations" / "versions" / "r2.py")
        .read_text()
        .replace("revision = 'r2'", "revision = 'r3'")
        .replace("down_revision = 'r1'", "down_revision = 'r2'")
        .replace(CHANGE.strip().splitlines()[0], UNSAFE)
    )
    assert main(["lint", str(root), "--project", str(root), "--format", "json"]) == 1
    assert {f["path"].rsplit("/", 1)[-1] for f in json.loads(capsys.readouterr().out)["findings"]} == {
        "r3.py"
    }


def test_baseline_creates_a_pyproject_beside_the_alembic_config(tmp_path, cache):
    from dbpatterns.baseline import record_baseline

    root = _project(tmp_path / "p")
    done = record_baseline(root)
    assert done.created and done.path == root / "pyproject.toml"
    assert (root / "pyproject.toml").read_text() == '[tool.dbpatterns]\nstart_after = ["r2"]\n'


def test_what_the_history_settles_matches_the_server(tmp_path, cache, pg_url):
    """On PostgreSQL 18: the table's relfilenode changes exactly for the changes the lint, knowing the
    history, calls rewrites (varchar(100) -> varchar(200), varchar -> text and numeric(10,2) -> numeric
    keep it; int -> bigint and varchar(100) -> varchar(50) change it)."""
    import psycopg

    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "V1__init.sql").write_text(
        "CREATE TABLE events (id int PRIMARY KEY, name varchar(100), label varchar(100), price numeric(10,2),"
        " n int, code varchar(100));\n"
    )
    changes = [
        "ALTER TABLE events ALTER COLUMN name TYPE varchar(200);",
        "ALTER TABLE events ALTER COLUMN label TYPE text;",
        "ALTER TABLE events ALTER COLUMN price TYPE numeric;",
        "ALTER TABLE events ALTER COLUMN n TYPE bigint;",
        "ALTER TABLE events ALTER COLUMN code TYPE varchar(50);",
    ]
    (folder / "V2__change.sql").write_text("\n".join(changes) + "\n")
    found = lint_report([str(folder)], Settings(), jobs=1).findings
    said = {f.line for f in found if f.path.endswith("V2__change.sql") and f.rewrites and not f.hedged}
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute((folder / "V1__init.sql").read_text())
        conn.execute("INSERT INTO events SELECT g, 'a', 'b', 1, g, 'c' FROM generate_series(1, 50) g")
        rewritten = set()
        for line, sql in enumerate(changes, 1):
            node = "SELECT pg_relation_filenode('events')"
            before = conn.execute(node).fetchone()[0]
            conn.execute(sql)
            if conn.execute(node).fetchone()[0] != before:
                rewritten.add(line)
    assert rewritten == said == {4, 5}


@pytest.mark.parametrize("jobs", [2, 3])
def test_worker_processes_settle_the_same_findings(tmp_path, cache, jobs):
    """Files linted in forked workers send their deltas and questions back; the result is the same as in
    one process, for the findings and for the JSON document the workers render in part."""
    from dbpatterns.lint.run import lint_paths_json
    from dbpatterns.output.text import json_items, json_pieces

    folder = tmp_path / "m"
    folder.mkdir()
    for i in range(1, 81):
        t = f"t{i % 7}"
        if i <= 7:
            text = f"CREATE TABLE {t} (id int PRIMARY KEY, a varchar(10), b int, c numeric(8,2));\n"
        elif i % 3 == 0:
            text = f"ALTER TABLE {t} ALTER COLUMN a TYPE varchar({10 + i});\n"  # widening: clean
        elif i % 3 == 1:
            text = f"ALTER TABLE {t} ALTER COLUMN b TYPE bigint;\nALTER TABLE {t} ALTER COLUMN b TYPE int;\n"
        else:
            text = f"CREATE INDEX ix_{i} ON {t} (b);\nALTER TABLE other ALTER COLUMN x TYPE text;\n"
        (folder / f"V{i}__step.sql").write_text(text)
    one = lint_report([str(folder)], Settings(), jobs=1)
    alone = one.findings
    shared = lint_report([str(folder)], Settings(), jobs=jobs).findings
    assert shared == alone
    assert [f.hedged for f in shared] == [f.hedged for f in alone]
    kinds = {(f.rule, f.hedged) for f in alone}
    assert ("change-column-type", True) in kinds and ("change-column-type", False) in kinds
    assert not any("varchar(" in f.message and f.rule == "change-column-type" for f in alone)
    pieces, count, _ = lint_paths_json([str(folder)], Settings(), jobs=jobs)
    assert b"".join(pieces) == b"".join(json_pieces([json_items(alone)], {"stats": one.stats}))
    assert count == len(alone)


def test_start_after_from_the_settings_leaves_other_files_alone(tmp_path, cache):
    lone = tmp_path / "change.sql"
    lone.write_text(SQL_V10)
    settings = Settings(start_after=("r9",))
    assert _types(lint_report([str(lone)], settings, jobs=1).findings) == [
        ("bigint", True, True),
        ("text", True, True),
    ]
    with pytest.raises(InputError, match="'r9' is not a revision"):  # on the command line: told
        lint_report([str(lone)], Settings(), jobs=1, start_after=["r9"])
    root = _project(tmp_path / "p")
    with pytest.raises(InputError, match="'r9' is not a revision"):  # a project that knows none of them
        lint_report([str(root)], settings, jobs=1)


def test_baseline_of_a_sql_folder_records_its_last_file(tmp_path, cache):
    from dbpatterns.baseline import record_baseline

    folder = tmp_path / "m"
    folder.mkdir()
    for name, text in (("V1__a.sql", SQL_V1), ("V2__b.sql", SQL_V2), ("V10__c.sql", SQL_V10)):
        (folder / name).write_text(text)
    done = record_baseline(folder)
    assert done.start_after == ["V10__c.sql"] and done.created
    settings = load_settings(folder)
    result = lint_report([str(folder)], settings, jobs=1)
    assert result.findings == [] and result.skipped == 3
    with pytest.raises(InputError, match="no versioned SQL files"):
        record_baseline(tmp_path)


def two_sections(root):
    """An alembic.ini with [core] and [tenant] (no [alembic]): (section, its empty versions folder)."""
    (root / "alembic.ini").write_text(
        "[core]\nscript_location = core\n\n[tenant]\nscript_location = tenant\n"
    )
    for section in ("core", "tenant"):
        versions = root / section / "versions"
        versions.mkdir(parents=True)
        (root / section / "env.py").write_text("")
        yield section, versions


def test_a_revision_of_a_named_section_gets_its_ancestors_state(tmp_path, capsys):
    """alembic.ini with [core] and [tenant] and no [alembic] script_location: a file of either history is
    linted with its own section's ancestors (the int -> bigint change is a certain rewrite, not 'may')."""
    for section, versions in two_sections(tmp_path):
        (versions / "a1_create.py").write_text(
            f'revision = "{section}1"\ndown_revision = None\n'
            "from alembic import op\nimport sqlalchemy as sa\n\n"
            "def upgrade():\n"
            f'    op.create_table("{section}_t", sa.Column("id", sa.Integer(), primary_key=True))\n\n'
            f'def downgrade():\n    op.drop_table("{section}_t")\n'
        )
        (versions / "a2_widen.py").write_text(
            f'revision = "{section}2"\ndown_revision = "{section}1"\nfrom alembic import op\n'
            "import sqlalchemy as sa\n\n"
            "def upgrade():\n    op.execute(\"SET lock_timeout = '2s'\")\n"
            f'    op.alter_column("{section}_t", "id", type_=sa.BigInteger())\n\n'
            "def downgrade():\n    op.execute(\"SET lock_timeout = '2s'\")\n"
            f'    op.alter_column("{section}_t", "id", type_=sa.Integer())\n'
        )
    from dbpatterns.lint import Settings, lint_paths

    findings, _ = lint_paths([str(tmp_path / "tenant" / "versions" / "a2_widen.py")], Settings())
    rewrites = [f for f in findings if f.rewrites and f.table and "tenant_t" in f.table]
    assert rewrites and not any(f.hedged for f in rewrites)


def test_start_after_per_named_section(tmp_path, capsys):
    """baseline --name records each section's heads under its name; lint --name and check --name skip
    what their own section's entry names, and a section without an entry is linted whole."""
    import tomllib

    from dbpatterns.cli import main

    (tmp_path / "pyproject.toml").write_text("# our settings\n[tool.dbpatterns]\npg_version = 16\n")
    for section, versions in two_sections(tmp_path):
        (versions / "a1_drop.py").write_text(
            f'revision = "{section}1"\ndown_revision = None\nfrom alembic import op\n\n'
            'def upgrade():\n    op.drop_column("orders", "note")\n\ndef downgrade():\n    pass\n'
        )
    root = str(tmp_path)
    assert main(["baseline", "--project", root, "--name", "core"]) == 0
    capsys.readouterr()
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith("# our settings") and tomllib.loads(text)["tool"]["dbpatterns"]["start_after"] == {
        "core": ["core1"]
    }
    assert main(["lint", root, "--project", root, "--name", "core", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["skipped"] == 1
    assert main(["lint", root, "--project", root, "--name", "tenant", "--format", "json"]) == 1
    capsys.readouterr()
    main(["check", "--project", root, "--name", "core", "--format", "json"])  # verify: env.py is empty
    lint = json.loads(capsys.readouterr().out)["lint"]
    assert lint["exit_code"] == 0 and lint["skipped_migrations"] == 1


def _primary_key_project(root, *, id_column: str, check: str = "pass"):
    """r1 creates items (id as given), r2 builds a unique index on id (and runs ``check``), r3 attaches
    it as the primary key."""
    return write_project(
        root,
        [
            ("r1", None, f'op.create_table("items", {id_column}, sa.Column("name", sa.Text()))', "pass"),
            (
                "r2",
                "r1",
                'op.create_index("items_id_idx", "items", ["id"], unique=True)\n' + check,
                "pass",
            ),
            ("r3", "r2", 'op.execute("ALTER TABLE items ADD PRIMARY KEY USING INDEX items_id_idx")', "pass"),
        ],
    )


def _primary_key_findings(root, *paths):
    found = lint_report([str(p) for p in paths or (root,)], Settings(), jobs=1).findings
    return [(f.message, f.hedged) for f in found if f.rule == "add-primary-key"]


@pytest.mark.parametrize(
    ("id_column", "check", "nullable"),
    [
        ('sa.Column("id", sa.BigInteger(), nullable=False)', "pass", False),
        ('sa.Column("id", sa.BigInteger(), primary_key=False)', "pass", True),
        ('sa.Column("id", sa.BigInteger())', 'op.alter_column("items", "id", nullable=False)', False),
        (
            'sa.Column("id", sa.BigInteger())',
            'op.execute("ALTER TABLE items ADD CONSTRAINT items_id_nn CHECK (id IS NOT NULL)")',
            False,
        ),
        (
            'sa.Column("id", sa.BigInteger(), nullable=False)',
            'op.alter_column("items", "id", nullable=True)',
            True,
        ),
    ],
)
def test_primary_key_using_index_knows_the_history(tmp_path, cache, id_column, check, nullable):
    """Whether the index's columns are NOT NULL comes from the earlier revisions, however the revision is
    selected (the whole project, or the one file: the ancestors' deltas then come from the cache)."""
    root = _primary_key_project(tmp_path / "p", id_column=id_column, check=check)
    want = (
        [
            (
                "PRIMARY KEY USING INDEX items_id_idx on items: id not known to be NOT NULL, so PostgreSQL "
                "sets NOT NULL implicitly, a full scan of items under ACCESS EXCLUSIVE",
                False,
            )
        ]
        if nullable
        else []
    )
    assert _primary_key_findings(root) == want
    assert _primary_key_findings(root, root / "migrations" / "versions" / "r3.py") == want


def test_primary_key_using_index_alone_is_hedged(tmp_path, cache):
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "add_pk.sql").write_text("ALTER TABLE items ADD PRIMARY KEY USING INDEX items_id_idx;\n")
    assert _primary_key_findings(lone) == [
        (
            "PRIMARY KEY USING INDEX items_id_idx on items: unless its columns are NOT NULL already, "
            "PostgreSQL sets NOT NULL implicitly, a full scan of items under ACCESS EXCLUSIVE",
            True,
        )
    ]


def test_a_type_change_names_the_check_an_earlier_revision_made(tmp_path, cache):
    """r1 creates the columns, a CHECK reading one of them; r2 changes their types: the binary-coercible
    change of the checked column says the CHECK is verified again (by name), the unchecked one says
    nothing, the rewrite says the CHECK is checked in the same pass."""
    root = write_project(
        tmp_path / "p",
        linear(
            (
                'op.create_table("items", sa.Column("code", sa.String(100)),'
                ' sa.Column("note", sa.String(100)), sa.Column("qty", sa.Integer()),'
                ' sa.CheckConstraint("length(code) > 0", name="items_code_len"),'
                ' sa.CheckConstraint("qty > 0", name="items_qty_positive"))',
                "pass",
            ),
            (
                'op.alter_column("items", "code", type_=sa.Text())\n'
                'op.alter_column("items", "note", type_=sa.Text())\n'
                'op.alter_column("items", "qty", type_=sa.BigInteger())',
                "pass",
            ),
        ),
    )
    for paths in ([root], [root / "migrations" / "versions" / "r2.py"]):
        found = lint_report([str(p) for p in paths], Settings(), jobs=1).findings
        assert [(f.message, f.rewrites, f.hedged) for f in found if f.rule == "change-column-type"] == [
            (
                "ALTER COLUMN code TYPE needs no rewrite, but CHECK constraint items_code_len on it is "
                "re-verified with a full scan of items under ACCESS EXCLUSIVE",
                False,
                False,
            ),
            (
                "ALTER COLUMN qty TYPE bigint takes ACCESS EXCLUSIVE; integer to bigint is not "
                "binary-coercible: items and its indexes are rewritten; CHECK constraint items_qty_positive "
                "is checked in the same pass",
                True,
                False,
            ),
        ]


@pytest.mark.parametrize(
    ("r2", "r3", "nullable"),
    [
        ("pass", "", False),
        ('op.alter_column("items", "id", nullable=True)', "", True),
        # the migration itself drops NOT NULL, then adds the key: the history's NOT NULL no longer holds
        ("pass", 'op.alter_column("items", "id", nullable=True)\n', True),
    ],
)
def test_add_primary_key_says_what_the_history_knows_of_its_columns(tmp_path, cache, r2, r3, nullable):
    root = write_project(
        tmp_path / "p",
        linear(
            ('op.create_table("items", sa.Column("id", sa.BigInteger(), nullable=False))', "pass"),
            (r2, "pass"),
            (r3 + 'op.create_primary_key("items_pkey", "items", ["id"])', "pass"),
        ),
    )
    base = "PRIMARY KEY on items builds its index under ACCESS EXCLUSIVE: reads and writes wait"
    want = base + ("; id not known to be NOT NULL: setting NOT NULL scans items again" if nullable else "")
    for paths in ([root], [root / "migrations" / "versions" / "r3.py"]):
        found = lint_report([str(p) for p in paths], Settings(), jobs=1).findings
        assert [f.message for f in found if f.rule == "add-primary-key"] == [want]


def test_primary_key_using_index_of_an_earlier_revision_on_a_column_made_not_null_here(tmp_path, cache):
    root = _primary_key_project(tmp_path / "p", id_column='sa.Column("id", sa.BigInteger())', check="pass")
    r3 = root / "migrations" / "versions" / "r3.py"
    r3.write_text(
        r3.read_text().replace(
            "    op.execute(", '    op.alter_column("items", "id", nullable=False)\n    op.execute(', 1
        )
    )
    assert _primary_key_findings(root) == []
    assert _primary_key_findings(root, r3) == []


@pytest.mark.parametrize(
    ("id_column", "fires"),
    [
        ("id bigint NOT NULL", False),  # NOT NULL already: SET NOT NULL is a no-op, no scan
        ("id bigint PRIMARY KEY", False),
        ("id bigint", True),  # known nullable: the scan
    ],
)
@pytest.mark.parametrize("jobs", [1, 2])
def test_set_not_null_knows_what_the_history_made_not_null(tmp_path, cache, id_column, fires, jobs):
    """A folder of versioned SQL files (linted whole, or its last file alone: the ancestors' state then
    comes from the cache) and a lone copy of the last file (which cannot know, so it fires)."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "V1__create.sql").write_text(f"CREATE TABLE items ({id_column}, name text);\n")
    (folder / "V2__more.sql").write_text("ALTER TABLE items ADD COLUMN note text;\n")
    last = folder / "V3__not_null.sql"
    last.write_text("SET lock_timeout = '2s';\nALTER TABLE items ALTER COLUMN id SET NOT NULL;\n")

    def rules(path):
        return [
            f.rule
            for f in lint_report([str(path)], Settings(), jobs=jobs).findings
            if f.path.endswith("V3__not_null.sql")
        ]

    assert ("set-not-null" in rules(folder)) == fires
    assert ("set-not-null" in rules(last)) == fires
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "V3__not_null.sql").write_text(last.read_text())
    assert "set-not-null" in rules(lone / "V3__not_null.sql")


@pytest.mark.parametrize(
    ("created", "fires"),
    [
        ("CREATE TABLE items (id bigint);\nALTER TABLE items ADD COLUMN code bigint NOT NULL;", False),
        ("CREATE TABLE items (id bigint);\nALTER TABLE items ADD COLUMN code bigint;", True),
        ("CREATE TABLE items (PRIMARY KEY (code), code bigint);", False),  # the key comes first
        ("CREATE TABLE items (code bigint, UNIQUE (code));", True),
    ],
)
def test_primary_key_using_index_knows_an_earlier_files_columns(tmp_path, cache, created, fires):
    """The NOT NULL of a column an earlier SQL file created or added reaches a later PRIMARY KEY USING
    INDEX, although the question names the index, not the column."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "V1__create.sql").write_text(created + "\n")
    (folder / "V2__index.sql").write_text("CREATE UNIQUE INDEX CONCURRENTLY items_code_idx ON items (code);")
    (folder / "V3__key.sql").write_text(
        "SET lock_timeout = '2s';\nALTER TABLE items ADD CONSTRAINT items_pkey PRIMARY KEY USING INDEX "
        "items_code_idx;\n"
    )
    found = lint_report([str(folder)], Settings(), jobs=1).findings
    messages = [f.message for f in found if f.path.endswith("V3__key.sql") and "not known" in f.message]
    assert bool(messages) == fires, messages


def test_an_ancestors_type_not_known_statically_keeps_the_rewrite_a_may(tmp_path, cache):
    """r1 adds a column whose length is known only at run time (``"string(?)"``): r2's change to text is
    a "may" (varchar to text needs no rewrite), not a certain rewrite of a type named string(?)."""
    root = write_project(
        tmp_path / "p",
        linear(
            ('op.create_table("events", sa.Column("label", sa.String(NAME_SIZE)))', "pass"),
            ('op.alter_column("events", "label", type_=sa.Text())', "pass"),
        ),
    )
    r2 = root / "migrations" / "versions" / "r2.py"
    for paths in ([root], [r2]):
        found = lint_report([str(p) for p in paths], Settings(), jobs=1).findings
        [change] = [f for f in found if f.rule == "change-column-type"]
        assert change.hedged and "the old type is not known here" in change.message, change.message


def test_a_cached_ancestor_is_read_again_when_a_module_it_imports_changes(tmp_path, cache):
    """The ancestors' state is kept by content: by the revision's and by that of the project module its
    imported TypeDecorator comes from (its impl is the column's type)."""
    root = write_project(
        tmp_path / "p",
        [
            ("r1", None, 'op.create_table("events", sa.Column("n", Counter()))', "pass"),
            ("r2", "r1", 'op.alter_column("events", "n", type_=sa.BigInteger())', "pass"),
        ],
    )
    r1 = root / "migrations" / "versions" / "r1.py"
    r1.write_text(
        r1.read_text().replace(
            "import sqlalchemy as sa\n", "import sqlalchemy as sa\nfrom app.types import Counter\n", 1
        )
    )
    types = root / "app" / "types.py"
    types.parent.mkdir()
    decorator = "import sqlalchemy as sa\n\n\nclass Counter(sa.types.TypeDecorator):\n    impl = sa.{}\n"
    types.write_text(decorator.format("Integer"))
    r2 = root / "migrations" / "versions" / "r2.py"
    for _ in range(2):  # the second run reads r1's state from the cache
        assert _types(lint_report([str(r2)], Settings(), jobs=1).findings) == [("bigint", False, True)]
    types.write_text(decorator.format("BigInteger"))  # r1 is unchanged; its column is bigint now
    assert _types(lint_report([str(r2)], Settings(), jobs=1).findings) == []


def test_a_downgrade_is_settled_against_the_schema_its_upgrade_leaves(tmp_path, cache):
    """A downgrade's type change on a column its upgrade did not touch is asked of the ancestors' state with
    the upgrade applied: varchar(100) to varchar(200) is not reported, int to bigint is a certain rewrite,
    and a column the upgrade changed is read as the upgrade left it."""
    downgrade = (
        'op.alter_column("events", "name", type_=sa.String(200))\n'
        'op.alter_column("events", "n", type_=sa.BigInteger())\n'
        'op.alter_column("events", "price", type_=sa.Numeric(10, 2))'
    )
    upgrade = 'op.alter_column("events", "price", type_=sa.Numeric(12, 2))'
    root = write_project(tmp_path / "p", [("r1", None, CREATE, "pass"), ("r2", "r1", upgrade, downgrade)])
    r2 = root / "migrations" / "versions" / "r2.py"
    for paths in ([str(root)], [str(r2)], [str(r2)]):  # the project, the revision alone, then from the cache
        found = lint_report(paths, Settings(), jobs=1).findings
        # numeric(12,2) -> numeric(10,2) is a rewrite PostgreSQL must check; name is not reported
        assert _types(found, "r2.py") == [("bigint", False, True), ("numeric(10,", False, True)]
