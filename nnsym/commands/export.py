"""`nnsym export`: a trained model as one standalone inference module."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nnsym import api
from nnsym.errors import UsageError

# Not a trainer target (nnsym.interop writes it): ONNX's own default number type.
ONNX = "onnx"
ONNX_FILE = "model.onnx"
ONNX_DTYPE = "float32"


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
    registry = api.registry
    others = [registry.get(name) for name in registry.exportable()]
    others = [t for t in others if t.name != registry.DEFAULT]
    trainers = " or ".join(t.name for t in others)
    languages = " or ".join(t.language for t in others)
    parser.add_argument(
        "--target",
        choices=(*registry.exportable(), ONNX),
        default=registry.DEFAULT,
        help=f"{registry.DEFAULT}: a standard-library-only module (default); "
        f"{ONNX}: an ONNX model (needs the extra nnsym[onnx]; exit status 1 if it "
        f"is missing); {trainers}: the generated {languages} trainer with the "
        "weights baked in and a predict function (docs/targets.md)",
    )
    typed = [t for t in others if len(t.dtypes) > 1]
    parser.add_argument(
        "--dtype",
        choices=("float32", "float64"),
        default=None,
        help=f"number type: {ONNX} (default {ONNX_DTYPE}) and "
        + " and ".join(f"{t.name} (default {t.dtypes[0]})" for t in typed)
        + " only",
    )
    files = ", ".join(t.export_file or "" for t in others)
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help=f"file to write (default: {registry.default().export_file}; "
        f"{files} or {ONNX_FILE} for the other targets)",
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
    registry = api.registry
    record = None if args.target == ONNX else registry.get(args.target)
    if args.dtype is not None and record is not None and len(record.dtypes) < 2:
        typed = [ONNX, *(t.name for t in registry.targets() if len(t.dtypes) > 1)]
        raise UsageError(
            f"--dtype is for --target {' or '.join(typed)}, not {args.target}"
        )
    if record is None:
        output = args.output or Path(ONNX_FILE)
    else:
        output = args.output or Path(record.export_file or "")
        api.check_suffix(output, args.target)
    weights = api.load_weights(args.model)
    if record is None:
        dtype = args.dtype or ONNX_DTYPE
        written = api.export_onnx(weights, output, dtype=dtype, force=args.force)
        what = f"an ONNX {dtype} model of {args.model}'s weights"
    else:
        dtype = args.dtype or record.dtypes[0]
        # Refused before the file is rendered, which takes SymPy (and black).
        api.check_writable_target(output, force=args.force)
        source = api.export_source(weights, args.target, dtype, output)
        written = api.write_generated(output, source, force=args.force)
        exported = record.exported.format(name=record.name)
        what = f"{exported} with {args.model}'s weights baked in"
    if not args.quiet:
        state = "wrote" if written else "unchanged"
        print(f"{state} {output}: {what}", file=sys.stderr)
    return 0
