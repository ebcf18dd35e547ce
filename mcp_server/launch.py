"""Start the MCP server from the plugin bundle with its Python dependencies (standard library only).

Claude Code runs ``python3 ${CLAUDE_PLUGIN_ROOT}/mcp_server/launch.py`` (see .mcp.json). On the first
start this creates a virtualenv under ``${CLAUDE_PLUGIN_DATA}`` (which survives plugin updates) and
pip-installs the dependencies listed in the bundle's pyproject.toml into it; later starts reuse it until
that list changes. Then it runs ``python -m dbpatterns.mcp`` from the bundle in that virtualenv. Everything
it prints goes to stderr: stdout is the MCP channel.

    python3 mcp_server/launch.py --prepare     # only create / update the virtualenv (takes a minute once)
    python3 mcp_server/launch.py --where       # print the virtualenv's python
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MINIMUM = (3, 11)


def data_dir() -> Path:
    """``CLAUDE_PLUGIN_DATA`` in a plugin, else a cache folder of the user's."""
    given = os.environ.get("CLAUDE_PLUGIN_DATA")
    if given:
        return Path(given)
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "dbpatterns" / "plugin"


def venv_python(venv: Path | None = None) -> Path:
    venv = venv or data_dir() / "venv"
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def requirements() -> list[str]:
    """The ``[project] dependencies`` of the bundle's pyproject.toml."""
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(data["project"]["dependencies"])


def stamp(reqs: list[str]) -> str:
    text = json.dumps({"python": list(sys.version_info[:2]), "requirements": sorted(reqs)})
    return hashlib.sha256(text.encode()).hexdigest()


@contextlib.contextmanager
def locked(folder: Path):
    """One preparer at a time (the MCP server and a --prepare may start together)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: no lock
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare() -> Path:
    """The virtualenv's python, created or updated when the bundle's dependencies changed."""
    folder = data_dir()
    venv = folder / "venv"
    reqs = requirements()
    want = stamp(reqs)
    marker = folder / "venv.stamp"
    with locked(folder):
        if venv_python(venv).exists() and marker.exists() and marker.read_text().strip() == want:
            return venv_python(venv)
        say(f"preparing the Python environment in {venv} (once; it takes a minute)")
        run([sys.executable, "-m", "venv", "--clear", str(venv)])
        pip = [str(venv_python(venv)), "-m", "pip", "--disable-pip-version-check", "--quiet"]
        run([*pip, "install", "--upgrade", "pip"])
        run([*pip, "install", *reqs])
        marker.write_text(want + "\n")
        say("the Python environment is ready")
    return venv_python(venv)


def run(command: list[str]) -> None:
    done = subprocess.run(command, stdout=sys.stderr, stderr=sys.stderr, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        say(f"failed: {' '.join(command[:4])} ... (exit {done.returncode})")
        raise SystemExit(1)


def say(text: str) -> None:
    print(f"dbpatterns: {text}", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    if sys.version_info < MINIMUM:
        say(f"needs Python {MINIMUM[0]}.{MINIMUM[1]}+ as python3 (found {sys.version.split()[0]})")
        return 1
    python = Path(os.environ["DBPATTERNS_PYTHON"]) if os.environ.get("DBPATTERNS_PYTHON") else prepare()
    if "--prepare" in argv:
        return 0
    if "--where" in argv:
        print(python)
        return 0
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = [str(python), "-m", "dbpatterns.mcp", *argv]
    if os.name == "nt":  # no exec on Windows: stay the parent, pass the exit code on
        return subprocess.call(command, env=env)
    os.execve(str(python), command, env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
