"""Subcommands: each module has `add_parser(subparsers)` and `run(args)`."""

from nnsym.commands import (
    check,
    demo,
    diff,
    export,
    formulas,
    generate,
    graph,
    import_,
    playground,
    predict,
    train,
)

COMMANDS = (
    generate,
    train,
    predict,
    export,
    import_,
    demo,
    formulas,
    diff,
    check,
    graph,
    playground,
)
