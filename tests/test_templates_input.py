"""dbpatterns new on hostile input (issue 18): column specs parsed as one column definition, names read and
quoted one way in every pattern (PostgreSQL's folding, keywords accepted), literals whose bytes survive the
templates, and, for any text at all, either a revision whose SQL parses and whose Python compiles or a
one-line input error."""

from __future__ import annotations

import ast
import contextlib
import io
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbpatterns.alembic.static import read_revision
from dbpatterns.cli import main
from dbpatterns.errors import InputError
from dbpatterns.sql.names import quote, read_name
from dbpatterns.sql.parse import parse_tree
from dbpatterns.templates import PATTERNS, generate
from dbpatterns.templates.values import no_binds
from dbpatterns.verify import verify_empty_database
from tests.alembic_builder import alembic_config, write_project

SETUP = (
    'op.execute("CREATE TABLE t (id bigint PRIMARY KEY, c text)")\n'
    "op.execute(\"INSERT INTO t SELECT g, 'c' || g FROM generate_series(1, 40) g\")\n"
    "op.execute(\"CREATE TYPE mood AS ENUM ('sad', 'ok')\")",
    'op.execute("DROP TABLE t")\nop.execute("DROP TYPE mood")',
)


def project(tmp_path: Path, setup=SETUP) -> Path:
    return write_project(tmp_path / "p", [("r0", None, *setup)])


def versions(root: Path) -> dict[str, str]:
    folder = root / "migrations" / "versions"
    return {p.name: p.read_text() for p in sorted(folder.iterdir()) if p.is_file()}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def verifies(root: Path, url: str) -> None:
    report = verify_empty_database(root, url)
    assert report.ok, report.to_dict()
    assert any(c.name == "downgrade_no_trace" and c.ok for c in report.checks)


# --- column specs: exactly one column definition ---------------------------------------------------------

NOT_ONE_COLUMN = [
    "c text -- comment",
    "c text) WITH (fillfactor=10",
    "c text) INHERITS (t",
    "c text) PARTITION BY RANGE (c",
    "c text, d int",
    "c text; DROP TABLE t",
    "PRIMARY KEY (c)",
    "CONSTRAINT k CHECK (c > 0)",
    "LIKE t",
    "c",
    "c.d text",
]


@pytest.mark.parametrize("spec", NOT_ONE_COLUMN)
def test_a_column_spec_that_is_not_one_column_definition_is_refused(spec, tmp_path):
    root = project(tmp_path)
    before = versions(root)
    code, out, err = run("new", "create-table", "--table", "x", "--column", spec, "--project", str(root))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "is not one column definition" in err and "Traceback" not in err, err
    assert versions(root) == before
    with pytest.raises(InputError, match="is not one column definition"):
        generate("create-table", {"table": "x", "column": [spec]}, root)
    assert versions(root) == before


def test_a_column_spec_is_written_from_its_parse_tree(tmp_path):
    root = project(tmp_path)
    (made,) = generate(
        "create-table", {"table": "x", "column": ["n  numeric(12,2) /* money */ NOT NULL"]}, root, write=False
    )
    sql = [s.sql for s in read_revision(made.text, "r.py").upgrade if s.sql.startswith("CREATE TABLE")]
    assert len(sql) == 1 and "n numeric(12, 2) NOT NULL" in sql[0] and "money" not in sql[0]


# --- names: folded and quoted one way in every pattern -----------------------------------------------------


def test_read_name_folds_like_postgresql(pg_url):
    """read_name against the server: the column name PostgreSQL gives ``SELECT 1 AS <text>``."""
    texts = ["Users", '"Users"', '"Us""ers"', "ÉtÉ", "MiXeD_1$", '"with space"', "order", "USER", "Time"]
    with psycopg.connect(pg_url) as conn:
        for text in texts:
            (name,) = read_name(text)
            cursor = conn.execute(f"SELECT 1 AS {text}")
            assert cursor.description[0].name == name, text
    assert read_name('app."T"') == ["app", "T"]
    for bad in ("a b", "x -- c", "a;b", '""', "a.", "1x", "a" * 64, '"' + "é" * 32 + '"'):
        with pytest.raises(ValueError):
            read_name(bad)


def test_quote_is_quote_ident(pg_url):
    """names.quote quotes exactly what PostgreSQL's quote_ident quotes, every keyword included."""
    with psycopg.connect(pg_url) as conn:
        words = [w for (w,) in conn.execute("SELECT word FROM pg_get_keywords()")]
        for name in [*words, "users", "Users", "a b", 'q"q', "été", "_x1", "1x"]:
            assert quote(name) == conn.execute("SELECT quote_ident(%s)", (name,)).fetchone()[0], name
    assert quote("x$") == "x$"  # quote_ident quotes a $; it is legal unquoted after the first letter


