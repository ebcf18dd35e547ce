"""One mask for secrets, used by every output path: passwords in URLs (user information with any
characters, ``?password=`` query parameters), in libpq ``key=value`` strings, and any secret the caller
knows (a configured URL's password in its raw, decoded and encoded forms)."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

MASK = "***"

# scheme://user:password@host — the password may hold '@' and ':' (not escaped): the last '@' before the
# host ends it
_USERINFO = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:@/\s]*):(?P<pw>[^\s/]*)@(?=[^@\s/]*)", re.I)
_QUERY = re.compile(r"(?P<head>[?&](?:ssl)?password=)[^&\s#'\"]*", re.I)
_KEYWORD = re.compile(r"(?P<head>\b(?:ssl)?password\s*=\s*)(?:'(?:[^'\\]|\\.)*'|[^\s'\"]+)", re.I)


def mask(text: str, *known: str | None) -> str:
    """``text`` with every password in it replaced by ``***``; ``known``: URLs (or libpq strings) whose
    passwords are masked wherever they appear, even alone."""
    for secret in _secrets(known):
        for form in {secret, unquote(secret), quote(secret, safe="")}:
            if len(form) >= 3:
                text = text.replace(form, MASK)
    text = _USERINFO.sub(lambda m: f"{m['head']}:{MASK}@", text)
    text = _QUERY.sub(lambda m: m["head"] + MASK, text)
    return _KEYWORD.sub(lambda m: m["head"] + MASK, text)


def _secrets(known) -> list[str]:
    out = []
    for value in known:
        if not value:
            continue
        if "://" in value:
            match = _USERINFO.search(value)
            if match and match["pw"]:
                out.append(match["pw"])
            try:
                query = urlsplit(value).query
            except ValueError:
                query = ""
            out += [m.group(0).split("=", 1)[1] for m in _QUERY.finditer("?" + query) if "=" in m.group(0)]
        else:
            out += [m.group(0).split("=", 1)[1].strip().strip("'") for m in _KEYWORD.finditer(value)]
    return [s for s in out if s]
