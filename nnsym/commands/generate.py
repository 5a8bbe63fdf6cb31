"""`nnsym generate`: write a module and print its derivative formulas."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from nnsym import api
from nnsym.pipeline.spec import (
    AUTO_LOOPS_MIN_PARAMS,
    DEFAULT_ACTIVATION,
    DEFAULT_FORM,
    DEFAULT_LOSS,
    DEFAULT_MAX_PARAMS,
    FORMS,
    HIDDEN_ACTIVATIONS,
    LOSSES,
    OUTPUT_ACTIVATIONS,
    Spec,
    make_spec,
)


def add_spec_arguments(parser: argparse.ArgumentParser) -> None:
    """Options that describe a network; shared by every command that builds one."""
    parser.add_argument(
        "--arch",
        default="2-2-1",
        help="layer sizes from input to output, e.g. 2-1, 2-2-1, 3-4-4-1 "
        "(default: 2-2-1)",
    )
    parser.add_argument(
        "--activation",
        default=DEFAULT_ACTIVATION,
        metavar="NAME",
        help=f"hidden layers' activation: {', '.join(HIDDEN_ACTIVATIONS)} "
        f"(default: {DEFAULT_ACTIVATION})",
    )
    parser.add_argument(
        "--output-activation",
        metavar="NAME",
        help=f"output layer's activation: {', '.join(OUTPUT_ACTIVATIONS)} "
        "(default: softmax for ce, sigmoid for bce, else --activation)",
    )
    parser.add_argument(
        "--loss",
        default=DEFAULT_LOSS,
        metavar="NAME",
        help=f"per-sample loss: {', '.join(LOSSES)} (default: {DEFAULT_LOSS})",
    )
    parser.add_argument("--name", help="module name (default: from the request)")
    parser.add_argument(
        "--max-params",
        type=int,
        default=DEFAULT_MAX_PARAMS,
        metavar="N",
        help="refuse networks with more parameters in the unrolled form "
        f"(default: {DEFAULT_MAX_PARAMS}; the loop form needs no limit)",
    )
    parser.add_argument(
        "--form",
        choices=FORMS,
        default=DEFAULT_FORM,
        help="the generated module: unrolled (one line per scalar, fastest for "
        "small nets on CPython), loops (loops over each layer's neurons, any size) "
        f"or auto (loops from {AUTO_LOOPS_MIN_PARAMS} parameters on) "
        f"(default: {DEFAULT_FORM})",
    )


def spec_from_args(args: argparse.Namespace) -> Spec:
    """The validated Spec of the network options."""
    return make_spec(
        args.arch,
        activation=args.activation,
        output_activation=args.output_activation,
        loss=args.loss,
        name=args.name,
        max_params=args.max_params,
        form=getattr(args, "form", DEFAULT_FORM),
    )


def stderr_progress(enabled: bool) -> api.Progress:
    """Report pipeline stages with elapsed time on stderr, if enabled."""
    start = time.perf_counter()

    def report(stage: str) -> None:
        if enabled:
            elapsed = time.perf_counter() - start
            print(f"[{elapsed:6.1f}s] {stage}...", file=sys.stderr, flush=True)

    return report


def add_parser(subparsers: Any, parser_class: type) -> argparse.ArgumentParser:
    """Register `nnsym generate`."""
    parser = subparsers.add_parser(
        "generate",
        help="write a standalone module with exact gradients",
        description="Build the network and its loss in SymPy, differentiate by the "
        "chain rule, print the formulas and write a standalone Python module.",
    )
    add_spec_arguments(parser)
    parser.add_argument(
        "-o", "--output", type=Path, help="file to write (default: generated/NAME.py)"
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
    path = args.output if args.output is not None else api.default_output(spec)
    # Refuse a bad target before spending time on generation.
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