def test_names_fold_one_way_in_every_pattern(tmp_path, pg_url):
    root = project(tmp_path)
    code, _, err = run(
        "new", "create-table", "--table", "Users", "--column", "Email text", "--project", str(root)
    )
    assert code == 0, err
    generate("add-index", {"table": "USERS", "column": ["EMAIL"]}, root)
    generate("add-column", {"table": "users", "column": "Nick", "type": "text"}, root)
    generate("create-table", {"table": '"Users"', "column": ['"Email" text']}, root)
    code, _, err = run(
        "new", "add-index", "--table", '"Users"', "--column", '"Email"', "--project", str(root)
    )
    assert code == 0, err
    verifies(root, pg_url)
    with psycopg.connect(pg_url) as conn:
        columns = conn.execute(
            "SELECT attrelid::regclass::text, attname FROM pg_attribute"
            " WHERE attrelid IN ('users'::regclass, '\"Users\"'::regclass) AND attnum > 0"
            " AND attname NOT IN ('id', 'created_at', 'updated_at') AND NOT attisdropped"
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
            " WHERE indrelid IN ('users'::regclass, '\"Users\"'::regclass) AND NOT indisprimary"
        ).fetchall()
    columns, indexes = sorted(columns), sorted(indexes)
    assert columns == [('"Users"', "Email"), ("users", "email"), ("users", "nick")]
    assert [name for name, _ in indexes] == ['"Users_Email_idx"', "users_email_idx"]
    assert indexes[0][1].endswith('ON public."Users" USING btree ("Email")')
    assert indexes[1][1].endswith("ON public.users USING btree (email)")


def test_keywords_are_names_in_every_pattern(tmp_path, pg_url):
    root = project(tmp_path)
    code, _, err = run(
        "new",
        "create-table",
        "--table",
        "order",
        "--column",
        "user text NOT NULL",
        "--column",
        "select int",
        "--project",
        str(root),
    )
    assert code == 0, err
    steps = [
        ("add-column", {"table": "order", "column": "group", "type": "text"}),
        ("add-index", {"table": "order", "column": ["user", "select"]}),
        ("backfill", {"table": "order", "column": "group", "value": 'upper("user")', "batch_size": 3}),
        ("add-check-constraint", {"table": "order", "check": '"select" >= 0'}),
        ("add-not-null-column", {"table": "order", "column": "from", "type": "int", "default": "0"}),
    ]
    for pattern, options in steps:
        generate(pattern, options, root)
    code, _, err = run(
        "new",
        "rename-column",
        "--table",
        "order",
        "--column",
        "user",
        "--new-name",
        "where",
        "--type",
        "text",
        "--project",
        str(root),
    )
    assert code == 0, err
    text = "".join(versions(root).values())
    assert 'CREATE TABLE "order"' in text and 'ADD COLUMN "group" text' in text
    assert 'ON "order" ("user", "select")' in text
    verifies(root, pg_url)
    with psycopg.connect(pg_url) as conn:
        names = conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = '\"order\"'::regclass AND attnum > 0"
            " AND NOT attisdropped"
        ).fetchall()
    assert sorted(n for (n,) in names) == [
        "created_at",
        "from",
        "group",
        "id",
        "select",
        "updated_at",
        "where",
    ]


# --- literals keep their bytes ---------------------------------------------------------------------------

LABEL = "first line\n    indented second\n\tthird, tab  \n"  # 47 bytes, leading and trailing blanks


def test_a_multiline_enum_label_keeps_its_bytes(tmp_path, pg_url, pg_server):
    from alembic import command

    root = project(tmp_path)
    (made,) = generate("add-enum-value", {"type": "mood", "value": LABEL, "after": "sad"}, root)
    config = alembic_config(root, pg_url)
    with contextlib.redirect_stdout(io.StringIO()):
        command.upgrade(config, "head")
    with psycopg.connect(pg_url) as conn:
        labels = [row[0] for row in conn.execute("SELECT unnest(enum_range(NULL::mood))::text")]
    assert labels == ["sad", LABEL, "ok"] and len(labels[1].encode()) == len(LABEL.encode())
    with pg_server.scratch_database() as url:
        verifies(root, url)  # the downgrade finds the label by its bytes and removes it


