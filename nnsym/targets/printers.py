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

from collections.abc import Iterable

import sympy
from sympy.codegen.ast import float32, float64, real
from sympy.codegen.cfunctions import expm1, log1p
from sympy.printing.c import C99CodePrinter
from sympy.printing.jscode import JavascriptCodePrinter
from sympy.printing.precedence import PRECEDENCE

from nnsym.pipeline import functions
from nnsym.primitives import PRIMITIVES, Primitive

X = sympy.Symbol("x", real=True)

# What the table's SymPy text may use besides its own functions.
_BUILTINS: dict[str, object] = {
    "x": X,
    "Piecewise": sympy.Piecewise,
    "Max": sympy.Max,
    "Min": sympy.Min,
    "Abs": sympy.Abs,
    "exp": sympy.exp,
    "log": sympy.log,
    "log1p": log1p,
    "expm1": expm1,
    "tanh": sympy.tanh,
    "sqrt": sympy.sqrt,
    "pi": sympy.pi,
}


def _function_class(name: str) -> type[sympy.Function]:
    if name == "tanh":
        return sympy.tanh
    found = getattr(functions, name, None)
    if isinstance(found, type) and issubclass(found, sympy.Function):
        return found
    return sympy.Function(name)


def definition_of(entry: Primitive, arg: sympy.Expr) -> sympy.Expr:
    """`entry`'s definition with `arg` for x, as a SymPy expression."""
    namespace = dict(_BUILTINS)
    namespace.update({name: _function_class(name) for name in PRIMITIVES})
    expr = sympy.sympify(entry.definition, locals=namespace)
    return expr if arg == X else expr.subs(X, arg)


class TablePrinting:
    """Mixin for a SymPy code printer: print the table's functions, and their helpers.

    A table function is printed inline from its definition when its entry says
    it is cheap (`inline`) and its argument is a plain name; otherwise as a call
    of `helper_name(entry)`, recorded in `helpers`; `helper_definitions()` gives
    each used helper's body, printed by the same printer from the same table.
    """

    helper_prefix = "_"
    # SymPy name -> runtime helper name, for functions that are not table
    # entries (logsumexp is n-ary); the target's runtime defines them.
    runtime_helpers: dict[str, str] = {}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.helpers: set[str] = set()
        self.helper_entries: dict[str, Primitive] = {}
        self.in_helper = False

    def helper_name(self, entry: Primitive) -> str:
        """The name of the helper function that computes `entry`."""
        return self.helper_prefix + entry.name

    def _print_Function(self, expr: sympy.Function) -> str:
        name = type(expr).__name__
        if name in self.runtime_helpers:
            helper = self.runtime_helpers[name]
            self.helpers.add(helper)
            return self.runtime_call(helper, expr.args)
        entry = PRIMITIVES.get(name)
        if entry is None:
            return super()._print_Function(expr)
        (arg,) = expr.args
        if entry.inline and arg.is_Symbol:
            return self._print(self.fold_constants(definition_of(entry, arg)))
        helper = self.helper_name(entry)
        self.helpers.add(helper)
        self.helper_entries[helper] = entry
        return "%s(%s)" % (helper, self._print(arg))

    def _print_tanh(self, expr: sympy.Expr) -> str:
        # tanh is a table entry that every language has built in.
        return super()._print_Function(expr)

    def runtime_call(self, helper: str, args: tuple[sympy.Expr, ...]) -> str:
        """A call of an n-ary runtime helper; the target decides how to pass args."""
        return "%s(%s)" % (helper, ", ".join(self._print(a) for a in args))

    def fold_constants(self, expr: sympy.Expr) -> sympy.Expr:
        """`expr` with every constant sub-expression (sqrt(2/pi)) made one float."""
        if expr.is_number and not expr.is_Rational:
            return sympy.Float(expr.evalf(30), 30)
        if not expr.args or expr.is_Atom:
            return expr
        if isinstance(expr, sympy.Piecewise):
            return sympy.Piecewise(
                *(
                    (self.fold_constants(value), self.fold_constants(cond))
                    for value, cond in expr.args
                )
            )
        if isinstance(expr, (sympy.Mul, sympy.Add)):
            constant = [arg for arg in expr.args if arg.is_number]
            if len(constant) > 1 and not all(arg.is_Rational for arg in constant):
                rest = [arg for arg in expr.args if not arg.is_number]
                folded = self.fold_constants(expr.func(*constant))
                others = [self.fold_constants(arg) for arg in rest]
                return expr.func(folded, *others, evaluate=False)
        args = [self.fold_constants(arg) for arg in expr.args]
        if all(new is old for new, old in zip(args, expr.args)):
            return expr
        return expr.func(*args, evaluate=False)

    def helper_definitions(
        self, wanted: Iterable[str] | None = None
    ) -> list[tuple[str, str]]:
        """(helper name, printed body in `x`) of each used table helper.

        Closed under the calls in the bodies; each helper comes after the ones
        its body calls, otherwise in order of name.
        """
        bodies: dict[str, tuple[str, set[str]]] = {}

        def body_of(helper: str) -> tuple[str, set[str]]:
            if helper not in bodies:
                entry = self.helper_entries[helper]
                saved, self.helpers = self.helpers, set()
                self.in_helper = True
                try:
                    printed = self._print(
                        self.fold_constants(definition_of(entry, X))
                    )
                    called = {h for h in self.helpers if h != helper}
                finally:
                    self.in_helper = False
                    self.helpers = saved | self.helpers
                bodies[helper] = (printed, called)
            return bodies[helper]

        order: list[str] = []
        placed: set[str] = set()

        def place(helper: str) -> None:
            if helper in placed:
                return
            placed.add(helper)
            for called in sorted(body_of(helper)[1]):
                if called in self.helper_entries:
                    place(called)
            order.append(helper)

        chosen = list(self.helper_entries if wanted is None else wanted)
        for helper in sorted(h for h in chosen if h in self.helper_entries):
            place(helper)
        return [(helper, bodies[helper][0]) for helper in order]


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
        return super()._print_Pow(expr, rational=rational)

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


