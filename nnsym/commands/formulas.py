"""`nnsym formulas`: the derivative formulas of a network, in a chosen format."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from nnsym import api
from nnsym.commands.options import add_spec_arguments, spec_from_args
from nnsym.errors import UsageError
from nnsym.explain.limits import (
    FORMULA_FORMATS,
    MAX_EXPANDED_PARAMS,
    PER_PARAMETER_MAX_PARAMS,
)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `nnsym formulas`."""
    parser = subparsers.add_parser(
        "formulas",
        help="print the derivative of the loss for every parameter",
        description="Print the forward pass, the chain-rule deltas and the "
        "derivative of the loss for every parameter (or one), without writing "
        "any file.",
    )
    add_spec_arguments(parser, name=False)
    view = parser.add_mutually_exclusive_group()
    view.add_argument(
        "--layers",
        dest="view",
        action="store_const",
        const="layers",
        help="per layer in index notation: a few equations a layer, whatever "
        f"its width (the default above {PER_PARAMETER_MAX_PARAMS} parameters "
        "or with --form loops)",
    )
    view.add_argument(
        "--per-parameter",
        dest="view",
        action="store_const",
        const="parameters",
        help="every neuron's and every parameter's own equation (the default "
        f"up to {PER_PARAMETER_MAX_PARAMS} parameters)",
    )
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
    # Per layer, nothing is unrolled: the size limit is for the long list only.
    spec = spec_from_args(args, task=None)
    per_parameter = args.expanded or args.param is not None
    if args.view == "layers" and per_parameter:
        option = "--expanded" if args.expanded else "--param"
        raise UsageError(f"{option} shows parameters one by one; leave out --layers")
    if args.view is None and not per_parameter:
        args.view = "layers" if api.uses_layers_by_default(spec) else "parameters"
    if args.view == "layers":
        layers = api.derive_layers(spec)
        text = (
            api.format_layers_text(layers)
            if args.format == "text"
            else api.format_derivation(layers, args.format)
        )
        sys.stdout.write(text)
        return 0
    api.check_unrolled_size(
        spec,
        args.max_params,
        "deriving a formula per parameter",
        way_out=(
            "--layers shows the formulas per layer, at any size"
            if api.has_layer_form(spec.output_activation, spec.loss)
            else None
        ),
    )
    derivation = api.derive(api.differentiate(spec), expanded=args.expanded)
    if args.param is not None:
        derivation = api.select_parameter(derivation, args.param)
    sys.stdout.write(api.format_derivation(derivation, args.format))
    return 0
