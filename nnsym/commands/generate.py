"""`nnsym generate`: write a module and print its derivative formulas."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nnsym import api
from nnsym.commands.options import (
    DTYPES,
    TARGETS,
    add_spec_arguments,
    spec_from_args,
    stderr_progress,
)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `nnsym generate`."""
    parser = subparsers.add_parser(
        "generate",
        help="write a standalone module with exact gradients",
        description="Build the network and its loss in SymPy, differentiate by the "
        "chain rule, print the formulas and write a standalone Python module.",
    )
    add_spec_arguments(parser)
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="file to write (default: generated/NAME.py, .h for c, .mjs for js)",
    )
    parser.add_argument(
        "--target",
        choices=TARGETS,
        default="python",
        help="language of the trainer: python (default), c (header-only C99), "
        "js (ES module) or micropython (docs/targets.md)",
    )
    parser.add_argument(
        "--dtype",
        choices=DTYPES,
        default="float64",
        help="number type of --target c (default: float64)",
    )
    parser.add_argument(
        "--expanded",
        action="store_true",
        help="also print each gradient written out in inputs, targets and parameters",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite a file that nnsym did not generate, or that was edited",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing but errors"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Generate, write and report."""
    spec = spec_from_args(args)
    if args.target != "python" or args.dtype != "float64":
        return run_target(args, spec)
    path = args.output if args.output is not None else api.default_output(spec)
    # Refuse a bad target before spending time on generation.
    api.check_suffix(path, "python")
    api.check_target(path, force=args.force)
    show_progress = not args.quiet and sys.stderr.isatty()
    generated = api.generate(
        spec, expanded=args.expanded, progress=stderr_progress(show_progress)
    )
    written = api.write_module(generated, path, force=args.force)
    if not args.quiet:
        sys.stdout.write(generated.formulas)
        state = "wrote" if written else "unchanged"
        print(f"{state} {path} ({spec.n_params} parameters)", file=sys.stderr)
    return 0


def run_target(args: argparse.Namespace, spec: api.Spec) -> int:
    """Generate and write the trainer in another language than Python."""
    api.check_target_options(args.target, args.dtype)
    path = args.output or api.default_path(spec, args.target)
    written = api.write_target(spec, args.target, args.dtype, path, args.force)
    if not args.quiet:
        state = "wrote" if written else "unchanged"
        print(f"{state} {path} ({spec.n_params} parameters)", file=sys.stderr)
    return 0
