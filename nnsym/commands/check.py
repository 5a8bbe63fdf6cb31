"""`nnsym check`: symbolic gradients against finite differences (and PyTorch)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from nnsym import api
from nnsym.commands.options import add_spec_arguments, spec_from_args
from nnsym.errors import NnsymError
from nnsym.explain.fdcheck import DEFAULT_STEP, DEFAULT_TOLERANCE, TORCH_TOLERANCE


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `nnsym check`."""
    parser = subparsers.add_parser(
        "check",
        help="compare the symbolic gradients with finite differences",
        description="Generate the module in memory, evaluate its exact gradient at "
        "one point and compare it with forward and central finite differences of "
        "its loss, for every parameter; then show the error against the step size "
        "from 1 to 1e-12. Exit status 1 if they disagree.",
    )
    add_spec_arguments(parser, name=False)
    parser.add_argument(
        "--at",
        metavar="ITEMS",
        help="where to evaluate: seed=N, params=P,P,... or weights=FILE, then "
        "x=X,X,... and "
        "y=Y,...; e.g. --at seed=0,x=1,0,y=1 (default: seed 0, x = 1,-0.5,0.25,-0.125 "
        "repeated, scaled by 2/sqrt(inputs) above 4 inputs; y = 1,0,...)",
    )
    parser.add_argument(
        "--step",
        type=float,
        default=DEFAULT_STEP,
        metavar="H",
        help=f"finite-difference step for the per-parameter table "
        f"(default: {DEFAULT_STEP:g}, the tutorial's eps)",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=DEFAULT_TOLERANCE,
        metavar="TOL",
        help="largest central-difference error accepted, relative to "
        f"max(1, |gradient|) (default: {DEFAULT_TOLERANCE:g})",
    )
    parser.add_argument(
        "--against",
        choices=("torch",),
        help="also compare with PyTorch autograd (pip install 'nnsym[torch]')",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Check and print the report; status 1 when the gradients disagree."""
    spec = spec_from_args(args, task="generating its module unrolled to check it")
    # Refuse a check too costly to run before reading --at and its files.
    api.check_request(spec, args.step, args.tolerance)
    point = api.parse_at(args.at, spec)
    report = api.check_gradients(
        spec,
        point,
        step=args.step,
        tolerance=args.tolerance,
        against_torch=args.against == "torch",
        progress=progress_line() if sys.stderr.isatty() else None,
    )
    sys.stdout.write(api.format_report(report))
    if report.unchecked_layers:
        raise NnsymError(
            "the gradients were not checked: at this point some layer's are all "
            "zero to rounding (see above); choose another point with --at"
        )
    if not report.agrees:
        raise NnsymError(mismatch_message(report))
    return 0


def mismatch_message(report: api.CheckReport) -> str:
    """Blame the chosen step when another step in the table agrees, else nnsym."""
    torch_error = report.worst_torch_error
    torch_agrees = torch_error is None or torch_error <= TORCH_TOLERANCE
    best = min(report.table, key=lambda row: row.central_error)
    # The table's errors are absolute, so one within the tolerance is within the
    # relative tolerance too: the gradients are right and the step was the problem.
    if torch_agrees and best.central_error <= report.tolerance:
        return (
            f"at --step {report.step:g} the central differences miss the symbolic "
            f"gradients by more than the tolerance {report.tolerance:g}, but at "
            f"h = {best.step:g} they agree to {best.central_error:.1e}; the step is "
            f"too big or too small: use one near {best.step:g} "
            f"(the default is {DEFAULT_STEP:g})"
        )
    if torch_agrees and best.central_error <= DEFAULT_TOLERANCE:
        # Every step comes close, none within the tolerance: the tolerance asks
        # for more digits than differences of float64 losses can give.
        return (
            f"--tolerance {report.tolerance:g} is tighter than finite differences "
            f"in float64 can reach: the best step, h = {best.step:g}, agrees to "
            f"{best.central_error:.1e}; use --tolerance {DEFAULT_TOLERANCE:g} (the "
            f"default), or at least {best.central_error:.0e} with --step {best.step:g}"
        )
    return (
        "the symbolic gradients disagree with the references above; "
        "this is a bug in nnsym, please report it with the command line"
    )


def progress_line() -> Callable[[int, int], None]:
    """Losses evaluated so far and the time left, redrawn on stderr twice a second."""
    start = time.perf_counter()
    shown = [0.0]

    def report(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - shown[0] < 0.5 and done < total:
            return
        shown[0] = now
        elapsed = now - start
        left = elapsed / done * (total - done) if done else 0.0
        end = "\n" if done >= total else ""
        print(
            f"\rfinite differences: {done} of {total} losses, {elapsed:.0f} s, "
            f"about {left:.0f} s left ",
            end=end,
            file=sys.stderr,
            flush=True,
        )

    return report
