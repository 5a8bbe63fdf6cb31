"""The derivative formulas as people read them: chain-rule form and expanded form.

One `Derivation` (data) prints in four formats: plain text (`format_text`, also
the generated modules' docstrings), Unicode through SymPy's pretty printer,
LaTeX through SymPy's LaTeX printer, and Markdown with LaTeX in `$$` blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy
from sympy import Expr, Indexed, Symbol
from sympy.printing.latex import LatexPrinter
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.pretty.pretty_symbology import pretty_symbol, sub, sup
from sympy.printing.pretty.stringpict import prettyForm

from nnsym.errors import UsageError
from nnsym.explain.limits import FORMULA_FORMATS, MAX_EXPANDED_PARAMS
from nnsym.explain.names import INDEXED_NAME, indexed_parts, split_name
from nnsym.pipeline.functions import (
    X,
    definition_of,
    derivative_of,
    entry_of,
    function_of,
)
from nnsym.pipeline.gradients import Gradients, delta_symbol
from nnsym.pipeline.model import LOSS_SYMBOL

# Beyond this many parameters the expanded gradients run to pages.


FORMATS = FORMULA_FORMATS

ACTIVATIONS_HEADING = "User-defined activations (by SymPy)"


@dataclass(frozen=True)
class Equation:
    """`lhs = rhs`, with an optional middle name (e.g. delta1_0 = dL/dz1_0 = ...).

    `symbol` is the quantity the equation defines (z1_0, delta1_0, L), and
    `wrt` the variable when the left side is a derivative dL/d(wrt); the
    Unicode and LaTeX formats typeset the left side from them. In the layer
    formulas both are indexed (z1[j], w1[j, i]).
    """

    lhs: str
    rhs: Expr
    meaning: str = ""
    symbol: Symbol | Indexed | None = None
    wrt: Symbol | Indexed | None = None

    def _repr_latex_(self) -> str:
        return "$$%s$$" % latex_equation(self, aligned=False)

    def _repr_html_(self) -> str:
        # Notebooks render MathML natively; LaTeX is the fallback above.
        from nnsym.explain.mathml import equation

        return equation(self)


@dataclass(frozen=True)
class Derivation:
    """Everything the formulas show, as data, for any output format."""

    title: str
    forward: tuple[Equation, ...]
    loss: Equation
    backward: tuple[Equation, ...]
    gradients: tuple[Equation, ...]
    expanded: tuple[Equation, ...] = ()
    # User-defined activations: each one's definition, then its derivative.
    activations: tuple[Equation, ...] = ()

    def sections(self) -> list[tuple[str, tuple[Equation, ...]]]:
        """(heading, equations) in reading order, empty sections left out."""
        parts = [
            (ACTIVATIONS_HEADING, self.activations),
            ("Forward pass", self.forward + (self.loss,)),
            ("Backward pass (chain rule; delta = dL/dz)", self.backward),
            ("Gradients", self.gradients),
            ("Gradients written out in inputs, targets and parameters", self.expanded),
        ]
        return [(heading, eqs) for heading, eqs in parts if eqs]

    def _repr_latex_(self) -> str:
        # Jupyter renders this; one aligned block keeps the equals signs lined up.
        rows = []
        for heading, equations in self.sections():
            rows.append(r"&\text{%s}" % _latex_text(heading))
            rows += [latex_equation(eq) for eq in equations]
        return "$$\\begin{aligned}\n%s\n\\end{aligned}$$" % " \\\\\n".join(rows)

    def _repr_html_(self) -> str:
        # The same sections as MathML, which notebooks and browsers render.
        from nnsym.explain.mathml import derivation_html

        return derivation_html(self)


def derive(gradients: Gradients, expanded: bool = False) -> Derivation:
    """Collect the forward pass, deltas and gradients as equations."""
    network = gradients.network
    forward = []
    for layer in network.layers:
        forward += [
            Equation(z.name, e, symbol=z) for z, e in zip(layer.z, layer.z_exprs)
        ]
        forward += [
            Equation(a.name, e, symbol=a)
            for a, e in zip(layer.a, layer.a_exprs)
            if e != a
        ]
    z_of_delta = {
        delta_symbol(layer, j): z
        for layer in network.layers
        for j, z in enumerate(layer.z)
    }
    backward = tuple(
        Equation(
            delta.name,
            expr,
            f"dL/d{z_of_delta[delta].name}",
            symbol=delta,
            wrt=z_of_delta[delta],
        )
        for delta, expr in gradients.deltas
    )
    grads = tuple(Equation(f"dL/d{p.name}", e, wrt=p) for p, e in gradients.grads)
    expanded_eqs: tuple[Equation, ...] = ()
    if expanded:
        expanded_eqs = tuple(
            Equation(f"dL/d{p.name}", e, wrt=p) for p, e in expand_gradients(gradients)
        )
    return Derivation(
        network.spec.title,
        tuple(forward),
        Equation(LOSS_SYMBOL.name, network.loss, symbol=LOSS_SYMBOL),
        backward,
        grads,
        expanded_eqs,
        custom_activation_equations(network.spec.custom),
    )


def custom_activation_equations(
    custom: tuple[tuple[str, str], ...],
) -> tuple[Equation, ...]:
    """`f(x) = definition` and `f'(x) = derivative` of each user-defined activation."""
    equations: list[Equation] = []
    for name, _ in custom:
        entry = entry_of(function_of(name))
        equations.append(Equation(f"{name}(x)", definition_of(entry, X)))
        equations.append(Equation(f"{name}'(x)", derivative_of(entry, X)))
    return tuple(equations)


def expand_gradients(gradients: Gradients) -> list[tuple[Symbol, Expr]]:
    """Each gradient written out in inputs, targets and parameters only."""
    network = gradients.network
    if network.spec.n_params > MAX_EXPANDED_PARAMS:
        raise UsageError(
            f"--expanded is for networks of at most {MAX_EXPANDED_PARAMS} "
            f"parameters; this one has {network.spec.n_params}, whose expanded "
            "gradients would run to pages; leave out --expanded for the chain-rule "
            "form, which is exact and short"
        )
    definitions: dict[Expr, Expr] = dict(gradients.deltas)
    for layer in network.layers:
        definitions.update(zip(layer.a, layer.a_exprs))
        definitions.update(zip(layer.z, layer.z_exprs))
    result = []
    for param, expr in gradients.grads:
        # Each pass replaces one level of intermediates; depth is bounded by
        # three per layer (delta -> a -> z).
        while expr.free_symbols & definitions.keys():
            expr = expr.xreplace(definitions)
        result.append((param, expr))
    return result


def format_text(derivation: Derivation, title: bool = True) -> str:
    """Plain-text formulas, one equation a line, readable in any terminal."""
    lines = [derivation.title, ""] if title else []
    if derivation.activations:
        lines.append(ACTIVATIONS_HEADING + ":")
        lines += [_text_line(eq) for eq in derivation.activations]
        lines.append("")
    lines.append("Forward pass:")
    lines += [_text_line(eq) for eq in derivation.forward]
    lines += [_text_line(derivation.loss), ""]
    lines.append("Backward pass (chain rule; delta = dL/dz):")
    lines += [_text_line(eq) for eq in derivation.backward]
    lines += ["", "Gradients:"]
    lines += [_text_line(eq) for eq in derivation.gradients]
    if derivation.expanded:
        lines += ["", "Gradients written out in inputs, targets and parameters:"]
        lines += [_text_line(eq) for eq in derivation.expanded]
    return "\n".join(lines) + "\n"


def _text_line(eq: Equation) -> str:
    middle = f" = {eq.meaning}" if eq.meaning else ""
    return f"  {eq.lhs}{middle} = {sympy.sstr(eq.rhs)}"


def parameter_names(derivation: Derivation) -> list[str]:
    """Names of the parameters whose gradients the derivation shows."""
    return [eq.wrt.name for eq in derivation.gradients if eq.wrt is not None]


def select_parameter(derivation: Derivation, name: str) -> Derivation:
    """Only what the gradient of one parameter needs: its deltas and forward pass."""
    chosen = [eq for eq in derivation.gradients if eq.wrt is not None]
    chosen = [eq for eq in chosen if eq.wrt.name == name]
    if not chosen:
        valid = parameter_names(derivation)
        shown = ", ".join(valid[:8]) + (", ..." if len(valid) > 8 else "")
        raise UsageError(
            f"--param {name!r} is not a parameter of this network (its "
            f"parameters: {shown}); run without --param to see every gradient"
        )
    definitions = {
        eq.symbol: eq.rhs
        for eq in derivation.forward + derivation.backward
        if eq.symbol is not None
    }
    # Everything the gradient depends on, through deltas, activations and z.
    needed: set[Symbol] = set()
    pending = list(chosen[0].rhs.free_symbols)
    while pending:
        symbol = pending.pop()
        if symbol in needed:
            continue
        needed.add(symbol)
        if symbol in definitions:
            pending += definitions[symbol].free_symbols
    return Derivation(
        f"{derivation.title}; gradient for {name}",
        tuple(eq for eq in derivation.forward if eq.symbol in needed),
        derivation.loss,
        tuple(eq for eq in derivation.backward if eq.symbol in needed),
        tuple(chosen),
        tuple(eq for eq in derivation.expanded if eq.wrt == chosen[0].wrt),
        derivation.activations,
    )


# Names and their indices (w1_0_1: w with subscripts 1,0,1): nnsym.explain.names.
_INDEXED_NAME = INDEXED_NAME
_split_name = split_name


def latex_name(name: str) -> str:
    """LaTeX for one of our symbol names: `delta1_0` -> `\\delta_{1,0}`."""
    parts = _split_name(name)
    if parts is None:
        return sympy.latex(Symbol(name))
    base, indices = parts
    return "%s_{%s}" % (sympy.latex(Symbol(base)), ",".join(indices))


def unicode_name(name: str) -> str:
    """Unicode for one of our symbol names: `delta1_0` -> `δ₁,₀`."""
    parts = _split_name(name)
    if parts is None:
        return pretty_symbol(name)
    base, indices = parts
    subscripts = ",".join("".join(sub[digit] for digit in index) for index in indices)
    return pretty_symbol(base) + subscripts


# Index letters of the layer formulas that Unicode has subscripts for.
_SUBSCRIPT_LETTERS = {"i": "ᵢ", "j": "ⱼ", "k": "ₖ", "m": "ₘ"}


_indexed_parts = indexed_parts


def latex_indexed(expr: Indexed) -> str:
    """LaTeX of an indexed name, layer as a superscript: `w^{1}_{j,i}`."""
    base, layer, indices = _indexed_parts(expr)
    head = sympy.latex(Symbol(base)) + (f"^{{{layer}}}" if layer else "")
    return "%s_{%s}" % (head, ",".join(indices))


def unicode_indexed(expr: Indexed) -> str:
    """Unicode of an indexed name, layer as a superscript: `w¹ⱼ,ᵢ`."""
    base, layer, indices = _indexed_parts(expr)
    head = pretty_symbol(base) + "".join(sup[digit] for digit in layer)
    if all(index in _SUBSCRIPT_LETTERS for index in indices):
        return head + ",".join(_SUBSCRIPT_LETTERS[index] for index in indices)
    return head + "[%s]" % ",".join(indices)


class UnicodePrinter(PrettyPrinter):
    """SymPy's pretty printer with our subscripts and the usual function symbols."""

    def __init__(self) -> None:
        super().__init__({"use_unicode": True, "wrap_line": False})

    def _print_Symbol(self, e: Symbol, bold_name: bool = False) -> prettyForm:
        return prettyForm(unicode_name(e.name))

    def _print_Function(
        self, e: Expr, sort: bool = False, func_name: str | None = None, **kwargs
    ) -> prettyForm:
        # A table function by its symbol (σ for sigmoid).
        entry = entry_of(e)
        if func_name is None and entry is not None:
            func_name = entry.unicode
        return super()._print_Function(e, sort=sort, func_name=func_name, **kwargs)

    def _print_Indexed(self, e: Indexed) -> prettyForm:
        return prettyForm(unicode_indexed(e))

    def _print_logsumexp(self, e: Expr) -> prettyForm:
        return self._print_Function(e, func_name="LSE")


