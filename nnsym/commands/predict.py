"""`nnsym predict`: a saved model's outputs for samples, from the command line or a
CSV file, computed from the weights alone (no SymPy, nothing generated)."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from nnsym import api
from nnsym.commands.options import add_csv_format_arguments, csv_format, echo
from nnsym.errors import NnsymError, UsageError


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `nnsym predict`."""
    parser = subparsers.add_parser(
        "predict",
        help="print a saved model's outputs for given inputs or a CSV file",
        description="Print the outputs of a model saved by nnsym train --save, one "
        "line per sample, with the class label when the model has labels. Give "
        "the samples on the command line (put -- before samples that start with "
        "a minus sign) or as a CSV file with --data: its input columns are found "
        "by the header of the file the model was trained on; when the targets "
        "are there too, the accuracy is printed on stderr.",
    )
    parser.add_argument(
        "--model", type=Path, required=True, help="weights file from nnsym train --save"
    )
    parser.add_argument(
        "--data",
        metavar="CSV",
        help="a CSV file of samples, one a row ('-': standard input)",
    )
    parser.add_argument(
        "--header",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the CSV file's first row is (or is not) a header "
        "(default: it is when none of its fields is a number)",
    )
    add_csv_format_arguments(parser)
    parser.add_argument(
        "samples",
        nargs="*",
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
    if args.data is None and not args.samples:
        raise UsageError(
            "give samples (e.g. nnsym predict --model M.json 1,0) or a CSV file "
            "with --data"
        )
    if args.data is not None and args.samples:
        raise UsageError("give samples or --data, not both")
    if args.data is None and (
        args.header is not None or args.skip_rows or args.delimiter
    ):
        raise UsageError("--header, --delimiter and --skip-rows are for --data")
    weights = api.load_weights(args.model, symbolic=False)
    network = api.Network(weights)
    batch = None
    if args.data is not None:
        table = api.read_table(
            args.data, header=args.header, csv_format=csv_format(args)
        )
        batch = api.batch_from_table(weights, table)
        raw = batch.xs
    else:
        arch = api.format_arch(weights.spec.arch)
        raw = [parse_sample(text, weights.spec.arch[0], arch) for text in args.samples]
    counted = batch is not None and api.has_classes(weights, batch)
    right = 0
    lines = []
    for row, x in enumerate(api.model_inputs(weights, raw)):
        try:
            outputs = network.predict(x)
        except (ArithmeticError, ValueError) as error:
            raise NnsymError(
                f"cannot compute the outputs of sample {row + 1}: {error}"
            ) from None
        line = ", ".join(repr(value) for value in outputs)
        label = weights.label(outputs)
        if label is not None:
            line += f"  ({label})"
        lines.append(line)
        if counted:
            right += api.right_answers(weights, outputs, batch, row)
    print("\n".join(lines))
    if counted:
        print(
            f"accuracy: {api.percent(right, len(lines))} ({right} of {len(lines)})",
            file=sys.stderr,
        )
    return 0
