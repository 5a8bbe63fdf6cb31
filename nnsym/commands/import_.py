"""`nnsym import`: a PyTorch or scikit-learn model as an nnsym weights file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nnsym import api
from nnsym.commands.options import (
    DEFAULT_MAX_PARAMS,
    HIDDEN_ACTIVATIONS,
    LOSSES,
    OUTPUT_ACTIVATIONS,
)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `nnsym import`."""
    parser = subparsers.add_parser(
        "import",
        help="turn a PyTorch or scikit-learn model into an nnsym weights file",
        description="Read a PyTorch nn.Sequential of Linear layers and activations "
        "(a whole module saved with torch.save, or its state_dict) or a fitted "
        "scikit-learn MLPClassifier/MLPRegressor (skops file, or pickle/joblib), "
        "and write an nnsym weights file that predict, export, check, graph and "
        "train --init take. Dropout is dropped; any other layer is refused. "
        "Pickles (whole PyTorch modules, scikit-learn pickles) run code when "
        "loaded, so they are read only with --trust-pickle. The optional "
        "libraries come with the extras nnsym[torch] and nnsym[sklearn]; a "
        "missing one is an error with exit status 1.",
    )
    parser.add_argument("model", type=Path, metavar="MODEL", help="model file")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="weights file to write, e.g. model.json",
    )
    parser.add_argument(
        "--trust-pickle",
        action="store_true",
        help="load a pickled model (this runs code from the file: only for files "
        "you trust)",
    )
    parser.add_argument(
        "--arch",
        help="layer sizes, e.g. 4-8-3: checked against the model's tensors",
    )
    parser.add_argument(
        "--activation",
        choices=HIDDEN_ACTIVATIONS,
        help="hidden activation (needed for a state_dict, which holds none)",
    )
    parser.add_argument(
        "--output-activation",
        choices=OUTPUT_ACTIVATIONS,
        help="output activation (needed for a state_dict)",
    )
    parser.add_argument(
        "--loss",
        choices=LOSSES,
        help="loss recorded in the weights file for train --init (default by the "
        "output activation: softmax ce, sigmoid bce, otherwise mse)",
    )
    parser.add_argument("--name", help="module name (default from the network)")
    parser.add_argument(
        "--classes",
        help="comma-separated class labels, one per output, for a PyTorch "
        "classifier (scikit-learn's come from classes_)",
    )
    parser.add_argument(
        "--binary",
        choices=("softmax", "sigmoid"),
        default="sigmoid",
        help="a two-class MLPClassifier as its one sigmoid output, loss bce "
        "(default), or as two softmax outputs, loss ce; both keep the two labels",
    )
    parser.add_argument(
        "--max-params",
        type=int,
        default=DEFAULT_MAX_PARAMS,
        help=f"refuse larger models (default {DEFAULT_MAX_PARAMS}); generating the "
        "module of a large network takes long",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite a file that is not an nnsym weights file",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing but errors"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Read the model, convert it and save the weights file."""
    # Imported here: the interop package is the only place that loads the
    # optional libraries, and other commands must not pay for importing it.
    api.check_save_target(args.output, args.force)
    arch = None if args.arch is None else api.parse_arch(args.arch)
    classes = None if args.classes is None else args.classes.split(",")
    weights = api.load_model_file(
        args.model,
        trust_pickle=args.trust_pickle,
        arch=arch,
        activation=args.activation,
        output_activation=args.output_activation,
        loss=args.loss,
        name=args.name,
        classes=classes,
        binary=args.binary,
        max_params=args.max_params,
    )
    api.save_weights(args.output, weights, force=args.force)
    if not args.quiet:
        labels = (
            f", classes {', '.join(weights.classes)}"
            if weights.classes is not None
            else ""
        )
        spec = weights.spec
        print(
            f"wrote {args.output}: {spec.summary}{labels} "
            f"(from {weights.training.get('imported_from', args.model)}); "
            f"for check, graph and train: --arch {api.format_arch(spec.arch)} "
            f"--activation {spec.activation} --output-activation "
            f"{spec.output_activation} --loss {spec.loss}",
            file=sys.stderr,
        )
    return 0
