"""`nnsym generate`: write a module and print its derivative formulas."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nnsym import api
from nnsym.commands.options import (
    DTYPES,
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
    registry = api.registry
    targets = registry.targets()
    files = ", ".join(
        f"{t.default_file.replace('{name}', 'NAME')} for {t.name}"
        for t in targets
        if t.name != registry.DEFAULT
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help=f"file to write (default: generated/NAME.py; {files})",
    )
    descriptions = [t.description for t in targets]
    parser.add_argument(
        "--target",
        choices=registry.names(),
        default=registry.DEFAULT,
        help="language of the trainer: "
        + ", ".join(descriptions[:-1])
        + f" or {descriptions[-1]} (docs/targets.md)",
    )
    several = " or ".join(f"--target {t.name}" for t in targets if len(t.dtypes) > 1)
    parser.add_argument(
        "--dtype",
        choices=DTYPES,
        default="float64",
        help=f"number type of {several} (default: float64)",
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
    """Generate, write and report, for any target."""
    spec = spec_from_args(args)
    api.check_target_options(args.target, args.dtype)
    path = args.output or api.default_path(spec, args.target)
    # Refuse a bad file before spending time on generation.
    api.check_suffix(path, args.target)
    api.check_target(path, force=args.force)
    show_progress = not args.quiet and sys.stderr.isatty()
    request = api.Request(
        spec,
        args.dtype,
        expanded=args.expanded,
        progress=stderr_progress(show_progress),
    )
    rendered = api.render_target(request, args.target)
    written = api.write_generated(path, rendered.source, force=args.force)
    if not args.quiet:
        sys.stdout.write(rendered.formulas)
        state = "wrote" if written else "unchanged"
        print(f"{state} {path} ({spec.n_params} parameters)", file=sys.stderr)
    return 0
