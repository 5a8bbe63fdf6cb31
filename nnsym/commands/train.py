"""`nnsym train`: generate (or reuse) a module, train it on data, report, save."""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from nnsym import api
from nnsym.commands.generate import add_spec_arguments, spec_from_args, stderr_progress
from nnsym.data import Dataset, builtin_names, load_data
from nnsym.errors import NnsymError, UsageError
from nnsym.plot import check_plot_target, plot_loss
from nnsym.spec import Spec, format_arch
from nnsym.weights import Weights, check_save_target, load_weights, save_weights

# 128 + SIGINT, the status a shell gives a command stopped by Ctrl-C (as nnsym.cli).
EXIT_INTERRUPTED = 130
OPTIMIZERS = ("sgd", "momentum", "adam")
REDUCTIONS = ("sum", "mean")
TABLE_ROWS = 20


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number > 0")
    return value


def fraction(text: str) -> float:
    """argparse type: a number in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 0 and below 1")
    return value


def whole_number(minimum: int) -> Callable[[str], int]:
    """argparse type: a whole number >= minimum."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a whole number"
            ) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} must be at least {minimum}")
        return value

    return parse


def add_parser(subparsers: Any, parser_class: type) -> argparse.ArgumentParser:
    """Register `nnsym train`."""
    parser = subparsers.add_parser(
        "train",
        help="train a generated module on a data set and report or save it",
        description="Generate the module (or reuse an up-to-date one), train it "
        "by gradient descent, print predictions against targets, the final loss "
        "and the accuracy, and save the weights if asked.",
    )
    add_spec_arguments(parser)
    parser.add_argument(
        "--data",
        required=True,
        metavar="NAME|FILE",
        help=f"a built-in data set ({', '.join(builtin_names())}) or a CSV file",
    )
    parser.add_argument(
        "--target",
        metavar="COLUMNS",
        help="CSV target column(s): names or 1-based numbers, comma-separated "
        "(default: the last column(s); for ce one column of class labels)",
    )
    parser.add_argument(
        "--header",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the CSV file's first row is (or is not) a header "
        "(default: it is when none of its fields is a number)",
    )
    parser.add_argument(
        "--lr", type=positive_float, default=1.0, help="learning rate (default: 1)"
    )
    parser.add_argument(
        "--epochs",
        type=whole_number(0),
        default=2000,
        help="passes over the data (default: 2000)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        help="seed of the initial parameters and the mini-batch shuffle "
        "(default: a random seed, printed so the run can be repeated)",
    )
    parser.add_argument(
        "--batch-size",
        type=whole_number(1),
        metavar="N",
        help="mini-batches of N samples in a seeded shuffled order "
        "(default: the full batch)",
    )
    parser.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        default="sgd",
        help="sgd (p -= lr * grad), momentum or adam, as PyTorch defines them "
        "(default: sgd)",
    )
    parser.add_argument(
        "--momentum",
        type=fraction,
        default=0.9,
        help="momentum factor for --optimizer momentum (default: 0.9)",
    )
    parser.add_argument(
        "--reduction",
        choices=REDUCTIONS,
        default="sum",
        help="objective: sum or mean of the per-sample losses (default: sum)",
    )
    parser.add_argument(
        "--target-loss",
        type=float,
        metavar="LOSS",
        help="stop early once the objective is at or below LOSS",
    )
    parser.add_argument(
        "--init",
        type=Path,
        metavar="MODEL",
        help="start from the parameters in a weights file instead of random ones",
    )
    parser.add_argument(
        "--save",
        type=Path,
        metavar="MODEL",
        help="write the trained weights (JSON); not written if training is "
        "interrupted or diverges",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        metavar="IMAGE",
        help="draw the loss curve (.png, .svg or .pdf; needs nnsym[plot])",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="where to write the generated module (default: generated/NAME.py)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite a module or weights file that nnsym did not write",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing but errors"
    )
    return parser


def prepare_module(
    spec: Spec, path: Path, force: bool = False, show_progress: bool = False
) -> ModuleType:
    """Import the module for `spec` at `path`, generating it unless up to date."""
    if not api.is_up_to_date(spec, path):
        api.check_target(path, force=force)
        generated = api.generate(spec, progress=stderr_progress(show_progress))
        api.write_module(generated, path, force=force)
    return api.load_module(path)


