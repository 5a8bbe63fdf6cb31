"""Subcommands: each module has `add_parser(subparsers, cls)` and `run(args)`."""

from nnsym.commands import check, diff, formulas, generate, graph

COMMANDS = (generate, formulas, diff, check, graph)
