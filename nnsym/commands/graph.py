"""`nnsym graph`: draw the loss's computation graph, as the micrograd tutorial does."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nnsym.commands.generate import add_spec_arguments, spec_from_args
from nnsym.errors import NnsymError, UsageError
from nnsym.explain.graph import MAX_NODES, SUFFIXES, graph_for, layer_graph, render
from nnsym.explain.point import parse_at
from nnsym.pipeline.model import build_network
from nnsym.pipeline.write import write_atomic


def add_parser(subparsers: Any, parser_class: type) -> argparse.ArgumentParser:
    """Register `nnsym graph`."""
    parser = subparsers.add_parser(
        "graph",
        help="draw the computation graph of the loss (Graphviz)",
        description="Draw the loss's computation graph: one record per value and "
        "a node per operation. With --at, each value also shows its data and the "
        "gradient of the loss. .dot needs only the graphviz Python package "
        "(pip install 'nnsym[graph]'); .svg and .png also need Graphviz's dot "
        f"program. Graphs of more than {MAX_NODES} values are drawn per layer.",
    )
    add_spec_arguments(parser)
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help=f"file to write, by its suffix: {', '.join(SUFFIXES)} "
        "(default: DOT text on standard output)",
    )
    parser.add_argument(
        "--at",
        metavar="ITEMS",
        help="show values and gradients at this point: seed=N, params=... or "
        "weights=FILE, "
        "x=..., y=...; e.g. --at seed=0,x=1,0,y=1 (see nnsym check --help)",
    )
    parser.add_argument(
        "--per-layer",
        action="store_true",
        help="one node per layer's W, b, z and a instead of one per value",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Build, evaluate and write the graph."""
    spec = spec_from_args(args)
    suffix = ".dot" if args.output is None else args.output.suffix.lower()
    if suffix not in SUFFIXES:
        raise UsageError(
            f"-o {args.output}: the suffix must be one of {', '.join(SUFFIXES)}"
        )
    if args.output is not None and args.output.is_dir():
        raise UsageError(f"-o {args.output} is a directory; give a file name")
    point = parse_at(args.at, spec) if args.at is not None else None
    if spec.form == "loops":
        # The loop form computes per layer; its graph is drawn per layer too,
        # without building one symbol per parameter.
        graph, notes = layer_graph(spec), ()
        if point is not None:
            notes = (
                "--at: values and gradients are drawn only on the full graph "
                "(--form unrolled), not per layer",
            )
    else:
        graph, notes = graph_for(build_network(spec), point, per_layer=args.per_layer)
    for note in notes:
        print(f"nnsym: {note}", file=sys.stderr)
    drawing = render(graph, suffix)
    if args.output is None:
        sys.stdout.write(str(drawing))
        return 0
    try:
        write_atomic(args.output, drawing)
    except OSError as error:
        raise NnsymError(
            f"cannot write {args.output}: {error.strerror or error}"
        ) from error
    print(f"wrote {args.output} ({len(graph.nodes)} values)", file=sys.stderr)
    return 0