def test_a_multiline_default_keeps_its_bytes(tmp_path, pg_url):
    from alembic import command

    root = project(tmp_path)
    value = "'" + LABEL.replace("'", "''") + "'"
    code, _, err = run(
        "new",
        "add-column-default",
        "--table",
        "t",
        "--column",
        "note",
        "--type",
        "text",
        "--default",
        value,
        "--project",
        str(root),
    )
    assert code == 0, err
    with contextlib.redirect_stdout(io.StringIO()):
        command.upgrade(alembic_config(root, pg_url), "head")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO t (id) VALUES (1000)")
        notes = {n for (n,) in conn.execute("SELECT note FROM t")}
    assert notes == {LABEL}


# --- any text: a revision that parses and compiles, or one line of input error ----------------------------

PIECES = [
    '"', "'", "(", ")", ";", "--", "/*", "*/", "$$", "\\", ":x", "%", "{", "}", '"""', ",", ".", "::", "[]",
    "\n", " ", "\t", "\x00", "\u2028", "é", "E'", 'U&"', "text", "int", "order", "Users", '"Users"', "c",
    "NOT NULL", "DEFAULT", "WITH", "REFERENCES t", "CHECK (c > 0)", "PRIMARY KEY", "COLLATE", "now()",
]  # fmt: skip
HOSTILE = st.one_of(
    st.text(max_size=30),
    st.lists(st.sampled_from(PIECES), max_size=8).map("".join),
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=6).map(" ".join),
)
SLOTS = {
    "create-table --column": ("create-table", lambda x: {"table": "x", "column": ["c text", x]}),
    "create-table --table": ("create-table", lambda x: {"table": x, "column": ["c text"]}),
    "add-column --column": ("add-column", lambda x: {"table": "t", "column": x, "type": "text"}),
    "add-column --type": ("add-column", lambda x: {"table": "t", "column": "d", "type": x}),
    "add-index --column": ("add-index", lambda x: {"table": "t", "column": ["c", x]}),
    "add-index --where": ("add-index", lambda x: {"table": "t", "column": ["c"], "where": x}),
    "add-column-default --default": (
        "add-column-default",
        lambda x: {"table": "t", "column": "d", "type": "text", "default": x},
    ),
    "add-not-null-column --default": (
        "add-not-null-column",
        lambda x: {"table": "t", "column": "d", "type": "text", "default": x},
    ),
    "add-enum-value --value": ("add-enum-value", lambda x: {"type": "mood", "value": x}),
    "add-enum-value --type": ("add-enum-value", lambda x: {"type": x, "value": "v", "before": "ok"}),
    "add-foreign-key --references": (
        "add-foreign-key",
        lambda x: {"table": "t", "column": "c", "references": x},
    ),
    "add-check-constraint --check": ("add-check-constraint", lambda x: {"table": "t", "check": x}),
    "backfill --value": ("backfill", lambda x: {"table": "t", "column": "c", "value": x}),
    "rename-column --new-name": (
        "rename-column",
        lambda x: {"table": "t", "column": "c", "new_name": x, "type": "text"},
    ),
    "change-column-type --from-type": (
        "change-column-type",
        lambda x: {"table": "t", "column": "c", "type": "bigint", "from_type": x},
    ),
}


@pytest.fixture(scope="module")
def shared_project(tmp_path_factory):
    return project(tmp_path_factory.mktemp("hostile"))


def _module_sql(text: str) -> list[str]:
    """The SQL of the module-level constants (the backfill's statements), binds given a value."""
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql

    out = []
    for node in ast.parse(text).body:
        if not isinstance(node, ast.Assign):
            continue
        value = node.value
        if isinstance(value, ast.Call) and getattr(value.func, "attr", "") == "text":
            clause = sa.text(ast.literal_eval(value.args[0]))
            clause = clause.bindparams(**{name: 1 for name in clause._bindparams})
            out.append(
                str(clause.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
            )
        elif node.targets[0].id.endswith("_OFFLINE"):
            out.append(ast.literal_eval(value))
    return out


def _parses_or_input_error(pattern: str, options: dict, root: Path) -> None:
    options = {k: v for k, v in options.items() if v is not None}
    try:
        made = generate(pattern, options, root, write=False)
    except InputError as exc:
        assert str(exc) and "\n" not in str(exc) and "\r" not in str(exc)
        return
    for g in made:
        compile(g.text, str(g.path), "exec")
        revision = read_revision(g.text, str(g.path))
        statements = [s.sql for s in revision.upgrade + revision.downgrade if s.sql is not None]
        assert statements
        for sql in statements + _module_sql(g.text):
            assert parse_tree(sql) is not None, sql


@pytest.mark.parametrize("slot", SLOTS, ids=SLOTS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=HOSTILE)
def test_any_text_gives_sql_that_parses_or_one_line_of_error(slot, text, shared_project):
    pattern, options = SLOTS[slot]
    _parses_or_input_error(pattern, options(text), shared_project)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=HOSTILE, name=HOSTILE)
