"""The table of primitives: every activation and loss building block, once.

Each entry is the function's math as SymPy text in `x`, written in a form that
is safe to evaluate in floating point for every finite `x` (no overflow, no
cancellation), and its derivative in terms of `x` and `y`, the function's own
value (so sigmoid' = y*(1 - y) reuses the forward value), or None to let SymPy
differentiate the definition. Everything else is derived from the entry:

- `nnsym.pipeline.functions` turns each entry into a SymPy function whose
  `fdiff` is the derivative;
- every target's printer (Python, C, JavaScript) prints the definition, inline
  where the entry says it is cheap and its argument is a plain name, else as a
  helper function of the generated file printed from the same definition;
- the formulas, the computation graph, the finite-difference check and the
  PyTorch reference read the names, symbols and `torch` text from here.

Adding an activation is one entry. This module is standard library only, so
that reading a weights file or a request never loads SymPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# leaky_relu's slope for negative inputs: SymPy text (an exact rational) and its
# value, from one pair of numbers.
_LEAKY_NUMERATOR, _LEAKY_DENOMINATOR = 1, 100
LEAKY_SLOPE = f"{_LEAKY_NUMERATOR}/{_LEAKY_DENOMINATOR}"
LEAKY_SLOPE_VALUE = _LEAKY_NUMERATOR / _LEAKY_DENOMINATOR

# What an entry is for: an activation of any layer, or a building block that
# appears only inside derivatives and losses.
ACTIVATION = "activation"
HELPER = "helper"


@dataclass(frozen=True)
class Primitive:
    """One scalar function of one variable `x`, with its derivative."""

    name: str
    # SymPy text in x, numerically safe for every finite x.
    definition: str
    # SymPy text in x and y = f(x); None: SymPy differentiates the definition.
    derivative: str | None
    role: str
    # Printed inline (no call) when the argument is a plain name: only for
    # definitions cheap enough that a call would cost more than the work.
    inline: bool
    # How the formulas show it.
    latex: str
    unicode: str
    # The same function in PyTorch, as Python text in `z`, `torch` and `F`
    # (torch.nn.functional): the independent reference of `nnsym check`.
    torch: str
    doc: str
    # The closed interval of the function's values (None: every number), so
    # that a target no output can reach is refused before training.
    outputs: tuple[float, float] | None = None


PRIMITIVES: dict[str, Primitive] = {
    p.name: p
    for p in (
        Primitive(
            "sigmoid",
            # One exp, never of more than 709 (exp(709) < 1.8e308): no overflow.
            # 1/(1 + exp(-x)) keeps its relative precision in the lower tail
            # (sigmoid(-40) = 4.2e-18); below -709, 1 + exp(x) rounds to 1, so
            # exp(x) is the value to double precision.
            "Piecewise((1/(1 + exp(-x)), x >= -709), (exp(x), True))",
            "y*(1 - y)",
            ACTIVATION,
            # One exp and a comparison: cheaper inline than a call (in CPython,
            # a call makes XOR training about 10% slower).
            inline=True,
            latex=r"\sigma",
            unicode="σ",
            torch="torch.sigmoid(z)",
            doc="logistic function 1/(1 + exp(-x))",
            outputs=(0.0, 1.0),
        ),
        Primitive(
            "tanh",
            "tanh(x)",
            "1 - y**2",
            ACTIVATION,
            inline=True,
            latex=r"\tanh",
            unicode="tanh",
            torch="torch.tanh(z)",
            doc="hyperbolic tangent",
            outputs=(-1.0, 1.0),
        ),
        Primitive(
            "relu",
            "Piecewise((x, x > 0), (0, True))",
            "step(x)",
            ACTIVATION,
            inline=True,
            latex=r"\operatorname{relu}",
            unicode="relu",
            torch="torch.relu(z)",
            doc="max(x, 0)",
            outputs=(0.0, math.inf),
        ),
        Primitive(
            "leaky_relu",
            f"Piecewise((x, x > 0), ({LEAKY_SLOPE}*x, True))",
            "leaky_step(x)",
            ACTIVATION,
            inline=True,
            latex=r"\operatorname{leaky\_relu}",
            unicode="leaky_relu",
            torch=f"F.leaky_relu(z, {LEAKY_SLOPE_VALUE!r})",
            doc=f"x for x > 0, else {LEAKY_SLOPE} x",
        ),
        Primitive(
            "identity",
            "x",
            "1",
            ACTIVATION,
            inline=True,
            latex=r"\operatorname{id}",
            unicode="id",
            torch="z",
            doc="x itself (a linear layer)",
        ),
        Primitive(
            "softplus",
            # log(1 + exp(x)) without overflow for large x, nor loss of
            # precision for very negative x.
            "Max(x, 0) + log1p(exp(-Abs(x)))",
            "sigmoid(x)",
            ACTIVATION,
            inline=False,
            latex=r"\operatorname{softplus}",
            unicode="softplus",
            torch="F.softplus(z)",
            doc="log(1 + exp(x)), a smooth relu; also the stable form of bce",
            outputs=(0.0, math.inf),
        ),
        Primitive(
            "swish",
            "x*sigmoid(x)",
            None,
            ACTIVATION,
            inline=False,
            latex=r"\operatorname{swish}",
            unicode="swish",
            torch="F.silu(z)",
            doc="x sigmoid(x) (SiLU)",
        ),
        Primitive(
            "gelu",
            # x (1 + tanh(u))/2 with u = sqrt(2/pi) (x + 0.044715 x**3), written
            # as x sigmoid(2u): 1 + tanh(u) cancels in the lower tail.
            "x*sigmoid(sqrt(8/pi)*(x + 0.044715*x**3))",
            None,
            ACTIVATION,
            inline=False,
            latex=r"\operatorname{gelu}",
            unicode="gelu",
            torch="F.gelu(z, approximate='tanh')",
            doc="Gaussian error linear unit, tanh approximation",
        ),
        Primitive(
            "elu",
            "Piecewise((x, x > 0), (expm1(x), True))",
            "Piecewise((1, x > 0), (y + 1, True))",
            ACTIVATION,
            inline=False,
            latex=r"\operatorname{elu}",
            unicode="elu",
            torch="F.elu(z)",
            doc="x for x > 0, else exp(x) - 1 (alpha 1)",
            outputs=(-1.0, math.inf),
        ),
        Primitive(
            "step",
            "Piecewise((1, x > 0), (0, True))",
            "0",
            HELPER,
            inline=True,
            latex=r"\operatorname{step}",
            unicode="step",
            torch="(z > 0).to(z.dtype)",
            doc="derivative of relu: 1 for x > 0, else 0 (0 at the kink, as PyTorch)",
        ),
        Primitive(
            "leaky_step",
            f"Piecewise((1, x > 0), ({LEAKY_SLOPE}, True))",
            "0",
            HELPER,
            inline=True,
            latex=r"\operatorname{leaky\_step}",
            unicode="leaky_step",
            torch=f"torch.where(z > 0, 1.0, {LEAKY_SLOPE_VALUE!r})",
            doc=f"derivative of leaky_relu: 1 for x > 0, else {LEAKY_SLOPE}",
        ),
    )
}

# Activations that mix a layer's neurons; not scalar functions, so not entries.
VECTOR_ACTIVATIONS = ("softmax",)

ACTIVATIONS = tuple(n for n, p in PRIMITIVES.items() if p.role == ACTIVATION)
OUTPUT_ACTIVATIONS = ACTIVATIONS + VECTOR_ACTIVATIONS
