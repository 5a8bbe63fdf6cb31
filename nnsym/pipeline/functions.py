"""SymPy functions for activations and losses, built from the table of primitives.

Each entry of `nnsym.primitives` becomes one SymPy `Function` subclass of the
same name: its `fdiff` is the entry's derivative with `y` standing for the
function itself (sigmoid' = s(1 - s), so the gradients stay as small as the
forward pass), or SymPy's derivative of the definition when the entry leaves it
to SymPy. The class carries its entry (`cls.nnsym_entry`), which is how printers,
the graph and the checks find the math of a function they meet in an expression.

User-defined activations (`--activation 'cube=x**3/3'`) become entries of the
same shape, read by the safe parser of `nnsym diff`, and SymPy classes likewise.
logsumexp is n-ary and stays a function of its own with a runtime helper, as do
the three that evaluate a softmax layer (softmax_top, softmax_lp, softmax_output).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from functools import cache

import sympy
from sympy import Function
from sympy.codegen.cfunctions import expm1, log1p

from nnsym.primitives import ACTIVATION, PRIMITIVES, Primitive
from nnsym.primitives import LEAKY_SLOPE as LEAKY_SLOPE_TEXT
from nnsym.runtime.numerics import _log1p_rest, _logsumexp

# leaky_relu's slope for negative inputs, as an exact rational for SymPy.
LEAKY_SLOPE = sympy.Rational(LEAKY_SLOPE_TEXT)

# The variable of every definition, and the value y = f(x) in derivatives.
X = sympy.Symbol("x", real=True)
Y = sympy.Symbol("y", real=True)

# What the table's SymPy text may use besides its own functions.
_BUILTINS: dict[str, object] = {
    "x": X,
    "y": Y,
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

# A user-defined activation's name: short, lower case, a valid identifier part.
_CUSTOM_NAME = re.compile(r"[a-z][a-z0-9_]{0,23}", re.ASCII)
_CUSTOM_PREFIX = "act_"


class PrimitiveFunction(Function):
    """A SymPy function defined by an entry of the table of primitives."""

    nargs = 1
    nnsym_entry: Primitive

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        """The derivative in terms of the argument and of the function itself."""
        return derivative_of(self.nnsym_entry, self.args[0], self)

    def _latex(self, printer: sympy.printing.latex.LatexPrinter) -> str:
        return r"%s\left(%s\right)" % (
            self.nnsym_entry.latex,
            printer._print(self.args[0]),
        )


def _make_class(entry: Primitive) -> type[PrimitiveFunction]:
    namespace: dict[str, object] = {
        "nnsym_entry": entry,
        "__doc__": entry.doc[:1].upper() + entry.doc[1:] + ".",
        "__module__": __name__,
    }
    if entry.definition.strip() == "x":
        # The identity evaluates to its argument: a linear layer's a is its z.
        namespace["eval"] = classmethod(lambda cls, arg: arg)
    return type(entry.name, (PrimitiveFunction,), namespace)


FUNCTIONS: dict[str, type[PrimitiveFunction]] = {
    name: _make_class(entry) for name, entry in PRIMITIVES.items()
}

# SymPy names functions in lower case; these are the ones the code imports.
sigmoid = FUNCTIONS["sigmoid"]
relu = FUNCTIONS["relu"]
leaky_relu = FUNCTIONS["leaky_relu"]
softplus = FUNCTIONS["softplus"]
step = FUNCTIONS["step"]
leaky_step = FUNCTIONS["leaky_step"]
identity = FUNCTIONS["identity"]
swish = FUNCTIONS["swish"]
gelu = FUNCTIONS["gelu"]
elu = FUNCTIONS["elu"]
# tanh's entry prints and differentiates as SymPy's own tanh already does.
FUNCTIONS["tanh"] = sympy.tanh  # type: ignore[assignment]


class logsumexp(Function):  # noqa: N801 - SymPy names functions in lower case
    """log(sum_k exp(x_k)); its gradient is the softmax."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return sympy.exp(self.args[argindex - 1] - self)

    def _latex(self, printer: sympy.printing.latex.LatexPrinter) -> str:
        inner = ", ".join(printer._print(arg) for arg in self.args)
        return r"\operatorname{LSE}\left(%s\right)" % inner


class softmax_top(Function):  # noqa: N801
    """The largest argument, where a softmax layer is shifted to (evaluated only)."""


class softmax_lp(Function):  # noqa: N801
    """log1p(sum_k exp(z_k - top)) over all z_k but the first largest; args top, *z.

    logsumexp(z) is top + this, top = softmax_top(z): the term 1 of the largest
    is never added, so a tiny sum keeps its digits. Evaluated only.
    """


class softmax_output(Function):  # noqa: N801
    """exp((z - top) - lp), a softmax output: args z, top, lp (evaluated only).

    Printed grouped as written: exp(z - lse) would round lse = top + lp to the
    size of z first, an error of |z| eps in every output.
    """


def _namespace() -> dict[str, object]:
    return {**_BUILTINS, **FUNCTIONS}


@cache
def _parsed(text: str) -> sympy.Expr:
    # Table text is ours, not the user's: plain sympify over a fixed namespace.
    return sympy.sympify(text, locals=_namespace())


def entry_of(function: object) -> Primitive | None:
    """The table entry behind a SymPy function class or application, if any."""
    cls = function if isinstance(function, type) else type(function)
    if cls is sympy.tanh:
        return PRIMITIVES["tanh"]
    return getattr(cls, "nnsym_entry", None)


