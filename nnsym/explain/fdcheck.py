"""Check the symbolic gradients against finite differences, and optionally PyTorch.

The finite differences only ever call the generated module's `loss`, never its
gradient code, so they are an independent reference: the first tutorial's
forward difference (f(p + h) - f(p)) / h, and the central difference
(f(p + h) - f(p - h)) / 2h, whose error shrinks as h**2 instead of h.

A step cannot be too big (the truncation error, about h f''/2 for the forward
difference) nor too small (rounding: f is known to about 1e-16 |f|, and
dividing by h magnifies that to 1e-16 |f| / h). The table of error against
step shows both sides of the trade-off.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from nnsym.errors import NnsymError, UsageError
from nnsym.explain.point import Point
from nnsym.explain.sampling import (
    CHECK_SAMPLE as CHECK_SAMPLE,  # re-exported
)
from nnsym.explain.sampling import MAX_CHECK_PARAMS as MAX_CHECK_PARAMS
from nnsym.explain.sampling import (
    layer_of,
    rounding_floor,
    sampled_indices,
    table_indices,
)
from nnsym.pipeline.spec import Spec

DEFAULT_STEP = 1e-4  # the tutorial's eps
STEP_TABLE = tuple(10.0**-k for k in range(13))  # 1 down to 1e-12
# Central differences at 1e-4 are good to about 1e-8 for these losses; a wrong
# gradient is off by far more.
DEFAULT_TOLERANCE = 1e-6
TORCH_TOLERANCE = 1e-9
TORCH_INSTALL_HINT = "pip install 'nnsym[torch]' (the CPU build, torch==2.13.0)"


Loss = Callable[[Sequence[float]], float]


@dataclass(frozen=True)
class ParamCheck:
    """One parameter: symbolic gradient and the two finite-difference estimates."""

    name: str
    symbolic: float
    forward: float
    central: float
    torch: float | None = None
    # False when the gradient and its differences are both zero to rounding at
    # this point: their agreement says nothing about the gradient's formula.
    checked: bool = True

    @property
    def forward_error(self) -> float:
        """|forward difference - symbolic|."""
        return abs(self.forward - self.symbolic)

    @property
    def central_error(self) -> float:
        """|central difference - symbolic|."""
        return abs(self.central - self.symbolic)

    @property
    def torch_error(self) -> float | None:
        """|PyTorch autograd - symbolic|, if PyTorch was asked."""
        return None if self.torch is None else abs(self.torch - self.symbolic)


@dataclass(frozen=True)
class StepRow:
    """The largest error over all parameters at one step size."""

    step: float
    forward_error: float
    central_error: float


@dataclass(frozen=True)
class CheckReport:
    """Everything `nnsym check` prints."""

    spec: Spec
    point: Point
    loss: float
    step: float
    params: tuple[ParamCheck, ...]
    table: tuple[StepRow, ...]
    tolerance: float
    # How many parameters the network has (params holds the ones checked).
    n_params: int = 0
    # Layers (from 1) none of whose sampled gradients rise above rounding.
    unchecked_layers: tuple[int, ...] = ()
    # How many parameters the step table is over.
    n_table: int = 0

    @property
    def n_unchecked(self) -> int:
        """Parameters whose gradient is zero to rounding at this point."""
        return sum(not p.checked for p in self.params)

    @property
    def worst_central_error(self) -> float:
        """Largest central-difference error, relative to max(1, |gradient|)."""
        return max(
            (p.central_error / max(1.0, abs(p.symbolic)) for p in self.params),
            default=0.0,
        )

    @property
    def worst_torch_error(self) -> float | None:
        """Largest PyTorch error relative to max(1, |gradient|), if asked."""
        errors = [
            p.torch_error / max(1.0, abs(p.symbolic))
            for p in self.params
            if p.torch_error is not None
        ]
        return max(errors) if errors else None

    @property
    def agrees(self) -> bool:
        """True if every reference agrees and every layer was really checked."""
        torch_error = self.worst_torch_error
        if self.unchecked_layers:
            return False
        return self.worst_central_error <= self.tolerance and (
            torch_error is None or torch_error <= TORCH_TOLERANCE
        )


def forward_difference(loss: Loss, params: Sequence[float], i: int, h: float) -> float:
    """(f(p + h e_i) - f(p)) / h: the tutorial's estimate of df/dp_i."""
    moved = list(params)
    moved[i] += h
    return (loss(moved) - loss(params)) / h


