"""`nnsym formulas`: the derivative formulas of a network, in a chosen format."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from nnsym import api
from nnsym.commands.generate import add_spec_arguments, spec_from_args
from nnsym.explain.formulas import (
    FORMATS,
    MAX_EXPANDED_PARAMS,
    derive,
    format_derivation,
    select_parameter,
)


def add_parser(subparsers: Any, parser_class: type) -> argparse.ArgumentParser:
    """Register `nnsym formulas`."""
    parser = subparsers.add_parser(
        "formulas",
        help="print the derivative of the loss for every parameter",
        description="Print the forward pass, the chain-rule deltas and the "
        "derivative of the loss for every parameter (or one), without writing "
        "any file.",
    )
    add_spec_arguments(parser)
    parser.add_argument(
        "--expanded",
        action="store_true",
        help="also write each gradient out in inputs, targets and parameters "
        f"(nets of at most {MAX_EXPANDED_PARAMS} parameters)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text (default), unicode (SymPy's pretty printer), latex (a "
        "standalone document) or markdown (LaTeX in $$ blocks)",
    )
    parser.add_argument(
        "--param",
        metavar="NAME",
        help="show only this parameter's gradient and what it depends on, "
        "e.g. w1_0_1 or b2_0",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Differentiate and print the formulas."""
    spec = spec_from_args(args)
    derivation = derive(api.differentiate(spec), expanded=args.expanded)
    if args.param is not None:
        derivation = select_parameter(derivation, args.param)
    sys.stdout.write(format_derivation(derivation, args.format))
    return 0
