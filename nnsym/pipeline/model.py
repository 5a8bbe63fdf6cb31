"""Stage 2: the network and its loss as SymPy symbols and expressions."""

from __future__ import annotations

from dataclasses import dataclass

import sympy
from sympy import Expr, Symbol

from nnsym.pipeline.functions import (
    function_of,
    logsumexp,
    softmax_lp,
    softmax_output,
    softmax_top,
    softplus,
)
from nnsym.pipeline.spec import Spec, bias_name, weight_name

LOSS_SYMBOL = Symbol("L")


@dataclass(frozen=True)
class Layer:
    """One non-input layer: z = W a_prev + b, a = activation(z)."""

    index: int
    activation: str
    inputs: tuple[Symbol, ...]
    weights: tuple[tuple[Symbol, ...], ...]
    biases: tuple[Symbol, ...]
    z: tuple[Symbol, ...]
    a: tuple[Symbol, ...]
    z_exprs: tuple[Expr, ...]
    # a in z: the formula that is shown and differentiated.
    a_exprs: tuple[Expr, ...]
    # (symbol, expression) of a as the generated code computes it, with the
    # named values it shares first, where that differs from a_exprs (softmax).
    evaluated_steps: tuple[tuple[Symbol, Expr], ...] | None = None

    @property
    def activation_steps(self) -> tuple[tuple[Symbol, Expr], ...]:
        """(symbol, expression) of the activations as the generated code has them."""
        if self.evaluated_steps is not None:
            return self.evaluated_steps
        return tuple(zip(self.a, self.a_exprs))

    @property
    def params(self) -> tuple[Symbol, ...]:
        """Each neuron's weights in input order, then its bias."""
        return tuple(
            p
            for neuron_weights, bias in zip(self.weights, self.biases)
            for p in (*neuron_weights, bias)
        )


@dataclass(frozen=True)
class Network:
    """Symbols and expressions of a whole network and its per-sample loss."""

    spec: Spec
    inputs: tuple[Symbol, ...]
    targets: tuple[Symbol, ...]
    layers: tuple[Layer, ...]
    loss_on_z: Expr
    # The loss in the outputs a (and z where it needs them): the formula that is
    # shown, drawn and differentiated.
    loss: Expr
    # The same number in the form the generated code evaluates, where that
    # differs (ce: without rounding lse to the size of z first).
    evaluated_loss: Expr | None = None

    @property
    def loss_to_evaluate(self) -> Expr:
        """The loss as the generated code computes it."""
        return self.loss if self.evaluated_loss is None else self.evaluated_loss

    @property
    def params(self) -> tuple[Symbol, ...]:
        """All parameters, layer by layer (the PARAM_NAMES order)."""
        return tuple(p for layer in self.layers for p in layer.params)

    @property
    def outputs(self) -> tuple[Symbol, ...]:
        """The output layer's activations."""
        return self.layers[-1].a


def activate(name: str, z: tuple[Symbol, ...]) -> tuple[Expr, ...]:
    """Apply an activation to a layer's pre-activations, as SymPy expressions."""
    if name == "softmax":
        lse = logsumexp(*z)
        return tuple(sympy.exp(zk - lse) for zk in z)
    elementwise = function_of(name)
    return tuple(elementwise(zk) for zk in z)


def evaluated_softmax(
    index: int, z: tuple[Symbol, ...], a: tuple[Symbol, ...]
) -> tuple[tuple[Symbol, Expr], ...]:
    """Layer `index`'s softmax as evaluated: top, lp, then a_k = exp((z_k - top) - lp).

    The log-sum-exp is kept apart as top (the largest z) + lp (log1p of the
    other terms), as in the loop form (loops.py), so that no output rounds it.
    """
    top = Symbol(f"top{index}", real=True)
    lp = Symbol(f"lp{index}", real=True)
    return (
        (top, softmax_top(*z)),
        (lp, softmax_lp(top, *z)),
        *((ak, softmax_output(zk, top, lp)) for zk, ak in zip(z, a)),
    )