def test_any_text_on_the_command_line_exits_0_or_2_with_one_line(spec, name, shared_project):
    if "\x00" in spec + name:  # the operating system refuses NUL in arguments before dbpatterns sees them
        return
    argv = ["new", "create-table", f"--table={name or 'x'}", f"--column={spec or 'c text'}"]
    code, out, err = run(*argv, "--project", str(shared_project), "--print")
    assert (code, err) == (0, "") or (code == 2 and err.count("\n") == 1 and out == ""), (code, err)
    assert "Traceback" not in err


def test_derived_names_fit_63_bytes_and_postgresql_keeps_them(tmp_path, pg_url):
    table, column = "é" * 31, "c" * 63  # 62 and 63 bytes: the index name must be shortened, by us
    setup = (
        f"op.execute('CREATE TABLE \"{table}\" (id bigint PRIMARY KEY, {column} text)')",
        f"op.execute('DROP TABLE \"{table}\"')",
    )
    root = project(tmp_path, setup)
    (made,) = generate("add-index", {"table": f'"{table}"', "column": [column]}, root)
    verifies(root, pg_url)
    with psycopg.connect(pg_url) as conn:
        (name,) = conn.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'i' AND relname LIKE '%_idx'"
        ).fetchone()
    assert len(name.encode()) <= 63 and name.endswith("_idx") and name.startswith("é")
    assert quote(name) in made.text


def test_a_users_template_that_writes_sql_that_does_not_parse_is_refused(tmp_path):
    root = project(tmp_path)
    (root / "pyproject.toml").write_text('[tool.dbpatterns]\ntemplates = "templates"\n')
    (root / "templates").mkdir()
    (root / "templates" / "add-column.py.j2").write_text(
        '{% block upgrade %}{{ m.execute("ALTER TABLE " ~ table ~ " ADD COLUMN " ~ column) }}{% endblock %}\n'
        "{% block downgrade %}pass{% endblock %}\n"
    )
    before = versions(root)
    code, _, err = run(
        "new", "add-column", "--table", "t", "--column", "d", "--type", "text", "--project", str(root)
    )
    assert code == 2 and err.count("\n") == 1 and "does not parse" in err
    assert "ALTER TABLE t ADD COLUMN d" in err
    assert versions(root) == before


@given(text=st.text())
def test_python_string_survives_reindenting(text):
    """The py filter's literal holds ``text`` whatever indentation and trailing blanks are added or removed
    around its lines (what the templates, script.py.mako and formatters do)."""
    import textwrap

    from dbpatterns.templates.jinja import python_string

    source = f"x = ({python_string(text)})"
    for changed in (source, textwrap.indent(source, "        "), textwrap.dedent(source)):
        moved = "\n".join(line.rstrip() + "  " for line in changed.splitlines()).strip()
        assert ast.literal_eval(moved.split("=", 1)[1].strip()) == text


# --- contract downgrades restore what DROP COLUMN took ---------------------------------------------------

EMAIL_SHAPES = """
op.execute("ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email) DEFERRABLE INITIALLY DEFERRED")
op.execute("CREATE INDEX users_email_id_idx ON users (email, id DESC)")
op.execute("ALTER TABLE users ADD CONSTRAINT email_required NOT NULL email")
op.execute("ALTER TABLE users ADD CONSTRAINT users_email_like CHECK (email LIKE 'u%') NOT VALID")
"""
FK_SHAPE = (
    'op.execute("ALTER TABLE users ADD CONSTRAINT users_account_fk'
    ' FOREIGN KEY (account_id) REFERENCES accounts ON DELETE CASCADE")'
)
CONTRACTS = {
    "rename-column email": (
        "rename-column",
        EMAIL_SHAPES,
        {"table": "users", "column": "email", "new_name": "mail", "type": "text"},
    ),
    "change-column-type email": (
        "change-column-type",
        EMAIL_SHAPES,
        {"table": "users", "column": "email", "type": "varchar(200)", "from_type": "text"},
    ),
    "rename-column foreign key": (
        "rename-column",
        FK_SHAPE,
        {"table": "users", "column": "account_id", "new_name": "account", "type": "bigint"},
    ),
}


