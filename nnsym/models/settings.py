"""How to train: the generated module's train() options, as `nnsym train` takes them.

Checked when built, with the command line's option names in the messages, so
that a run that cannot start is refused before any file is written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from nnsym.errors import UsageError
from nnsym.pipeline.spec import echo
from nnsym.runtime.optimizers import FULL_BATCH_OPTIMIZERS, OPTIMIZERS, REDUCTIONS
from nnsym.runtime.schedules import LR_SCHEDULES

# Options beyond the basic ones: (field, its command-line option, the
# argument of the module's train() it becomes). An engine's trainer lists the
# ones it has (nnsym.targets.registry.Engine.options).
EXTRA_OPTIONS = (
    ("weight_decay", "--weight-decay", "weight_decay"),
    ("nesterov", "--nesterov", "nesterov"),
    ("lr_schedule", "--lr-schedule", "lr_schedule"),
    ("lr_step_size", "--lr-step-size", "lr_step_size"),
    ("lr_gamma", "--lr-gamma", "lr_gamma"),
    ("lr_min", "--lr-min", "lr_min"),
    ("lr_patience", "--lr-patience", "lr_patience"),
    ("clip_grad_norm", "--clip-grad-norm", "clip_grad_norm"),
    ("validation_split", "--validation-split", "validation"),
    ("patience", "--patience", "patience"),
)
# Which schedules each schedule option is for.
_SCHEDULE_OPTIONS = (
    ("lr_step_size", "--lr-step-size", ("step",)),
    ("lr_gamma", "--lr-gamma", ("step", "plateau")),
    ("lr_min", "--lr-min", ("cosine", "plateau")),
    ("lr_patience", "--lr-patience", ("plateau",)),
)


@dataclass(frozen=True)
class TrainingSettings:
    """How to train: the generated module's train() options, checked up front.

    lr None: none (lm), or the optimizer's own default (lbfgs: 1, as PyTorch's).
    The options after target_loss are off (None, 0, False) unless given; see
    the module's train() for their definitions. validation_split holds that
    fraction of the training rows out, for the validation loss.
    """

    lr: float | None = 1.0
    epochs: int = 2000
    batch_size: int | None = None
    optimizer: str = "sgd"
    momentum: float = 0.9
    reduction: str = "sum"
    target_loss: float | None = None
    weight_decay: float = 0.0
    nesterov: bool = False
    lr_schedule: str | None = None
    lr_step_size: int | None = None
    lr_gamma: float | None = None
    lr_min: float | None = None
    lr_patience: int | None = None
    clip_grad_norm: float | None = None
    validation_split: float = 0.0
    patience: int | None = None

    def __post_init__(self) -> None:
        # Refused here, before a module is generated for a run that cannot start.
        if self.target_loss is not None and not math.isfinite(self.target_loss):
            raise UsageError("--target-loss must be a finite number")
        for option, value, choices in (
            ("--optimizer", self.optimizer, OPTIMIZERS),
            ("--reduction", self.reduction, REDUCTIONS),
            ("--lr-schedule", self.lr_schedule or LR_SCHEDULES[0], LR_SCHEDULES),
        ):
            if value not in choices:
                raise UsageError(
                    f"{option} {echo(value)} is not one of: {', '.join(choices)}"
                )
        if self.optimizer == "lm" and self.lr is not None:
            raise UsageError(
                "--optimizer lm takes no learning rate (its damping adapts); "
                "leave out --lr"
            )
        if self.lr is None and self.optimizer not in FULL_BATCH_OPTIMIZERS:
            raise UsageError(f"--optimizer {self.optimizer} needs --lr")
        self._check_extras()

    def _check_extras(self) -> None:
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise UsageError("--weight-decay must be a finite number >= 0")
        if self.nesterov and self.optimizer != "momentum":
            raise UsageError(
                f"--nesterov is for --optimizer momentum, but the optimizer is "
                f"{self.optimizer}; add --optimizer momentum or leave out --nesterov"
            )
        if self.optimizer in FULL_BATCH_OPTIMIZERS:
            for flag in self.extras_in_use():
                if flag not in ("--weight-decay",):
                    raise UsageError(
                        f"{flag} is for sgd, momentum and adam; --optimizer "
                        f"{self.optimizer} runs its own course on the full batch"
                    )
        for name, flag, schedules in _SCHEDULE_OPTIONS:
            if getattr(self, name) is not None and self.lr_schedule not in schedules:
                raise UsageError(
                    f"{flag} is for --lr-schedule {' or '.join(schedules)}"
                    + (f", not {self.lr_schedule}" if self.lr_schedule else "")
                )
        if self.lr_schedule == "step" and self.lr_step_size is None:
            raise UsageError(
                "--lr-schedule step needs --lr-step-size N (multiply the rate by "
                "--lr-gamma every N epochs)"
            )
        if self.lr_gamma is not None and not 0 < self.lr_gamma < 1:
            raise UsageError("--lr-gamma must be above 0 and below 1")
        if not 0 <= self.validation_split < 1:
            raise UsageError("--validation-split must be at least 0 and below 1")
        if self.patience is not None and not self.validation_split:
            raise UsageError(
                "--patience counts epochs without a lower validation loss: it "
                "needs --validation-split FRACTION"
            )

    def extras_in_use(self) -> list[str]:
        """The command-line options of EXTRA_OPTIONS this run uses."""
        return [
            flag
            for name, flag, _ in EXTRA_OPTIONS
            if getattr(self, name) not in (None, 0, 0.0, False)
        ]

    def train_options(self) -> dict[str, Any]:
        """The module's train() arguments for the options in use (validation aside)."""
        return {
            argument: getattr(self, name)
            for name, flag, argument in EXTRA_OPTIONS
            if flag in self.extras_in_use() and name != "validation_split"
        }

    def record(
        self, data: str, seed: int, epochs_run: int, final_loss: float
    ) -> dict[str, Any]:
        """The "training" entry of a weights file for a run with these settings."""
        training: dict[str, Any] = {
            "data": data,
            "optimizer": self.optimizer,
            "lr": self.lr,
            "epochs": self.epochs,
            "epochs_run": epochs_run,
            "seed": seed,
            "batch_size": self.batch_size,
            "reduction": self.reduction,
            "final_loss": final_loss,
        }
        if self.optimizer == "momentum":
            training["momentum"] = self.momentum
        for name, flag, _ in EXTRA_OPTIONS:
            if flag in self.extras_in_use():
                training[name] = getattr(self, name)
        return training