class ProgressLine:
    """A one-line progress bar on a terminal: epoch, loss, epochs per second."""

    def __init__(self, epochs: int, stream: TextIO) -> None:
        self.epochs = epochs
        self.stream = stream
        self.epoch = -1
        self.start = time.perf_counter()
        self.shown_at = -1.0
        self.width = 0

    def __call__(self, epoch: int, objective: float) -> bool:
        """Training callback: redraw at most ten times a second; never stop."""
        self.epoch = epoch
        now = time.perf_counter()
        if now - self.shown_at >= 0.1 or epoch + 1 == self.epochs:
            self.shown_at = now
            done = (epoch + 1) / self.epochs if self.epochs else 1.0
            bar = "#" * int(20 * done)
            rate = (epoch + 1) / max(now - self.start, 1e-9)
            line = (
                f"[{bar:<20}] epoch {epoch + 1}/{self.epochs}  "
                f"loss {objective:.6g}  {rate:,.0f} epochs/s"
            )
            # Pad to the longest line so far, so no tail of an older one remains.
            self.width = max(self.width, len(line))
            self.stream.write("\r" + line.ljust(self.width))
            self.stream.flush()
        return False

    def finish(self) -> None:
        """End the progress line."""
        self.stream.write("\n")
        self.stream.flush()


@dataclass(frozen=True)
class Result:
    """What a training run produced."""

    params: list[float]
    history: list[float]
    seconds: float


def train_module(
    module: ModuleType,
    dataset: Dataset,
    *,
    lr: float,
    epochs: int,
    seed: int,
    params: Sequence[float] | None = None,
    batch_size: int | None = None,
    optimizer: str = "sgd",
    momentum: float = 0.9,
    reduction: str = "sum",
    target_loss: float | None = None,
    progress: ProgressLine | None = None,
) -> Result:
    """Run the module's train(); turn its errors into one-line nnsym errors."""
    start = time.perf_counter()
    try:
        params_out, history = module.train(
            list(dataset.xs),
            list(dataset.ys),
            lr=lr,
            epochs=epochs,
            params=None if params is None else list(params),
            seed=seed,
            batch_size=batch_size,
            optimizer=optimizer,
            momentum=momentum,
            reduction=reduction,
            target_loss=target_loss,
            callback=progress,
        )
    except module.DivergenceError as error:
        raise NnsymError(f"training diverged: {error}") from None
    except ValueError as error:
        raise UsageError(f"cannot train on {dataset.name}: {error}") from None
    finally:
        if progress is not None:
            progress.finish()
    return Result(list(params_out), history, time.perf_counter() - start)


def objective(
    module: ModuleType, params: Sequence[float], dataset: Dataset, reduction: str
) -> float:
    """The training objective at `params`: sum (or mean) of per-sample losses."""
    total = math.fsum(module.loss(params, x, y) for x, y in zip(dataset.xs, dataset.ys))
    return total / len(dataset) if reduction == "mean" else total


def _threshold(spec: Spec) -> float:
    # The same threshold as the generated accuracy(): 0 for a tanh output.
    return 0.0 if spec.output_activation == "tanh" else 0.5


def is_classification(spec: Spec, dataset: Dataset) -> bool:
    """True if the targets are classes: one-hot rows, or two values either side."""
    if dataset.classes is not None:
        return True
    if len(dataset.ys[0]) == 1:
        values = {y[0] for y in dataset.ys}
        threshold = _threshold(spec)
        return len(values) == 2 and (min(values) < threshold <= max(values))
    return all(sorted(y) == [0.0] * (len(y) - 1) + [1.0] for y in dataset.ys)


def _format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    lines = [
        "  ".join(cell.rjust(width) for cell, width in zip(line, widths)).rstrip()
        for line in (header, *rows)
    ]
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return f"{value:g}"


def predictions_table(
    module: ModuleType, params: Sequence[float], spec: Spec, dataset: Dataset
) -> str:
    """Inputs, targets and outputs of the first samples, one row each."""
    classify = is_classification(spec, dataset)
    threshold = _threshold(spec)
    header = [*dataset.input_names]
    if dataset.classes is not None:
        header += ["target", "predicted", "p"]
    else:
        header += [
            f"target {name}" if len(dataset.ys[0]) > 1 else "target"
            for name in dataset.target_names
        ]
        header += ["output"] * len(dataset.ys[0])
    if classify:
        header.append("")
    rows = []
    for x, y in list(zip(dataset.xs, dataset.ys))[:TABLE_ROWS]:
        out = module.predict(params, x)
        row = [_number(v) for v in x]
        if dataset.classes is not None:
            best = out.index(max(out))
            row += [dataset.classes[y.index(max(y))], dataset.classes[best]]
            row.append(f"{out[best]:.4f}")
            right = y.index(max(y)) == best
        else:
            row += [_number(v) for v in y]
            row += [f"{v:.4f}" for v in out]
            if len(out) == 1:
                right = (out[0] >= threshold) == (y[0] >= threshold)
            else:
                right = out.index(max(out)) == y.index(max(y))
        if classify:
            row.append("ok" if right else "WRONG")
        rows.append(row)
    text = _format_table(header, rows)
    if len(dataset) > TABLE_ROWS:
        text += f"... and {len(dataset) - TABLE_ROWS} more samples\n"
    return text


