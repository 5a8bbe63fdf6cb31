"""`nnsym formulas`: the derivative formulas of a network, in a chosen format."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from nnsym import api
from nnsym.commands.options import add_spec_arguments, spec_from_args
from nnsym.explain.limits import FORMULA_FORMATS, MAX_EXPANDED_PARAMS


def add_parser(subparsers: Any, parser_class: type) -> argparse.ArgumentParser:
    """Register `nnsym formulas`."""
    parser = subparsers.add_parser(
        "formulas",
        help="print the derivative of the loss for every parameter",
        description="Print the forward pass, the chain-rule deltas and the "
        "derivative of the loss for every parameter (or one), without writing "
        "any file.",
    )
    add_spec_arguments(parser, name=False)
    parser.add_argument(
        "--expanded",
        action="store_true",
        help="also write each gradient out in inputs, targets and parameters "
        f"(nets of at most {MAX_EXPANDED_PARAMS} parameters)",
    )
    parser.add_argument(
        "--format",
        choices=FORMULA_FORMATS,
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
    derivation = api.derive(api.differentiate(spec), expanded=args.expanded)
    if args.param is not None:
        derivation = api.select_parameter(derivation, args.param)
    sys.stdout.write(api.format_derivation(derivation, args.format))
    return 0
