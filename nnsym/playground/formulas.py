"""The playground's formulas: MathML to show, and JavaScript to put numbers in them.

Each equation of the derivation (`nnsym formulas`: per parameter up to
PER_PARAMETER_MAX_PARAMS parameters, per layer above) becomes a `LiveFormula`:
its MathML from SymPy's presentation printer, a second MathML row with the
numbers plugged in (placeholders the page fills), and JavaScript, printed from
the same expressions by the JavaScript target's printer, that computes the
quantity and each placeholder for one sample. So the page's numbers come from
the formulas themselves, a second derivation beside the trainer's cse'd code
(the tests check that both give the same gradient).

Plugging in: a product shows each factor's value (2·0.731·0.269·(−0.269)); a
sum or a function shows each name's value (σ(0.6)); a sum over an index (the
layer formulas) counts as one value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sympy import Expr, Indexed, Mul, Sum, Symbol

from nnsym.explain import mathml
from nnsym.explain.formulas import Derivation, Equation
from nnsym.pipeline.model import Network
from nnsym.targets.printers import JsPrinter

# The arguments of every formula's JavaScript: the quantities and the indices.
ARGUMENTS = "(v, i, j, k, m)"
PLACEHOLDER_PREFIX = "Q_"


class FormulaJsPrinter(JsPrinter):
    """The JavaScript target's printer, reading every quantity from an object `v`.

    Per parameter, `a1_0` is `v.a1_0`; per layer, `w1[j, i]` is `v.w1[j][i]`
    and a sum over an index is a call of the page's `_sum(low, high, f)`.
    """

    def _print_Symbol(self, expr: Symbol) -> str:
        if self.in_helper or expr.is_integer:
            return super()._print_Symbol(expr)
        return f"v.{expr.name}"

    def _print_Indexed(self, expr: Indexed) -> str:
        indices = "".join(f"[{index}]" for index in expr.indices)
        return f"v.{expr.base.label.name}{indices}"

    def _print_Sum(self, expr: Sum) -> str:
        ((index, low, high),) = expr.limits
        body = self._print(expr.function)
        return f"_sum({int(low)}, {int(high)}, ({index}) => {body})"


@dataclass(frozen=True)
class LiveFormula:
    """One equation: where its value is kept, its MathML and its JavaScript."""

    section: str
    # The quantity's key in the page's `v` (z1_0, g_w1_0_0; per layer z1, gw1).
    target: str
    # Per layer: the free indices and what each counts ("neuron" of `layer`,
    # or "input": a neuron of the layer below), with their ranges.
    layer: int
    indices: tuple[tuple[str, str, int], ...]
    mathml: str
    plugged: str
    compute: str
    placeholders: tuple[tuple[str, str], ...]


def _target(eq: Equation) -> str:
    if eq.symbol is not None:
        symbol = eq.symbol
        return symbol.base.label.name if isinstance(symbol, Indexed) else symbol.name
    assert eq.wrt is not None
    wrt = eq.wrt
    if isinstance(wrt, Indexed):
        return "g" + wrt.base.label.name
    return "g_" + wrt.name


def _layer_of(eq: Equation) -> int:
    symbol = eq.symbol if eq.symbol is not None else eq.wrt
    if symbol is None:
        return 0
    name = symbol.base.label.name if isinstance(symbol, Indexed) else symbol.name
    digits = "".join(ch for ch in name.split("_")[0] if ch.isdigit())
    return int(digits) if digits else 0


def _indices(eq: Equation, arch: tuple[int, ...]) -> tuple[tuple[str, str, int], ...]:
    """(name, role, range) of each free index of a layer equation."""
    symbol = eq.symbol if eq.symbol is not None else eq.wrt
    if not isinstance(symbol, Indexed):
        return ()
    layer = _layer_of(eq)
    result = []
    for position, index in enumerate(symbol.indices):
        if position == 0:
            result.append((str(index), "neuron", arch[layer]))
        else:
            result.append((str(index), "input", arch[layer - 1]))
    return tuple(result)


class _Plugger:
    """Replaces what the numbers row shows by placeholders, and records their JS."""

    def __init__(self, printer: FormulaJsPrinter, prefix: str) -> None:
        self.printer = printer
        self.prefix = prefix
        self.placeholders: dict[str, str] = {}

    def _placeholder(self, expr: Expr, name: str) -> Symbol:
        key = f"{self.prefix}{len(self.placeholders)}"
        self.placeholders[key] = self.printer.doprint(expr)
        return Symbol(PLACEHOLDER_PREFIX + name + "__" + key)

    def leaves(self, expr: Expr) -> Expr:
        """`expr` with each name (and each sum over an index) a placeholder."""
        if isinstance(expr, (Symbol, Indexed)) and not expr.is_integer:
            base = expr.name if isinstance(expr, Symbol) else str(expr.base)
            return self._placeholder(expr, base)
        if isinstance(expr, Sum):
            return self._placeholder(expr, "sum")
        if not expr.args or expr.is_Atom:
            return expr
        return expr.func(*(self.leaves(arg) for arg in expr.args), evaluate=False)

    def plug(self, expr: Expr) -> Expr | None:
        """The numbers row's expression, or None when it would only repeat the value."""
        if expr.is_Atom or isinstance(expr, (Indexed, Sum)):
            return None
        if isinstance(expr, Mul):
            coeff, factors = expr.as_coeff_mul()
            ordered = Mul._from_args(factors).as_ordered_factors()
            # Zero-padded, so that the placeholders sort as the factors do.
            shown = [
                self._placeholder(f, f"{position:02d}")
                for position, f in enumerate(ordered)
            ]
            return Mul(coeff, *shown, evaluate=False)
        return self.leaves(expr)


