"""Command line: a thin layer over nnsym.api; every failure is one line and a status."""

from __future__ import annotations

import argparse
import difflib
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

UNRECOGNIZED = "unrecognized arguments: "


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2.

    Options are never abbreviated (`--epoch` is not taken for `--epochs`); an
    unknown one is shown under the command's usage, with the nearest option.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        usage = ""
        if message.startswith(UNRECOGNIZED) and not looks_like_negative_sample(message):
            words = message[len(UNRECOGNIZED) :].split(" ")
            message += "".join(self.did_you_mean(word) for word in words)
            usage = self.format_usage()
        elif message.startswith("argument COMMAND: invalid choice: "):
            message += self.did_you_mean(message.split("'")[1], commands=True)
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
            f"{usage}{self.prog}: error: {shorten(one_line(message))} "
            f"(see {self.prog} --help)\n",
        )

    def did_you_mean(self, word: str, commands: bool = False) -> str:
        """`'; did you mean --epochs?'` for `--epoch`, or '' if nothing is near."""
        if commands:
            choices = [
                name
                for action in self._actions
                if isinstance(action, argparse._SubParsersAction)
                for name in action.choices
            ]
        elif word.startswith("--"):
            word = word.split("=", 1)[0]
            choices = [
                option for option in self._option_string_actions if option[1] == "-"
            ]
        else:
            return ""
        # An option it begins (what argparse used to take silently), else the
        # closest by difflib's ratio.
        # Compared without the leading '--', which every option shares.
        near = [choice for choice in choices if choice.startswith(word)]
        if len(near) != 1:
            bare = {choice.lstrip("-"): choice for choice in choices}
            closest = difflib.get_close_matches(word.lstrip("-"), bare, n=1)
            near = [bare[name] for name in closest]
        return f"; {word}: did you mean {near[0]}?" if near else ""


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
    parser.subcommands = {}
    for command in COMMANDS:
        sub = command.add_parser(subparsers)
        parser.subcommands[sub.prog.split()[-1]] = sub
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
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # Reported by the subcommand, whose usage and options they belong to.
        subcommand = parser.subcommands.get(getattr(args, "command", None), parser)
        subcommand.error(UNRECOGNIZED + " ".join(unknown))
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
