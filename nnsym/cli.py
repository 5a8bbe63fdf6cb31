"""Command line: a thin layer over nnsym.api; every failure is one line and a status."""

from __future__ import annotations

import argparse
import re
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from nnsym import __version__
from nnsym.commands import COMMANDS
from nnsym.errors import (
    EXIT_RUNTIME,
    EXIT_TERMINATED,
    EXIT_USAGE,
    NnsymError,
    Terminated,
    interrupted_status,
    interrupted_word,
    request_termination,
    shorten,
    termination_requested,
)


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        if message.endswith("expected one argument"):
            # argparse reads a value such as `-2-1` as an option, not a value.
            message += "; a value that starts with '-' is written --option=VALUE"
        elif looks_like_negative_sample(message):
            message += (
                "; a sample that starts with '-' goes after --, "
                "e.g. nnsym predict --model M.json -- -1,0.5"
            )
        self.exit(
            EXIT_USAGE,
            f"{self.prog}: error: {shorten(one_line(message))} "
            f"(see {self.prog} --help)\n",
        )


def looks_like_negative_sample(message: str) -> bool:
    """True if argparse refused what is probably a sample such as `-1,0.5`."""
    if message == "the following arguments are required: X":
        return True  # `nnsym predict` given only samples that start with '-'
    prefix = "unrecognized arguments: "
    if not message.startswith(prefix):
        return False
    return any(
        re.fullmatch(r"-[\d.][\d.,eE+-]*", word)
        for word in message[len(prefix) :].split()
    )


def one_line(text: str) -> str:
    """`text` with newlines and other control characters escaped, as in repr()."""
    return "".join(
        char if char.isprintable() else repr(char)[1:-1] for char in str(text)
    )


def build_parser() -> ArgumentParser:
    """The `nnsym` parser with one subcommand per module in nnsym.commands."""
    parser = ArgumentParser(
        prog="nnsym",
        description="Small neural networks as SymPy expressions, with exact "
        "gradients, emitted as standalone Python modules.",
    )
    parser.add_argument("--version", action="version", version=f"nnsym {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show a traceback on errors"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for command in COMMANDS:
        sub = command.add_parser(subparsers)
        sub.set_defaults(run=command.run)
        # SUPPRESS: absent after the subcommand must not undo `nnsym --debug CMD`.
        sub.add_argument(
            "--debug",
            action="store_true",
            default=argparse.SUPPRESS,
            help="show a traceback on errors",
        )
    return parser


def _terminate(signum: int, frame: FrameType | None) -> None:
    # Raised where the program is, so that SIGTERM unwinds as Ctrl-C does:
    # worker processes are ended and temporary files removed on the way out.
    # Recorded too: the exception can be dropped (see nnsym.errors), and then
    # the record stops the next write and makes the status 143.
    request_termination()
    raise Terminated()


def _dropping_termination(previous: Callable[[Any], object]) -> Callable[[Any], None]:
    """An unraisable hook that keeps a dropped Terminated off stderr."""

    def hook(unraisable: Any) -> None:
        # Python prints an exception it has to drop (in a finalizer, an at-fork
        # hook) as a traceback; a dropped Terminated is reported by its record
        # instead, in one line. Anything else goes to the hook that was there.
        if not isinstance(unraisable.exc_value, Terminated):
            previous(unraisable)

    return hook


def handle_sigterm() -> object:
    """Turn SIGTERM into a Terminated exception; return the handler it replaces."""
    try:
        return signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread: leave the default
        return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run `nnsym` with `argv`; return the exit status."""
    previous = handle_sigterm()
    # Only the outermost run in the main thread owns the SIGTERM record and the
    # unraisable hook: a run inside another (or in another thread) leaves both.
    outermost = previous is not None and previous is not _terminate
    previous_hook = sys.unraisablehook
    if outermost:
        request_termination(False)
        sys.unraisablehook = _dropping_termination(previous_hook)
    try:
        status = _run(argv)
        if termination_requested() and status != EXIT_TERMINATED:
            print("nnsym: terminated", file=sys.stderr)
            return EXIT_TERMINATED
        return status
    except KeyboardInterrupt as interruption:
        # SIGTERM or Ctrl-C while parsing, or while reporting another error.
        print(f"nnsym: {interrupted_word(interruption)}", file=sys.stderr)
        return interrupted_status(interruption)
    finally:
        # Called from Python (tests, scripts): give the caller its hooks back.
        if outermost:
            sys.unraisablehook = previous_hook
            request_termination(False)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)  # type: ignore[arg-type]


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except NnsymError as error:
        if args.debug:
            traceback.print_exc()
        print(f"nnsym: error: {shorten(one_line(str(error)))}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt as interruption:
        print(
            f"nnsym: {interrupted_word(interruption)}; "
            "no file was left half-written",
            file=sys.stderr,
        )
        return interrupted_status(interruption)
    except BrokenPipeError:
        # The reader of stdout went away (e.g. `| head`); nothing to report.
        sys.stderr.close()
        return EXIT_RUNTIME
    except Exception as error:  # noqa: BLE001 - last resort: one line, not a traceback
        if args.debug:
            traceback.print_exc()
        print(
            f"nnsym: error: internal error, please report it: "
            f"{type(error).__name__}: {shorten(one_line(str(error)))} "
            "(rerun with --debug for a traceback)",
            file=sys.stderr,
        )
        return EXIT_RUNTIME


def entry_point() -> None:
    """Console-script entry point."""
    sys.exit(main())
