"""Stage 5: SymPy expressions to source code.

`PrimitivePrinting` is the target-neutral part: combined with any SymPy code
printer (Python here; C and JavaScript beside it), it prints each function of
the table of primitives either inline from its definition or as a call of a
helper function of the generated file, and prints those helpers' bodies from
the same table text, so that every target computes the same math.

`ModulePrinter` is the Python target: math functions by their bare names (the
generated functions bind them to locals, which is faster than `math.tanh` in a
hot loop), recording which ones it used.
"""

from __future__ import annotations

from collections.abc import Iterable

import sympy
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pycode import PythonCodePrinter

from nnsym.pipeline.functions import (
    PrimitiveFunction,
    X,
    definition_of,
    entry_of,
    function_of,
)
from nnsym.primitives import PRIMITIVES, Primitive

# Functions whose helper is part of the generated file's fixed code (n-ary, not
# a table entry): SymPy name -> helper name.
RUNTIME_HELPERS = {"logsumexp": "_logsumexp"}

# Stands for a printed argument, to print a call of a target's own exp.
_ARGUMENT = sympy.Symbol("nnsym_argument", real=True)


class PrimitivePrinting:
    """Mixin for a SymPy code printer: print the table's functions, and their helpers.

    Put it before the printer class: `class P(PrimitivePrinting, C99CodePrinter)`.
    A table function is printed inline from its definition when its entry says
    it is cheap (`inline`) and its argument is a plain name; otherwise as a call
    of the helper `helper_name(entry)`, registered in `known_functions` (SymPy's
    own mechanism) and recorded in `helpers`. `helper_definitions()` then gives
    each used helper's body, printed by this same printer.
    """

    # Prefix of helper names: `_sigmoid` in Python; a target may choose another.
    helper_prefix = "_"
    # Helper names of runtime (non-table) functions, e.g. logsumexp.
    runtime_helpers: dict[str, str] = RUNTIME_HELPERS

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Helper names used so far, table and runtime ones alike.
        self.helpers: set[str] = set()
        # helper name -> entry, for the table's helpers among them.
        self.helper_entries: dict[str, Primitive] = {}
        # True while printing a helper's body (a target may print differently).
        self.in_helper = False
        for name, helper in self.runtime_helpers.items():
            self.known_functions[name] = helper
        for entry in PRIMITIVES.values():
            if entry.name != "tanh":  # SymPy's tanh: each printer has its own
                self.known_functions[entry.name] = self.helper_name(entry)

    def doprint(self, expr: sympy.Expr, *args: object, **kwargs: object) -> str:
        """Print `expr`, its constant sub-expressions folded into float literals."""
        return super().doprint(
            self.fold_constants(sympy.sympify(expr)), *args, **kwargs
        )

    def print_definition(self, expr: sympy.Expr) -> str:
        """Print a table definition (inline, or a helper's body); a target may adapt."""
        return self._print(self.fold_constants(expr))

    def helper_name(self, entry: Primitive) -> str:
        """The name of the helper function that computes `entry`."""
        return self.helper_prefix + entry.name

    def _print_Function(self, expr: sympy.Function) -> str:
        # SymPy's own functions (tanh among them) print as the printer says.
        entry = entry_of(expr) if isinstance(expr, PrimitiveFunction) else None
        name = type(expr).__name__
        if entry is None:
            if name in self.runtime_helpers:
                self.helpers.add(self.runtime_helpers[name])
            return super()._print_Function(expr)
        (arg,) = expr.args
        if entry.inline and arg.is_Symbol:
            return self.print_definition(definition_of(entry, arg))
        helper = self.helper_name(entry)
        self.helpers.add(helper)
        self.helper_entries[helper] = entry
        self.known_functions[name] = helper
        return super()._print_Function(expr)

    # A softmax layer as evaluated (model.evaluated_softmax). In Python: the
    # builtin max and the runtime's _log1p_rest; a target may print its own.
    def _print_softmax_top(self, expr: sympy.Function) -> str:
        return "max(%s)" % ", ".join(self._print(arg) for arg in expr.args)

    def _print_softmax_lp(self, expr: sympy.Function) -> str:
        top, *values = expr.args
        self.helpers.add("_log1p_rest")
        listed = ", ".join(self._print(v) for v in values)
        return "_log1p_rest((%s%s), %s)" % (
            listed,
            "," if len(values) == 1 else "",
            self._print(top),
        )

    def _print_softmax_output(self, expr: sympy.Function) -> str:
        # exp((z - top) - lp) in every target's left-to-right arithmetic:
        # printed as a SymPy sum, the three terms would come in SymPy's order,
        # and top + lp (the log-sum-exp) might be rounded first.
        z, top, lp = expr.args
        grouped = "%s - %s - %s" % (
            self.parenthesize(z, PRECEDENCE["Add"]),
            self.parenthesize(top, PRECEDENCE["Add"], strict=True),
            self.parenthesize(lp, PRECEDENCE["Add"], strict=True),
        )
        call = self._print(sympy.exp(_ARGUMENT))
        return call.replace(_ARGUMENT.name, grouped)

    def fold_constants(self, expr: sympy.Expr) -> sympy.Expr:
        """`expr` with every constant sub-expression (sqrt(2/pi)) made one float."""
        if expr.is_number and not expr.is_Rational:
            return sympy.Float(expr.evalf(30), 30)
        if not expr.args or expr.is_Atom:
            return expr
        if isinstance(expr, sympy.Piecewise):
            # Conditions are not numbers; fold the values and conditions apart.
            return sympy.Piecewise(
                *(
                    (self.fold_constants(value), self.fold_constants(cond))
                    for value, cond in expr.args
                )
            )
        if isinstance(expr, (sympy.Mul, sympy.Add)):
            # sqrt(2/pi) is stored as sqrt(2) * pi**(-1/2): one factor of each.
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

        `wanted` (default: every table helper used so far) is closed under the
        calls in the bodies; each helper comes after the helpers its body calls,
        the order being otherwise by name, the same on every run.
        """
        bodies: dict[str, tuple[str, set[str]]] = {}

        def body_of(helper: str) -> tuple[str, set[str]]:
            if helper not in bodies:
                entry = self.helper_entries[helper]
                body = definition_of(entry, X)
                if body.func is function_of(entry):
                    raise ValueError(f"{entry.name} is defined as itself")
                saved, self.helpers = self.helpers, set()
                self.in_helper = True
                try:
                    printed = self.print_definition(body)
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

        chosen = self.helper_entries if wanted is None else wanted
        for helper in sorted(h for h in chosen if h in self.helper_entries):
            place(helper)
        return [(helper, bodies[helper][0]) for helper in order]

    def _print_Float(self, expr: sympy.Float) -> str:
        # The nearest double, written so that reading it back gives that double.
        return repr(float(expr))


class ModulePrinter(PrimitivePrinting, PythonCodePrinter):
    """Print expressions for the generated Python module and record what they use."""

    def __init__(self) -> None:
        # order="none": terms and factors in SymPy's canonical argument order,
        # the same on every run; sorting them for print cost more than the rest
        # of printing on large networks.
        super().__init__(
            {"fully_qualified_modules": False, "standard": "python3", "order": "none"}
        )
        self.math_names: set[str] = set()
        # True while printing a table definition: its whole numbers as floats.
        self.float_literals = False

    def print_definition(self, expr: sympy.Expr) -> str:
        """A table definition with float literals: 1.0 + x is faster than 1 + x."""
        saved, self.float_literals = self.float_literals, True
        try:
            return super().print_definition(expr)
        finally:
            self.float_literals = saved

    def _print_Integer(self, expr: sympy.Integer) -> str:
        if self.float_literals:
            return repr(float(expr))
        return super()._print_Integer(expr)

    def _print_One(self, expr: sympy.Integer) -> str:
        return self._print_Integer(expr)

    def _print_Zero(self, expr: sympy.Integer) -> str:
        return self._print_Integer(expr)

    def _print_NegativeOne(self, expr: sympy.Integer) -> str:
        return self._print_Integer(expr)

    def _module_format(self, fqn: str, register: bool = True) -> str:
        # math.exp -> exp, bound to a local by the generated function; a helper
        # is module level, where only `math.exp` is defined.
        module, _, name = fqn.rpartition(".")
        if module != "math" or self.in_helper:
            return fqn
        self.math_names.add(name)
        return name

    def _print_Piecewise(self, expr: sympy.Piecewise) -> str:
        # (a if c else b), nested from the last branch; whole numbers as floats,
        # so that a branch returns a float like the others.
        *branches, (last, _) = expr.args
        printed = self._print_branch_value(last)
        for value, cond in reversed(branches):
            printed = "(%s if %s else %s)" % (
                self._print_branch_value(value),
                self._print_condition(cond),
                printed,
            )
        return printed

    def _print_condition(self, cond: sympy.Basic) -> str:
        if isinstance(cond, sympy.core.relational.Relational):
            return "%s %s %s" % (
                self.parenthesize(cond.lhs, PRECEDENCE["Relational"] + 1),
                cond.rel_op,
                self.parenthesize(cond.rhs, PRECEDENCE["Relational"] + 1),
            )
        return self._print(cond)

    def _print_branch_value(self, value: sympy.Expr) -> str:
        if value.is_Integer:
            return repr(float(value))
        return self.parenthesize(value, PRECEDENCE["Relational"] + 1)

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
            one = "1.0" if self.float_literals else "1"
            return "(%s / %s)" % (one, self.parenthesize(base, PRECEDENCE["Mul"]))
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
            if self.float_literals:
                return "%s/%r" % (printed, float(coeff.q))
            return "%s/%d" % (printed, coeff.q)
        return super()._print_Mul(expr)

    def _print_Rational(self, expr: sympy.Rational) -> str:
        # A float literal, so that generated code never depends on int division.
        return repr(float(expr)) if expr.q != 1 else "%d" % expr.p

    def _print_Half(self, expr: sympy.Rational) -> str:
        return self._print_Rational(expr)
