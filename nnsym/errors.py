"""Errors that the command line reports as one line and an exit status."""

from __future__ import annotations

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
