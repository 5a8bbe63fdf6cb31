"""The layer form: each layer's statements as SymPy expressions over a generic neuron.

Every neuron of a layer computes the same thing up to renaming, so the loop form
of the generated module needs each layer's formulas once, over generic symbols
(z, a, y, the upstream gradient g), not once per neuron. They are derived here
by the same symbolic differentiation the unrolled form uses
(`gradients.local_derivatives` for the activation's derivative, `sympy.diff`
of the loss for the output delta), never typed in, so any activation or loss
the model knows comes with its derivative. The description is target-neutral:
a template prints it (`templates/module_loops.py.jinja` through
`ModulePrinter`), and a printer for another language can print the same.

What is not per neuron is a reduction over a layer: the log-sum-exp of a
softmax, and in the output delta of a softmax a sum over its neurons (for the
cross-entropy, the sum of the targets). The output delta is found as
P(own neuron) + Q(own neuron) * sum_k h(neuron k), and the decomposition is
checked symbolically before it is used.

What the code evaluates (`evaluated=True`, the default) differs from the formulas
shown per layer in one place, a softmax, for precision in the tails: lse is
split as top + lp (top the largest z, lp = log1p of the sum of exp(z_k - top)
over the other outputs), and each neuron reads its gap = top - z >= 0. Then
a = exp(-gap - lp) (exp(z - lse) would round lse to the size of z first, an
error of |z| eps in every output), the ce loss term is y (gap + lp) (a sum of
two non-negative numbers, never lse - z, which rounds a tiny loss to 0), and in
the ce delta the 1 of sum(a) = 1 is written as a + (1 - a), with 1 - a as
-expm1(-gap - lp) (a * sum(y) - y forms y (a - 1), all its digits lost as a
nears 1). Each rewriting is checked symbolically against the formula.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sympy
from sympy import Expr, Symbol
from sympy.codegen.cfunctions import expm1

from nnsym.pipeline.functions import logsumexp
from nnsym.pipeline.gradients import local_derivatives
from nnsym.pipeline.model import Layer, activate, build_network, loss_expression
from nnsym.pipeline.spec import Spec, make_spec

# The generic neuron: pre-activation, activation, target, upstream dL/da.
Z = Symbol("z", real=True)
A = Symbol("a", real=True)
Y = Symbol("y", real=True)
G = Symbol("g", real=True)
LSE = Symbol("lse", real=True)
# A softmax layer's log-sum-exp as TOP + LP, and a neuron's GAP = TOP - z (above).
TOP = Symbol("top", real=True)
LP = Symbol("lp", real=True)
GAP = Symbol("gap", nonnegative=True)
# The sum of the other outputs of a softmax, 1 - a.
OTHERS = Symbol("others", real=True)
SPLIT = {LSE: TOP + LP, Z: TOP - GAP}


class LoopFormError(ValueError):
    """A network whose per-neuron formulas do not fit the generic neuron."""


@dataclass(frozen=True)
class Reduction:
    """`symbol = sum over the layer's neurons of term` (term over a, z, y)."""

    symbol: Symbol
    term: Expr


@dataclass(frozen=True)
class LayerStatements:
    """One layer: z_j = sum_i w_ji a_i + b_j, a_j = activation, and its delta."""

    index: int
    n_in: int
    n_out: int
    activation: str
    # a in terms of z (and of the log-sum-exp LSE for a softmax).
    activation_expr: Expr
    softmax: bool
    # delta = dL/dz of a hidden layer in terms of G = dL/da, a and z; None for
    # the output layer, whose delta comes from the loss.
    delta_expr: Expr | None


@dataclass(frozen=True)
class LoopProgram:
    """Everything the loop form computes, per layer and per generic neuron."""

    spec: Spec
    layers: tuple[LayerStatements, ...]
    # The per-sample loss: scale * sum over the outputs of loss_term.
    loss_term: Expr
    loss_scale: Expr
    # The output layer's delta: reductions first, then delta over a, z, y.
    output_reductions: tuple[Reduction, ...]
    output_delta: Expr


def _probe_spec(spec: Spec, n_out: int) -> Spec:
    # A one-layer network with the output layer's activation and the loss.
    return make_spec(
        (1, n_out),
        activation=_choice(spec, spec.activation),
        output_activation=_choice(spec, spec.output_activation),
        loss=spec.loss,
        name="probe",
    )


def _choice(spec: Spec, activation: str) -> str:
    # The option that gives `activation`: a user-defined one as 'name=expr'.
    definitions = dict(spec.custom)
    if activation in definitions:
        return f"{activation}={definitions[activation]}"
    return activation


def _activation_expr(activation: str) -> tuple[Expr, bool]:
    """a over the generic z (softmax: over z and LSE, the layer's log-sum-exp)."""
    if activation == "softmax":
        # Three neurons: the sum over the others shows its shape.
        z = sympy.symbols("z0:3", real=True)
        first, *_ = activate("softmax", z)
        generic = first.xreplace({logsumexp(*z): LSE}).xreplace({z[0]: Z})
        if generic.free_symbols - {Z, LSE}:
            raise LoopFormError("softmax is not a function of z and its log-sum-exp")
        return generic, True
    (expr,) = activate(activation, (Z,))
    return expr, False


def _hidden_delta(layer: Layer) -> Expr:
    """dL/dz = dL/da * da/dz of one generic neuron of an elementwise layer."""
    local = local_derivatives(layer)
    if local.da_dz is None:
        raise LoopFormError(
            f"layer {layer.index} ({layer.activation}) mixes its neurons; only the "
            "output layer may"
        )
    # The linear part must be what the loops compute: d(w s)/ds = w,
    # d(w s)/dw = s, dz/db = 1.
    if (
        local.dterm_dsource != local.weight
        or local.dterm_dweight != local.source
        or local.dz_dbias != 1
    ):
        raise LoopFormError("the layer is not z = W a + b")
    return G * local.rename(local.da_dz, z=Z, a=A)


def _own(layer: Layer, targets: tuple[Symbol, ...], k: int) -> dict[Symbol, int]:
    return {layer.a[k]: k, layer.z[k]: k, targets[k]: k}


def _generic(layer: Layer, targets: tuple[Symbol, ...], k: int) -> dict[Expr, Expr]:
    return {layer.a[k]: A, layer.z[k]: Z, targets[k]: Y}


def _rename(layer: Layer, targets: tuple[Symbol, ...], k: int, to: int) -> dict:
    return {
        layer.a[k]: layer.a[to],
        layer.z[k]: layer.z[to],
        targets[k]: targets[to],
    }


def _output_delta(spec: Spec) -> tuple[tuple[Reduction, ...], Expr]:
    """The output delta as P(own) + Q(own) * sum_k h(k), derived and checked."""
    # The real output size: a mean over the outputs (mse) depends on it.
    n_out = spec.arch[-1]
    network = build_network(_probe_spec(spec, n_out), evaluated=False)
    out = network.layers[-1]
    targets = network.targets
    own_map = dict(zip(out.a_exprs, out.a))
    delta = sympy.diff(network.loss_on_z, out.z[0]).xreplace(own_map)
    owners = {symbol: k for k in range(n_out) for symbol in _own(out, targets, k)}
    others = {s for s in delta.free_symbols if owners.get(s, 0) != 0}
    if not others:
        if delta.free_symbols - set(_own(out, targets, 0)):
            raise LoopFormError("the output delta depends on more than its neuron")
        return (), delta.xreplace(_generic(out, targets, 0))
    # The part that involves neuron 1 is Q(own) * h(1); with it, h of every k.
    expanded = sympy.expand(delta)
    part = sympy.Add(
        *(
            term
            for term in sympy.Add.make_args(expanded)
            if any(owners.get(s) == 1 for s in term.free_symbols)
        )
    )
    neuron1 = set(_own(out, targets, 1))
    q, h1 = sympy.factor(part).as_independent(*neuron1, as_Add=False)
    terms = [h1.xreplace(_rename(out, targets, 1, k)) for k in range(n_out)]
    p = sympy.factor(sympy.expand(delta - q * sympy.Add(*terms)))
    r = Symbol("r", real=True)
    if (p.free_symbols | q.free_symbols) - set(_own(out, targets, 0)) or sympy.expand(
        p + q * sympy.Add(*terms) - delta
    ) != 0:
        raise LoopFormError("the output delta is not a sum over the output layer")
    own0 = _generic(out, targets, 0)
    term = h1.xreplace(_generic(out, targets, 1))
    return (Reduction(r, term),), (p + q * r).xreplace(own0)


def _loss_terms(spec: Spec) -> tuple[Expr, Expr]:
    """(scale, term): the loss is scale * the sum over the outputs of term."""
    z = sympy.symbols(f"z0:{spec.arch[-1]}", real=True)
    a = sympy.symbols(f"a0:{spec.arch[-1]}", real=True)
    y = sympy.symbols(f"y0:{spec.arch[-1]}", real=True)
    full = loss_expression(spec.loss, z, a, y).xreplace({logsumexp(*z): LSE})
    scale, total = full.as_coeff_Mul()
    generic = {a[0]: A, z[0]: Z, y[0]: Y}
    own = {a[0], z[0], y[0]}
    term = sympy.Add(*(t for t in sympy.Add.make_args(total) if t.free_symbols & own))
    rebuilt = sympy.Add(
        *(term.xreplace({a[0]: a[k], z[0]: z[k], y[0]: y[k]}) for k in range(len(z)))
    )
    if sympy.expand(scale * rebuilt - full) != 0:
        raise LoopFormError("the loss is not a sum over the outputs")
    return scale, term.xreplace(generic)


def output_slope(spec: Spec) -> Expr | None:
    """da/dz of the output activation over the generic z and a; None for a softmax."""
    if spec.output_activation == "softmax":
        return None
    choice = _choice(spec, spec.output_activation)
    probe = build_network(
        make_spec((1, 1), activation=choice, output_activation=choice, name="probe")
    )
    return sympy.sympify(_hidden_delta(probe.layers[0]).xreplace({G: 1}))


def _split(expr: Expr) -> Expr:
    """`expr` over GAP and LP instead of z and LSE (a softmax layer's values)."""
    split = expr.xreplace(SPLIT)
    if TOP in split.free_symbols:
        raise LoopFormError("a softmax expression depends on more than z - lse")
    return split


def _without_cancellation(delta: Expr, activation: Expr) -> Expr:
    """A softmax output delta with its constant terms times a + (1 - a).

    ce's a * sum(y) - y becomes a (sum(y) - y) - y (1 - a), and 1 - a is
    -expm1(-gap - lp): no digit lost where a nears 1 (see the module's text).
    """
    terms = sympy.Add.make_args(sympy.expand(delta))
    rewritten = sympy.Add(
        *(t if A in t.free_symbols else t * (A + OTHERS) for t in terms)
    )
    collected = sympy.collect(sympy.expand(rewritten), [A, OTHERS])
    exponent = _split(activation)
    if exponent.func is not sympy.exp:
        raise LoopFormError("a softmax output that is not an exponential")
    result = collected.xreplace({OTHERS: -expm1(exponent.args[0])})
    exact = collected.xreplace({OTHERS: 1 - A})
    if sympy.expand(exact - delta) != 0:
        raise LoopFormError("the softmax delta's rewriting changed it")
    return _split(result)


def build_loop_program(spec: Spec, evaluated: bool = True) -> LoopProgram:
    """Derive every layer's statements of `spec`'s network over a generic neuron.

    With `evaluated` False, the formulas as shown per layer; else as the code
    evaluates them, where they differ (a softmax: see the module's text).
    """
    layers = []
    for index, (n_in, n_out) in enumerate(zip(spec.arch, spec.arch[1:]), start=1):
        activation = spec.activations[index - 1]
        expr, softmax = _activation_expr(activation)
        delta = None
        if index < spec.n_layers:
            probe = build_network(
                make_spec((1, 1), activation=_choice(spec, activation), name="probe")
            )
            delta = _hidden_delta(probe.layers[0])
        layers.append(
            LayerStatements(index, n_in, n_out, activation, expr, softmax, delta)
        )
    scale, term = _loss_terms(spec)
    reductions, delta = _output_delta(spec)
    out = layers[-1]
    if evaluated and out.softmax:
        delta = _without_cancellation(delta, out.activation_expr)
        term = _split(term)
        layers[-1] = replace(out, activation_expr=_split(out.activation_expr))
    return LoopProgram(spec, tuple(layers), term, scale, reductions, delta)
