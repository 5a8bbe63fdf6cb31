"""The derivative formulas as people read them: chain-rule form and expanded form."""

from __future__ import annotations

from dataclasses import dataclass

import sympy
from sympy import Expr, Symbol

from nnsym.errors import UsageError
from nnsym.gradients import Gradients
from nnsym.model import LOSS_SYMBOL
from nnsym.spec import format_arch

# Beyond this many parameters the expanded gradients run to pages.
MAX_EXPANDED_PARAMS = 25


@dataclass(frozen=True)
class Equation:
    """`lhs = rhs`, with an optional middle name (e.g. delta1_0 = dL/dz1_0 = ...)."""

    lhs: str
    rhs: Expr
    meaning: str = ""


@dataclass(frozen=True)
class Derivation:
    """Everything the formulas show, as data, for any output format."""

    title: str
    forward: tuple[Equation, ...]
    loss: Equation
    backward: tuple[Equation, ...]
    gradients: tuple[Equation, ...]
    expanded: tuple[Equation, ...] = ()


def derive(gradients: Gradients, expanded: bool = False) -> Derivation:
    """Collect the forward pass, deltas and gradients as equations."""
    network = gradients.network
    spec = network.spec
    title = (
        f"Network {format_arch(spec.arch)}, activations "
        f"{', '.join(spec.activations)}, loss {spec.loss}"
    )
    forward = []
    for layer in network.layers:
        forward += [Equation(z.name, e) for z, e in zip(layer.z, layer.z_exprs)]
        forward += [
            Equation(a.name, e) for a, e in zip(layer.a, layer.a_exprs) if e != a
        ]
    backward = tuple(
        Equation(delta.name, expr, f"dL/d{_z_name(delta)}")
        for delta, expr in gradients.deltas
    )
    grads = tuple(Equation(f"dL/d{p.name}", e) for p, e in gradients.grads)
    expanded_eqs: tuple[Equation, ...] = ()
    if expanded:
        expanded_eqs = tuple(
            Equation(f"dL/d{p.name}", e) for p, e in expand_gradients(gradients)
        )
    return Derivation(
        title,
        tuple(forward),
        Equation(LOSS_SYMBOL.name, network.loss),
        backward,
        grads,
        expanded_eqs,
    )


def _z_name(delta: Symbol) -> str:
    return "z" + delta.name[len("delta") :]


def expand_gradients(gradients: Gradients) -> list[tuple[Symbol, Expr]]:
    """Each gradient written out in inputs, targets and parameters only."""
    network = gradients.network
    if network.spec.n_params > MAX_EXPANDED_PARAMS:
        raise UsageError(
            f"--expanded is for networks of at most {MAX_EXPANDED_PARAMS} "
            f"parameters; this one has {network.spec.n_params}, whose expanded "
            "gradients would run to pages (the chain-rule form is shown instead)"
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
