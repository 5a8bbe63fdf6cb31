"""`nnsym export`: a trained model as one standalone inference module."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nnsym import api
from nnsym.errors import UsageError

# What `--target` writes, and the file each writes by default.
TARGETS = ("python", "onnx", "c", "js")
DEFAULT_OUTPUTS = {
    "python": "predictor.py",
    "onnx": "model.onnx",
    "c": "predictor.h",
    "js": "predictor.mjs",
}
# Targets that take --dtype, and their default.
DTYPE_DEFAULTS = {"onnx": "float32", "c": "float64"}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `nnsym export`."""
    parser = subparsers.add_parser(
        "export",
        help="write a standalone inference module with trained weights baked in",
        description="Write a predictor with the trained weights baked in: a "
        "standard-library-only Python module with a predict(x) function (the "
        "default), a C header, an ES module or an ONNX model, for shipping a "
        "model where nothing can be installed.",
    )
    parser.add_argument(
        "--model", type=Path, required=True, help="weights file from nnsym train --save"
    )
    parser.add_argument(
        "--target",
        choices=TARGETS,
        default="python",
        help="python: a standard-library-only module (default); onnx: an ONNX "
        "model (needs the extra nnsym[onnx]; exit status 1 if it is missing); "
        "c or js: the generated C99 or JavaScript trainer with the weights "
        "baked in and a predict function (docs/targets.md)",
    )
    parser.add_argument(
        "--dtype",
        choices=("float32", "float64"),
        default=None,
        help="number type: onnx (default float32) and c (default float64) only",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="file to write (default: predictor.py; predictor.h, predictor.mjs "
        "or model.onnx for the other targets)",
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
    if args.dtype is not None and args.target not in DTYPE_DEFAULTS:
        raise UsageError(f"--dtype is for --target onnx or c, not {args.target}")
    output = args.output or Path(DEFAULT_OUTPUTS[args.target])
    if args.target != "onnx":
        api.check_suffix(output, args.target)
    weights = api.load_weights(args.model)
    if args.target == "onnx":
        dtype = args.dtype or "float32"
        written = api.export_onnx(weights, output, dtype=dtype, force=args.force)
        what = f"an ONNX {dtype} model of {args.model}'s weights"
    elif args.target in ("c", "js"):
        dtype = args.dtype or "float64"
        source = api.export_source(weights, args.target, dtype)
        written = api.write_generated(output, source, force=args.force)
        what = f"the {args.target} trainer with {args.model}'s weights baked in"
    else:
        written = api.export_predictor(weights, output, force=args.force)
        what = f"predict(x) with {args.model}'s weights baked in"
    if not args.quiet:
        state = "wrote" if written else "unchanged"
        print(f"{state} {output}: {what}", file=sys.stderr)
    return 0
