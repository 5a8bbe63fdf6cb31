"""Stage 3: symbolic backpropagation, layer by layer, with the chain rule.

Each step differentiates one small local expression with `sympy.diff` and chains
it through named intermediate symbols (z, a, delta), so the work and the size of
the result grow linearly with the number of parameters. Differentiating the
fully inlined loss instead would grow as width ** depth.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy
from sympy import Expr, Symbol

from nnsym.pipeline.model import Layer, Network


@dataclass(frozen=True)
class Gradients:
    """dL/dz of every neuron (the deltas) and dL/dparameter of every parameter."""

    network: Network
    # Backward order: output layer first, as backpropagation computes them.
    deltas: tuple[tuple[Symbol, Expr], ...]
    # (parameter, dL/dparameter) in PARAM_NAMES order.
    grads: tuple[tuple[Symbol, Expr], ...]


def delta_symbol(layer: Layer, neuron: int) -> Symbol:
    """The symbol delta{l}_{j} = dL/dz{l}_{j}."""
    return Symbol(f"delta{layer.index}_{neuron}", real=True)


def local_activation_derivative(layer: Layer, neuron: int) -> Expr:
    """da/dz of one neuron, written in terms of its own activation where possible."""
    z = layer.z[neuron]
    a_expr = layer.a_exprs[neuron]
    return sympy.diff(a_expr, z).xreplace({a_expr: layer.a[neuron]})


@dataclass(frozen=True)
class LocalDerivatives:
    """One layer's local derivatives, each taken once on placeholder symbols.

    Every neuron of a layer has the same local expressions up to renaming
    (z = sum of w * a_prev, plus b; a = f(z)), so each derivative is taken by
    `sympy.diff` once per layer and renamed per neuron with `xreplace`, which
    is far cheaper than differentiating every copy.
    """

    weight: Symbol
    source: Symbol
    bias: Symbol
    z: Symbol
    a: Symbol
    dterm_dsource: Expr  # d(w * a_prev)/da_prev
    dterm_dweight: Expr  # d(w * a_prev)/dw
    dz_dbias: Expr
    da_dz: Expr | None  # None for a layer whose activation mixes neurons

    def rename(self, expr: Expr, **symbols: Symbol) -> Expr:
        """`expr` with the placeholders replaced by a neuron's own symbols."""
        return expr.xreplace({getattr(self, k): v for k, v in symbols.items()})


def local_derivatives(layer: Layer) -> LocalDerivatives:
    """Differentiate `layer`'s local expressions once, on placeholders."""
    weight, source, bias, z, a = (
        sympy.Dummy(name, real=True) for name in ("w", "s", "b", "z", "a")
    )
    term = weight * source
    # The activation of neuron 0, renamed; elementwise, so the same for every neuron.
    a_expr = layer.a_exprs[0].xreplace({layer.z[0]: z})
    elementwise = a_expr.free_symbols <= {z}
    return LocalDerivatives(
        weight,
        source,
        bias,
        z,
        a,
        dterm_dsource=sympy.diff(term, source),
        dterm_dweight=sympy.diff(term, weight),
        dz_dbias=sympy.diff(term + bias, bias),
        da_dz=sympy.diff(a_expr, z).xreplace({a_expr: a}) if elementwise else None,
    )


def _activation_map(layer: Layer) -> dict[Expr, Symbol]:
    # Replace f(z) by the symbol a that already holds its value.
    return dict(zip(layer.a_exprs, layer.a))


def _softmax_delta(network: Network, i: int) -> Expr:
    """dL/dz_i through a softmax output layer, without cancellation.

    With g = dL/da, dL/dz_i = a_i (g_i - sum_k g_k a_k); as the a_k sum to 1
    that is sum over k != i of a_i a_k (g_i - g_k), whose terms do not cancel
    as the outputs saturate (1 - a_i is never formed).
    """
    a = network.layers[-1].a
    g = [sympy.diff(network.loss, ak) for ak in a]
    return a[i] * sympy.Add(*(a[k] * (g[i] - g[k]) for k in range(len(a)) if k != i))


def _without_cancellation(delta: Expr, a: tuple[Symbol, ...], i: int) -> Expr:
    """A softmax delta linear in the outputs `a`, with 1 written as sum_k a_k.

    dL/dz_i of the cross-entropy is sum_k y_k a_i - y_i: with the constant
    term times sum_k a_k (which is 1), the a_i y_i terms cancel symbolically,
    leaving a_i sum_{k != i} y_k - y_i sum_{k != i} a_k, which never forms
    1 - a_i (all its digits lost as a_i nears 1).
    """
    terms = sympy.Add.make_args(sympy.expand(delta))
    outputs = set(a)
    if any(sympy.Poly(t, *a).total_degree() > 1 for t in terms):
        return delta
    total = sympy.Add(*a)
    rewritten = sympy.expand(
        sympy.Add(*(t if t.free_symbols & outputs else t * total for t in terms))
    )
    # a_i (...) plus the rest, the rest grouped by what multiplies the other a_k.
    own, rest = rewritten.as_independent(a[i], as_Add=True)[::-1]
    others = [ak for k, ak in enumerate(a) if k != i]
    grouped = sympy.factor_terms(sympy.collect(rest, others, evaluate=True))
    return sympy.collect(own, a[i]) + grouped


def backpropagate(network: Network) -> Gradients:
    """Compute every delta and parameter gradient of `network` symbolically."""
    layers = network.layers
    local = {layer.index: local_derivatives(layer) for layer in layers}
    out = layers[-1]
    deltas: dict[Symbol, Expr] = {}
    order: list[Symbol] = []
    out_map = _activation_map(out)
    for j, z in enumerate(out.z):
        symbol = delta_symbol(out, j)
        if out.activation == "softmax" and network.spec.loss != "ce":
            deltas[symbol] = _softmax_delta(network, j)
        else:
            deltas[symbol] = sympy.diff(network.loss_on_z, z).xreplace(out_map)
            if out.activation == "softmax":
                deltas[symbol] = _without_cancellation(deltas[symbol], out.a, j)
        order.append(symbol)
    for layer, above in zip(reversed(layers[:-1]), reversed(layers[1:])):
        up = local[above.index]
        own = local[layer.index]
        for i, a in enumerate(layer.a):
            # dL/da = sum over the neurons a feeds of dz_above/da * delta_above;
            # only the summand w * a of each z_above depends on a.
            dloss_da = sympy.Add(
                *(
                    up.rename(up.dterm_dsource, weight=above.weights[k][i], source=a)
                    * delta_symbol(above, k)
                    for k in range(len(above.z))
                )
            )
            if own.da_dz is None:
                da_dz = local_activation_derivative(layer, i)
            else:
                da_dz = own.rename(own.da_dz, z=layer.z[i], a=a)
            symbol = delta_symbol(layer, i)
            deltas[symbol] = dloss_da * da_dz
            order.append(symbol)
    grads = []
    for layer in layers:
        own = local[layer.index]
        for j, bias in enumerate(layer.biases):
            delta = delta_symbol(layer, j)
            for i, weight in enumerate(layer.weights[j]):
                dz_dw = own.rename(
                    own.dterm_dweight, weight=weight, source=layer.inputs[i]
                )
                grads.append((weight, dz_dw * delta))
            grads.append((bias, own.rename(own.dz_dbias, bias=bias) * delta))
    return Gradients(network, tuple((s, deltas[s]) for s in order), tuple(grads))
