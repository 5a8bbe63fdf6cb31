"""The settings `nnsym train` chooses itself: its rule, by problem size.

It chooses when none of --optimizer, --lr, --epochs, --batch-size,
--momentum and the first-order optimizers' options (FIRST_ORDER_OPTIONS) is
given (any one of them: the fixed defaults of TrainingSettings, sgd at lr 1 for
2000 epochs, as the tutorials use). With P parameters and N training rows
(those left after --test-split and --validation-split):

- P <= 100 and N <= 100 (XOR, the logic tables, a small curve fit): lm, the
  full batch, the sum of the losses, at most 100 epochs (one accepted
  Levenberg-Marquardt step each; it stops once no step lowers the loss).
  Few steps learn these, where first-order methods need thousands.
- anything larger: adam at lr 0.01 on the mean of the losses, mini-batches of
  32 (the full batch for 32 rows or fewer), max(100, ceil(1000 / batches per
  epoch)) epochs: 250 for iris' 120 rows, 100 from 3200 rows up. lm would
  build a P x P matrix from N rows every step, and on held-out rows it did no
  better than adam (docs/benchmarks.md).
- with --validation-split (and --patience, if given), at any size: adam as
  above, the split and the patience applied, the parameters of the epoch with
  the lowest validation loss kept. lm and lbfgs run their own course on the
  full batch and take no validation set.

The inputs are standardized (mean 0, standard deviation 1, folded into layer
1 of the saved parameters), built-in sets included, unless --scale says
otherwise. The training runs in the first engine of the registry's that runs
the optimizer and can start here (the C trainer when a C compiler is on PATH),
else in the Python module, whose epochs are then capped so that N * P *
epochs <= 10**8 (about 10 s of pure Python), at least 10. A network left to
--form auto, of more than 100 parameters, that the C engine trains is
generated in the loop form, where the
layers have one (SymPy writes it in a time independent of the size; the
unrolled 30-16-2 module took seconds longer than the training). --reduction,
--target-loss, --weight-decay, --engine and --scale are kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from nnsym.errors import NnsymError
from nnsym.models.scaling import fit_scaling
from nnsym.models.settings import TrainingSettings
from nnsym.models.training import TrainingPlan
from nnsym.pipeline.spec import Spec, has_layer_form
from nnsym.targets import registry

LM_MAX_PARAMETERS = 100
LM_MAX_ROWS = 100
LM_EPOCHS = 100
ADAM_LR = 0.01
ADAM_BATCH = 32
ADAM_MIN_EPOCHS = 100
ADAM_MIN_STEPS = 1000
# Rows x parameters x epochs that the pure-Python module trains in about 10 s.
PYTHON_WORK = 10**8
PYTHON_MIN_EPOCHS = 10
# TrainingSettings fields that only sgd, momentum and adam take: given, the
# run is the user's to set up (lm refuses them).
FIRST_ORDER_OPTIONS = (
    "nesterov",
    "lr_schedule",
    "lr_step_size",
    "lr_gamma",
    "lr_min",
    "lr_patience",
    "clip_grad_norm",
)
# --validation-split and --patience are not among them: they are kept, and the
# rule chooses adam, which takes them.


@dataclass(frozen=True)
class Choice:
    """What the rule chose, where the training runs, and why, in words."""

    settings: TrainingSettings
    engine: str
    scale: str
    why: str
    engine_why: str = ""
    # "loops" when the rule changed the module's form (wants_loops).
    form: str = ""

    def line(self) -> str:
        """The one line `nnsym train` prints about the choice."""
        settings = self.settings
        parts = [] if settings.lr is None else [f"lr {settings.lr:g}"]
        batch = settings.batch_size
        parts.append("full batch" if batch is None else f"mini-batches of {batch}")
        parts += [settings.reduction, f"{settings.epochs} epochs"]
        engine = self.engine + (f" ({self.engine_why})" if self.engine_why else "")
        form = f"; form: {self.form}" if self.form else ""
        return (
            f"optimizer: {settings.optimizer}, {', '.join(parts)} ({self.why}); "
            f"scale: {self.scale}; engine: {engine}{form}"
        )

    def record(self) -> dict[str, Any]:
        """Entries for the weights file's "training" record."""
        return {"engine": self.engine, "chosen": self.line()}


def is_automatic(*given: Any) -> bool:
    """True if none of the options that switch the rule off was given.

    Not given: None, or the off value of a flag or fraction (False, 0).
    """
    return all(value in (None, False, 0) for value in given)


