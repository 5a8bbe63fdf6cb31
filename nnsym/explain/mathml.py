"""The formulas as presentation MathML, through SymPy's MathMLPresentationPrinter.

Browsers render presentation MathML natively (no math library), and so do
notebooks; the names are typeset as in the LaTeX format: `delta1_0` as δ with
the subscript "1,0", `w1[j, i]` as w with superscript 1 and subscript "j,i",
sigmoid as σ. Every text node goes through the DOM's escaping, so a name is
always text, never markup.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from sympy import Expr, Indexed, Symbol
from sympy.printing.mathml import MathMLPresentationPrinter
from sympy.printing.pretty.pretty_symbology import pretty_symbol

from nnsym.explain.names import indexed_parts, split_name
from nnsym.pipeline.functions import entry_of

# An Equation or a Derivation of nnsym.explain.formulas (which imports this
# module for their _repr_html_, so this one takes them as they come).
Equation = Any
Derivation = Any

MATH_NAMESPACE = "http://www.w3.org/1998/Math/MathML"


class FormulaMathML(MathMLPresentationPrinter):
    """SymPy's presentation MathML with our subscripts, σ, and named placeholders.

    `placeholder(symbol)` may return a key: the symbol is then printed as an
    `<mn class="q" data-q="key">` whose number a page fills in.
    """

    def __init__(self, placeholder: Callable[[Symbol], str | None] | None = None):
        super().__init__({"mul_symbol": "dot"})
        self.placeholder = placeholder

    def _text(self, tag: str, text: str) -> object:
        element = self.dom.createElement(tag)
        element.appendChild(self.dom.createTextNode(text))
        return element

    def _name(self, base: str, subscript: str, superscript: str = "") -> object:
        head = self._text("mi", pretty_symbol(base))
        if not subscript and not superscript:
            return head
        if not superscript:
            element = self.dom.createElement("msub")
            element.appendChild(head)
            element.appendChild(self._text("mn", subscript))
            return element
        element = self.dom.createElement("msubsup")
        element.appendChild(head)
        element.appendChild(self._text("mi", subscript))
        element.appendChild(self._text("mn", superscript))
        return element

    def _print_Symbol(self, sym: Symbol, style: str = "plain") -> object:
        key = self.placeholder(sym) if self.placeholder else None
        if key is not None:
            element = self._text("mn", "…")
            element.setAttribute("class", "q")
            element.setAttribute("data-q", key)
            return element
        parts = split_name(sym.name)
        if parts is None:
            return self._text("mi", pretty_symbol(sym.name))
        base, indices = parts
        return self._name(base, ",".join(indices))

    def _print_Indexed(self, e: Indexed) -> object:
        base, layer, indices = indexed_parts(e)
        return self._name(base, ",".join(indices), layer)

    def _print_Function(self, e: Expr) -> object:
        entry = entry_of(e)
        if entry is None:
            return super()._print_Function(e)
        mrow = self.dom.createElement("mrow")
        mrow.appendChild(self._text("mi", entry.unicode))
        mrow.appendChild(self._paren_comma_separated(*e.args))
        return mrow

    def _print_logsumexp(self, e: Expr) -> object:
        mrow = self.dom.createElement("mrow")
        mrow.appendChild(self._text("mi", "LSE"))
        mrow.appendChild(self._paren_comma_separated(*e.args))
        return mrow


def _partial(printer: FormulaMathML, wrt: Symbol | Indexed) -> str:
    frac = printer.dom.createElement("mfrac")
    top = printer.dom.createElement("mrow")
    top.appendChild(printer._text("mo", "∂"))
    top.appendChild(printer._text("mi", "L"))
    bottom = printer.dom.createElement("mrow")
    bottom.appendChild(printer._text("mo", "∂"))
    bottom.appendChild(printer._print(wrt))
    frac.appendChild(top)
    frac.appendChild(bottom)
    return frac.toxml()


def left_side(eq: Equation) -> str:
    """MathML (no <math> wrapper) of an equation's left side, e.g. δ = ∂L/∂z."""
    printer = FormulaMathML()
    sides = []
    if eq.symbol is not None:
        sides.append(printer._print(eq.symbol).toxml())
    if eq.wrt is not None:
        sides.append(_partial(printer, eq.wrt))
    if not sides:
        sides.append(printer._text("mi", eq.lhs).toxml())
    return "<mo>=</mo>".join(sides)


def expression(
    expr: Expr, placeholder: Callable[[Symbol], str | None] | None = None
) -> str:
    """MathML (no <math> wrapper) of an expression."""
    return FormulaMathML(placeholder)._print(expr).toxml()


def math(content: str, display: bool = False) -> str:
    """`content` in a <math> element."""
    mode = ' display="block"' if display else ""
    return f'<math xmlns="{MATH_NAMESPACE}"{mode}>{content}</math>'


def equation(eq: Equation) -> str:
    """One equation as a <math> element."""
    return math(f"<mrow>{left_side(eq)}<mo>=</mo>{expression(eq.rhs)}</mrow>")


def derivation_html(derivation: Derivation) -> str:
    """A derivation as HTML: a heading per section and one MathML line an equation."""
    parts = [f"<h3>{escape(derivation.title)}</h3>"]
    for heading, equations in derivation.sections():
        heading = heading.replace("delta = dL/dz", "δ = ∂L/∂z")
        parts.append(f"<h4>{escape(heading)}</h4>")
        parts += [f"<div>{equation(eq)}</div>" for eq in equations]
    return "\n".join(parts)
