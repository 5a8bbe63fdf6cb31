"""Subcommands: each module has `add_parser(subparsers, cls)` and `run(args)`."""

from nnsym.commands import generate

COMMANDS = (generate,)
