"""The body of the C trainer's NAME_jacobian_parts, in both forms.

One sample's outputs, the rows dz_k/dparams of the output layer's
pre-activations (row k from params offset k * N_PARAMS) and the output
activation's slopes da_k/dz_k, as the Python module's `_jacobian_parts`: the
unrolled form prints `pipeline.jacobian.output_jacobian` after the forward pass
of `pipeline.sections.forward_steps`; the loop form runs one backward pass per
output, from the unit vector e_k, through the loop bodies' hidden deltas and
gradient stores (`targets.loops.Bodies`). NAME_jacobian applies the slopes (or
the softmax's chain rule) with the runtime's output_rows.
"""

from __future__ import annotations

import sympy
from sympy import Expr, Symbol
from sympy.printing.codeprinter import CodePrinter

from nnsym.pipeline.cse import Assignment
from nnsym.pipeline.jacobian import output_jacobian
from nnsym.pipeline.loops import LoopProgram, output_slope
from nnsym.pipeline.model import Network
from nnsym.pipeline.sections import forward_steps
from nnsym.targets.loops import Bodies, Syntax


def _needed(steps: list[Assignment], wanted: list[Expr]) -> list[Assignment]:
    # The steps `wanted` depends on, in their order: unused constants would be
    # warnings (-Wall -Werror) in C.
    by_target = {step.target: step for step in steps}
    needed: set[Symbol] = set()
    stack = [s for expr in wanted for s in expr.free_symbols]
    while stack:
        symbol = stack.pop()
        if symbol in needed or symbol not in by_target:
            continue
        needed.add(symbol)
        stack.extend(by_target[symbol].expr.free_symbols)
    return [step for step in steps if step.target in needed]


def unrolled_jacobian_lines(
    network: Network, printer: CodePrinter, prefix: str
) -> tuple[str, ...]:
    """NAME_jacobian_parts' body for the unrolled form."""
    jacobian = output_jacobian(network)
    n_params = len(network.params)

    def show(expr: Expr) -> str:
        # In SymPy's argument order, as the Python module prints them (bias
        # first in each z): the same additions in the same order, so the same
        # numbers.
        saved = printer._settings["order"]
        printer._settings["order"] = "none"
        try:
            return printer.doprint(printer.fold_constants(sympy.sympify(expr)))
        finally:
            printer._settings["order"] = saved

    stores = []
    for k, row in enumerate(jacobian.rows):
        stores += [(f"rows[{k * n_params + p}]", e) for p, e in enumerate(row)]
    if jacobian.slopes is not None:
        stores += [(f"slopes[{k}]", e) for k, e in enumerate(jacobian.slopes)]
    stores += [(f"outputs[{k}]", a) for k, a in enumerate(network.outputs)]
    steps = list(forward_steps(network)) + [
        Assignment(symbol, expr) for symbol, expr in jacobian.steps
    ]
    used = _needed(steps, [sympy.sympify(e) for _, e in stores])
    symbols: set[Symbol] = set()
    for step in used:
        symbols |= step.expr.free_symbols
    for _, expr in stores:
        symbols |= sympy.sympify(expr).free_symbols
    reads = [
        f"const {prefix}_real {s.name} = {array}[{i}];"
        for array, sources in (("params", network.params), ("x", network.inputs))
        for i, s in enumerate(sources)
        if s in symbols
    ]
    lines = reads + [
        f"const {prefix}_real {step.target.name} = {show(step.expr)};" for step in used
    ]
    lines += [f"{target} = {show(expr)};" for target, expr in stores]
    if jacobian.slopes is None:
        lines.append("(void)slopes; /* a softmax has none: output_rows mixes */")
    return tuple(lines)


def loop_jacobian_lines(
    program: LoopProgram, printer: CodePrinter, syntax: Syntax, prefix: str
) -> tuple[str, ...]:
    """NAME_jacobian_parts' body for the loop form (its arrays: loss_and_grad's)."""
    upper = prefix.upper()
    bodies = Bodies(program, printer, syntax)
    n = program.layers[-1].index
    lines = bodies.forward()
    backward = [
        f"{prefix}_real *const grad = rows + k * {upper}_N_PARAMS;",
        syntax.loop("j", syntax.size(n)),
        f"    d{n}[j] = j == k ? 1 : 0;",
        "}",
    ]
    for layer in reversed(program.layers[:-1]):
        assert layer.delta_expr is not None
        backward += bodies.hidden_deltas(layer.index, layer.delta_expr)
    backward += bodies.gradients("=", program.layers)
    lines += ["/* a backward pass from each output k: dz_k/dparams into row k */"]
    lines += [f"for (size_t k = 0; k < {upper}_N_OUTPUTS; k++) {{"]
    lines += ["    " + line for line in backward] + ["}"]
    lines += [syntax.loop("j", syntax.size(n)), f"    outputs[j] = a{n}[j];", "}"]
    slope = output_slope(program.spec)
    if slope is None:
        lines.append("(void)slopes; /* a softmax has none: output_rows mixes */")
    else:
        lines += [syntax.loop("j", syntax.size(n))]
        lines += ["    " + b for b in bodies.bind(slope, n, "j")]
        lines += [f"    slopes[j] = {bodies.show(slope)};", "}"]
    return tuple(lines)
