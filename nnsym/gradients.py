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

from nnsym.model import Layer, Network


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


def _activation_map(layer: Layer) -> dict[Expr, Symbol]:
    # Replace f(z) by the symbol a that already holds its value.
    return dict(zip(layer.a_exprs, layer.a))


def backpropagate(network: Network) -> Gradients:
    """Compute every delta and parameter gradient of `network` symbolically."""
    layers = network.layers
    out = layers[-1]
    deltas: dict[Symbol, Expr] = {}
    order: list[Symbol] = []
    out_map = _activation_map(out)
    for j, z in enumerate(out.z):
        symbol = delta_symbol(out, j)
        deltas[symbol] = sympy.diff(network.loss_on_z, z).xreplace(out_map)
        order.append(symbol)
    for layer, above in zip(reversed(layers[:-1]), reversed(layers[1:])):
        for i, a in enumerate(layer.a):
            # dL/da = sum over the neurons a feeds of dz_above/da * delta_above;
            # only the summand w * a of each z_above depends on a.
            dloss_da = sympy.Add(
                *(
                    sympy.diff(above.term(k, i), a) * delta_symbol(above, k)
                    for k in range(len(above.z))
                )
            )
            symbol = delta_symbol(layer, i)
            deltas[symbol] = dloss_da * local_activation_derivative(layer, i)
            order.append(symbol)
    grads = []
    for layer in layers:
        for j, bias in enumerate(layer.biases):
            delta = delta_symbol(layer, j)
            for i, weight in enumerate(layer.weights[j]):
                grads.append((weight, sympy.diff(layer.term(j, i), weight) * delta))
            # dz/db = 1: z = ... + b.
            grads.append((bias, sympy.diff(layer.z_exprs[j], bias) * delta))
    return Gradients(network, tuple((s, deltas[s]) for s in order), tuple(grads))
