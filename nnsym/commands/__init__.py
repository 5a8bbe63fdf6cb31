"""Subcommands: each module has `add_parser(subparsers, cls)` and `run(args)`."""

from nnsym.commands import diff, formulas, generate

COMMANDS = (generate, formulas, diff)
