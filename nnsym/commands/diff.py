"""`nnsym diff`: differentiate a typed expression and show the chain-rule steps."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from nnsym.explain.chain import differentiate_text, format_diff_latex, format_diff_text
from nnsym.explain.expression import FUNCTIONS


def add_parser(subparsers: Any, parser_class: type) -> argparse.ArgumentParser:
    """Register `nnsym diff`."""
    parser = subparsers.add_parser(
        "diff",
        help="differentiate an expression, showing the chain rule step by step",
        description="Differentiate an expression you type, e.g. "
        "nnsym diff '(x**2 + 3)**2 + y' --wrt x. Allowed: numbers, names, "
        "+ - * / **, parentheses, the constants pi and E and the functions "
        f"{', '.join(FUNCTIONS)}.",
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
    result = differentiate_text(args.expression, args.wrt)
    if args.format == "latex":
        sys.stdout.write(format_diff_latex(result) + "\n")
    else:
        sys.stdout.write(format_diff_text(result))
    return 0
