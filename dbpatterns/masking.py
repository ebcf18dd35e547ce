"""One mask for secrets, used by every output path: passwords in URLs (user information with any
characters, ``?password=`` / ``sslpassword=`` / ``passfile=`` query parameters), in libpq ``key=value``
strings and ``PGPASSWORD=`` assignments, and any secret the caller knows (a configured URL's password in
its raw, decoded and encoded forms, and the pieces a driver may quote alone when an unescaped ``@``, ``:``
or ``/`` made it split the URL elsewhere)."""

from __future__ import annotations

import os
import re
from urllib.parse import quote, unquote

MASK = "***"

# scheme://user:password@host: the password may hold '@', ':', '/', '#', '?' (not escaped): the last '@'
# of the whitespace-free run ends it
_USERINFO = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:@/\s]*):(?P<pw>\S*)@(?=[^@\s]*)", re.I)
_SECRET_KEYS = r"(?:ssl)?password|passfile|sslkey"
_QUERY = re.compile(rf"(?P<head>[?&](?:{_SECRET_KEYS})=)[^&\s#'\"]*", re.I)
_KEYWORD = re.compile(
    rf"(?P<head>(?<![\w.])(?:{_SECRET_KEYS}|PGPASSWORD)\s*=\s*)(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s'\"&]+)",
    re.I,
)
# what a driver may print alone of a password it split at one of these (libpq ends the user information
# at the first '@' or '/')
_SPLITS = re.compile(r"[@:/?#\s]+")
_MIN_PIECE = 3


def mask(text: str, *known: str | None, bare: tuple[str, ...] = ()) -> str:
    """``text`` with every password in it replaced by ``***``; ``known``: URLs (or libpq strings, or bare
    secrets) whose passwords are masked wherever they appear, even alone; ``bare``: secrets as they are
    (values of environment variables a configured URL names)."""
    for secret in sorted(_secrets(known) | _forms(bare), key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _USERINFO.sub(lambda m: f"{m['head']}:{MASK}@", text)
    text = _QUERY.sub(lambda m: m["head"] + MASK, text)
    return _KEYWORD.sub(lambda m: m["head"] + MASK, text)


def _secrets(known) -> set[str]:
    """The passwords in ``known``, in every form they may be printed in."""
    found = []
    for value in known:
        if not value:
            continue
        if "://" in value:
            scheme_end = value.index("://") + 3
            userinfo, at, _ = value[scheme_end:].rpartition("@")
            if at and ":" in userinfo:
                found.append(userinfo.split(":", 1)[1])
            found += [m.group(0).split("=", 1)[1] for m in _QUERY.finditer(value)]
        elif "=" not in value:  # a bare secret
            found.append(value)
        else:
            for m in _KEYWORD.finditer(value):
                raw = m.group(0).split("=", 1)[1].strip()
                if raw[:1] in "'\"" and raw[-1:] == raw[:1] and len(raw) >= 2:
                    raw = raw[1:-1]
                found += [raw, raw.replace("\\'", "'").replace('\\"', '"')]
    return _forms(found)


def _forms(found) -> set[str]:
    """Each secret of ``found`` raw, decoded and encoded, and its pieces a driver may quote alone."""
    out: set[str] = set()
    for secret in found:
        if not secret:
            continue
        for form in (secret, unquote(secret), quote(secret, safe=""), quote(unquote(secret), safe="")):
            if len(form) >= _MIN_PIECE:
                out.add(form)
            out.update(p for p in _SPLITS.split(form) if len(p) >= _MIN_PIECE)
    return out


def known_secrets(argv: list[str] | None = None) -> list[str]:
    """Every database URL this process was given, so that their passwords can be masked out of any text:
    the values of ``--db`` in ``argv``, and the environment's URL variables (``*_URL`` holding ``://``,
    ``DBPATTERNS_DATABASE_URL``, ``DBPATTERNS_SERVER_URL``, ``PGPASSWORD``)."""
    found = []
    args = list(argv or ())
    for i, arg in enumerate(args):
        if arg == "--db" and i + 1 < len(args):
            found.append(args[i + 1])
        elif arg.startswith("--db="):
            found.append(arg[5:])
    for name, value in os.environ.items():
        if "://" in value and (name.endswith(("_URL", "_URI", "_DSN")) or name.startswith("DBPATTERNS_")):
            found.append(value)
    found.append(os.environ.get("PGPASSWORD", ""))  # a bare secret
    return [value for value in found if value]