def report(
    module: ModuleType,
    params: Sequence[float],
    spec: Spec,
    dataset: Dataset,
    reduction: str = "sum",
    stream: TextIO | None = None,
) -> float:
    """Print the predictions table, the final loss and the accuracy; return the loss."""
    out = sys.stdout if stream is None else stream
    out.write(predictions_table(module, params, spec, dataset))
    final = objective(module, params, dataset, reduction)
    out.write(
        f"final loss: {final:.6g} ({reduction} of {spec.loss} over "
        f"{len(dataset)} samples)\n"
    )
    if is_classification(spec, dataset):
        share = module.accuracy(params, list(dataset.xs), list(dataset.ys))
        right = round(share * len(dataset))
        out.write(f"accuracy: {share:.0%} ({right} of {len(dataset)})\n")
    return final


def _initial_params(path: Path, spec: Spec) -> tuple[float, ...]:
    weights = load_weights(path)
    theirs, ours = weights.spec, spec
    if (theirs.arch, theirs.activations, theirs.loss) != (
        ours.arch,
        ours.activations,
        ours.loss,
    ):
        raise UsageError(
            f"--init {path} holds a {format_arch(theirs.arch)} "
            f"{'/'.join(theirs.activations)} {theirs.loss} network, but this run "
            f"trains {format_arch(ours.arch)} {'/'.join(ours.activations)} "
            f"{ours.loss}; give the same --arch, --activation and --loss"
        )
    return weights.params


def run(args: argparse.Namespace) -> int:
    """Check everything, generate or reuse the module, train, report and save."""
    spec = spec_from_args(args)
    if args.target_loss is not None and not math.isfinite(args.target_loss):
        raise UsageError("--target-loss must be a finite number")
    # Everything that can be refused is refused before any file is written.
    dataset = load_data(args.data, spec, target=args.target, header=args.header)
    initial = _initial_params(args.init, spec) if args.init else None
    if args.save is not None:
        check_save_target(args.save, force=args.force)
    if args.plot is not None:
        check_plot_target(args.plot)
    seed = (
        args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    )
    show_progress = not args.quiet and sys.stderr.isatty()
    path = args.output if args.output is not None else api.default_output(spec)
    module = prepare_module(spec, path, force=args.force, show_progress=show_progress)
    progress = ProgressLine(args.epochs, sys.stderr) if show_progress else None
    try:
        result = train_module(
            module,
            dataset,
            lr=args.lr,
            epochs=args.epochs,
            seed=seed,
            params=initial,
            batch_size=args.batch_size,
            optimizer=args.optimizer,
            momentum=args.momentum,
            reduction=args.reduction,
            target_loss=args.target_loss,
            progress=progress,
        )
    except KeyboardInterrupt:
        where = f" after {progress.epoch + 1} epochs" if progress is not None else ""
        unsaved = f"; nothing was saved ({args.save} not written)" if args.save else ""
        print(f"nnsym: training interrupted{where}{unsaved}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except NnsymError as error:
        if args.save is not None:
            raise type(error)(f"{error}; nothing was saved") from None
        raise
    epochs_run = len(result.history)
    if not args.quiet:
        final = report(module, result.params, spec, dataset, args.reduction)
        stopped = (
            f", stopped early at target loss {args.target_loss:g}"
            if epochs_run < args.epochs
            else ""
        )
        print(
            f"{epochs_run} epochs in {result.seconds:.2f} s{stopped}; seed {seed}",
        )
    else:
        final = objective(module, result.params, dataset, args.reduction)
    if args.save is not None:
        training = {
            "data": args.data,
            "optimizer": args.optimizer,
            "lr": args.lr,
            "epochs": args.epochs,
            "epochs_run": epochs_run,
            "seed": seed,
            "batch_size": args.batch_size,
            "reduction": args.reduction,
            "final_loss": final,
        }
        if args.optimizer == "momentum":
            training["momentum"] = args.momentum
        weights = Weights(spec, tuple(result.params), dataset.classes, training)
        save_weights(args.save, weights, force=args.force)
        if not args.quiet:
            print(f"saved {args.save}", file=sys.stderr)
    if args.plot is not None:
        plot_loss(result.history, args.plot, f"{format_arch(spec.arch)} on {args.data}")
        if not args.quiet:
            print(f"plotted {args.plot}", file=sys.stderr)
    return 0
