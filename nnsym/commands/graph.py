"""`nnsym graph`: draw the loss's computation graph, as the micrograd tutorial does."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nnsym import api
from nnsym.commands.options import add_spec_arguments, spec_from_args
from nnsym.errors import NnsymError, UsageError
from nnsym.explain.limits import GRAPH_INSTALL_HINT, GRAPH_SUFFIXES, MAX_NODES


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `nnsym graph`."""
    parser = subparsers.add_parser(
        "graph",
        help="draw the computation graph of the loss (Graphviz)",
        description="Draw the loss's computation graph: one record per value and "
        "a node per operation. With --at, each value also shows its data and the "
        "gradient of the loss. DOT text (.dot, .gv or standard output) needs "
        "nothing; .svg and .png need the graphviz Python package "
        f"({GRAPH_INSTALL_HINT}) and Graphviz's dot program. Graphs of more than "
        f"{MAX_NODES} values are drawn per layer.",
    )
    add_spec_arguments(parser, name=False)
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help=f"file to write, by its suffix: {', '.join(GRAPH_SUFFIXES)} "
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
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite a file that nnsym did not write, or that was edited",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Build, evaluate and write the graph."""
    # Drawn per layer, nothing is unrolled: the size limit is for the full graph.
    spec = spec_from_args(args, task=None)
    suffix = ".dot" if args.output is None else args.output.suffix.lower()
    if args.output is not None:
        # Refused before any work: a file nnsym did not write, a device, a FIFO
        # (what the path is comes before what it is named).
        # A drawing carries nnsym's mark in its own syntax (nnsym.explain.drawing).
        inspect = None if suffix in (".dot", ".gv") else api.inspect_drawing
        api.check_writable_target(
            args.output, force=args.force, option="-o", inspect=inspect
        )
    if suffix not in GRAPH_SUFFIXES:
        raise UsageError(
            f"-o {args.output}: the suffix must be one of {', '.join(GRAPH_SUFFIXES)}"
        )
    point = api.parse_at(args.at, spec) if args.at is not None else None
    if spec.form == "loops" or args.per_layer:
        # The loop form computes per layer; its graph is drawn per layer too,
        # without building one symbol per parameter.
        graph, notes = api.layer_graph(spec), ()
        if point is not None:
            where = "" if args.per_layer else " (--form unrolled)"
            notes = (
                "--at: values and gradients are drawn only on the full "
                f"graph{where}, not per layer",
            )
    else:
        api.check_unrolled_size(
            spec,
            args.max_params,
            "building a value per scalar",
            way_out="--per-layer draws it per layer, at any size",
        )
        graph, notes = api.graph_for(
            api.build_network(spec), point, per_layer=args.per_layer
        )
    for note in notes:
        print(f"nnsym: {note}", file=sys.stderr)
    if args.output is None:
        sys.stdout.write(api.render(graph, suffix))
        return 0
    if suffix in (".dot", ".gv"):
        # With a header, so that drawing it again replaces it without --force.
        text = api.dot_file(graph, graph_command(args))
        api.write_generated(args.output, text, force=args.force, option="-o")
    else:
        # Marked as nnsym's, so that drawing it again replaces it.
        drawing = api.mark_drawing(api.render(graph, suffix), suffix)
        try:
            api.write_atomic(args.output, drawing)
        except OSError as error:
            raise NnsymError(
                f"cannot write {args.output}: {error.strerror or error}"
            ) from error
    print(f"wrote {args.output} ({len(graph.nodes)} values)", file=sys.stderr)
    return 0


def graph_command(args: argparse.Namespace) -> str:
    """The `nnsym graph` options that made a drawing, for its header."""
    spec = spec_from_args(args)
    parts = [
        f"nnsym graph --arch {api.format_arch(spec.arch)}",
        f"--activation {spec.activation}",
        f"--output-activation {spec.output_activation}",
        f"--loss {spec.loss}",
    ]
    if args.per_layer:
        parts.append("--per-layer")
    if args.at is not None:
        parts.append("--at ...")  # the point is what the file shows, not repeated
    return " ".join(parts)
