"""Command line: a thin layer over nnsym.api; every failure is one line and a status."""

from __future__ import annotations

import argparse
import re
import sys
import traceback
from collections.abc import Sequence

from nnsym import __version__
from nnsym.commands import COMMANDS
from nnsym.errors import EXIT_INTERRUPTED, EXIT_RUNTIME, EXIT_USAGE, NnsymError


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
            f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n",
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
        sub = command.add_parser(subparsers, ArgumentParser)
        sub.set_defaults(run=command.run)
        # SUPPRESS: absent after the subcommand must not undo `nnsym --debug CMD`.
        sub.add_argument(
            "--debug",
            action="store_true",
            default=argparse.SUPPRESS,
            help="show a traceback on errors",
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `nnsym` with `argv`; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except NnsymError as error:
        if args.debug:
            traceback.print_exc()
        print(f"nnsym: error: {one_line(str(error))}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("nnsym: interrupted; no file was left half-written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of stdout went away (e.g. `| head`); nothing to report.
        sys.stderr.close()
        return EXIT_RUNTIME
    except Exception as error:  # noqa: BLE001 - last resort: one line, not a traceback
        if args.debug:
            traceback.print_exc()
        print(
            f"nnsym: error: internal error, please report it: "
            f"{type(error).__name__}: {one_line(str(error))} "
            "(rerun with --debug for a traceback)",
            file=sys.stderr,
        )
        return EXIT_RUNTIME


def entry_point() -> None:
    """Console-script entry point."""
    sys.exit(main())
