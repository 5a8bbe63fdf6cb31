"""Stage 5: SymPy expressions to Python source, standard library only.

A subclass of SymPy's `PythonCodePrinter` that prints math functions by their
bare names (the generated functions bind them to locals, which is faster than
`math.tanh` in a hot loop) and records which ones it used, and prints our
activations as small inline expressions that cannot overflow.
"""

from __future__ import annotations

import sympy
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pycode import PythonCodePrinter

# SymPy function name -> name of the `math` function that computes it.
MATH_FUNCTIONS = {
    "exp": "exp",
    "log": "log",
    "tanh": "tanh",
    "sqrt": "sqrt",
}
# Our functions that need a helper defined in the generated module.
HELPERS = {
    "softplus": "_softplus",
    "logsumexp": "_logsumexp",
}


class ModulePrinter(PythonCodePrinter):
    """Print expressions for the generated module and record what they use."""

    def __init__(self) -> None:
        # order="none": terms and factors in SymPy's canonical argument order,
        # the same on every run; sorting them for print cost more than the rest
        # of printing on large networks.
        super().__init__(
            {"fully_qualified_modules": False, "standard": "python3", "order": "none"}
        )
        self.math_names: set[str] = set()
        self.helpers: set[str] = set()

    def _math(self, name: str, expr: sympy.Function) -> str:
        self.math_names.add(name)
        return "%s(%s)" % (name, ", ".join(self._print(arg) for arg in expr.args))

    def _print_exp(self, expr: sympy.Expr) -> str:
        return self._math("exp", expr)

    def _print_log(self, expr: sympy.Expr) -> str:
        return self._math("log", expr)

    def _print_tanh(self, expr: sympy.Expr) -> str:
        return self._math("tanh", expr)

    def _print_sigmoid(self, expr: sympy.Expr) -> str:
        # 1 / (1 + exp(-z)) overflows for z < -709; this identity never does.
        self.math_names.add("tanh")
        return "(0.5 * tanh(0.5 * %s) + 0.5)" % self._print_argument(expr)

    def _print_relu(self, expr: sympy.Expr) -> str:
        z = self._print_argument(expr)
        return "(%s if %s > 0.0 else 0.0)" % (z, z)

    def _print_leaky_relu(self, expr: sympy.Expr) -> str:
        z = self._print_argument(expr)
        return "(%s if %s > 0.0 else 0.01 * %s)" % (z, z, z)

    def _print_step(self, expr: sympy.Expr) -> str:
        return "(1.0 if %s > 0.0 else 0.0)" % self._print_argument(expr)

    def _print_leaky_step(self, expr: sympy.Expr) -> str:
        return "(1.0 if %s > 0.0 else 0.01)" % self._print_argument(expr)

    def _print_softplus(self, expr: sympy.Expr) -> str:
        return self._helper("softplus", expr)

    def _print_logsumexp(self, expr: sympy.Expr) -> str:
        return self._helper("logsumexp", expr)

    def _helper(self, name: str, expr: sympy.Expr) -> str:
        helper = HELPERS[name]
        self.helpers.add(helper)
        return "%s(%s)" % (helper, ", ".join(self._print(arg) for arg in expr.args))

    def _print_argument(self, expr: sympy.Expr) -> str:
        (arg,) = expr.args
        printed = self._print(arg)
        return printed if isinstance(arg, sympy.Symbol) else "(%s)" % printed

    def _print_Pow(self, expr: sympy.Pow, rational: bool = False) -> str:
        base, exponent = expr.args
        # Float ** raises OverflowError where repeated * gives inf, which the
        # training loop reports as divergence; small powers are also faster.
        if exponent.is_Integer and 2 <= abs(int(exponent)) <= 4:
            printed = self.parenthesize(base, PRECEDENCE["Mul"])
            # Parenthesized, because the caller treats a Pow as one atom, as in
            # y / x**2; black drops the parentheses where they are redundant.
            product = "(%s)" % " * ".join([printed] * abs(int(exponent)))
            return product if exponent > 0 else "1 / %s" % product
        if exponent == -1:
            return "(1 / %s)" % self.parenthesize(base, PRECEDENCE["Mul"])
        return super()._print_Pow(expr, rational=rational)

    def _print_Mul(self, expr: sympy.Mul) -> str:
        coeff, rest = expr.as_coeff_Mul()
        if coeff.is_Rational and not coeff.is_Integer:
            # p*rest/q rather than (p/q)*rest: no parentheses around a constant.
            numerator = sympy.Mul(coeff.p, rest, evaluate=False)
            if coeff.p == 1:
                numerator = rest
            elif coeff.p == -1:
                numerator = sympy.Mul(-1, rest, evaluate=False)
            printed = self.parenthesize(numerator, PRECEDENCE["Mul"], strict=True)
            return "%s/%d" % (printed, coeff.q)
        return super()._print_Mul(expr)

    def _print_Rational(self, expr: sympy.Rational) -> str:
        # A float literal, so that generated code never depends on int division.
        return repr(float(expr)) if expr.q != 1 else "%d" % expr.p

    def _print_Half(self, expr: sympy.Rational) -> str:
        return self._print_Rational(expr)
