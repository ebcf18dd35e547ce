"""Secrets in every shape a URL or libpq string carries them never reach the output, and a password that
needs percent-encoding works through verify, detect, check and trace --revision (issue 18).

A server of our own is started with password authentication (pg_hba: scram-sha-256 for every role but the
superuser) and a role whose password holds '%', '@', ':', '/', '#', '?', a space and a quote."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from dbpatterns.masking import known_secrets, mask

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "p%4@:/#?x w'q"
ENCODED = quote(PASSWORD, safe="")


@pytest.fixture(scope="module")
def password_server():
    from dbpatterns.pg import start

    server = start()
    try:
        with server.connect(autocommit=True) as conn:
            conn.execute(
                f"CREATE ROLE weird LOGIN CREATEDB PASSWORD '{PASSWORD.replace(chr(39), chr(39) * 2)}'"
            )
        (server.data_dir / "pg_hba.conf").write_text(
            "local all postgres trust\nlocal all all scram-sha-256\n"
        )
        with server.connect(autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")
        yield server
    finally:
        server.stop()


def _url(server, password: str, form: str = "userinfo") -> str:
    where = f"host={quote(str(server.socket_dir))}&port={server.port}"
    if form == "query":
        return f"postgresql://weird@/postgres?{where}&password={quote(password, safe='')}"
    return f"postgresql://weird:{quote(password, safe='')}@/postgres?{where}"


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dbpatterns.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def _leaks(text: str, password: str) -> list[str]:
    return [s for s in {password, quote(password, safe="")} if s in text]


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    target = tmp_path_factory.mktemp("example") / "project"
    shutil.copytree(ROOT / "examples" / "project", target)
    return target


def test_the_role_needs_its_password(password_server):
    import psycopg

    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(_url(password_server, "wrong")).close()
    psycopg.connect(_url(password_server, PASSWORD)).close()


@pytest.mark.parametrize(
    "command",
    [["verify"], ["detect"], ["check"], ["trace", "--revision", "head"]],
    ids=["verify", "detect", "check", "trace-revision"],
)
@pytest.mark.parametrize("form", ["userinfo", "query"])
def test_a_percent_encoded_password_works_and_is_never_printed(password_server, example, command, form):
    done = _run([*command, "--db", _url(password_server, PASSWORD, form)], example)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "the role of the server URL given" in out or command[0] in ("detect", "check")
    assert not _leaks(out, PASSWORD)


@pytest.mark.parametrize("command", [["verify"], ["trace", "--revision", "head"], ["drift"]])
def test_a_wrong_password_is_one_line_without_it(password_server, example, command):
    wrong = "wr%0ng@pa:ss/wd"
    done = _run([*command, "--db", _url(password_server, wrong)], example)
    assert done.returncode == 2
    assert "password authentication failed" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not _leaks(done.stdout + done.stderr, wrong)


RAW = ["Hx7@sec", "Hx7:sec", "Hx7/sec", "Hx7%sec", "Hx7#sec", "Hx7?sec", "Hx7 sec", "Hx7@:/%#?sec"]


@pytest.mark.parametrize("password", RAW)
@pytest.mark.parametrize("form", ["raw", "encoded", "query", "sslpassword", "libpq"])
def test_an_unreachable_server_never_shows_the_password(example, password, form):
    # unescaped characters make libpq split the URL elsewhere and quote a piece of the password (the host
    # 'sec@127.0.0.1', the text "Hx7 sec"): no piece of it may be printed
    enc = quote(password, safe="")
    url = {
        "raw": f"postgresql://app:{password}@127.0.0.1:1/prod",
        "encoded": f"postgresql://app:{enc}@127.0.0.1:1/prod",
        "query": f"postgresql://app@127.0.0.1:1/prod?password={enc}",
        "sslpassword": f"postgresql://app@127.0.0.1:1/prod?sslpassword={enc}",
        "libpq": f"host=127.0.0.1 port=1 user=app password='{password}'",
    }[form]
    for command in (["verify", "--format", "json"], ["drift", "--format", "json"]):
        done = _run([*command, "--db", url], example)
        out = done.stdout + done.stderr
        assert done.returncode == 2 and "Traceback" not in out
        assert "sec" not in out, out


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("postgresql://app:p/ss@db/prod", "p/ss"),
        ("postgresql://app:a/b@c:d#e?f@db:5432/prod?sslmode=require", "a/b@c:d#e?f"),
        ("postgresql://app@db/prod?sslpassword=hunter22", "hunter22"),
        ("postgresql://app@db/prod?passfile=/home/u/.pgpass", "/home/u/.pgpass"),
        ('host=db password="a b" user=x', "a b"),
        ("host=db password='a b' user=x", "a b"),
        ("PGPASSWORD=hunter22 psql", "hunter22"),
        ("postgresql://app:Pa%25%40ss@db/prod", "Pa%25%40ss"),
    ],
)
def test_mask_variants(text, secret):
    assert secret not in mask(text)


def test_a_known_password_is_masked_in_the_pieces_a_driver_quotes(monkeypatch):
    url = "postgresql://app:Hx7@sec@127.0.0.1:1/prod"
    assert "sec" not in mask("failed to resolve host 'sec@127.0.0.1'", url)
    assert "Hx7 sec" not in mask('unexpected spaces found in "Hx7 sec"', "postgresql://app:Hx7 sec@h/db")
    monkeypatch.setenv("PGPASSWORD", "bare-secret")
    monkeypatch.setenv("APP_DATABASE_URL", "postgresql://u:envsecret@h/db")
    monkeypatch.setenv("DBPATTERNS_STATEMENT_TIMEOUT", "120")  # not a secret: never masked
    secrets = known_secrets(["verify", "--db=postgresql://u:argsecret@h/db"])
    text = mask("bare-secret envsecret argsecret 120 seconds", *secrets)
    assert text == "*** *** *** 120 seconds"


def test_the_runner_gives_the_password_apart_from_the_url():
    from dbpatterns.alembic.runner import without_password

    url, password = without_password("postgresql+psycopg://u:p%25%40x@/db?host=/tmp&port=5")
    assert password == "p%@x" and url == "postgresql+psycopg://u@/db?host=/tmp&port=5"
    url, password = without_password("postgresql+psycopg://u@/db?host=/tmp&password=a%25b&port=5")
    assert password == "a%b" and "password" not in url and "host=/tmp" in url and "port=5" in url
    assert without_password("postgresql+psycopg://u@/db?host=/tmp") == (
        "postgresql+psycopg://u@/db?host=/tmp",
        None,
    )
