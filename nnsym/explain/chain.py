"""Differentiate an expression and show the chain rule one operation at a time.

Every operation whose value depends on the variable gets a name (u1, u2, ...,
innermost first, the whole expression last). For each, the step shows its
local derivatives with respect to its inputs and how the chain rule combines
them with the inputs' derivatives: the manual backpropagation of the tutorials,
written out by SymPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy
from sympy import Expr, Symbol

from nnsym.errors import UsageError
from nnsym.pipeline.expression import parse_expression

# Beyond this many steps the listing would be longer than anyone reads.
MAX_STEPS = 60


@dataclass(frozen=True)
class Step:
    """One operation: `name = definition`, and d(name)/d(wrt) by the chain rule."""

    name: Symbol
    definition: Expr
    # (input, d definition / d input) for every input that depends on wrt.
    local: tuple[tuple[Symbol, Expr], ...]
    derivative: Expr


@dataclass(frozen=True)
class DiffResult:
    """An expression, the variable, the chain-rule steps and the derivative."""

    expression: Expr
    wrt: Symbol
    steps: tuple[Step, ...]
    derivative: Expr

    def _repr_latex_(self) -> str:
        return "$$%s$$" % format_diff_latex(self)


def differentiate_text(text: str, wrt: str | None = None) -> DiffResult:
    """Parse `text` safely and differentiate it with respect to `wrt`."""
    expr, variables = parse_expression(text)
    if not variables:
        raise UsageError(
            "the expression has no variables, so its derivative is 0; "
            "write one with a variable, e.g. x**2 + 3"
        )
    if wrt is None:
        if len(variables) != 1:
            found = ", ".join(variables) or "none"
            raise UsageError(
                f"say which variable to differentiate by with --wrt NAME "
                f"(the expression's variables: {found})"
            )
        wrt = next(iter(variables))
    if wrt not in variables:
        found = ", ".join(variables) or "none"
        raise UsageError(
            f"--wrt {wrt!r}: the expression does not contain {wrt} "
            f"(its variables: {found}), so its derivative is 0"
        )
    return differentiate_expression(expr, variables[wrt])


def differentiate_expression(expr: Expr, wrt: Symbol) -> DiffResult:
    """The derivative by SymPy, and the chain-rule steps that lead to it."""
    return DiffResult(expr, wrt, tuple(chain_rule_steps(expr, wrt)), expr.diff(wrt))


def _step_prefix(expr: Expr) -> str:
    used = {symbol.name for symbol in expr.free_symbols}
    for prefix in ("u", "v", "g", "h", "q"):
        if not any(name.startswith(prefix) for name in used):
            return prefix
    return "step_"


def chain_rule_steps(expr: Expr, wrt: Symbol) -> list[Step]:
    """Name every operation that depends on `wrt` and chain their derivatives."""
    prefix = _step_prefix(expr)
    used = {symbol.name for symbol in expr.free_symbols}
    names: dict[Expr, Symbol] = {}
    derivatives: dict[Expr, Expr] = {wrt: sympy.S.One}
    steps: list[Step] = []

    def visit(node: Expr) -> None:
        if node in names or node == wrt:
            return
        inputs = [arg for arg in node.args if arg.has(wrt)]
        for arg in inputs:
            visit(arg)
        if len(steps) >= MAX_STEPS:
            raise UsageError(
                f"the expression has more than {MAX_STEPS} operations that depend "
                f"on {wrt}; the steps would not be readable (differentiate a part)"
            )
        whole = node is expr and "f" not in used
        name = Symbol("f" if whole else f"{prefix}{len(steps) + 1}", real=True)
        names[node] = name
        # The operation on named inputs: what this step computes from the last.
        renamed = {arg: names.get(arg, arg) for arg in node.args}
        definition = node.func(*(renamed[arg] for arg in node.args))
        input_symbols = [names.get(arg, arg) for arg in inputs]
        local = tuple(
            (symbol, sympy.diff(definition, symbol))
            for symbol in dict.fromkeys(input_symbols)
        )
        back = {symbol: arg for arg, symbol in names.items()}
        derivative = sympy.factor_terms(
            sympy.Add(
                *(
                    partial.xreplace(back) * derivatives[back.get(symbol, symbol)]
                    for symbol, partial in local
                )
            )
        )
        derivatives[node] = derivative
        steps.append(Step(name, definition, local, derivative))

    if expr.has(wrt) and expr != wrt:
        visit(expr)
    return steps


def _chain_terms(
    step: Step, wrt: Symbol, derivatives: dict[Symbol, Expr]
) -> tuple[str, str]:
    # "∂u3/∂u2 * du2/dx" and "(2*u2) * (2*x)": the rule, then its values.
    rule, values = [], []
    for symbol, partial in step.local:
        if symbol == wrt:
            rule.append(f"∂{step.name}/∂{wrt}")
            values.append(f"({sympy.sstr(partial)})")
        else:
            rule.append(f"∂{step.name}/∂{symbol} * d{symbol}/d{wrt}")
            values.append(
                f"({sympy.sstr(partial)}) * ({sympy.sstr(derivatives[symbol])})"
            )
    return " + ".join(rule), " + ".join(values)


def format_diff_text(result: DiffResult) -> str:
    """The steps and the result, one line each, in SymPy's plain notation."""
    wrt = result.wrt
    lines = [f"d/d{wrt} of {sympy.sstr(result.expression)}", ""]
    if result.steps:
        lines.append("Chain rule, innermost operation first:")
    derivatives: dict[Symbol, Expr] = {}
    for step in result.steps:
        lines.append(f"  {step.name} = {sympy.sstr(step.definition)}")
        rule, values = _chain_terms(step, wrt, derivatives)
        shown = sympy.sstr(step.derivative)
        lines.append(f"    d{step.name}/d{wrt} = {rule} = {values} = {shown}")
        derivatives[step.name] = step.derivative
    lines += ["", f"d/d{wrt} = {sympy.sstr(result.derivative)}"]
    return "\n".join(lines) + "\n"


def format_diff_latex(result: DiffResult) -> str:
    """The steps and the result as a LaTeX `aligned` block."""
    wrt = result.wrt
    latex_wrt = sympy.latex(wrt)

    def frac(top: Symbol, bottom: Symbol) -> str:
        return r"\frac{d %s}{d %s}" % (sympy.latex(top), sympy.latex(bottom))

    rows = []
    for step in result.steps:
        name = sympy.latex(step.name)
        rows.append(f"{name} &= {sympy.latex(step.definition)}")
        terms = [
            (
                sympy.latex(partial)
                if symbol == wrt
                else r"\left(%s\right) %s" % (sympy.latex(partial), frac(symbol, wrt))
            )
            for symbol, partial in step.local
        ]
        direct = len(step.local) == 1 and step.local[0][0] == wrt
        chained = "" if direct else " + ".join(terms) + " = "
        rows.append(
            f"{frac(step.name, wrt)} &= {chained}{sympy.latex(step.derivative)}"
        )
    rows.append(
        r"\frac{d}{d %s}\left(%s\right) &= %s"
        % (latex_wrt, sympy.latex(result.expression), sympy.latex(result.derivative))
    )
    return "\\begin{aligned}\n%s\n\\end{aligned}" % " \\\\\n".join(rows)
