"""`nnsym diff`: differentiate a typed expression and show the chain-rule steps."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from nnsym import api
from nnsym.explain.limits import FUNCTION_NAMES


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `nnsym diff`."""
    parser = subparsers.add_parser(
        "diff",
        help="differentiate an expression, showing the chain rule step by step",
        description="Differentiate an expression you type, e.g. "
        "nnsym diff '(x**2 + 3)**2 + y' --wrt x. Allowed: numbers, names, "
        "+ - * / **, parentheses, the constants pi and E and the functions "
        f"{', '.join(FUNCTION_NAMES)}.",
    )
    parser.add_argument("expression", help="the expression, in Python syntax")
    parser.add_argument(
        "--wrt",
        metavar="NAME",
        help="the variable to differentiate by (needed if there are several)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "latex"),
        default="text",
        help="plain text (default) or a LaTeX aligned block",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Differentiate and print."""
    result = api.differentiate_text(args.expression, args.wrt)
    if args.format == "latex":
        sys.stdout.write(api.format_diff_latex(result) + "\n")
    else:
        sys.stdout.write(api.format_diff_text(result))
    return 0
