"""SIGTERM (a CI system cancelling a job, ``timeout``, ``docker stop``) and SIGHUP (the terminal closed) end
a command the way Ctrl-C does: a :class:`KeyboardInterrupt` in the main thread, so every ``with`` block
unwinds (scratch databases and per-run roles dropped, the throwaway server stopped, its folder removed)
before the process exits with 128 + the signal's number (143 for SIGTERM)."""

from __future__ import annotations

import contextlib
import signal


class Terminated(KeyboardInterrupt):
    """The command was asked to stop by ``signum``."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"terminated by {signal.Signals(signum).name}")
        self.signum = signum


def _raise(signum, frame) -> None:
    # one is enough: further signals must not interrupt the teardown the first one started
    for each in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(each, signal.SIG_IGN)
    raise Terminated(signum)


def stop_like_ctrl_c() -> None:
    """Handle SIGTERM and SIGHUP as described above (from the main thread; elsewhere, nothing is done)."""
    with contextlib.suppress(ValueError, OSError, AttributeError):  # not the main thread; no SIGHUP
        for each in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(each) is signal.SIG_DFL:  # keep a handler the caller installed
                signal.signal(each, _raise)
