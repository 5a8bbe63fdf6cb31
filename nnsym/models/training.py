"""Training a generated module on a data set: the Python API behind `nnsym train`.

    from pathlib import Path

    from nnsym.pipeline.spec import make_spec
    from nnsym.models.training import TrainingSettings, train

    trained = train(make_spec("2-2-1"), "xor", TrainingSettings(lr=1.0), seed=0)
    print(trained.final_loss)
    trained.save(Path("xor.json"))

`train` is `plan_training` (everything that can be refused, before any file is
written), `prepare_module` (nnsym.targets.python), `run_training` and
`objective`; `nnsym train` calls the same steps, printing between them, and
saves with `Trained.save`.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TextIO

from nnsym.errors import NnsymError, UsageError
from nnsym.models.data import CsvFormat, Dataset, load_data, split_dataset
from nnsym.models.scaling import Scaling, fit_scaling, fold, scale_dataset, unfold
from nnsym.models.settings import TrainingSettings as TrainingSettings
from nnsym.models.weights import Weights, params_for, save_weights
from nnsym.pipeline.build import default_output
from nnsym.pipeline.spec import Spec
from nnsym.runtime.optimizers import FULL_BATCH_OPTIMIZERS as FULL_BATCH_OPTIMIZERS
from nnsym.runtime.optimizers import OPTIMIZERS as OPTIMIZERS
from nnsym.runtime.optimizers import REDUCTIONS as REDUCTIONS
from nnsym.targets.python import prepare_module

# The predictions table shows at most this many samples, and of wider inputs
# (an image's pixels) the first few.
TABLE_ROWS = 20
TABLE_INPUTS = 6


@dataclass(frozen=True)
class TrainingPlan:
    """A checked run: the data, the seed, where the parameters start and how."""

    spec: Spec
    data: str
    dataset: Dataset
    settings: TrainingSettings
    seed: int
    initial: tuple[float, ...] | None = None
    # Samples held out of training (--test-split), scored after it.
    test: Dataset | None = None
    # The inputs' scaling, fitted on the training rows (nnsym.models.scaling).
    scaling: Scaling | None = None
    # Training rows held out for the validation loss (--validation-split).
    validation: Dataset | None = None


@dataclass(frozen=True)
class TrainingResult:
    """What a training run produced."""

    params: list[float]
    history: list[float]
    seconds: float
    # Each epoch's validation loss, with a validation set.
    validation_losses: list[float] | None = None

    @property
    def epochs_run(self) -> int:
        """Epochs actually run (fewer than asked if the target loss was reached)."""
        return len(self.history)

    @property
    def best_epoch(self) -> int | None:
        """The epoch (from 0) of the lowest validation loss, the one kept."""
        losses = self.validation_losses
        return losses.index(min(losses)) if losses else None


def random_seed() -> int:
    """A fresh seed from the operating system, for a run that names none."""
    return random.SystemRandom().randrange(2**31)


def plan_training(
    spec: Spec,
    data: str,
    settings: TrainingSettings | None = None,
    *,
    seed: int | None = None,
    init: Path | None = None,
    target: str | None = None,
    header: bool | None = None,
    test_split: float = 0.0,
    csv_format: CsvFormat | None = None,
    scale: str = "none",
) -> TrainingPlan:
    """Load the data (and `init`'s parameters) for `spec`; no file is written.

    `data` is a built-in data set's name or a CSV file (`target` and `header` as
    in `nnsym.models.data.load_data`); `seed` None draws a random one.
    `test_split` holds that fraction of the samples out of training, chosen
    by `seed`. `scale` (standard, minmax, none) scales the inputs, fitted on
    the training rows and folded into layer 1 of the saved parameters.
    """
    dataset = load_data(data, spec, target=target, header=header, csv_format=csv_format)
    initial = params_for(init, spec, "--init ") if init is not None else None
    seed = random_seed() if seed is None else seed
    settings = TrainingSettings() if settings is None else settings
    test = validation = None
    if test_split:
        dataset, test = split_dataset(dataset, test_split, seed)
    if settings.validation_split:
        dataset, validation = split_dataset(
            dataset, settings.validation_split, seed, "validation"
        )
    return TrainingPlan(
        spec,
        data,
        dataset,
        settings,
        seed,
        initial,
        test,
        fit_scaling(scale, dataset.xs),
        validation,
    )


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


def run_training(
    module: ModuleType, plan: TrainingPlan, progress: ProgressLine | None = None
) -> TrainingResult:
    """Run the module's train(); turn its errors into one-line nnsym errors."""
    settings = plan.settings
    # Trained on scaled inputs; the parameters returned take raw ones.
    dataset = scale_dataset(plan.dataset, plan.scaling)
    initial = None
    if plan.initial is not None:
        initial = unfold(plan.spec, plan.initial, plan.scaling)
    extras = settings.train_options()
    losses: list[float] | None = None
    if plan.validation is not None:
        held_out = scale_dataset(plan.validation, plan.scaling)
        losses = []
        extras["validation"] = (list(held_out.xs), list(held_out.ys))
        extras["validation_history"] = losses
    start = time.perf_counter()
    try:
        params, history = module.train(
            list(dataset.xs),
            list(dataset.ys),
            lr=settings.lr,
            epochs=settings.epochs,
            params=initial,
            seed=plan.seed,
            batch_size=settings.batch_size,
            optimizer=settings.optimizer,
            momentum=settings.momentum,
            reduction=settings.reduction,
            target_loss=settings.target_loss,
            callback=progress,
            **extras,
        )
    except module.DivergenceError as error:
        raise NnsymError(f"training diverged: {error}") from None
    except ValueError as error:
        raise UsageError(f"cannot train on {dataset.name}: {error}") from None
    finally:
        if progress is not None:
            progress.finish()
    params = fold(plan.spec, params, plan.scaling)
    return TrainingResult(params, history, time.perf_counter() - start, losses)