class CPrinter(TablePrinting, StatementPrinting, C99CodePrinter):
    """C99: doubles, or floats with `dtype="float32"` (expf, 1.0F, ...)."""

    def __init__(self, prefix: str, dtype: str = "float64") -> None:
        width = {"float64": float64, "float32": float32}[dtype]
        super().__init__({"type_aliases": {real: width}, "strict": True})
        self.helper_prefix = prefix + "_"
        self.runtime_helpers = {"logsumexp": prefix + "_logsumexp"}
        self.dtype = dtype

    def _print_Float(self, expr: sympy.Float) -> str:
        # The nearest double, written so that reading it back gives that double.
        text = repr(float(expr))
        if "e" not in text and "." not in text and "inf" not in text:
            text += ".0"
        return text + ("F" if self.dtype == "float32" else "")

    def runtime_call(self, helper: str, args: tuple[sympy.Expr, ...]) -> str:
        # n-ary in C: a count and a compound literal array (C99).
        real_type = "float" if self.dtype == "float32" else "double"
        return "%s(%d, (const %s[]){%s})" % (
            helper,
            len(args),
            real_type,
            ", ".join(self._print(a) for a in args),
        )


class JsPrinter(TablePrinting, StatementPrinting, JavascriptCodePrinter):
    """JavaScript (ES2015+): Math.* functions, numbers are doubles."""

    def __init__(self) -> None:
        super().__init__({"strict": True})
        self.known_functions = dict(self.known_functions)
        self.known_functions.update({"log1p": "Math.log1p", "expm1": "Math.expm1"})
        self.runtime_helpers = {"logsumexp": "_logsumexp"}

    def _print_Float(self, expr: sympy.Float) -> str:
        return repr(float(expr))

    def _print_Max(self, expr: sympy.Max) -> str:
        return "Math.max(%s)" % ", ".join(self._print(a) for a in expr.args)

    def _print_Min(self, expr: sympy.Min) -> str:
        return "Math.min(%s)" % ", ".join(self._print(a) for a in expr.args)