def central_difference(loss: Loss, params: Sequence[float], i: int, h: float) -> float:
    """(f(p + h e_i) - f(p - h e_i)) / 2h: error of order h**2."""
    up, down = list(params), list(params)
    up[i] += h
    down[i] -= h
    return (loss(up) - loss(down)) / (2 * h)


def differences(
    loss: Loss, params: Sequence[float], i: int, h: float, base: float
) -> tuple[float, float]:
    """The forward and central differences of df/dp_i, given base = f(p).

    The same numbers as forward_difference and central_difference, from two
    evaluations of f instead of four.
    """
    up, down = list(params), list(params)
    up[i] += h
    down[i] -= h
    above = loss(up)
    return (above - base) / h, (above - loss(down)) / (2 * h)


def check_request(
    spec: Spec, step: float, tolerance: float = DEFAULT_TOLERANCE
) -> None:
    """Raise UsageError if checking `spec` at `step` is meaningless."""
    if not step > 0:
        raise UsageError(f"--step {step:g}: the step must be positive")
    # An infinite step moves a parameter to infinity, which the loss refuses.
    if not math.isfinite(step):
        raise UsageError(f"--step {step:g}: the step must be a finite number")
    # Otherwise every comparison fails and the report would blame the gradients.
    if not tolerance >= 0:
        raise UsageError(
            f"--tolerance {tolerance:g}: the tolerance must be a number >= 0"
        )


def check_gradients(
    spec: Spec,
    point: Point,
    step: float = DEFAULT_STEP,
    tolerance: float = DEFAULT_TOLERANCE,
    against_torch: bool = False,
    *,
    module: ModuleType,
    progress: Callable[[int, int], None] | None = None,
) -> CheckReport:
    """Compare the generated `module`'s gradients with finite differences (and torch).

    `nnsym.targets.python.check_gradients` generates the module first.
    """
    check_request(spec, step, tolerance)
    torch_grads = None
    if against_torch:
        torch_grads = torch_loss_and_grad(spec, point)[1]
    value, symbolic = module.loss_and_grad(list(point.params), point.x, point.y)
    # An overflow is the point's doing, not a wrong gradient: say so, not MISMATCH.
    if not all(math.isfinite(v) for v in (value, *symbolic)):
        raise UsageError(
            f"--at: the loss or its gradient is not a finite number at this point "
            f"(loss {value:g}); choose smaller inputs, targets or parameters"
        )

    def loss(params: Sequence[float]) -> float:
        return module.loss(list(params), point.x, point.y)

    params = point.params
    base = loss(params)

    indices = sampled_indices(spec)
    in_table = table_indices(spec, indices)
    # Losses to evaluate: two a parameter at --step, two a table parameter at
    # each other step; reported to `progress` as they are done.
    total = 2 * len(indices) + 2 * len(in_table) * sum(h != step for h in STEP_TABLE)
    done = 0

    def all_differences(h: float, which: list[int]) -> list[tuple[float, float]]:
        nonlocal done
        pairs = []
        for i in which:
            pairs.append(differences(loss, params, i, h, base))
            done += 2
            if progress is not None:
                progress(done, total)
        return pairs

    at_step = all_differences(step, indices)
    if not all(math.isfinite(v) for pair in at_step for v in pair):
        raise UsageError(
            f"--at: the finite differences with step {step:g} are not finite "
            "numbers at this point; choose a smaller --step, or smaller inputs, "
            "targets or parameters"
        )
    floor = rounding_floor(base)
    checks = tuple(
        ParamCheck(
            module.PARAM_NAMES[i],
            symbolic[i],
            *estimate,
            None if torch_grads is None else torch_grads[i],
            max(abs(symbolic[i]), abs(estimate[1])) > floor,
        )
        for i, estimate in zip(indices, at_step)
    )
    seen = {layer_of(spec, i) for i, p in zip(indices, checks) if p.checked}
    unchecked = tuple(
        layer for layer in range(1, spec.n_layers + 1) if layer not in seen
    )
    at_step_of = dict(zip(indices, at_step))
    table_symbolic = [symbolic[i] for i in in_table]
    rows = []
    for h in STEP_TABLE:
        if h == step:
            estimates = [at_step_of[i] for i in in_table]
        else:
            estimates = all_differences(h, in_table)
        forward_errors = [abs(f - g) for (f, _), g in zip(estimates, table_symbolic)]
        central_errors = [abs(c - g) for (_, c), g in zip(estimates, table_symbolic)]
        rows.append(StepRow(h, max(forward_errors), max(central_errors)))
    table = tuple(rows)
    return CheckReport(
        spec,
        point,
        value,
        step,
        checks,
        table,
        tolerance,
        len(symbolic),
        unchecked,
        len(in_table),
    )


