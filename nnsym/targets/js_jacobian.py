"""The JavaScript trainer's _jacobianAt: d outputs / d params of one sample.

What lm (`nnsym/runtime/js/second_order.js`) linearizes the network with, and
the exported `jacobian(params, x)`. The unrolled form prints the Python
module's derivation (`nnsym.pipeline.jacobian`: a backward pass from the unit
vector e_k at the output layer, one named symbol per hidden neuron and
output) after the forward pass's own statements; the loop form runs
`_forwardAt` and then, for each output k, the training loops' backward pass
(`Bodies.hidden_deltas`, `Bodies.gradients`) from d = e_k, as the Python loop
module's jacobian does. Both return [outputs, rows of dz_k/dparams, the output
activation's slopes da_k/dz_k, or null for a softmax].
"""

from __future__ import annotations

from sympy import Expr
from sympy.printing.codeprinter import CodePrinter

from nnsym.pipeline.jacobian import output_jacobian
from nnsym.pipeline.loops import LoopProgram, output_slope
from nnsym.pipeline.model import Network
from nnsym.pipeline.sections import forward_steps
from nnsym.targets.loops import Bodies, Syntax


def unrolled_jacobian_lines(network: Network, printer: CodePrinter) -> tuple[str, ...]:
    """The body of the unrolled form's _jacobianAt(params, x, xo)."""
    jacobian = output_jacobian(network)

    def show(expr: Expr) -> str:
        return printer.doprint(printer.fold_constants(expr))  # type: ignore[attr-defined]

    steps = [(step.target, step.expr) for step in forward_steps(network)]
    steps += list(jacobian.steps)
    used: set = set()
    for _, expr in steps:
        used |= expr.free_symbols
    for row in jacobian.rows:
        for expr in row:
            used |= expr.free_symbols
    reads = [
        f"const {p.name} = params[{i}];"
        for i, p in enumerate(network.params)
        if p in used
    ]
    reads += [
        f"const {s.name} = x[xo + {i}];"
        for i, s in enumerate(network.inputs)
        if s in used
    ]
    lines = reads + [f"const {symbol.name} = {show(expr)};" for symbol, expr in steps]
    lines.append("const rows = [")
    lines += ["  [" + ", ".join(show(e) for e in row) + "]," for row in jacobian.rows]
    lines.append("];")
    if jacobian.slopes is None:
        lines.append("const slopes = null;")
    else:
        lines.append(
            "const slopes = [" + ", ".join(show(e) for e in jacobian.slopes) + "];"
        )
    outputs = ", ".join(s.name for s in network.outputs)
    lines.append(f"return [[{outputs}], rows, slopes];")
    return tuple(lines)


def loop_jacobian_lines(
    program: LoopProgram, printer: CodePrinter, syntax: Syntax
) -> tuple[str, ...]:
    """The loop form's _jacobianAt body after its buffers, four-space indented steps.

    Reads the forward pass's z and a from the buffers _forwardAt fills, so the
    buffers' local names must be bound before these lines.
    """
    bodies = Bodies(program, printer, syntax)
    s = syntax
    n = program.layers[-1].index
    lines = [
        "const out = new Array(N_OUTPUTS);",
        "_forwardAt(params, x, xo, out);",
        "const rows = [];",
        s.loop("k", "N_OUTPUTS"),
        f"    {bodies.d(n)}.fill(0);",
        f"    {bodies.d(n)}[k] = 1;",
    ]
    for layer in reversed(program.layers[:-1]):
        assert layer.delta_expr is not None
        lines += [
            "    " + b for b in bodies.hidden_deltas(layer.index, layer.delta_expr)
        ]
    lines.append("    const grad = new Array(N_PARAMS);")
    lines += ["    " + b for b in bodies.gradients("=", program.layers)]
    lines += ["    rows.push(grad);", "}"]
    slope = output_slope(program.spec)
    if slope is None:
        lines.append("const slopes = null;")
    elif slope.is_number:
        lines.append(f"const slopes = new Array(N_OUTPUTS).fill({float(slope)!r});")
    else:
        lines += ["const slopes = new Array(N_OUTPUTS);", s.loop("j", s.size(n))]
        lines += ["    " + b for b in bodies.bind(slope, n, "j")]
        lines += [f"    slopes[j] = {bodies.show(slope)};", "}"]
    lines.append("return [out, rows, slopes];")
    return tuple(lines)