class _LatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer with the layer formulas' indexed names."""

    def _print_Indexed(self, expr: Indexed) -> str:
        return latex_indexed(expr)


def latex_expression(expr: Expr) -> str:
    """An expression in LaTeX through SymPy's LaTeX printer, our names subscripted."""
    names = {
        symbol: latex_name(symbol.name)
        for symbol in expr.free_symbols
        if isinstance(symbol, Symbol)
    }
    return _LatexPrinter({"symbol_names": names}).doprint(expr)


def _name(symbol: Symbol | Indexed, style: str) -> str:
    if isinstance(symbol, Indexed):
        return latex_indexed(symbol) if style == "latex" else unicode_indexed(symbol)
    return latex_name(symbol.name) if style == "latex" else unicode_name(symbol.name)


def _partial(symbol: Symbol | Indexed, style: str) -> str:
    if style == "latex":
        return r"\frac{\partial L}{\partial %s}" % _name(symbol, style)
    return f"∂L/∂{_name(symbol, style)}"


def _left_side(eq: Equation, style: str) -> str:
    """The left side (and middle name) of an equation, up to the last '='."""
    sides = []
    if eq.symbol is not None:
        sides.append(_name(eq.symbol, style))
    if eq.wrt is not None:
        sides.append(_partial(eq.wrt, style))
    if not sides:
        sides.append(eq.lhs if style != "latex" else r"\text{%s}" % _latex_text(eq.lhs))
    return " = ".join(sides)