def import_torch() -> ModuleType:
    """Import PyTorch, or raise NnsymError saying how to install it."""
    try:
        with warnings.catch_warnings():
            # A CPU build without NumPy warns on import; nnsym does not need NumPy.
            warnings.simplefilter("ignore")
            import torch
    except ImportError:
        raise NnsymError(
            f"--against torch needs PyTorch, which is not installed: "
            f"{TORCH_INSTALL_HINT}"
        ) from None
    return torch


def torch_activation(name: str) -> Callable[[Any], Any]:
    """A layer's activation on a vector of PyTorch tensors, from the table.

    A table entry uses its `torch` text (PyTorch's own function); a user-defined
    activation is its definition, lambdified with PyTorch's functions and
    applied neuron by neuron, so that autograd differentiates it independently.
    """
    # SymPy only here: `nnsym check` without --against torch must start light.
    import sympy

    from nnsym.pipeline.functions import (
        X,
        definition_of,
        entry_of,
        expand_primitives,
        function_of,
    )

    torch = import_torch()
    if name == "softmax":
        return lambda z: torch.softmax(z, dim=0)
    entry = entry_of(function_of(name))
    if entry is not None and entry.torch:
        namespace = {"__builtins__": {}, "torch": torch, "F": torch.nn.functional}
        return eval(f"lambda z: {entry.torch}", namespace)  # noqa: S307 - table text
    elementwise = sympy.lambdify(
        X, expand_primitives(definition_of(entry, X)), [_torch_math(torch), "math"]
    )
    return lambda z: torch.stack([elementwise(zk) for zk in z])


def _torch_math(torch: Any) -> dict[str, object]:
    # The functions the safe parser and the table use, as PyTorch functions.
    names = ("exp", "log", "sqrt", "sin", "cos", "tan", "asin", "acos", "atan")
    namespace: dict[str, object] = {name: getattr(torch, name) for name in names}
    namespace.update(
        {
            "sinh": torch.sinh,
            "cosh": torch.cosh,
            "tanh": torch.tanh,
            "log1p": torch.log1p,
            "expm1": torch.expm1,
            "Abs": torch.abs,
            "abs": torch.abs,
        }
    )
    return namespace


def torch_loss_and_grad(spec: Spec, point: Point) -> tuple[float, list[float]]:
    """Loss and gradient by PyTorch autograd, in float64, as the second tutorial."""
    torch = import_torch()
    functional = torch.nn.functional
    params = torch.tensor(point.params, dtype=torch.float64, requires_grad=True)
    a = torch.tensor(point.x, dtype=torch.float64)
    y = torch.tensor(point.y, dtype=torch.float64)
    activations = {name: torch_activation(name) for name in set(spec.activations)}
    offset = 0
    z = a
    for (n_in, n_out), activation in zip(
        zip(spec.arch, spec.arch[1:]), spec.activations
    ):
        # Each neuron's weights then its bias: one row of n_in + 1 parameters.
        block = params[offset : offset + (n_in + 1) * n_out].view(n_out, n_in + 1)
        offset += (n_in + 1) * n_out
        z = block[:, :n_in] @ a + block[:, n_in]
        a = activations[activation](z)
    if spec.loss == "sse":
        loss = ((a - y) ** 2).sum()
    elif spec.loss == "mse":
        loss = ((a - y) ** 2).sum() / len(point.y)
    elif spec.loss == "bce":
        loss = functional.binary_cross_entropy_with_logits(z, y, reduction="sum")
    else:
        loss = -(y * functional.log_softmax(z, dim=0)).sum()
    loss.backward()
    return float(loss.item()), [float(g) for g in params.grad.tolist()]