def usable_engine(
    optimizer: str, preferred: str | None, extras: Sequence[str] = ()
) -> tuple[str, str]:
    """(engine, why not a faster one, or "") that runs `optimizer` here.

    `preferred` (--engine) is kept when given; else the registry's engines are
    tried in order, each asked to start (a C compiler on PATH), then Python.
    `extras` are the options beyond the basic ones in use (--weight-decay).
    """
    if preferred is not None:
        return preferred, ""
    reasons = []
    for name in registry.engines():
        engine = registry.engine(name)
        if engine is None:
            continue
        lacking = [optimizer] if optimizer not in engine.optimizers else []
        lacking += [flag for flag in extras if flag not in engine.options]
        if lacking:
            reasons.append(f"the {name} trainer has no {', '.join(lacking)}")
            continue
        try:
            registry.resolve(engine.prepare)()
        except NnsymError as error:
            reasons.append(str(error).split(";")[0])
            continue
        return name, ""
    return registry.DEFAULT, "; ".join(reasons)


def choose(
    n_params: int,
    rows: int,
    *,
    reduction: str | None = None,
    engine: str | None = None,
    scale: str | None = None,
    base: TrainingSettings | None = None,
) -> Choice:
    """The rule of the module's docstring for P = `n_params`, N = `rows`.

    `base` holds the options kept (target loss, weight decay, validation
    split, patience).
    """
    base = TrainingSettings() if base is None else base
    extras = base.extras_in_use()
    scale = "standard" if scale is None else scale
    # An engine asked for by name that has no lm trains the small ones with adam.
    named = registry.engine(engine) if engine is not None else None
    if (
        (named is None or "lm" in named.optimizers)
        and n_params <= LM_MAX_PARAMETERS
        and rows <= LM_MAX_ROWS
        and not base.validation_split
    ):
        where, engine_why = usable_engine("lm", engine, extras)
        settings = replace(
            base,
            lr=None,
            epochs=LM_EPOCHS,
            batch_size=None,
            optimizer="lm",
            reduction=reduction or "sum",
        )
        why = (
            f"{n_params} parameters and {rows} rows, at most "
            f"{LM_MAX_PARAMETERS} of each"
        )
        return Choice(settings, where, scale, why, engine_why)
    where, engine_why = usable_engine("adam", engine, extras)
    batch = ADAM_BATCH if rows > ADAM_BATCH else None
    batches = math.ceil(rows / ADAM_BATCH)
    epochs = max(ADAM_MIN_EPOCHS, math.ceil(ADAM_MIN_STEPS / batches))
    if where == registry.DEFAULT:
        capped = max(PYTHON_MIN_EPOCHS, PYTHON_WORK // (rows * n_params))
        if capped < epochs:
            epochs = capped
            engine_why += f"{'; ' if engine_why else ''}epochs capped for Python"
    settings = replace(
        base,
        lr=ADAM_LR,
        epochs=epochs,
        batch_size=batch,
        optimizer="adam",
        reduction=reduction or "mean",
    )
    why = f"{n_params} parameters, {rows} rows: more than {LM_MAX_ROWS} rows"
    if base.validation_split:
        why = "a validation split, which lm and lbfgs do not take"
    elif rows <= LM_MAX_ROWS:
        why = f"{n_params} parameters, more than {LM_MAX_PARAMETERS}"
    return Choice(settings, where, scale, why, engine_why)


def known_optimizer(n_params: int, automatic: bool, optimizer: str) -> str | None:
    """The optimizer a run will use, where that is known before its data is read.

    The one asked for; under the rule, adam above LM_MAX_PARAMETERS parameters
    (lm is only for networks that small); else None (the rule counts rows).
    """
    if not automatic:
        return optimizer
    return "adam" if n_params > LM_MAX_PARAMETERS else None


def wants_loops(spec: Spec, choice: Choice) -> bool:
    """True if `spec`, left to --form auto, is generated as loops for `choice`."""
    layered = has_layer_form(spec.output_activation, spec.loss)
    # A small network stays unrolled, every derivative on its own line, where
    # SymPy writes it in well under a second.
    small = spec.n_params <= LM_MAX_PARAMETERS
    return (
        choice.engine != registry.DEFAULT
        and spec.form == "unrolled"
        and layered
        and not small
    )


def automatic_plan(
    plan: TrainingPlan,
    *,
    reduction: str | None = None,
    engine: str | None = None,
    scale: str | None = None,
) -> tuple[TrainingPlan, Choice]:
    """`plan` with the rule's settings and scaling for its network and rows."""
    choice = choose(
        plan.spec.n_params,
        len(plan.dataset),
        reduction=reduction,
        engine=engine,
        scale=scale,
        base=plan.settings,
    )
    scaling = fit_scaling(choice.scale, plan.dataset.xs)
    return replace(plan, settings=choice.settings, scaling=scaling), choice