@pytest.mark.parametrize("case", CONTRACTS, ids=CONTRACTS)
def test_contract_downgrade_restores_constraints_and_indexes(case, tmp_path, pg_url):
    """A unique deferrable constraint, a two-column index, a named NOT NULL (PostgreSQL 18), a NOT VALID
    check, a foreign key: verify's stairway compares the catalog before the contract and after its
    downgrade."""
    from tests.test_templates import BASE_DOWN, BASE_UP

    pattern, shapes, options = CONTRACTS[case]
    root = write_project(tmp_path / "p", [("r0", None, BASE_UP + "\n" + shapes, BASE_DOWN)])
    assert len(generate(pattern, options, root)) == 2
    verifies(root, pg_url)


NUMBERS = st.one_of(st.integers(), st.floats(), st.text(max_size=8), st.booleans())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch_size=NUMBERS, pause=NUMBERS)
def test_any_batch_size_or_pause_gives_sql_or_one_line_of_error(batch_size, pause, shared_project):
    options = {"table": "t", "column": "c", "value": "1", "batch_size": batch_size, "pause": pause}
    _parses_or_input_error("backfill", options, shared_project)


VALID = {
    "create-table": {"table": "x", "column": ["c text"]},
    "add-column": {"table": "t", "column": "d", "type": "text"},
    "add-column-default": {"table": "t", "column": "d", "type": "int", "default": "1"},
    "add-not-null-column": {"table": "t", "column": "d", "type": "int", "default": "1"},
    "add-index": {"table": "t", "column": ["c"]},
    "drop-index": {"table": "t", "column": ["c"]},
    "add-foreign-key": {"table": "t", "column": "c", "references": "t"},
    "add-unique-constraint": {"table": "t", "column": ["c"]},
    "add-check-constraint": {"table": "t", "check": "c <> ''"},
    "backfill": {"table": "t", "column": "c", "value": "'x'"},
    "rename-column": {"table": "t", "column": "c", "new_name": "d", "type": "text"},
    "change-column-type": {"table": "t", "column": "c", "type": "varchar(9)", "from_type": "text"},
    "drop-column": {"table": "t", "column": "c", "type": "text"},
    "add-enum-value": {"type": "mood", "value": "v"},
}
EVERY_OPTION = [(name, o.key) for name in VALID for o in PATTERNS[name].options]
ANY_VALUE = st.one_of(st.none(), HOSTILE, NUMBERS, st.lists(HOSTILE, max_size=3))


def test_every_pattern_but_merge_has_valid_options():
    assert set(VALID) | {"merge"} == set(PATTERNS)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(slot=st.sampled_from(EVERY_OPTION), value=ANY_VALUE)
def test_any_value_of_any_option_gives_sql_or_one_line_of_error(slot, value, shared_project):
    pattern, key = slot
    _parses_or_input_error(pattern, {**VALID[pattern], key: value}, shared_project)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(message=HOSTILE)
def test_any_message_gives_a_revision_or_one_line_of_error(message, shared_project):
    try:
        (made,) = generate("add-column", VALID["add-column"], shared_project, message=message, write=False)
    except InputError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    compile(made.text, str(made.path), "exec")
    assert made.path.parent == shared_project / "migrations" / "versions"


def test_rename_expand_a_default_on_the_old_column_is_kept_as_its_doc_says(tmp_path, pg_url):
    """The expand revision's docstring: an insert naming only the new column gets the old column's default,
    applied before the BEFORE trigger runs (so the trigger leaves both as they are)."""
    from alembic import command

    setup = (
        "op.execute(\"CREATE TABLE t (id bigint PRIMARY KEY, c text NOT NULL DEFAULT 'dflt')\")",
        'op.execute("DROP TABLE t")',
    )
    root = project(tmp_path, setup)
    options = {"table": "t", "column": "c", "new_name": "d", "type": "text"}
    expand, _ = generate("rename-column", options, root)
    assert "PostgreSQL applies defaults before BEFORE triggers" in expand.text
    with contextlib.redirect_stdout(io.StringIO()):
        command.upgrade(alembic_config(root, pg_url), expand.revision)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO t (id, d) VALUES (1, 'new code')")
        conn.execute("INSERT INTO t (id, c) VALUES (2, 'old code')")
        rows = conn.execute("SELECT id, c, d FROM t ORDER BY id").fetchall()
    assert rows == [(1, "dflt", "new code"), (2, "old code", "old code")]


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("status = :done", ":done"),
        ("a = :x AND b = :y", ":x"),
        ("created_at::date", None),  # a cast, not a parameter
        ("'12:30'", None),  # SQLAlchemy does not read :30 after a digit
        ("now()", None),
    ],
)
def test_a_value_sqlalchemy_would_read_as_a_bind_parameter_is_refused(text, refused):
    if refused is None:
        assert no_binds(text, "--where") == text
    else:
        with pytest.raises(InputError, match=f"would read '{refused}' as a bind parameter"):
            no_binds(text, "--where")
