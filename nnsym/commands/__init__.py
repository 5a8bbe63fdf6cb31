"""Subcommands: each module has `add_parser(subparsers, cls)` and `run(args)`."""

from nnsym.commands import (
    check,
    demo,
    diff,
    export,
    formulas,
    generate,
    graph,
    predict,
    train,
)

COMMANDS = (generate, train, predict, export, demo, formulas, diff, check, graph)
