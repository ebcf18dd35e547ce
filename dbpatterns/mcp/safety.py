"""The guard rails every tool goes through: the project root and paths confined to it, database URLs from
the environment or named targets only, size caps, and errors turned into one sentence for the model."""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

from dbpatterns.errors import InputError
from dbpatterns.settings import find_pyproject, load_targets

log = logging.getLogger("dbpatterns.mcp")

#: The environment variable that names the database `check_drift` inspects (the plugin's userConfig sets it).
DATABASE_URL_ENV = "DBPATTERNS_DATABASE_URL"

MAX_INPUT_CHARS = 1_000_000  # SQL text passed in an argument
MAX_ITEMS = 500  # per list in a result
MAX_TEXT = 20_000  # per string in a result

#: Tools that run a project's code or a scratch server, one at a time (env.py may read os.environ, which
#: the runner sets while it migrates).
RUN_LOCK = threading.Lock()

_F = TypeVar("_F", bound=Callable[..., Any])

_SCRATCH = None
_SCRATCH_LOCK = threading.Lock()


def scratch_server():
    """One embedded PostgreSQL for this server process (started on first use, stopped at exit): each
    trace, verify, detect and drift works in its own scratch database on it, dropped afterwards. Never a
    user's server."""
    global _SCRATCH
    with _SCRATCH_LOCK:
        if _SCRATCH is None or not _SCRATCH.running:
            from dbpatterns.pg import start

            _SCRATCH = start()
        return _SCRATCH


def stop_scratch_server() -> None:
    """Stop the embedded PostgreSQL now (it also stops at a normal exit)."""
    server = _SCRATCH
    if server is not None and server.running:
        server.stop()


#: The working directory the server started in (Alembic's helpers chdir into a project while they run).
_START_DIR = Path.cwd().resolve()


def project_root() -> Path:
    """``CLAUDE_PROJECT_DIR`` when it names a folder, else the server's starting directory; resolved."""
    given = os.environ.get("CLAUDE_PROJECT_DIR")
    if given and Path(given).is_dir():
        return Path(given).resolve()
    return _START_DIR


def confine(raw: str, *, what: str = "path", must_exist: bool = True, folder: bool | None = None) -> Path:
    """``raw`` (relative to the project root, or absolute) resolved inside the root, or a ToolError."""
    if not raw or "\x00" in raw:
        raise ToolError(f"{what} is empty or not a valid path.")
    root = project_root()
    path = Path(raw).expanduser()
    resolved = (path if path.is_absolute() else root / path).resolve()
    if not resolved.is_relative_to(root):
        raise ToolError(f"{what} {raw!r} is outside the project root; only files under it can be used.")
    if must_exist and not resolved.exists():
        raise ToolError(f"{what} {raw!r}: no such file or folder in the project.")
    if folder is True and resolved.exists() and not resolved.is_dir():
        raise ToolError(f"{what} {raw!r} is not a folder.")
    if folder is False and resolved.is_dir():
        raise ToolError(f"{what} {raw!r} is a folder, not a file.")
    if resolved.exists() and not resolved.is_dir() and not resolved.is_file():  # never opened: could block
        raise ToolError(f"{what} {raw!r} is not a regular file (a FIFO, socket or device); it is not read.")
    return resolved


def relative(path: str | Path) -> str:
    """A path as the model should see it: relative to the project root when under it."""
    root = project_root()
    try:
        return Path(path).resolve().relative_to(root).as_posix() or "."
    except (ValueError, OSError):
        return str(path)


def check_input(text: str, what: str) -> str:
    if len(text) > MAX_INPUT_CHARS:
        raise ToolError(f"{what} is {len(text)} characters; the limit is {MAX_INPUT_CHARS}.")
    return text


# ---- database URLs


def database_url(target: str | None) -> str:
    """The URL of ``target`` (a name in ``[tool.dbpatterns] targets``), or of ``DBPATTERNS_DATABASE_URL``.

    A tool never takes a URL as an argument: the model could be talked into pointing it anywhere.
    """
    if target is None:
        url = configured_database_url()
        if not url:
            raise ToolError(
                f"No database configured: set {DATABASE_URL_ENV} (the plugin's database_url option) or "
                "name a target from [tool.dbpatterns] targets in pyproject.toml."
            )
        return url
    targets = configured_targets()
    if target not in targets:
        known = ", ".join(sorted(targets)) or "none configured"
        raise ToolError(f"Unknown database target {target!r} (known: {known}).")
    url = _expand_env(targets[target], target)
    if not url:
        raise ToolError(f"Database target {target!r} is empty once its environment variables are expanded.")
    return url


def configured_targets() -> dict[str, str]:
    """``[tool.dbpatterns] targets`` of the project: name -> URL, where ``${VAR}`` reads the environment."""
    where = find_pyproject(project_root())
    if where is None:
        return {}
    try:
        return load_targets(where)
    except InputError as exc:
        raise ToolError(clean_message(str(exc))) from None