def objective(
    module: ModuleType, params: Sequence[float], dataset: Dataset, reduction: str
) -> float:
    """The training objective at `params`: sum (or mean) of per-sample losses."""
    # A compiled engine computes all the losses at once (nnsym.targets.cengine).
    losses = getattr(module, "losses", None)
    if losses is not None:
        total = math.fsum(losses(params, dataset.xs, dataset.ys))
    else:
        total = math.fsum(
            module.loss(params, x, y) for x, y in zip(dataset.xs, dataset.ys)
        )
    return total / len(dataset) if reduction == "mean" else total


@dataclass(frozen=True)
class Trained:
    """A finished run: its plan, the module it trained, the result, the loss."""

    plan: TrainingPlan
    module: ModuleType
    result: TrainingResult
    final_loss: float

    @classmethod
    def from_run(
        cls, plan: TrainingPlan, module: ModuleType, result: TrainingResult
    ) -> Trained:
        """The finished run, with the objective at its trained parameters."""
        reduction = plan.settings.reduction
        final = objective(module, result.params, plan.dataset, reduction)
        return cls(plan, module, result, final)

    def report(self) -> str:
        """The predictions table, the final loss and, for classes, the accuracy."""
        plan = self.plan
        text = format_report(
            self.module,
            self.result.params,
            plan.spec,
            plan.dataset,
            self.final_loss,
            plan.settings.reduction,
        )
        if plan.validation is not None:
            text += format_validation(self.module, self.result, plan)
        if plan.test is not None:
            text += format_test(self.module, self.result.params, plan)
        return text

    @property
    def weights(self) -> Weights:
        """The trained parameters with their spec, classes and training record."""
        plan = self.plan
        training = plan.settings.record(
            plan.data, plan.seed, self.result.epochs_run, self.final_loss
        )
        # The data's column names, so that predict --data finds them in a CSV.
        training["inputs"] = list(plan.dataset.input_names)
        training["targets"] = list(plan.dataset.target_names)
        if plan.scaling is not None:
            training["input_scaling"] = plan.scaling.record()
        if self.result.best_epoch is not None:
            # The parameters are those after this many epochs.
            training["epochs_kept"] = self.result.best_epoch + 1
        return Weights(
            plan.spec, tuple(self.result.params), plan.dataset.classes, training
        )

    def save(self, path: str | Path, force: bool = False) -> None:
        """Write the weights file atomically (see `weights.save_weights`)."""
        path = Path(path)
        save_weights(path, self.weights, force=force)


def train(
    spec: Spec,
    data: str,
    settings: TrainingSettings | None = None,
    *,
    seed: int | None = None,
    init: Path | None = None,
    target: str | None = None,
    header: bool | None = None,
    output: Path | None = None,
    force: bool = False,
    progress: ProgressLine | None = None,
    csv_format: CsvFormat | None = None,
) -> Trained:
    """What `nnsym train` does, without the printing: plan, generate, train.

    The module is written to `output` (default: generated/NAME.py) unless an
    up-to-date one is there; `force` allows overwriting a file nnsym did not
    write. Save the result with `Trained.save`.
    """
    plan = plan_training(
        spec,
        data,
        settings,
        seed=seed,
        init=init,
        target=target,
        header=header,
        csv_format=csv_format,
    )
    path = default_output(spec) if output is None else output
    module = prepare_module(spec, path, force=force)
    return Trained.from_run(plan, module, run_training(module, plan, progress))


