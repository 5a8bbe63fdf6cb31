"""Errors that the command line reports as one line and an exit status."""

from __future__ import annotations

EXIT_RUNTIME = 1
EXIT_USAGE = 2
# 128 + SIGINT: the status a shell gives a command stopped by Ctrl-C.
EXIT_INTERRUPTED = 130


class NnsymError(Exception):
    """A failure the user can act on; `str()` is the one line shown to them."""

    exit_code = EXIT_RUNTIME


class UsageError(NnsymError):
    """The request itself is wrong (bad option, bad architecture, bad file)."""

    exit_code = EXIT_USAGE