def latex_equation(eq: Equation, aligned: bool = True) -> str:
    """One equation in LaTeX; with `aligned`, an `&` before its last '='."""
    equals = "&=" if aligned else "="
    return f"{_left_side(eq, 'latex')} {equals} {latex_expression(eq.rhs)}"


def unicode_equation(eq: Equation) -> str:
    """One equation in Unicode, the left side on the baseline of the right."""
    printer = UnicodePrinter()
    left = prettyForm(_left_side(eq, "unicode") + " = ")
    right = printer._print(eq.rhs)
    return prettyForm(*left.right(right)).render(wrap_line=False)


def _heading(heading: str, style: str) -> str:
    """A section heading with 'delta = dL/dz' typeset for the format."""
    plain = "delta = dL/dz"
    if style == "unicode":
        return heading.replace(plain, "δ = ∂L/∂z")
    if style in ("latex", "markdown"):
        typeset = r"$\delta = \partial L / \partial z$"
        before, found, after = heading.partition(plain)
        if style == "markdown":
            return before + (typeset if found else "") + after
        return _latex_text(before) + (typeset if found else "") + _latex_text(after)
    return heading


def _latex_text(text: str) -> str:
    # Text placed inside \text{...}: escape what LaTeX would read as commands.
    for char in ("\\", "{", "}", "_", "%", "&", "#", "$"):
        text = text.replace(char, "\\" + char)
    return text


