"""`nnsym export`: a trained model as one standalone inference module."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nnsym import targets
from nnsym.models.export import export_predictor
from nnsym.models.weights import load_weights
from nnsym.pipeline.write import write_generated


def add_parser(subparsers: Any, parser_class: type) -> argparse.ArgumentParser:
    """Register `nnsym export`."""
    parser = subparsers.add_parser(
        "export",
        help="write a standalone inference module with trained weights baked in",
        description="Write a standard-library-only Python module with the trained "
        "weights baked in and a predict(x) function, for shipping a model where "
        "nothing can be installed.",
    )
    parser.add_argument(
        "--model", type=Path, required=True, help="weights file from nnsym train --save"
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="file to write (default: predictor.py, .h for c, .mjs for js)",
    )
    parser.add_argument(
        "--target",
        choices=("python", "c", "js"),
        default="python",
        help="python (default): a predictor module; c or js: the generated "
        "trainer with the weights baked in and a predict function",
    )
    parser.add_argument(
        "--dtype",
        choices=targets.DTYPES,
        default="float64",
        help="number type of --target c (default: float64)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite a file that nnsym did not write, or that was edited",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing but errors"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Load the weights, render the predictor and write it."""
    targets.check_target_options(args.target, args.dtype)
    weights = load_weights(args.model)
    if args.output is None:
        args.output = Path("predictor" + targets.EXTENSIONS[args.target])
    if args.target == "python":
        written = export_predictor(weights, args.output, force=args.force)
    else:
        source = targets.export_source(weights, args.target, args.dtype)
        written = write_generated(args.output, source, force=args.force)
    if not args.quiet:
        state = "wrote" if written else "unchanged"
        print(
            f"{state} {args.output}: predict(x) with {args.model}'s weights baked in",
            file=sys.stderr,
        )
    return 0
