"""`nnsym train --engine c`: a generated Python module whose train() runs in C.

The module's API (train, losses, forward, accuracy) over a `CTrainer`
(nnsym.targets.cengine), so that the CLI trains and reports through it as it
does through the Python module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from nnsym.pipeline.spec import Spec
from nnsym.targets.cengine import (
    BAD_OPTIONS,
    DIVERGED,
    TOO_MANY_PARAMS,
    CTrainer,
    PendingTrainer,
    start_trainer,
)

SECOND_ORDER = ("lm", "lbfgs")


class CEngine:
    """A generated Python module whose train() runs in its compiled C twin.

    Everything but train() is the Python module's (forward, loss, accuracy,
    DivergenceError). Initial parameters are the Python module's
    init_params(seed), so that a full-batch run gives the Python trainer's
    parameters; mini-batches are shuffled by splitmix64 (docs/targets.md), not
    by Python's random.Random, so their order differs.
    """

    def __init__(self, module: ModuleType, trainer: CTrainer) -> None:
        self.module = module
        self.trainer = trainer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.module, name)

    def train(
        self,
        xs: Sequence[Sequence[float]],
        ys: Sequence[Sequence[float]],
        *,
        lr: float | None = None,
        epochs: int,
        params: Sequence[float] | None = None,
        seed: int | None = None,
        batch_size: int | None = None,
        optimizer: str = "sgd",
        reduction: str = "sum",
        momentum: float = 0.9,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        target_loss: float | None = None,
        callback: Callable[[int, float], bool] | None = None,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        clip_grad_norm: float | None = None,
    ) -> tuple[list[float], list[float]]:
        """The Python module's train(), run in C a chunk of epochs at a time.

        Of its options beyond the basic ones, weight_decay, nesterov and
        clip_grad_norm; learning-rate schedules and a validation set are the
        Python module's alone.

        callback(epoch, objective) is told of each chunk's last epoch (True
        stops the run there); Ctrl-C and SIGTERM take effect between chunks,
        each under about CHUNK_SECONDS.
        """
        # The Python module's own checks: its messages for the same mistakes.
        self.module._check_training(optimizer, reduction, epochs, lr, batch_size)
        self.module._check_decay(weight_decay)
        self.module._check_extras(
            optimizer,
            momentum,
            nesterov,
            None,
            (None, 0.1, 0.0, None),
            clip_grad_norm,
            (None, None),
        )
        if optimizer in SECOND_ORDER and not self.trainer.second_order:
            raise ValueError(
                "this C trainer was built for first-order optimizers only "
                "(c_engine(..., optimizer=%r) builds one with lm and lbfgs)" % optimizer
            )
        start = self.module.init_params(seed) if params is None else list(params)
        full_batch = optimizer in SECOND_ORDER
        if full_batch and batch_size is not None and batch_size < len(xs):
            raise ValueError(
                "optimizer %r runs on the full batch; leave batch_size out" % optimizer
            )
        code, trained, history = self.trainer.train(
            xs,
            ys,
            lr=lr,
            epochs=epochs,
            params=start,
            seed=0 if seed is None else seed,
            batch_size=batch_size,
            optimizer=optimizer,
            reduction=reduction,
            momentum=momentum,
            betas=betas,
            eps=eps,
            target_loss=target_loss,
            between=callback or (lambda epoch, objective: False),
            weight_decay=weight_decay,
            nesterov=nesterov,
            clip_grad_norm=clip_grad_norm,
        )
        if code == TOO_MANY_PARAMS:
            raise ValueError(
                "optimizer 'lm' handles at most %d parameters, this network has %d; "
                "use optimizer='lbfgs'" % (self.module.LM_MAX_PARAMS, len(start))
            )
        if code == BAD_OPTIONS:
            raise ValueError("the C trainer refused its options")
        if code == DIVERGED:
            *history, bad = history
            last = history[-1] if history else None
            advice = "" if full_batch else "; try a smaller learning rate"
            raise self.module.DivergenceError(
                "the loss became %r at epoch %d (last finite loss: %r)%s"
                % (bad, len(history), last, advice),
                len(history),
                last,
                trained,
            )
        return trained, history

    # The report's numbers, from the C trainer too (the Python module's at
    # 784-128-10 took 9 s for 2000 samples).
    def losses(
        self,
        params: Sequence[float],
        xs: Sequence[Sequence[float]],
        ys: Sequence[Sequence[float]],
    ) -> list[float]:
        """Each sample's loss at params, computed by the C trainer."""
        return self.trainer.evaluate(params, xs, ys)[0]

    def loss(
        self, params: Sequence[float], x: Sequence[float], y: Sequence[float]
    ) -> float:
        """One sample's loss, computed by the C trainer."""
        return self.losses(params, [x], [y])[0]

    def forward(self, params: Sequence[float], x: Sequence[float]) -> list[float]:
        """One sample's outputs, computed by the C trainer."""
        return self.trainer.evaluate(params, [x])[1][0]

    predict = forward

    def accuracy(
        self,
        params: Sequence[float],
        xs: Sequence[Sequence[float]],
        ys: Sequence[Sequence[float]],
        threshold: float | None = None,
    ) -> float:
        """The Python module's accuracy(), on outputs computed by the C trainer."""
        if not xs:
            return 0.0
        if threshold is None:
            threshold = self.trainer.threshold
        right = 0
        for out, y in zip(self.trainer.evaluate(params, xs)[1], ys, strict=True):
            target = [float(v) for v in y]
            if len(out) == 1:
                right += (out[0] >= threshold) == (target[0] >= threshold)
            else:
                right += out.index(max(out)) == target.index(max(target))
        return right / len(xs)


def start_c_engine(spec: Spec, optimizer: str | None = None) -> PendingTrainer:
    """Start compiling spec's C trainer (c_engine takes it once the module is ready).

    With a first-order `optimizer`, the trainer is built without lm and lbfgs,
    which take half of the compiler's time; None or lm/lbfgs builds them all.
    """
    from nnsym.targets import source_for

    second_order = optimizer is None or optimizer in SECOND_ORDER
    return start_trainer(spec, lambda: source_for(spec, "c"), "float64", second_order)


def c_engine(
    spec: Spec, module: ModuleType, started: PendingTrainer | None = None
) -> CEngine:
    """`module` (spec's Python module) training through spec's compiled C trainer.

    `started`: the trainer start_c_engine began compiling; else built here with
    every optimizer.
    """
    pending = started if started is not None else start_c_engine(spec)
    return CEngine(module, pending.result())
