"""Errors that the command line reports as one line and an exit status."""

from __future__ import annotations

import reprlib
from collections.abc import Sequence

EXIT_RUNTIME = 1
EXIT_USAGE = 2
# 128 + the signal number: what a shell reports for a command a signal stopped.
EXIT_INTERRUPTED = 130  # SIGINT (Ctrl-C)
EXIT_TERMINATED = 143  # SIGTERM
# Longest message shown: anything the user typed or a file holds is cut to fit.
MAX_MESSAGE = 400


class NnsymError(Exception):
    """A failure the user can act on; `str()` is the one line shown to them."""

    exit_code = EXIT_RUNTIME


class UsageError(NnsymError):
    """The request itself is wrong (bad option, bad architecture, bad file)."""

    exit_code = EXIT_USAGE


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, and cleaned up after like Ctrl-C."""


# Set by the command line's SIGTERM handler with the Terminated it raises. That
# exception can land where Python only prints and drops exceptions (a finalizer,
# an at-fork hook) and the run goes on; write_atomic asks before it puts a file
# in place, so that even then no file is written after SIGTERM.
_termination = {"requested": False}


def request_termination(requested: bool = True) -> None:
    """Record that SIGTERM arrived (or, with False, forget it: a new run)."""
    _termination["requested"] = requested


def termination_requested() -> bool:
    """True once SIGTERM has arrived in this run."""
    return _termination["requested"]


def raise_if_terminated() -> None:
    """Raise Terminated if SIGTERM arrived, even if its first one was dropped."""
    if _termination["requested"]:
        raise Terminated()


def interrupted_status(interruption: BaseException) -> int:
    """The exit status for a KeyboardInterrupt: 143 after SIGTERM, else 130."""
    return EXIT_TERMINATED if isinstance(interruption, Terminated) else EXIT_INTERRUPTED


def interrupted_word(interruption: BaseException) -> str:
    """'terminated' after SIGTERM, else 'interrupted'."""
    return "terminated" if isinstance(interruption, Terminated) else "interrupted"


def shorten(text: str, limit: int = MAX_MESSAGE) -> str:
    """`text` cut to about `limit` characters, keeping its start and its end."""
    if len(text) <= limit:
        return text
    tail = limit // 4
    head = limit - tail
    left_out = len(text) - head - tail
    return f"{text[:head]}...[{left_out} characters left out]...{text[-tail:]}"


# Echo at most this much of what the user typed, so an error stays one short line.
_ECHO = reprlib.Repr()
_ECHO.maxstring = 60


def echo(text: object) -> str:
    """`repr` of something the user typed, shortened: safe to show on one line."""
    try:
        return _ECHO.repr(text)
    except ValueError:  # an int of more digits than repr() will convert
        return f"<a {type(text).__name__} too long to show>"


def echo_list(items: Sequence[str], limit: int = 10) -> str:
    """`'a, b, c'`; a longer list shows its first `limit` items and its length."""
    shown = [item if len(item) <= 60 else echo(item) for item in items[:limit]]
    more = f", ... ({len(items)} in all)" if len(items) > limit else ""
    return ", ".join(shown) + more
