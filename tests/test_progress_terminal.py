"""Progress on stderr for drift and detect, through the real command line: a line per step (revision N of
M) when stderr is a terminal (a pseudo-terminal here), nothing extra when stderr is piped or the output is
JSON. The commands run in a subprocess, on the session server named by URL (DBPATTERNS_SERVER_URL, --db)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.alembic_builder import alembic_config, linear, write_project

MODELS = """
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


class T(Base):
    __tablename__ = "t"
    id = sa.Column(sa.Integer, primary_key=True)
    a = sa.Column(sa.Text)
    b = sa.Column(sa.Text)
    c = sa.Column(sa.Text)  # no revision adds it: detect finds a change
"""

HISTORY = linear(
    ('op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))', 'op.drop_table("t")'),
    ('op.add_column("t", sa.Column("a", sa.Text))', 'op.drop_column("t", "a")'),
    ('op.add_column("t", sa.Column("b", sa.Text))', 'op.drop_column("t", "b")'),
)


@pytest.fixture
def project(tmp_path, pg_url):
    """Drift's project, and its target migrated to the head."""
    root = write_project(tmp_path / "p", HISTORY)
    from alembic import command

    command.upgrade(alembic_config(root, pg_url), "heads")
    return root


def _run(args: list[str], server_url: str, *, terminal: bool) -> tuple[int, str, str]:
    """Run the command line with stderr on a pseudo-terminal (``terminal``) or a pipe: (exit code,
    stdout, stderr)."""
    env = dict(os.environ, DBPATTERNS_SERVER_URL=server_url)
    command = [sys.executable, "-c", "from dbpatterns.cli import run; run()", *args]
    if not terminal:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
        return done.returncode, done.stdout, done.stderr
    leader, follower = os.openpty()
    with subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower, env=env
    ) as process:
        os.close(follower)
        err = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: every holder of the terminal's other end has closed it
                break
            if not chunk:
                break
            err += chunk
        out = process.stdout.read().decode()
        code = process.wait(timeout=300)
    os.close(leader)
    return code, out, err.decode()


def _other_way(pg_server) -> str:
    """The session server's URL written another way (a trailing slash on the socket folder)."""
    return pg_server.url().replace(f"host={pg_server.socket_dir}", f"host={pg_server.socket_dir}/")


def test_drift_shows_progress_on_a_terminal_only(project, pg_server, pg_url):
    args = ["drift", "--project", str(project), "--db", pg_url, "--no-cache"]
    code, out, err = _run(args, _other_way(pg_server), terminal=True)
    assert code == 0, out + err
    assert "in sync" in out
    for n in (1, 2, 3):
        assert f"drift: history upgrade, revision {n} of 3 (r{n})" in err, err
    assert "\n" not in err.strip("\r\n") and err.endswith("\r")  # one line, rewritten, cleared at the end
    code, out, err = _run(args, _other_way(pg_server), terminal=False)
    assert code == 0 and err == "", err
    code, out, err = _run([*args, "--format", "json"], _other_way(pg_server), terminal=True)
    assert code == 0 and err == "", err
    assert out.startswith("{")


def test_detect_shows_progress_on_a_terminal_only(tmp_path, pg_server):
    project = write_project(tmp_path / "p", HISTORY, models="progress_models:Base", module="progress_models")
    (project / "progress_models.py").write_text(MODELS)
    args = ["detect", "--project", str(project), "--db", _other_way(pg_server)]
    code, out, err = _run(args, _other_way(pg_server), terminal=True)
    assert code == 1, out + err  # t.c: a model change no revision makes
    assert "t.c" in out
    for n in (1, 2, 3):
        assert f"detect: upgrade, revision {n} of 3 (r{n})" in err, err
    assert "detect: comparing the models with the history" in err
    assert "\n" not in err.strip("\r\n") and err.endswith("\r")
    code, out, err = _run(args, _other_way(pg_server), terminal=False)
    assert code == 1 and err == "", err
    code, out, err = _run([*args, "--format", "json"], _other_way(pg_server), terminal=True)
    assert code == 1 and err == "", err
    assert out.startswith("{")
