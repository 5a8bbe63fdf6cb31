"""The printer's Python source evaluates to what SymPy says the expression is."""

from __future__ import annotations

import math

import pytest
import sympy

from nnsym.pipeline.functions import (
    leaky_relu,
    leaky_step,
    logsumexp,
    relu,
    sigmoid,
    softplus,
)
from nnsym.pipeline.printer import ModulePrinter

x, y, z = sympy.symbols("x y z", real=True)
POINT = {"x": 0.7, "y": -1.3, "z": 2.1}

# (expression, the value computed here by hand from POINT)
CASES = [
    (y / x**2, -1.3 / 0.7**2),
    (y * x**-3, -1.3 / 0.7**3),
    ((x - y) ** 2 / 3, (0.7 + 1.3) ** 2 / 3),
    (-((x - y) ** 2) / 3, -((0.7 + 1.3) ** 2) / 3),
    (sympy.Rational(2, 3) * (x + y), 2 * (0.7 - 1.3) / 3),
    (x / 2 + y, 0.35 - 1.3),
    (2 * x * y / (x - z) ** 2, 2 * 0.7 * -1.3 / (0.7 - 2.1) ** 2),
    (sigmoid(x * y), 1 / (1 + math.exp(0.7 * 1.3))),
    (
        sigmoid(y) * (1 - sigmoid(y)),
        (1 / (1 + math.exp(1.3))) * (1 - 1 / (1 + math.exp(1.3))),
    ),
    (relu(y) + relu(x), 0.7),
    (leaky_relu(y), -0.013),
    (leaky_step(y) + leaky_step(x), 1.01),
    (softplus(z), math.log(1 + math.exp(2.1))),
    (logsumexp(x, y, z), math.log(math.exp(0.7) + math.exp(-1.3) + math.exp(2.1))),
    (sympy.exp(x - logsumexp(x, y)), math.exp(0.7) / (math.exp(0.7) + math.exp(-1.3))),
    (sympy.tanh(z) ** 2, math.tanh(2.1) ** 2),
    (x**5, 0.7**5),
]


def evaluate(source: str, printer: ModulePrinter) -> float:
    namespace = {name: getattr(math, name) for name in printer.math_names}
    namespace["math"] = math
    for helper, body in printer.helper_definitions():
        exec(f"def {helper}(x):\n    return {body}\n", namespace)  # noqa: S102
    namespace["_logsumexp"] = lambda *vs: max(vs) + math.log(
        sum(math.exp(v - max(vs)) for v in vs)
    )
    return eval(source, namespace, dict(POINT))  # noqa: S307 - our own printed code


@pytest.mark.parametrize("expr,expected", CASES, ids=[str(c[0]) for c in CASES])
def test_printed_code_evaluates_to_the_expression(expr, expected):
    printer = ModulePrinter()
    source = printer.doprint(expr)
    assert evaluate(source, printer) == pytest.approx(expected, rel=1e-13)


def test_math_functions_used_are_recorded():
    printer = ModulePrinter()
    printer.doprint(sympy.exp(x) + sympy.tanh(y) + sigmoid(z))
    assert printer.math_names == {"exp", "tanh"}
    # sigmoid of a plain name is printed inline from its definition.
    assert printer.helpers == set()
    printer.doprint(softplus(x) + sigmoid(2 * z))
    assert printer.helpers == {"_sigmoid", "_softplus"}


def test_squares_never_use_float_power():
    # float ** raises OverflowError; repeated multiplication gives inf instead.
    assert "**" not in ModulePrinter().doprint((x - y) ** 2 + z**3)