def format_validation(
    module: ModuleType, result: TrainingResult, plan: TrainingPlan
) -> str:
    """The validation loss at the returned parameters, and the epoch they are from."""
    validation = plan.validation
    assert validation is not None
    reduction = plan.settings.reduction
    loss = objective(module, result.params, validation, reduction)
    text = (
        f"validation loss: {loss:.6g} ({reduction} of {plan.spec.loss} over "
        f"{len(validation)} validation samples)"
    )
    if result.best_epoch is not None:
        text += (
            f", lowest after epoch {result.best_epoch + 1} of {result.epochs_run}, "
            "whose parameters are kept"
        )
    return text + "\n"


def format_test(module: ModuleType, params: Sequence[float], plan: TrainingPlan) -> str:
    """The loss and, for classes, the accuracy on the held-out samples."""
    test = plan.test
    assert test is not None
    reduction = plan.settings.reduction
    loss = objective(module, params, test, reduction)
    text = (
        f"test loss: {loss:.6g} ({reduction} of {plan.spec.loss} over "
        f"{len(test)} held-out samples)\n"
    )
    if is_classification(plan.spec, test):
        share = module.accuracy(params, test.xs, test.ys)
        right = round(share * len(test))
        text += f"test accuracy: {percent(right, len(test))} ({right} of {len(test)})\n"
    return text


def is_classification(spec: Spec, dataset: Dataset) -> bool:
    """True if the targets are classes: one-hot rows, or two values either side."""
    if dataset.classes is not None:
        return True
    if len(dataset.ys[0]) == 1:
        values = {y[0] for y in dataset.ys}
        threshold = spec.classification_threshold
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
    threshold = spec.classification_threshold
    wide = len(dataset.input_names) > TABLE_INPUTS
    header = [*dataset.input_names[:TABLE_INPUTS]] + (["..."] if wide else [])
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
        row = [_number(v) for v in x[:TABLE_INPUTS]] + (["..."] if wide else [])
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


def format_report(
    module: ModuleType,
    params: Sequence[float],
    spec: Spec,
    dataset: Dataset,
    final_loss: float,
    reduction: str = "sum",
) -> str:
    """The predictions table, the final loss and, for classes, the accuracy."""
    text = predictions_table(module, params, spec, dataset)
    text += (
        f"final loss: {final_loss:.6g} ({reduction} of {spec.loss} over "
        f"{len(dataset)} samples)\n"
    )
    if is_classification(spec, dataset):
        share = module.accuracy(params, dataset.xs, dataset.ys)
        right = round(share * len(dataset))
        text += (
            f"accuracy: {percent(right, len(dataset))} ({right} of {len(dataset)})\n"
        )
    return text


# With --reduction sum, each step is lr times a sum over the batch: above this
# effective rate, sigmoid and tanh outputs saturate after a step or two.
SATURATING_RATE = 100


def training_advice(
    plan: TrainingPlan, history: Sequence[float], final: float | None = None
) -> str | None:
    """What to try when a run barely lowered its loss at a saturating rate, or None.

    `final`, the "final loss" printed beside it, is quoted instead of history[-1]
    (the objective during the last epoch, before its update) when given.
    """
    settings = plan.settings
    batch = settings.batch_size or len(plan.dataset)
    if settings.lr is None or settings.optimizer in FULL_BATCH_OPTIMIZERS:
        return None
    rate = settings.lr * min(batch, len(plan.dataset))
    if settings.reduction != "sum" or rate <= SATURATING_RATE or len(history) < 2:
        return None
    first, last = history[0], history[-1] if final is None else final
    if not (math.isfinite(first) and math.isfinite(last)) or last < 0.5 * first:
        return None
    return (
        f"the loss went from {first:.6g} to {last:.6g}: with --reduction sum "
        f"each step is --lr {settings.lr:g} times a sum over {batch} samples, an "
        f"effective learning rate of {rate:g}, which saturates the outputs; try "
        "--reduction mean, or a smaller --lr such as "
        f"{settings.lr / batch:.2g}"
    )


def percent(part: int, whole: int) -> str:
    """100%, 0%, else one decimal, more where one would show 100% or 0% falsely."""
    if part in (0, whole):
        return f"{100 * part // whole}%"
    share = 100 * part / whole
    for decimals in range(1, 12):
        shown = f"{share:.{decimals}f}"
        if float(shown) not in (0, 100):
            return f"{shown}%"
    return f"{share}%"
