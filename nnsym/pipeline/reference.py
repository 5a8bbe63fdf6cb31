"""Reference values at 30 digits for the selftest embedded in generated files.

The chain-rule expressions (`Gradients`, before common subexpressions, printing
or floating point) are evaluated with mpmath at `DIGITS` significant digits, so
a generated file can compare its own float arithmetic against them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import mpmath
import sympy
from sympy import Expr, Symbol

from nnsym.pipeline.functions import definition_of, function_of
from nnsym.pipeline.gradients import Gradients
from nnsym.pipeline.model import LOSS_SYMBOL, Network
from nnsym.pipeline.spec import Spec
from nnsym.primitives import PRIMITIVES
from nnsym.runtime.init import _initial_params, _sample_point

DIGITS = 30
# Seeds of init_params() at which the selftest checks the gradient.
SEEDS = (0, 1, 2)
# At most this many gradient entries are checked per point, spread over all the
# layers: enough to catch a wrong line, few enough for a large network.
MAX_CHECKED = 40


def _logsumexp(*values: mpmath.mpf) -> mpmath.mpf:
    return mpmath.log(mpmath.fsum(mpmath.exp(v) for v in values))


# The elementary functions in mpmath; every other function is a primitive,
# evaluated from its definition in the table of primitives.
_FUNCTIONS: dict[str, Callable[..., mpmath.mpf]] = {
    "exp": mpmath.exp,
    "log": mpmath.log,
    "tanh": mpmath.tanh,
    "log1p": mpmath.log1p,
    "expm1": mpmath.expm1,
    "Abs": abs,
    "Max": max,
    "Min": min,
    "logsumexp": _logsumexp,
}
_X = Symbol("x", real=True)


def _definition(name: str) -> Expr:
    if name not in PRIMITIVES:
        # A user-defined activation: the expression registered for its name (not
        # cached: a name may be defined anew in the same process).
        return definition_of(function_of(name).nnsym_entry, _X)
    return _table_definition(name)


@functools.cache
def _table_definition(name: str) -> Expr:
    # rational: decimal constants (gelu's 0.044715) exactly as written.
    definition = PRIMITIVES[name].definition
    return sympy.sympify(definition, locals={"x": _X}, rational=True)


_RELATIONS = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def evaluate(expr: Expr, values: dict[Symbol, mpmath.mpf]) -> mpmath.mpf:
    """`expr` in mpmath at the current precision, its symbols taken from `values`."""
    if expr in values:
        return values[expr]
    if expr.is_Number or expr.is_NumberSymbol:
        return mpmath.mpf(sympy.N(expr, DIGITS + 10))
    if isinstance(expr, sympy.Piecewise):
        for piece, condition in expr.args:
            if condition is sympy.true or _holds(condition, values):
                return evaluate(piece, values)
        raise ValueError(f"no piece of {expr} applies")
    args = [evaluate(arg, values) for arg in expr.args]
    if expr.is_Add:
        return mpmath.fsum(args)
    if expr.is_Mul:
        return mpmath.fprod(args)
    if expr.is_Pow:
        return args[0] ** args[1]
    name = type(expr).__name__
    if name in _FUNCTIONS:
        return _FUNCTIONS[name](*args)
    (arg,) = args
    return evaluate(_definition(name), {_X: arg})


def _holds(condition: Expr, values: dict[Symbol, mpmath.mpf]) -> bool:
    lhs, rhs = (evaluate(side, values) for side in condition.args)
    return bool(_RELATIONS[condition.rel_op](lhs, rhs))


def forward_values(
    network: Network, params: Sequence[float], x: Sequence[float]
) -> dict[Symbol, mpmath.mpf]:
    """Every z and a of `network` at `params` and `x`, from the named expressions."""
    values: dict[Symbol, mpmath.mpf] = dict(zip(network.inputs, map(mpmath.mpf, x)))
    values.update(zip(network.params, map(mpmath.mpf, params)))
    for layer in network.layers:
        for z, expr in zip(layer.z, layer.z_exprs):
            values[z] = evaluate(expr, values)
        for a, expr in zip(layer.a, layer.a_exprs):
            values[a] = evaluate(expr, values)
    return values


def reference_outputs(
    network: Network, params: Sequence[float], x: Sequence[float]
) -> tuple[float, ...]:
    """The network's outputs at 30 digits, rounded to floats."""
    with mpmath.workdps(DIGITS):
        values = forward_values(network, params, x)
        return tuple(float(values[a]) for a in network.outputs)


@dataclass(frozen=True)
class Point:
    """One selftest point: init_params(seed), x, y and the reference numbers."""

    seed: int
    x: tuple[float, ...]
    y: tuple[float, ...]
    loss: float
    grads: tuple[float, ...]  # dL/dparams[i] for i in the checked indices


@dataclass(frozen=True)
class SelftestReference:
    """What a module's selftest checks: which gradient entries, at which points."""

    indices: tuple[int, ...]
    points: tuple[Point, ...]


def checked_indices(count: int) -> tuple[int, ...]:
    """All parameter indices, or MAX_CHECKED of them evenly spread, last included."""
    if count <= MAX_CHECKED:
        return tuple(range(count))
    return tuple(
        sorted({round(k * (count - 1) / (MAX_CHECKED - 1)) for k in range(MAX_CHECKED)})
    )


def sample_point(
    seed: int, n_inputs: int, n_outputs: int
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Inputs in [-1, 1] (four decimals) and a one-hot target valid for every loss."""
    return _sample_point(seed, n_inputs, n_outputs)


def selftest_reference(gradients: Gradients) -> SelftestReference:
    """The loss and the checked gradient entries at 30 digits at every seed."""
    network = gradients.network
    indices = checked_indices(len(network.params))
    points = []
    with mpmath.workdps(DIGITS):
        for seed in SEEDS:
            params = _initial_params(len(network.params), seed)
            x, y = sample_point(seed, len(network.inputs), len(network.targets))
            values = forward_values(network, params, x)
            values.update(zip(network.targets, map(mpmath.mpf, y)))
            values[LOSS_SYMBOL] = evaluate(network.loss, values)
            for delta, expr in gradients.deltas:
                values[delta] = evaluate(expr, values)
            grads = tuple(
                float(evaluate(gradients.grads[i][1], values)) for i in indices
            )
            points.append(Point(seed, x, y, float(values[LOSS_SYMBOL]), grads))
    return SelftestReference(indices, tuple(points))


def layer_outputs(
    spec: Spec, params: Sequence[float], x: Sequence[float]
) -> tuple[float, ...]:
    """The outputs at 30 digits, layer by layer, rounded to floats.

    For networks of any size: nothing is built per scalar, each activation's
    definition is evaluated once per neuron (softmax as exp over their sum).
    """
    with mpmath.workdps(DIGITS):
        values = [mpmath.mpf(v) for v in x]
        start = 0
        for (n_in, n_out), name in zip(zip(spec.arch, spec.arch[1:]), spec.activations):
            z = []
            for _ in range(n_out):
                row = [mpmath.mpf(p) for p in params[start : start + n_in + 1]]
                start += n_in + 1
                z.append(mpmath.fsum(w * v for w, v in zip(row, values)) + row[-1])
            if name == "softmax":
                total = mpmath.fsum(mpmath.exp(v) for v in z)
                values = [mpmath.exp(v) / total for v in z]
            else:
                definition = _definition(name)
                values = [evaluate(definition, {_X: v}) for v in z]
        return tuple(float(v) for v in values)
