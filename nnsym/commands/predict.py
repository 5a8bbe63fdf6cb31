"""`nnsym predict`: a saved model's outputs for samples given on the command line."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from nnsym import api
from nnsym.commands.options import echo
from nnsym.errors import UsageError


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `nnsym predict`."""
    parser = subparsers.add_parser(
        "predict",
        help="print a saved model's outputs for given inputs",
        description="Print the outputs of a model saved by nnsym train --save, one "
        "line per sample. Put -- before samples that start with a minus sign.",
    )
    parser.add_argument(
        "--model", type=Path, required=True, help="weights file from nnsym train --save"
    )
    parser.add_argument(
        "samples",
        nargs="+",
        metavar="X",
        help="one sample: its inputs as comma-separated numbers, e.g. 1,0",
    )
    return parser


def parse_sample(text: str, n_inputs: int, arch: str) -> tuple[float, ...]:
    """`'1,0'` -> `(1.0, 0.0)`; raise UsageError unless it holds n_inputs numbers."""
    fields = text.split(",")
    values = []
    for field in fields:
        try:
            value = float(field)
        except ValueError:
            raise UsageError(
                f"sample {echo(text)}: {echo(field.strip())} is not a number; "
                "write inputs as comma-separated numbers, e.g. 1,0"
            ) from None
        if not math.isfinite(value):
            raise UsageError(
                f"sample {echo(text)}: {echo(field.strip())} is not finite"
            )
        values.append(value)
    if len(values) != n_inputs:
        raise UsageError(
            f"sample {echo(text)} has {len(values)} number(s), but the {arch} model "
            f"takes {n_inputs}"
        )
    return tuple(values)


def run(args: argparse.Namespace) -> int:
    """Load the model, then print one line of outputs per sample."""
    weights = api.load_weights(args.model)
    arch = api.format_arch(weights.spec.arch)
    samples = [parse_sample(text, weights.spec.arch[0], arch) for text in args.samples]
    module = api.module_for_weights(weights, args.model)
    params = list(weights.params)
    for sample in samples:
        outputs = module.predict(params, sample)
        line = ", ".join(repr(value) for value in outputs)
        label = weights.label(outputs)
        if label is not None:
            line += f"  ({label})"
        print(line)
    return 0