def definition_of(entry: Primitive | str, arg: sympy.Expr) -> sympy.Expr:
    """The entry's definition (its numerically safe form) applied to `arg`."""
    entry = PRIMITIVES[entry] if isinstance(entry, str) else entry
    if entry.name in _CUSTOM:
        return _CUSTOM[entry.name][1].xreplace({X: arg})
    return _parsed(entry.definition).xreplace({X: arg})


def derivative_of(
    entry: Primitive, arg: sympy.Expr, value: sympy.Expr | None = None
) -> sympy.Expr:
    """f'(arg), with `value` (default f(arg)) standing for y in the table's text."""
    if entry.derivative is None:
        return sympy.diff(definition_of(entry, X), X).xreplace({X: arg})
    if value is None:
        value = function_of(entry)(arg)
    return _parsed(entry.derivative).xreplace({X: arg, Y: value})


def function_of(entry: Primitive | str) -> type[Function]:
    """The SymPy function class of an entry or of a registered activation's name."""
    name = entry if isinstance(entry, str) else entry.name
    if name in _CUSTOM:
        return _CUSTOM[name][0]
    return FUNCTIONS[name]


def expand_primitives(expr: sympy.Expr) -> sympy.Expr:
    """`expr` with every table function replaced by its definition, recursively."""
    while True:
        found = [
            f
            for f in expr.atoms(Function)
            if isinstance(f, PrimitiveFunction) and entry_of(f) is not None
        ]
        if not found:
            return expr
        expr = expr.xreplace({f: definition_of(entry_of(f), f.args[0]) for f in found})


# User-defined activations: name -> (class, definition in x), and name -> text.
_CUSTOM: dict[str, tuple[type[PrimitiveFunction], sympy.Expr]] = {}
_CUSTOM_TEXT: dict[str, str] = {}


def split_custom(option: str) -> tuple[str, str]:
    """`'cube=x**3/3'` -> `('cube', 'x**3/3')`; an unnamed expression gets a hash."""
    name, sep, text = option.partition("=")
    if sep and _CUSTOM_NAME.fullmatch(name.strip()):
        return name.strip(), text.strip()
    text = option.strip()
    return name_of_expression(text), text


# How an unnamed activation's operators read in its name.
_OPERATOR_WORDS = (("**", " pow "), ("*", " mul "), ("/", " div "), ("+", " plus "))
_OPERATOR_WORDS += (("-", " minus "), (".", "p"))


def name_of_expression(text: str) -> str:
    """A name for an unnamed activation, read from its expression.

    `'x*sigmoid(x)'` -> `'x_mul_sigmoid_x_1c0a1e'`: its words and operators (at
    most 20 characters of them), then 6 hex digits of the text's sha256, so that
    two expressions that read alike (`(x+1)*x`, `x+1*x`) still differ. The same
    text gives the same name, on any machine.
    """
    words = text.lower()
    for operator, word in _OPERATOR_WORDS:
        words = words.replace(operator, word)
    stem = "_".join(re.findall(r"[a-z0-9]+", words))[:20].strip("_")
    if not stem or not stem[0].isalpha():
        stem = _CUSTOM_PREFIX.rstrip("_") + ("_" + stem if stem else "")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:6]
    return f"{stem}_{digest}"


def is_custom(name: str) -> bool:
    """Whether `name` is a registered user-defined activation."""
    return name in _CUSTOM


def custom_text(name: str) -> str:
    """The expression text of a registered user-defined activation."""
    return _CUSTOM_TEXT[name]


def register_activation(name: str, text: str, expr: sympy.Expr) -> None:
    """Make `name` a SymPy function defined by `expr` (in X), as a table entry is."""
    known = _CUSTOM.get(name)
    if known is not None and known[1] == expr:
        return
    entry = Primitive(
        name,
        text,
        None,
        ACTIVATION,
        inline=False,
        latex=r"\operatorname{%s}" % name.replace("_", r"\_"),
        unicode=name,
        torch="",
        doc=f"user-defined activation {text}",
    )
    cls = type(
        name,
        (PrimitiveFunction,),
        {"nnsym_entry": entry, "__doc__": entry.doc, "__module__": __name__},
    )
    _CUSTOM[name] = (cls, expr)
    _CUSTOM_TEXT[name] = text


def is_taken(name: str) -> bool:
    """True if `name` is a math function's name (exp, sin, Max) SymPy would print."""
    return name in _BUILTINS or hasattr(sympy, name) or hasattr(math, name)


def numeric_functions() -> dict[str, Callable[..., float]]:
    """Float callables of the table's functions, registered ones and logsumexp.

    Each is SymPy's lambdify of the definition with every table function inside
    expanded, on Python's `math`: for `lambdify(..., [numeric_functions(), "math"])`.
    """
    numeric: dict[str, Callable[..., float]] = {
        "logsumexp": _logsumexp,
        "softmax_top": max,
        "softmax_lp": lambda top, *z: _log1p_rest(z, top),
        "softmax_output": lambda z, top, lp: math.exp(z - top - lp),
    }
    for name in [*PRIMITIVES, *_CUSTOM]:
        if name != "tanh":
            numeric[name] = _numeric(name, _CUSTOM_TEXT.get(name))
    return numeric


@cache
def _numeric(name: str, text: str | None) -> Callable[[float], float]:
    # `text` tells a redefined user activation apart in the cache.
    expr = expand_primitives(
        definition_of(PRIMITIVES.get(name) or _CUSTOM[name][0].nnsym_entry, X)
    )
    return sympy.lambdify(X, expr, "math")
