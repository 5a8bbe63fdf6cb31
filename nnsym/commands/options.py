"""Option helpers shared by the commands: network options, number types, progress.

Standard library and nnsym's light modules only: building the parser must not
import SymPy, Jinja or black (`nnsym predict` never needs them).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
from collections.abc import Callable
from typing import Any

from nnsym.pipeline.spec import (
    AUTO_LOOPS_MIN_PARAMS,
    CUSTOM_ACTIVATION_HINT,
    DEFAULT_ACTIVATION,
    DEFAULT_LOSS,
    DEFAULT_MAX_PARAMS,
    FORMS,
    HIDDEN_ACTIVATIONS,
    LOSSES,
    OUTPUT_ACTIVATIONS,
    REQUEST_FORM,
    Spec,
    echo,
    make_spec,
)
from nnsym.pipeline.spec import (
    DTYPES as DTYPES,  # re-exported: a trainer's number types
)

# Longest whole number an option takes, in digits: int() refuses more than 4300,
# and no seed, count or size of nnsym's needs more.
MAX_DIGITS = 100
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)


def add_spec_arguments(parser: argparse.ArgumentParser, name: bool = True) -> None:
    """Options that describe a network; `name`: the command writes a module."""
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
        help=f"hidden layers' activation: {', '.join(HIDDEN_ACTIVATIONS)}, "
        f"{CUSTOM_ACTIVATION_HINT} (default: {DEFAULT_ACTIVATION})",
    )
    parser.add_argument(
        "--output-activation",
        metavar="NAME",
        help=f"output layer's activation: {', '.join(OUTPUT_ACTIVATIONS)}, "
        "or an expression of x as for --activation "
        "(default: softmax for ce, sigmoid for bce, else --activation)",
    )
    parser.add_argument(
        "--loss",
        default=DEFAULT_LOSS,
        metavar="NAME",
        help=f"per-sample loss: {', '.join(LOSSES)} (default: {DEFAULT_LOSS})",
    )
    if name:
        parser.add_argument("--name", help="module name (default: from the request)")
    parser.add_argument(
        "--max-params",
        type=whole_number(1),
        default=DEFAULT_MAX_PARAMS,
        metavar="N",
        help="refuse networks with more parameters where the command writes "
        f"them out a line per scalar (default: {DEFAULT_MAX_PARAMS}; the loop "
        "form and per-layer views need no limit)",
    )
    parser.add_argument(
        "--form",
        choices=FORMS,
        default=REQUEST_FORM,
        help="the generated module or trainer (Python, C, JavaScript): unrolled "
        "(one line per scalar, fastest for "
        "small nets on CPython), loops (loops over each layer's neurons, any size) "
        f"or auto (loops from {AUTO_LOOPS_MIN_PARAMS} parameters on) "
        f"(default: {REQUEST_FORM})",
    )


def spec_from_args(
    args: argparse.Namespace,
    task: str | None = "generating it unrolled",
) -> Spec:
    """The validated Spec of the network options.

    `task`: what the command does with an unrolled network, named when
    --max-params refuses it; None for a command that checks the size itself.
    """
    return make_spec(
        args.arch,
        activation=args.activation,
        output_activation=args.output_activation,
        loss=args.loss,
        name=getattr(args, "name", None),
        max_params=None if task is None else args.max_params,
        form=getattr(args, "form", REQUEST_FORM),
        task=task or "",
    )


def stderr_progress(enabled: bool) -> Callable[[str], None]:
    """Report pipeline stages with elapsed time on stderr, if enabled."""
    start = time.perf_counter()

    def report(stage: str) -> None:
        if enabled:
            elapsed = time.perf_counter() - start
            print(f"[{elapsed:6.1f}s] {stage}...", file=sys.stderr, flush=True)

    return report


def number(text: str) -> float:
    """argparse type: a finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{echo(text)} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{echo(text)} must be a finite number")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    value = number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{echo(text)} must be a finite number > 0")
    return value


def non_negative(text: str) -> float:
    """argparse type: a finite number >= 0."""
    value = number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{echo(text)} must be a finite number >= 0")
    return value


def fraction(text: str) -> float:
    """argparse type: a number in [0, 1)."""
    value = number(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{echo(text)} must be at least 0 and below 1")
    return value


def integer(text: str) -> int:
    """argparse type: a whole number, of at most MAX_DIGITS digits."""
    stripped = text.strip()
    if not _INTEGER.fullmatch(stripped):
        raise argparse.ArgumentTypeError(f"{echo(text)} is not a whole number")
    if len(stripped.lstrip("+-").lstrip("0")) > MAX_DIGITS:
        raise argparse.ArgumentTypeError(
            f"a number of {len(stripped)} digits is too long; "
            f"use at most {MAX_DIGITS} digits"
        )
    return int(stripped)


def whole_number(minimum: int) -> Callable[[str], int]:
    """argparse type: a whole number >= minimum."""

    def parse(text: str) -> int:
        value = integer(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{echo(text)} must be at least {minimum}")
        return value

    return parse


# --- CSV layout: nnsym train and nnsym predict ----------------------------------

_DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}


def delimiter(text: str) -> str:
    """argparse type: one character, or comma, semicolon, tab or pipe (`\\t` too)."""
    value = _DELIMITER_NAMES.get(text.lower(), "\t" if text == "\\t" else text)
    if len(value) != 1 or value in '\r\n"' or value.isalnum():
        raise argparse.ArgumentTypeError(
            f"{echo(text)} is not a delimiter: give one character, e.g. ';', or "
            f"{', '.join(_DELIMITER_NAMES)}"
        )
    return value


def add_csv_format_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --delimiter and --skip-rows."""
    parser.add_argument(
        "--delimiter",
        type=delimiter,
        metavar="CHAR",
        help="the CSV file's field separator: one character, or comma, "
        "semicolon, tab, pipe (default: detected, the first of , ; tab | that "
        "splits the first lines alike)",
    )
    parser.add_argument(
        "--skip-rows",
        type=whole_number(0),
        default=0,
        metavar="N",
        help="lines at the top of the CSV file to skip, before its header",
    )


def csv_format(args: argparse.Namespace) -> Any:
    """The CsvFormat (nnsym.models.data) the options ask for."""
    from nnsym import api

    return api.CsvFormat(delimiter=args.delimiter, skip_rows=args.skip_rows)
