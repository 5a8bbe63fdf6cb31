"""The loop form in Python: print a `LoopProgram` into the loop template's context.

Each layer becomes a few list comprehensions over its neurons, whatever its
width; the expressions inside them (activation, its derivative, the output
delta, the loss) are the generic-neuron expressions of `loops.py` printed by
`ModulePrinter`, so the unrolled and the loop form print the same arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy
from sympy import Expr

from nnsym.pipeline.emit import HelperDefinition, emit
from nnsym.pipeline.loops import GAP, LSE, A, G, LoopProgram, Y, Z, output_slope
from nnsym.pipeline.printer import ModulePrinter
from nnsym.pipeline.reference import SEEDS, SelftestReference, checked_indices
from nnsym.pipeline.spec import Spec

LOOPS_TEMPLATE = "module_loops.py.jinja"
# Samples whose activations and deltas train() keeps before folding them into the
# gradient sums: enough that the fold runs at C speed on CPython, few enough that
# a large data set does not hold every sample's activations at once.
FOLD_CHUNK = 256


@dataclass(frozen=True)
class LoopContext:
    """Everything the loop template needs, already printed as Python source."""

    title: str
    formulas: str
    arch: str
    activations: str
    loss: str
    n_params: int
    n_inputs: int
    n_outputs: int
    n_layers: int
    unpack_layers: str
    unpack_columns: str
    unpack_sums: str
    forward_lines: tuple[str, ...]
    loss_lines: tuple[str, ...]
    sample_lines: tuple[str, ...]
    plain_sample_lines: tuple[str, ...]
    # jacobian(): the body of its loop over the outputs, and its slopes line.
    jacobian_lines: tuple[str, ...]
    slopes_line: str
    math_binding: str
    helpers: tuple[str, ...]
    # The table helpers the printed lines call, printed from the table.
    helper_definitions: tuple[HelperDefinition, ...]
    threshold: str
    fold_chunk: int
    # The selftest's checked parameter indices and points, printed. Without
    # reference values a point is its seed only.
    selftest_indices: str
    selftest_points: tuple[str, ...]
    selftest_reference: bool


class _Printer:
    """ModulePrinter plus a record of the math functions and helpers used."""

    def __init__(self) -> None:
        self.printer = ModulePrinter()

    def __call__(self, expr: Expr) -> str:
        return self.printer.doprint(expr)


def _zip_over(expr: Expr, lists: dict[sympy.Symbol, str]) -> str:
    """`for a, y in zip(a2, targets)`: the generic symbols `expr` uses."""
    used = [symbol for symbol in lists if symbol in expr.free_symbols]
    if not used:  # a constant: still one value per neuron
        used = [next(iter(lists))]
    names = ", ".join(symbol.name for symbol in used)
    sources = ", ".join(lists[symbol] for symbol in used)
    if len(used) == 1:
        return f"for {names} in {sources}"
    return f"for {names} in zip({sources})"


def _forward_lines(program: LoopProgram, show: _Printer, plain: bool) -> list[str]:
    # plain: dot products as explicit loops (helpers), which PyPy's JIT compiles
    # to tight machine code; CPython runs sum(map(mul, ...)) at C speed instead.
    lines = []
    for layer in program.layers:
        n, previous = layer.index, f"a{layer.index - 1}"
        # z_j = sum_i w_ji a_i + b_j: map stops at the shorter of row and inputs,
        # so the bias at the row's end is left to the addition.
        affine = (
            f"_affine(row, {previous})"
            if plain
            else (f"sum(map(mul, row, {previous})) + row[-1]")
        )
        lines.append(f"z{n} = [{affine} for row in W{n}]")
        if layer.softmax:
            # log-sum-exp = top + lp, and each neuron's gap = top - z (loops.py).
            lines.append(f"top = max(z{n})")
            lines.append(f"lp = _log1p_rest(z{n}, top)")
            lines.append(f"gap{n} = [top - z for z in z{n}]")
        expr = layer.activation_expr
        if expr == Z:
            lines.append(f"a{n} = z{n}")
        else:
            over = _zip_over(expr, {Z: f"z{n}", GAP: f"gap{n}"})
            lines.append(f"a{n} = [{show(expr)} {over}]")
    return lines


def _loss_lines(program: LoopProgram, show: _Printer) -> list[str]:
    out = program.layers[-1]
    n = out.index
    lists = {A: f"a{n}", Z: f"z{n}", GAP: f"gap{n}", Y: "targets"}
    total = sympy.Symbol("total")
    term = program.loss_term
    summed = f"sum([{show(term)} {_zip_over(term, lists)}])"
    if program.loss_scale == 1:
        lines = [f"sample_loss = {summed}"]
    else:
        lines = [
            f"total = {summed}",
            f"sample_loss = {show(program.loss_scale * total)}",
        ]
    return lines


def _delta_lines(program: LoopProgram, show: _Printer, plain: bool) -> list[str]:
    out = program.layers[-1]
    n = out.index
    lists = {A: f"a{n}", Z: f"z{n}", GAP: f"gap{n}", Y: "targets"}
    lines = []
    for reduction in program.output_reductions:
        lines.append(
            f"{reduction.symbol.name} = sum([{show(reduction.term)} "
            f"{_zip_over(reduction.term, lists)}])"
        )
    delta = program.output_delta
    lines.append(f"d{n} = [{show(delta)} {_zip_over(delta, lists)}]")
    return lines + _hidden_delta_lines(program, show, plain)


def _hidden_delta_lines(program: LoopProgram, show: _Printer, plain: bool) -> list[str]:
    # From the output layer's d{n} down: each hidden layer's delta.
    lines = []
    for layer in reversed(program.layers[:-1]):
        k = layer.index
        # dL/da_i = sum_j w_ji delta_j over the layer above (its columns).
        dot = f"_dot(column, d{k + 1})" if plain else f"sum(map(mul, column, d{k + 1}))"
        lines.append(f"g{k} = [{dot} for column in T{k + 1}]")
        assert layer.delta_expr is not None
        hidden = layer.delta_expr
        local = {G: f"g{k}", A: f"a{k}", Z: f"z{k}"}
        lines.append(f"d{k} = [{show(hidden)} {_zip_over(hidden, local)}]")
    return lines


def _jacobian_lines(program: LoopProgram, show: _Printer) -> list[str]:
    # The body of jacobian's loop over the outputs k: a backward pass from the
    # unit vector e_k at the output layer, then dz_k/dparams in PARAM_NAMES order.
    n = program.layers[-1].index
    lines = [f"d{n} = [0.0] * N_OUTPUTS", f"d{n}[k] = 1.0"]
    lines += _hidden_delta_lines(program, show, plain=False)
    lines.append("row = []")
    for layer in program.layers:
        k = layer.index
        lines += [
            f"for d in d{k}:",
            f"    row += [d * s for s in a{k - 1}]",
            "    row.append(d)",
        ]
    lines.append("rows.append(row)")
    return lines


def _slopes_line(program: LoopProgram, show: _Printer) -> str:
    # The output activation's da/dz per output; None for a softmax.
    slope = output_slope(program.spec)
    if slope is None:
        return "slopes = None"
    n = program.layers[-1].index
    if slope.is_number:
        return f"slopes = [{float(slope)!r}] * N_OUTPUTS"
    return f"slopes = [{show(slope)} {_zip_over(slope, {Z: f'z{n}', A: f'a{n}'})}]"


def _math_binding(names: set[str]) -> str:
    if not names:
        return ""
    ordered = sorted(names)
    return "%s = %s" % (", ".join(ordered), ", ".join(f"math.{n}" for n in ordered))


def _selftest_sources(
    spec: Spec, reference: SelftestReference | None
) -> tuple[str, tuple[str, ...]]:
    # The module draws each point's x and y itself (_sample_point), so that its
    # size does not grow with the number of inputs: with reference values a
    # point is (seed, loss, checked gradients), without them the seed alone.
    if reference is not None:
        indices = reference.indices
        points = tuple(repr((p.seed, p.loss, p.grads)) for p in reference.points)
    else:
        indices = checked_indices(spec.n_params)
        points = tuple(repr(seed) for seed in SEEDS)
    names = [str(i) for i in indices]
    return "(" + ", ".join(names) + ("," if len(names) == 1 else "") + ")", points


def build_loop_context(
    spec: Spec,
    program: LoopProgram,
    formulas: str,
    title: str,
    selftest: SelftestReference | None = None,
) -> LoopContext:
    """Print `program`'s statements and gather what the loop template needs.

    `selftest` holds reference values for the selftest; without them (a large
    network) the selftest checks central differences only.
    """
    show = _Printer()
    forward = _forward_lines(program, show, plain=False)
    loss = _loss_lines(program, show)
    backward = loss + _delta_lines(program, show, plain=False)
    plain = _forward_lines(program, show, plain=True)
    plain += loss + _delta_lines(program, show, plain=True)
    jacobian = _jacobian_lines(program, show)
    slopes = _slopes_line(program, show)
    table_helpers = set(show.printer.helpers)
    definitions = tuple(
        HelperDefinition(name, show.printer.helper_entries[name].doc, body)
        for name, body in show.printer.helper_definitions(table_helpers)
    )
    indices, points = _selftest_sources(spec, selftest)
    return LoopContext(
        title=title,
        formulas=formulas.rstrip("\n"),
        arch=repr(spec.arch),
        activations=repr(spec.activations),
        loss=spec.loss,
        n_params=spec.n_params,
        n_inputs=spec.arch[0],
        n_outputs=spec.arch[-1],
        n_layers=spec.n_layers,
        unpack_layers=_unpack("W", spec.n_layers),
        unpack_columns=_unpack("T", spec.n_layers),
        unpack_sums=_unpack("S", spec.n_layers),
        forward_lines=tuple(forward),
        loss_lines=tuple(forward + loss),
        sample_lines=tuple(forward + backward),
        plain_sample_lines=tuple(plain),
        jacobian_lines=tuple(jacobian),
        slopes_line=slopes,
        math_binding=_math_binding(show.printer.math_names),
        helpers=tuple(sorted(show.printer.helpers | _softmax_helpers(program))),
        helper_definitions=definitions,
        threshold=repr(spec.classification_threshold),
        fold_chunk=FOLD_CHUNK,
        selftest_indices=indices,
        selftest_points=points,
        selftest_reference=selftest is not None,
    )


def _unpack(prefix: str, count: int) -> str:
    # The left side of `W1, W2 = ...`, with the comma that a single name needs.
    names = ", ".join(f"{prefix}{k}" for k in range(1, count + 1))
    return names + ("," if count == 1 else "")


def _softmax_helpers(program: LoopProgram) -> set[str]:
    return {"_log1p_rest"} if any(layer.softmax for layer in program.layers) else set()


def render_loop_module(spec: Spec, context: LoopContext) -> str:
    """The loop-form module for `spec`: its template, black, and the header."""
    return emit(
        LOOPS_TEMPLATE,
        spec.command_line(),
        "regenerate with the command above",
        m=context,
    )


__all__ = ["LSE", "LoopContext", "build_loop_context", "render_loop_module"]
