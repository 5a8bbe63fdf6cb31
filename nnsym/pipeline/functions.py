"""SymPy functions for activations and losses, each with its derivative beside it.

A derivative is written in terms of the function itself where it can be
(sigmoid' = s(1 - s), tanh' = 1 - t**2), so the gradients stay as small as the
forward pass.
"""

from __future__ import annotations

import sympy
from sympy import Function

# leaky_relu's slope for negative inputs, as an exact rational for SymPy.
LEAKY_SLOPE = sympy.Rational(1, 100)


class sigmoid(Function):  # noqa: N801 - SymPy names functions in lower case
    """Logistic function 1 / (1 + exp(-x))."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return self * (1 - self)

    def _latex(self, printer: sympy.printing.latex.LatexPrinter) -> str:
        return r"\sigma\left(%s\right)" % printer._print(self.args[0])


class relu(Function):  # noqa: N801
    """max(x, 0)."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return step(self.args[0])

    def _latex(self, printer: sympy.printing.latex.LatexPrinter) -> str:
        return r"\operatorname{relu}\left(%s\right)" % printer._print(self.args[0])


class leaky_relu(Function):  # noqa: N801
    """x for x > 0, else x / 100."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return leaky_step(self.args[0])

    def _latex(self, printer: sympy.printing.latex.LatexPrinter) -> str:
        return r"\operatorname{leaky\_relu}\left(%s\right)" % printer._print(
            self.args[0]
        )


class step(Function):  # noqa: N801
    """Derivative of relu: 1 for x > 0, else 0 (0 at the kink, as PyTorch)."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return sympy.S.Zero

    def _latex(self, printer: sympy.printing.latex.LatexPrinter) -> str:
        return r"\operatorname{step}\left(%s\right)" % printer._print(self.args[0])


class leaky_step(Function):  # noqa: N801
    """Derivative of leaky_relu: 1 for x > 0, else 1/100."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return sympy.S.Zero

    def _latex(self, printer: sympy.printing.latex.LatexPrinter) -> str:
        return r"\operatorname{leaky\_step}\left(%s\right)" % printer._print(
            self.args[0]
        )


class softplus(Function):  # noqa: N801
    """log(1 + exp(x)), the bce loss written on the pre-activation."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return sigmoid(self.args[0])

    def _latex(self, printer: sympy.printing.latex.LatexPrinter) -> str:
        return r"\operatorname{softplus}\left(%s\right)" % printer._print(self.args[0])


class logsumexp(Function):  # noqa: N801
    """log(sum_k exp(x_k)); its gradient is the softmax."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return sympy.exp(self.args[argindex - 1] - self)

    def _latex(self, printer: sympy.printing.latex.LatexPrinter) -> str:
        inner = ", ".join(printer._print(arg) for arg in self.args)
        return r"\operatorname{LSE}\left(%s\right)" % inner