def _key_of(symbol: Symbol) -> str | None:
    if symbol.name.startswith(PLACEHOLDER_PREFIX):
        return symbol.name.rsplit("__", 1)[1]
    return None


def live_formulas(
    derivation: Derivation, arch: tuple[int, ...]
) -> tuple[list[LiveFormula], list[tuple[str, str]]]:
    """Every equation of `derivation` in computation order, and the JS helpers used.

    Computation order: forward pass, loss, deltas from the output down, gradients.
    """
    printer = FormulaJsPrinter()
    formulas = []
    sections = [
        ("forward", derivation.forward + (derivation.loss,)),
        ("backward", derivation.backward),
        ("gradients", derivation.gradients),
    ]
    for section, equations in sections:
        for eq in equations:
            number = len(formulas)
            plugger = _Plugger(printer, f"q{number}_")
            plugged = plugger.plug(eq.rhs)
            row = mathml.expression(plugged, _key_of) if plugged is not None else ""
            formulas.append(
                LiveFormula(
                    section=section,
                    target=_target(eq),
                    layer=_layer_of(eq),
                    indices=_indices(eq, arch),
                    mathml=mathml.math(
                        f"<mrow>{mathml.left_side(eq)}<mo>=</mo>"
                        f"{mathml.expression(eq.rhs)}</mrow>"
                    ),
                    plugged=row,
                    compute=printer.doprint(eq.rhs),
                    placeholders=tuple(plugger.placeholders.items()),
                )
            )
    return formulas, printer.helper_definitions()


def formulas_script(formulas: list[LiveFormula], helpers: list[tuple[str, str]]) -> str:
    """JavaScript defining FORMULAS: per equation its metadata and functions."""
    lines = [f"function {name}(x) {{\n  return {body};\n}}" for name, body in helpers]
    lines.append("const FORMULAS = [")
    for formula in formulas:
        meta = {
            "section": formula.section,
            "target": formula.target,
            "layer": formula.layer,
            "indices": [list(index) for index in formula.indices],
        }
        placeholders = ", ".join(
            f"{json.dumps(key)}: {ARGUMENTS} => {js}"
            for key, js in formula.placeholders
        )
        lines.append(
            f"  Object.assign({json.dumps(meta)}, {{\n"
            f"    compute: {ARGUMENTS} => {formula.compute},\n"
            f"    placeholders: {{{placeholders}}},\n"
            "  }),"
        )
    lines.append("];")
    return "\n".join(lines)


def forward_script(network: Network) -> str:
    """JavaScript `activationsAt(P, X, out)`: every neuron's activation, layer by layer.

    Printed per scalar from the model's expressions, for the boundary picture
    and the hidden neurons' pictures (one call per pixel, no checks).
    """
    printer = JsPrinter()
    lines = ["function activationsAt(P, X, out) {"]
    lines += [f"  const {x.name} = X[{i}];" for i, x in enumerate(network.inputs)]
    position = 0
    slot = 0
    for layer in network.layers:
        for j in range(len(layer.z)):
            for w in layer.weights[j]:
                lines.append(f"  const {w.name} = P[{position}];")
                position += 1
            lines.append(f"  const {layer.biases[j].name} = P[{position}];")
            position += 1
        for z, expr in zip(layer.z, layer.z_exprs):
            lines.append(f"  const {z.name} = {printer.doprint(expr)};")
        for a, expr in zip(layer.a, layer.a_exprs):
            if expr != a:
                lines.append(f"  const {a.name} = {printer.doprint(expr)};")
            lines.append(f"  out[{slot}] = {a.name};")
            slot += 1
    lines.append("}")
    helpers = [
        f"function {name}(x) {{\n  return {body};\n}}"
        for name, body in printer.helper_definitions()
    ]
    return "\n".join([*helpers, *lines])


__all__ = ["LiveFormula", "formulas_script", "forward_script", "live_formulas"]
