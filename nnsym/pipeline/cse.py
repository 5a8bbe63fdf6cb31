"""Stage 4: one straight-line program per sample, with common subexpressions shared.

The forward pass, the loss and the backward pass go through `sympy.cse` together,
so that a value such as `a2_0 - y0`, needed by both the loss and its derivative,
is computed once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sympy
from sympy import Expr, Symbol

from nnsym.pipeline.gradients import Gradients
from nnsym.pipeline.model import LOSS_SYMBOL, Network

TEMP_PREFIX = "tmp"


@dataclass(frozen=True)
class Assignment:
    """`target = expr`, one line of the generated code."""

    target: Symbol
    expr: Expr


@dataclass(frozen=True)
class Program:
    """Straight-line code for one sample: forward pass, loss, then gradients."""

    network: Network
    steps: tuple[Assignment, ...]
    # (parameter, dL/dparameter) over the steps' targets, in PARAM_NAMES order.
    grads: tuple[tuple[Symbol, Expr], ...]

    def steps_for(self, wanted: Iterable[Expr]) -> tuple[Assignment, ...]:
        """The steps needed to evaluate `wanted`, in program order."""
        by_target = {step.target: step for step in self.steps}
        needed: set[Symbol] = set()
        stack = [s for expr in wanted for s in expr.free_symbols]
        while stack:
            symbol = stack.pop()
            if symbol in needed or symbol not in by_target:
                continue
            needed.add(symbol)
            stack.extend(by_target[symbol].expr.free_symbols)
        return tuple(step for step in self.steps if step.target in needed)


def _named_steps(gradients: Gradients) -> list[Assignment]:
    network = gradients.network
    steps = []
    for layer in network.layers:
        steps += [Assignment(z, e) for z, e in zip(layer.z, layer.z_exprs)]
        steps += [Assignment(a, e) for a, e in layer.activation_steps]
    steps.append(Assignment(LOSS_SYMBOL, network.loss_to_evaluate))
    steps += [Assignment(delta, e) for delta, e in gradients.deltas]
    return steps


def eliminate_common_subexpressions(gradients: Gradients) -> Program:
    """Run `sympy.cse` over the whole per-sample computation and order the result."""
    named = _named_steps(gradients)
    # A weight's gradient is input * delta: nothing in it to share but itself,
    # so it stays out of cse (which costs a third more with the thousands of
    # them a large network has) and is matched against cse's temporaries after.
    shared = [g for _, g in gradients.grads if not _is_product_of_two(g)]
    temps, reduced = sympy.cse(
        [step.expr for step in named] + shared,
        symbols=sympy.numbered_symbols(TEMP_PREFIX, real=True),
        order="canonical",
    )
    temp_exprs = dict(temps)
    temp_for = {expr: temp for temp, expr in temps}
    reduced_shared = iter(reduced[len(named) :])
    reduced_grads = [
        temp_for.get(g, g) if _is_product_of_two(g) else next(reduced_shared)
        for _, g in gradients.grads
    ]
    emitted: set[Symbol] = set()
    steps: list[Assignment] = []

    def emit_temps(expr: Expr) -> None:
        # A temporary goes right before its first use, after the temporaries it
        # uses; sorting by name keeps the order the same on every run.
        for symbol in sorted(expr.free_symbols, key=lambda s: _temp_index(s)):
            if symbol in temp_exprs and symbol not in emitted:
                emit_temps(temp_exprs[symbol])
                emitted.add(symbol)
                steps.append(Assignment(symbol, temp_exprs[symbol]))

    for step, expr in zip(named, reduced):
        emit_temps(expr)
        steps.append(Assignment(step.target, expr))
    grads = []
    for (param, _), expr in zip(gradients.grads, reduced_grads):
        emit_temps(expr)
        grads.append((param, expr))
    return Program(gradients.network, tuple(steps), tuple(grads))


def _is_product_of_two(expr: Expr) -> bool:
    return expr.is_Mul and len(expr.args) == 2 and all(a.is_Symbol for a in expr.args)


def _temp_index(symbol: Symbol) -> tuple[int, str]:
    name = symbol.name
    suffix = name[len(TEMP_PREFIX) :]
    if name.startswith(TEMP_PREFIX) and suffix.isdigit():
        return (int(suffix), name)
    return (-1, name)
