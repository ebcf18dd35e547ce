"""Running users' code (env.py, revisions) without letting it write into our report."""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def user_output_to_stderr():
    """While the block runs, what is written to stdout goes to stderr: ``print()`` and anything written to
    file descriptor 1 (a C extension, a subprocess). Our own report on stdout stays valid JSON or SARIF."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):  # no real stdout (an embedding host): Python level only
        with contextlib.redirect_stdout(sys.stderr):
            yield
        return
    try:
        sys.stderr.flush()
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        os.dup2(saved, 1)
        os.close(saved)