def format_report(report: CheckReport) -> str:
    """The per-parameter errors, then the error-against-step table."""
    spec = report.spec
    with_torch = any(p.torch is not None for p in report.params)
    lines = [
        spec.title,
        f"At {report.point.describe()}: loss = {report.loss:.12g}",
        "",
        f"Symbolic gradient against finite differences with step h = {report.step:g}:",
    ]
    if report.n_params > len(report.params):
        lines.append(
            f"(a seeded sample of {len(report.params)} of the {report.n_params} "
            "parameters, every layer's first weight and last bias among them)",
        )
    header = (
        f"  {'parameter':<10} {'symbolic':>14} {'forward':>14} {'error':>9}"
        f" {'central':>14} {'error':>9}"
    )
    if with_torch:
        header += f" {'torch':>14} {'error':>9}"
    lines.append(header)
    for p in report.params:
        # + 0.0 turns -0.0 (e.g. delta * 0 for a zero input) into 0.0.
        row = (
            f"  {p.name:<10} {p.symbolic + 0.0:>14.9f} {p.forward + 0.0:>14.9f}"
            f" {p.forward_error:>9.1e} {p.central + 0.0:>14.9f}"
            f" {p.central_error:>9.1e}"
        )
        if p.torch is not None:
            row += f" {p.torch + 0.0:>14.9f} {p.torch_error:>9.1e}"
        if not p.checked:
            row += "  zero to rounding: not checked"
        lines.append(row)
    best_forward = min(report.table, key=lambda r: r.forward_error).step
    best_central = min(report.table, key=lambda r: r.central_error).step
    lines += [
        "",
        (
            "Largest error over all parameters, by step size:"
            if report.n_table >= len(report.params)
            else f"Largest error over {report.n_table} of them (each layer's first "
            "weight and last bias), by step size:"
        ),
        f"  {'h':>7} {'forward':>9} {'central':>9}",
    ]
    for row in report.table:
        marks = []
        if row.step == best_forward:
            marks.append("best forward")
        if row.step == best_central:
            marks.append("best central")
        mark = "  <- " + ", ".join(marks) if marks else ""
        lines.append(
            f"  {row.step:>7.0e} {row.forward_error:>9.1e}"
            f" {row.central_error:>9.1e}{mark}"
        )
    lines += [
        "",
        "A big step measures the slope of a chord, not of the tangent: the error",
        "falls like h (forward) or h**2 (central). A tiny step subtracts two",
        "nearly equal losses, each rounded to about 1e-16 of its size, and dividing",
        "by h magnifies that rounding: the error grows again like 1e-16 / h.",
        "",
    ]
    if report.n_unchecked:
        lines.append(
            f"{report.n_unchecked} of the {len(report.params)} gradients are zero "
            "to rounding at this point (marked above): not counted as checked."
        )
    if report.unchecked_layers:
        layers = ", ".join(str(layer) for layer in report.unchecked_layers)
        lines.append(
            f"NOT CHECKED: every gradient checked in layer(s) {layers} is zero to "
            "rounding at this point; choose another point with --at (e.g. "
            "smaller parameters or inputs, or another seed)"
        )
        return "\n".join(lines) + "\n"
    # "agree to" when they do, "differ by up to" when they do not.
    agree = "agree to" if report.agrees else "differ by up to"
    verdict = (
        f"{'OK' if report.agrees else 'MISMATCH'}: central differences {agree} "
        f"{report.worst_central_error:.1e} (tolerance {report.tolerance:g}, "
        "relative to max(1, |gradient|))"
    )
    if report.worst_torch_error is not None:
        verb = "agrees to" if report.agrees else "differs by up to"
        verdict += f"; PyTorch autograd {verb} {report.worst_torch_error:.1e}"
    lines.append(verdict)
    return "\n".join(lines) + "\n"