def latex_aligned(equations: tuple[Equation, ...]) -> str:
    """Equations in an `aligned` block, their equals signs in one column."""
    rows = " \\\\\n".join(latex_equation(eq) for eq in equations)
    return "\\begin{aligned}\n%s\n\\end{aligned}" % rows


def format_unicode(derivation: Derivation, title: bool = True) -> str:
    """The formulas typeset in Unicode by SymPy's pretty printer (∂, σ, subscripts)."""
    lines = [derivation.title, ""] if title else []
    for heading, equations in derivation.sections():
        lines.append(_heading(heading, "unicode") + ":")
        for eq in equations:
            lines += ["  " + row.rstrip() for row in unicode_equation(eq).split("\n")]
        lines.append("")
    return "\n".join(lines[:-1]) + "\n"


def format_latex(derivation: Derivation) -> str:
    """A standalone LaTeX document (amsmath) with every section of the formulas."""
    parts = [
        "\\documentclass{article}",
        "\\usepackage{amsmath}",
        "\\allowdisplaybreaks",
        "\\begin{document}",
        "\\section*{%s}" % _latex_text(derivation.title),
    ]
    for heading, equations in derivation.sections():
        parts.append("\\subsection*{%s}" % _heading(heading, "latex"))
        parts.append("\\[\n%s\n\\]" % latex_aligned(equations))
    parts.append("\\end{document}")
    return "\n".join(parts) + "\n"


def format_markdown(derivation: Derivation) -> str:
    """Markdown: a heading per section and its LaTeX in a `$$` block."""
    parts = [f"## {derivation.title}"]
    for heading, equations in derivation.sections():
        parts.append(f"### {_heading(heading, 'markdown')}")
        parts.append("$$\n%s\n$$" % latex_aligned(equations))
    return "\n\n".join(parts) + "\n"


def format_derivation(derivation: Derivation, style: str = "text") -> str:
    """The formulas in one of FORMATS."""
    formatters = {
        "text": format_text,
        "unicode": format_unicode,
        "latex": format_latex,
        "markdown": format_markdown,
    }
    if style not in formatters:
        raise UsageError(f"--format {style!r} is not one of: {', '.join(FORMATS)}")
    return formatters[style](derivation)
