"""Property tests: lint never raises, whatever SQL or Python it is given."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbpatterns.findings import Finding
from dbpatterns.lint import Settings, lint_revision, lint_sql

FRAGMENTS = [
    "ALTER TABLE",
    "t",
    "ADD COLUMN",
    "c",
    "int",
    "DEFAULT",
    "random()",
    "NOT NULL",
    "SET NOT NULL",
    "CREATE",
    "UNIQUE",
    "INDEX",
    "CONCURRENTLY",
    "ON",
    "(c)",
    "DROP",
    "TABLE",
    "BEGIN;",
    "COMMIT;",
    ";",
    "ADD CONSTRAINT",
    "CHECK (c > 0)",
    "NOT VALID",
    "VALIDATE CONSTRAINT",
    "FOREIGN KEY (c) REFERENCES u",
    "RENAME",
    "TO",
    "TYPE",
    "varchar(10)",
    "USING",
    "'",
    '"',
    "$$",
    "--",
    "/*",
    "*/",
    "\n",
    "é",
    "LOCK",
    "VACUUM FULL",
    "REINDEX",
    "TRUNCATE",
    "CASCADE",
    "SET lock_timeout = '1s'",
    "UPDATE t SET c = 1",
    "DETACH PARTITION p",
    "GENERATED ALWAYS AS (c) STORED",
    "serial",
    "PRIMARY KEY",
    "USING INDEX i",
]
sql_text = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(FRAGMENTS), max_size=40).map(" ".join),
)

REVISION = '''"""r"""
from alembic import op
import sqlalchemy as sa
revision = "a1"
down_revision = None

def upgrade():
{body}

def downgrade():
    op.drop_table("t")
'''
OPS = [
    'op.add_column("t", sa.Column("c", sa.Integer(), nullable=False))',
    'op.create_index("i", "t", ["c"], postgresql_concurrently=True)',
    'op.execute("ALTER TABLE t ALTER COLUMN c SET NOT NULL")',
    'op.execute(f"UPDATE {x} SET a = 1")',
    "with op.get_context().autocommit_block():",
    'with op.batch_alter_table("t") as b:',
    '    b.drop_column("c")',
    'op.alter_column("t", "c", type_=sa.String(20), existing_type=sa.String(10))',
    "op.drop_constraint(None, 't')",
    "op.create_foreign_key(None, 't', 'u', ['a'], ['id'])",
    "pass",
    "op.execute(",
    "    '''SELECT 1'''",
    "op.rename_table('t', 'u')",
    "x = 1",
    ")",
    "op.bulk_insert(t, [{}])",
]
python_body = st.lists(st.sampled_from(OPS), min_size=1, max_size=12).map(
    lambda lines: "\n".join("    " + line for line in lines)
)


def _check(findings):
    assert isinstance(findings, list)
    for f in findings:
        assert isinstance(f, Finding) and f.line >= 1 and f.column >= 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sql_text, st.sampled_from([9, 11, 12, 14, 18, 19]), st.booleans())
def test_lint_sql_never_raises(text, pg_version, in_transaction):
    _check(lint_sql(text, "x.sql", Settings(pg_version=pg_version, sql_in_transaction=in_transaction)))


@settings(max_examples=200, deadline=None)
@given(python_body)
def test_lint_revision_never_raises(body):
    _check(lint_revision(REVISION.format(body=body), "r.py", Settings()))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_lint_revision_on_random_text_never_raises(text):
    _check(lint_revision("revision = 'a'\ndef upgrade():\n    " + text, "r.py", Settings()))


def test_a_statement_nested_too_deeply_is_a_finding_at_its_line():
    text = "ALTER TABLE t ADD COLUMN a int;\nSELECT " + " || ".join(["1"] * 1000) + ";\n"
    findings = lint_sql(text, "deep.sql", Settings())
    deep = [f for f in findings if "nested too deeply" in f.message]
    assert len(deep) == 1 and deep[0].line == 2
    assert any(f.line == 1 and f.rule != "syntax-error" for f in findings)  # the rest is still linted


def test_a_statement_too_deep_for_the_lint_is_not_said_to_be_rejected(pg_url):
    """PostgreSQL 18 runs the 1,000-term chain the lint cannot follow: the fix says so, not "fix the
    syntax"."""
    import psycopg

    chain = " || ".join(["'a'"] * 1000)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert len(conn.execute(f"SELECT {chain}").fetchone()[0]) == 1000
    (deep,) = [f for f in lint_sql(f"SELECT {chain};\n", "deep.sql", Settings()) if "too deeply" in f.message]
    assert "may well accept" in deep.fix and "would reject" not in deep.fix
