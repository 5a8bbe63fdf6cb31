"""The per-sample Jacobian of the output layer in the parameters, by the chain rule.

Row k is the gradient of the output layer's pre-activation z_k: backpropagation
as in `gradients.backpropagate`, from dz_k/dz = the unit vector e_k at the
output layer instead of dL/dz, through the same local derivatives
(`gradients.local_derivatives`). Each hidden layer gets one named symbol per
neuron and output, dout{k}_dz{l}_{i} = dz_k/dz{l}_{i}, so that the code grows
as outputs x parameters, not as width ** depth. The Jacobian of the outputs a
follows by the output activation's derivative (printed from `slopes`), or for
a softmax by `_softmax_rows` in the runtime.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy
from sympy import Expr, Symbol

from nnsym.pipeline.gradients import local_activation_derivative, local_derivatives
from nnsym.pipeline.model import Network


@dataclass(frozen=True)
class Jacobian:
    """dz_k/dparams of every output k, over the forward pass's symbols."""

    # (symbol, expression) of the hidden layers' dz_k/dz, in evaluation order.
    steps: tuple[tuple[Symbol, Expr], ...]
    # One row per output, in PARAM_NAMES order.
    rows: tuple[tuple[Expr, ...], ...]
    # da_k/dz_k of an elementwise output activation; None for a softmax.
    slopes: tuple[Expr, ...] | None


def output_jacobian(network: Network) -> Jacobian:
    """Differentiate each output's pre-activation in every parameter."""
    layers = network.layers
    local = {layer.index: local_derivatives(layer) for layer in layers}
    out = layers[-1]
    steps: list[tuple[Symbol, Expr]] = []
    rows = []
    for k in range(len(out.z)):
        delta: dict[int, list[Expr]] = {
            out.index: [sympy.Integer(int(j == k)) for j in range(len(out.z))]
        }
        for layer, above in zip(reversed(layers[:-1]), reversed(layers[1:])):
            up = local[above.index]
            own = local[layer.index]
            named = []
            for i, a in enumerate(layer.a):
                upstream = sympy.Add(
                    *(
                        up.rename(
                            up.dterm_dsource, weight=above.weights[m][i], source=a
                        )
                        * delta[above.index][m]
                        for m in range(len(above.z))
                    )
                )
                if own.da_dz is None:
                    da_dz = local_activation_derivative(layer, i)
                else:
                    da_dz = own.rename(own.da_dz, z=layer.z[i], a=a)
                symbol = Symbol(f"dout{k}_dz{layer.index}_{i}", real=True)
                steps.append((symbol, upstream * da_dz))
                named.append(symbol)
            delta[layer.index] = named
        row: list[Expr] = []
        for layer in layers:
            own = local[layer.index]
            for j, bias in enumerate(layer.biases):
                d = delta[layer.index][j]
                for i, weight in enumerate(layer.weights[j]):
                    dz_dw = own.rename(
                        own.dterm_dweight, weight=weight, source=layer.inputs[i]
                    )
                    row.append(dz_dw * d)
                row.append(own.rename(own.dz_dbias, bias=bias) * d)
        rows.append(tuple(row))
    own = local[out.index]
    slopes = None
    if own.da_dz is not None:
        slopes = tuple(own.rename(own.da_dz, z=z, a=a) for z, a in zip(out.z, out.a))
    return Jacobian(tuple(steps), tuple(rows), slopes)
