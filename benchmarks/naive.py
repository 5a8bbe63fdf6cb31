"""The naive method: `sympy.diff` of the fully inlined loss, then `sympy.cse`.

Run as a whole process, as `nnsym generate` is timed:

    python -m benchmarks.naive 2-8-8-1

prints JSON with the time taken and the gradient at a fixed point, which the
benchmark compares with nnsym's generated `loss_and_grad`.
"""

from __future__ import annotations

import json
import random
import sys
import time

import sympy

from nnsym.pipeline.functions import sigmoid
from nnsym.pipeline.model import build_network
from nnsym.pipeline.spec import make_spec


def inlined_loss(network) -> sympy.Expr:
    """The per-sample loss written in inputs, targets and parameters only."""
    loss = network.loss_on_z
    for layer in reversed(network.layers):
        definitions = dict(zip(layer.z, layer.z_exprs))
        loss = loss.xreplace(definitions)
        loss = loss.xreplace(dict(zip(layer.a, layer.a_exprs)))
        # a{l} in the z of the layer above were replaced first; z{l} now remain.
        loss = loss.xreplace(definitions)
    return loss


def plain_sympy(expr: sympy.Expr) -> sympy.Expr:
    """`expr` with nnsym's sigmoid written as SymPy writes it, 1 / (1 + exp(-z))."""
    return expr.replace(sigmoid, lambda z: 1 / (1 + sympy.exp(-z)))


def naive_gradients(network, plain: bool = False):
    """(cse temporaries, reduced [loss, *gradients]) by differentiating the whole loss.

    With `plain`, sigmoid is SymPy's 1 / (1 + exp(-z)), as one writes it without
    nnsym; otherwise nnsym's sigmoid, whose derivative is s * (1 - s).
    """
    loss = inlined_loss(network)
    if plain:
        loss = plain_sympy(loss)
    grads = [sympy.diff(loss, p) for p in network.params]
    return sympy.cse([loss, *grads], order="canonical")


def fixed_point(network, seed: int = 1):
    """Values for every input, target and parameter symbol (same seed, same values)."""
    rng = random.Random(seed)
    symbols = [*network.inputs, *network.targets, *network.params]
    return {s: rng.uniform(-1.0, 1.0) for s in symbols}


def evaluate(network, temps, reduced, values):
    """Evaluate the cse result numerically at `values` (symbol -> float)."""
    env = {s.name: v for s, v in values.items()}
    namespace = {"sigmoid": lambda z: 1.0 / (1.0 + __import__("math").exp(-z))}
    modules = [namespace, "math"]
    symbols = [sympy.Symbol(name, real=True) for name in env]
    for temp, expr in temps:
        env[temp.name] = sympy.lambdify(symbols, expr, modules)(*env.values())
        symbols.append(temp)
    return [float(sympy.lambdify(symbols, e, modules)(*env.values())) for e in reduced]


def main(argv: list[str]) -> int:
    """Time the naive method on one architecture; print JSON."""
    started = time.perf_counter()
    network = build_network(make_spec(argv[0]))
    temps, reduced = naive_gradients(network, plain="--plain" in argv)
    seconds = time.perf_counter() - started
    values = fixed_point(network)
    numbers = evaluate(network, temps, reduced, values) if "--check" in argv else []
    print(
        json.dumps(
            {
                "arch": argv[0],
                "plain": "--plain" in argv,
                "seconds_in_process": seconds,
                "n_temporaries": len(temps),
                "loss": numbers[:1],
                "grad": numbers[1:],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
