"""SymPy's C99 and JavaScript printers, taught the table of primitives.

Each target printer is SymPy's own code printer for the language, combined with
the target-neutral table printing (every activation and loss building block is
printed from its definition in `nnsym.primitives`, inline or as a helper of the
generated file) and `StatementPrinting`, the few choices every generated trainer
makes the same way: small integer powers as products (no pow() in the hot loop,
and inf rather than an error on overflow), rationals as float literals, and a
Piecewise as one nested conditional expression.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy
from sympy.codegen.ast import float32, float64, real
from sympy.printing.c import C99CodePrinter
from sympy.printing.jscode import JavascriptCodePrinter
from sympy.printing.precedence import PRECEDENCE

from nnsym.pipeline.printer import PrimitivePrinting


class StatementPrinting:
    """What the C and JavaScript trainers print alike."""

    def _print_Pow(self, expr: sympy.Pow, rational: bool = False) -> str:
        base, exponent = expr.args
        # pow() is slow in a hot loop, and x*x overflows to inf (reported as
        # divergence) exactly as the Python module's product does.
        if exponent.is_Integer and 2 <= abs(int(exponent)) <= 4:
            printed = self.parenthesize(base, PRECEDENCE["Mul"], strict=True)
            product = "(%s)" % "*".join([printed] * abs(int(exponent)))
            if exponent > 0:
                return product
            return "(%s/%s)" % (self._print(sympy.Float(1.0)), product)
        if exponent == -1:
            return "(%s/%s)" % (
                self._print(sympy.Float(1.0)),
                self.parenthesize(base, PRECEDENCE["Mul"], strict=True),
            )
        return super()._print_Pow(expr)

    def _print_Rational(self, expr: sympy.Rational) -> str:
        # One float literal: never integer division, never a division at run time.
        return self._print(sympy.Float(float(expr), 17))

    def _print_Half(self, expr: sympy.Rational) -> str:
        return self._print_Rational(expr)

    def _print_Integer(self, expr: sympy.Integer) -> str:
        return self._print(sympy.Float(float(expr), 17))

    def _print_NegativeOne(self, expr: sympy.Integer) -> str:
        return self._print_Integer(expr)

    def _print_One(self, expr: sympy.Integer) -> str:
        return self._print_Integer(expr)

    def _print_Zero(self, expr: sympy.Integer) -> str:
        return self._print_Integer(expr)

    def _print_Piecewise(self, expr: sympy.Piecewise) -> str:
        # (c ? a : b), nested from the last branch, on one line.
        *branches, (last, _) = expr.args
        printed = self._print(last)
        for value, cond in reversed(branches):
            printed = "((%s) ? (%s) : (%s))" % (
                self._print(cond),
                self._print(value),
                printed,
            )
        return printed

    def _print_Relational(self, expr: sympy.core.relational.Relational) -> str:
        return "%s %s %s" % (
            self.parenthesize(expr.lhs, PRECEDENCE["Relational"] + 1),
            expr.rel_op,
            self.parenthesize(expr.rhs, PRECEDENCE["Relational"] + 1),
        )


class CPrinter(PrimitivePrinting, StatementPrinting, C99CodePrinter):
    """C99: doubles, or floats with `dtype="float32"` (expf, 1.0F, ...).

    Helpers are `static` functions named NAME_<entry>; logsumexp and tanh are
    the runtime's NAME_logsumexp(n, values) and NAME_tanh(x), and with
    `runtime_sigmoid` (the loop form's first-order code) sigmoid is the
    runtime's NAME_branchless_sigmoid(x).
    """

    def __init__(
        self, prefix: str, dtype: str = "float64", runtime_sigmoid: bool = False
    ) -> None:
        # Before the mixin's __init__, which names the helpers with them.
        self.helper_prefix = prefix + "_"
        self.prefix = prefix
        self.runtime_helpers = {
            "logsumexp": prefix + "_logsumexp",
            "tanh": prefix + "_tanh",
            # A softmax layer's top and lp (c/nnsym_softmax.h).
            "softmax": prefix + "_softmax_lp",
        }
        if runtime_sigmoid:
            # c/nnsym_sigmoid.h: vectorizable over a layer, unlike exp().
            self.runtime_helpers["sigmoid"] = prefix + "_branchless_sigmoid"
        self.dtype = dtype
        width = {"float64": float64, "float32": float32}[dtype]
        super().__init__({"type_aliases": {real: width}, "strict": True})

    def _print_Float(self, expr: sympy.Float) -> str:
        # The nearest double, written so that reading it back gives that double.
        text = repr(float(expr))
        if "e" not in text and "." not in text and "inf" not in text:
            text += ".0"
        return text + ("F" if self.dtype == "float32" else "")

    def _print_tanh(self, expr: sympy.Function) -> str:
        # The runtime's tanh (c/nnsym_tanh.h): one exp(), several times faster
        # than the C library's, and as accurate in both precisions.
        helper = self.runtime_helpers["tanh"]
        self.helpers.add(helper)
        return "%s(%s)" % (helper, self._print(expr.args[0]))

    def _print_sigmoid(self, expr: sympy.Function) -> str:
        # The loop form's: the runtime's (c/nnsym_sigmoid.h), which a loop over
        # a layer's values compiles to vector instructions; the unrolled form
        # keeps the table's definition, the Python module's arithmetic.
        helper = self.runtime_helpers.get("sigmoid")
        if helper is None:
            return self._print_Function(expr)
        self.helpers.add(helper)
        return "%s(%s)" % (helper, self._print(expr.args[0]))

    def _print_logsumexp(self, expr: sympy.Function) -> str:
        # n-ary in C: a count and a compound literal array (C99).
        helper = self.runtime_helpers["logsumexp"]
        self.helpers.add(helper)
        real_type = "float" if self.dtype == "float32" else "double"
        return "%s(%d, (const %s[]){%s})" % (
            helper,
            len(expr.args),
            real_type,
            ", ".join(self._print(a) for a in expr.args),
        )

    def _print_softmax_top(self, expr: sympy.Function) -> str:
        return "%s_softmax_top(%s, 1)" % (self.prefix, self._real_array(expr.args))

    def _print_softmax_lp(self, expr: sympy.Function) -> str:
        top, *values = expr.args
        return "%s_softmax_lp(%s, 1, %s)" % (
            self.prefix,
            self._real_array(values),
            self._print(top),
        )

    def _real_array(self, values: Sequence[sympy.Expr]) -> str:
        # A count and a compound literal array (C99), for c/nnsym_softmax.h,
        # which the "softmax" runtime helper brings in.
        self.helpers.add(self.runtime_helpers["softmax"])
        real_type = "float" if self.dtype == "float32" else "double"
        listed = ", ".join(self._print(v) for v in values)
        return "%d, (const %s[]){%s}" % (len(values), real_type, listed)


class JsPrinter(PrimitivePrinting, StatementPrinting, JavascriptCodePrinter):
    """JavaScript (ES2015+): Math.* functions and the runtime's _tanh.

    Helpers are module functions _<entry>.
    """

    def __init__(self) -> None:
        # order="none", as the Python module's printer: terms in SymPy's
        # argument order, so that each sum adds its terms in the Python
        # module's order and gives its numbers to the bit (where no Math
        # function differs from the C library's).
        super().__init__({"strict": True, "order": "none"})
        self.known_functions.update({"log1p": "Math.log1p", "expm1": "Math.expm1"})

    def _print_Float(self, expr: sympy.Float) -> str:
        return repr(float(expr))

    def _print_tanh(self, expr: sympy.Function) -> str:
        # The runtime's _tanh (js/runtime.js), included in every module, with
        # its exp written out: V8's Math.tanh costs several times as much.
        return "_tanh(%s)" % self._print(expr.args[0])

    def layer_call(self, expr: sympy.Expr, z: str, a: str, count: str) -> str | None:
        """tanh of a whole layer as one call of the runtime's _tanhLayer, or None.

        Why a layer at a time: see _tanhLayer in js/runtime.js.
        """
        if expr.func is sympy.tanh and expr.args[0].is_Symbol:
            return f"_tanhLayer({z}, {a}, {count});"
        return None

    def _print_Max(self, expr: sympy.Max) -> str:
        return "Math.max(%s)" % ", ".join(self._print(a) for a in expr.args)

    def _print_softmax_top(self, expr: sympy.Function) -> str:
        return "Math.max(%s)" % ", ".join(self._print(a) for a in expr.args)

    def _print_softmax_lp(self, expr: sympy.Function) -> str:
        # The runtime's _log1pRest (js/runtime.js), included in every module.
        top, *values = expr.args
        listed = ", ".join(self._print(v) for v in values)
        return "_log1pRest([%s], %s)" % (listed, self._print(top))

    def _print_Min(self, expr: sympy.Min) -> str:
        return "Math.min(%s)" % ", ".join(self._print(a) for a in expr.args)