_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


#: Values of the environment variables that configured targets name: masked out of every message.
_EXPANDED: set[str] = set()


def _expand_env(value: str, target: str) -> str:
    def read(match: re.Match) -> str:
        name = match[1]
        if name not in os.environ:
            raise ToolError(f"Database target {target!r} reads ${{{name}}}, which is not set.")
        if os.environ[name]:
            _EXPANDED.add(os.environ[name])
        return os.environ[name]

    return _ENV_REFERENCE.sub(read, value).strip()


def configured_database_url() -> str:
    """``DBPATTERNS_DATABASE_URL``, or "" when it is unset or a placeholder nobody expanded: opened as a plain
    project (not as a plugin), Claude Code passes ``${user_config.database_url}`` through as it is."""
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    return "" if url.startswith("${") and url.endswith("}") else url


def known_secrets() -> list[str]:
    """Every configured database URL, so that their passwords can be masked out of any text."""
    from dbpatterns.masking import known_secrets as of_the_process

    return [u for u in (configured_database_url(), *of_the_process()) if u]


# ---- results and errors


def clean_message(text: str) -> str:
    """One line with no password and no path outside the project (those keep only their last part)."""
    from dbpatterns.masking import mask

    text = mask(text, *known_secrets(), bare=tuple(_EXPANDED))
    root = str(project_root())
    text = text.replace(root + os.sep, "").replace(root, ".")
    # the command line's opt-in is not offered here
    text = re.sub(
        r"rerun with --superuser \([a-z, ]+\)[^;)]*",
        "the MCP server never runs SQL as the superuser",
        text,
    )
    text = re.sub(r"(?<![\w.:/])(/[^\s'\",:;()]+)", lambda m: _outside(m[1]), text)
    line = " ".join(text.split())
    return line if len(line) <= 1000 else line[:997] + "..."


def _outside(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    return ".../" + parts[-1] if len(parts) > 1 else path


def cap(result: BaseModel) -> BaseModel:
    """``result`` with every list cut to MAX_ITEMS (counted in ``truncated``) and every string to MAX_TEXT."""
    dropped = 0

    def walk(value):
        nonlocal dropped
        if isinstance(value, str) and len(value) > MAX_TEXT:
            return value[:MAX_TEXT] + f"\n... [{len(value) - MAX_TEXT} characters left out]"
        if isinstance(value, list):
            if len(value) > MAX_ITEMS:
                dropped += len(value) - MAX_ITEMS
                value = value[:MAX_ITEMS]
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    data = walk(result.model_dump())
    if dropped and "truncated" in type(result).model_fields:
        data["truncated"] = data.get("truncated", 0) + dropped
    return type(result).model_validate(data)


def guarded(fn: _F | None = None, *, inline: Callable[[dict], bool] | None = None):
    """Run a tool: expected failures (the core's InputError, a ToolError) become one clean sentence;
    anything else is logged (masked) on the server and reaches the model as a generic error.

    A tool runs on a worker thread, so that the server keeps answering (and hears a cancellation) while
    it works; with ``inline``, calls for which ``inline(arguments)`` is true (small, quick ones) run on the
    event loop instead, saving the thread hop. When the client gives up on a call (``notifications/
    cancelled``, or it goes away), the call's scratch database runs are ended at once
    (:func:`dbpatterns.pg.sandbox.abort_on`): the run lock is freed for the next call instead of being
    held until the statement finishes or times out.
    """
    if fn is None:
        return lambda f: guarded(f, inline=inline)

    def call(kwargs: dict, given_up: threading.Event | None = None):
        try:
            result = fn(**kwargs)
        except ToolError as exc:
            raise ToolError(clean_message(str(exc))) from None
        except InputError as exc:
            raise ToolError(clean_message(str(exc))) from None
        except Exception as exc:
            if given_up is not None and given_up.is_set():  # ended because its client gave up: expected
                log.info("%s ended: its client gave up on it", fn.__name__)
                raise ToolError(f"{fn.__name__} was ended: the client gave up on it.") from None
            log.error("%s failed: %s", fn.__name__, clean_message(f"{type(exc).__name__}: {exc}"))
            raise ToolError(
                f"{fn.__name__} failed unexpectedly ({type(exc).__name__}); the server log has the details."
            ) from None
        return cap(result) if isinstance(result, BaseModel) else result

    def call_until(kwargs: dict, given_up: threading.Event):
        from dbpatterns.pg.sandbox import abort_on

        with abort_on(given_up):
            return call(kwargs, given_up)

    @functools.wraps(fn)
    async def run_async(**kwargs):
        if inline is not None and inline(kwargs):
            return call(kwargs)
        import anyio

        given_up = threading.Event()
        try:
            return await anyio.to_thread.run_sync(
                functools.partial(call_until, kwargs, given_up), abandon_on_cancel=True
            )
        finally:  # after the result: nothing left to end; on a cancellation: end the run now
            given_up.set()

    return run_async
