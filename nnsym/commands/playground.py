"""`nnsym playground`: write one offline HTML page that trains the network live."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nnsym import api
from nnsym.commands.options import add_spec_arguments, fraction, spec_from_args
from nnsym.errors import echo

GENERATED = "circle, moons, spiral, gaussians"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `nnsym playground`."""
    parser = subparsers.add_parser(
        "playground",
        help="write one offline HTML page that trains the network live",
        description="Write one self-contained HTML page (nothing fetched, works "
        "opened from disk) that trains the network in the browser with the "
        "JavaScript trainer `generate --target js` writes: play, pause, one "
        "epoch or one sample at a time; the decision boundary and each hidden "
        "neuron for two inputs; the loss; the network's weights; and every "
        "derivative formula with the current numbers plugged in.",
    )
    add_spec_arguments(parser, name=False)
    parser.add_argument(
        "--data",
        metavar="NAME|FILE",
        help=f"a built-in data set ({', '.join(api.builtin_names())}), one the "
        f"page draws itself for two inputs ({GENERATED}), or a CSV file "
        "(default for two inputs: the page's xor points; the page can also "
        "open a CSV file)",
    )
    parser.add_argument(
        "--target",
        metavar="COLUMNS",
        help="CSV target column(s): names or 1-based numbers, comma-separated",
    )
    parser.add_argument(
        "--header",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the CSV file's first row is (or is not) a header",
    )
    parser.add_argument(
        "--test-split",
        type=fraction,
        metavar="FRACTION",
        help="the fraction held out at first (changeable in the page; default: "
        "0 for --data, 0.2 for the page's own data sets)",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="the page to write (default: playground_<network>.html)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite a file that nnsym playground did not write",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Build the page and write it."""
    spec = spec_from_args(args)
    output = args.output or Path(f"playground_{spec.name}.html")
    page = api.build_playground(
        spec,
        args.data,
        target=args.target,
        header=args.header,
        test_split=args.test_split,
    )
    page.save(output, force=args.force)
    size = len(page.html.encode("utf-8"))
    print(f"wrote {echo(str(output))} ({size / 1024:.0f} KB); open it in a browser")
    return 0
