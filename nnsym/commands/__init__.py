"""Subcommands: each module has `add_parser(subparsers, cls)` and `run(args)`."""

from nnsym.commands import demo, export, generate, predict, train

COMMANDS = (generate, train, predict, export, demo)