def loss_expression(
    loss: str,
    z: tuple[Symbol, ...],
    a: tuple[Expr, ...],
    y: tuple[Symbol, ...],
    activation: str = "",
    differentiable: bool = True,
) -> Expr:
    """Per-sample loss of outputs `a` (pre-activations `z`) against targets `y`.

    Every loss is a sum of one term per output, each non-negative and computed
    without cancellation, so the sum is never negative and keeps its relative
    precision even when every output is saturated. With `differentiable`
    False, the form to evaluate rather than to differentiate, where they differ.
    """
    if loss in ("sse", "mse"):
        if activation == "softmax":
            # a - y == a (1 - y) - y (1 - a), with 1 - a_k as the sum of the
            # other outputs: 1 - a_k itself loses every digit as a_k nears 1.
            errors = [
                ak * (1 - yk)
                - yk * sympy.Add(*(aj for j, aj in enumerate(a) if j != k))
                for k, (ak, yk) in enumerate(zip(a, y))
            ]
        else:
            errors = [ak - yk for ak, yk in zip(a, y)]
        sse = sympy.Add(*(error**2 for error in errors))
        return sse if loss == "sse" else sse / len(a)
    if loss == "bce":
        # -[y log s(z) + (1 - y) log(1 - s(z))] as (1 - y) softplus(z) +
        # y softplus(-z): both terms non-negative, no log(0) and no overflow.
        # (softplus(z) - y z is the same number, but cancels for large z.)
        return sympy.Add(
            *((1 - yk) * softplus(zk) + yk * softplus(-zk) for zk, yk in zip(z, y))
        )
    if loss == "ce":
        # -sum_k y_k log softmax(z)_k = sum_k y_k (lse - z_k), to evaluate as
        # y_k softplus(lse_k - z_k), lse_k the log-sum-exp of the other
        # outputs: non-negative, no exp overflows, and a tiny loss stays
        # positive and accurate (softplus(x) is log1p(exp(x)) for x < 0, where
        # lse - z_k rounds lse to the size of z_k first and gives 0).
        if not differentiable:
            return sympy.Add(
                *(
                    yk * softplus(_others_logsumexp(z, k) - zk)
                    for k, (zk, yk) in enumerate(zip(z, y))
                )
            )
        lse = logsumexp(*z)
        return sympy.Add(*(yk * (lse - zk) for zk, yk in zip(z, y)))
    raise ValueError(f"unknown loss {loss!r}")


def _others_logsumexp(z: tuple[Symbol, ...], k: int) -> Expr:
    """The log-sum-exp of every z_j but z_k (z_j itself if there is one)."""
    others = [zj for j, zj in enumerate(z) if j != k]
    return others[0] if len(others) == 1 else logsumexp(*others)


def build_network(spec: Spec, evaluated: bool = True) -> Network:
    """Build the symbols and expressions of `spec`'s network and loss.

    With `evaluated` False, no `evaluated_loss` and no `evaluated_steps`, for
    callers that only differentiate.
    """
    inputs = sympy.symbols(f"x0:{spec.arch[0]}", real=True)
    targets = sympy.symbols(f"y0:{spec.arch[-1]}", real=True)
    previous: tuple[Symbol, ...] = tuple(inputs)
    layers = []
    for index, (n_in, n_out) in enumerate(zip(spec.arch, spec.arch[1:]), start=1):
        weights = tuple(
            tuple(Symbol(weight_name(index, j, i), real=True) for i in range(n_in))
            for j in range(n_out)
        )
        biases = tuple(Symbol(bias_name(index, j), real=True) for j in range(n_out))
        z = tuple(Symbol(f"z{index}_{j}", real=True) for j in range(n_out))
        a = tuple(Symbol(f"a{index}_{j}", real=True) for j in range(n_out))
        z_exprs = tuple(
            sympy.Add(*(w * p for w, p in zip(weights[j], previous)), biases[j])
            for j in range(n_out)
        )
        activation = spec.activations[index - 1]
        softmax = evaluated and activation == "softmax"
        layers.append(
            Layer(
                index,
                activation,
                previous,
                weights,
                biases,
                z,
                a,
                z_exprs,
                activate(activation, z),
                evaluated_softmax(index, z, a) if softmax else None,
            )
        )
        previous = a
    out = layers[-1]
    last = spec.output_activation
    loss_on_z = loss_expression(spec.loss, out.z, out.a_exprs, targets, last)
    loss = loss_expression(spec.loss, out.z, out.a, targets, last)
    evaluated_loss = (
        loss_expression(spec.loss, out.z, out.a, targets, last, differentiable=False)
        if evaluated
        else loss
    )
    return Network(
        spec,
        tuple(inputs),
        tuple(targets),
        tuple(layers),
        loss_on_z,
        loss,
        None if evaluated_loss == loss else evaluated_loss,
    )
