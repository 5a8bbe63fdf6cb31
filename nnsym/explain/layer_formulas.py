"""The formulas in index notation: a few equations per layer, whatever its width.

    z1[j] = Sum(w1[j, i]*x[i], (i, 0, 1)) + b1[j]     (z^1_j = Σ_i w^1_ji x_i + b^1_j)
    a1[j] = sigmoid(z1[j])
    delta2[j] = dL/dz2[j] = ...                       (from the loss)
    delta1[i] = dL/dz1[i] = a1[i]*(1 - a1[i])*Sum(w2[j, i]*delta2[j], (j, 0, 0))
    dL/dw1[j, i] = delta1[j]*x[i];  dL/db1[j] = delta1[j]

Nothing here is typed in: each right side is the loop form's generic-neuron
expression (`nnsym.pipeline.loops`, derived by SymPy) with the generic symbols
replaced by indexed ones, and the sums come from the generic neuron's local
derivatives. The result is a `Derivation`, so that every format of
`nnsym.explain.formulas` prints it.
"""

from __future__ import annotations

import sympy
from sympy import Expr, IndexedBase, Sum

from nnsym.errors import UsageError
from nnsym.explain.formulas import Derivation, Equation, format_text
from nnsym.explain.limits import PER_PARAMETER_MAX_PARAMS
from nnsym.pipeline.functions import logsumexp
from nnsym.pipeline.gradients import local_derivatives
from nnsym.pipeline.loops import LSE, A, G, LoopProgram, Y, Z, build_loop_program
from nnsym.pipeline.model import LOSS_SYMBOL, build_network
from nnsym.pipeline.spec import Spec, has_layer_form, make_spec

# Indices: i over a layer's inputs, j over its neurons, k and m over the outputs.
I_, J_, K_, M_ = (sympy.Symbol(name, integer=True) for name in ("i", "j", "k", "m"))


def _base(name: str, layer: int | None = None) -> IndexedBase:
    return IndexedBase(name if layer is None else f"{name}{layer}", real=True)


def _activations(layer: int) -> IndexedBase:
    """a^l, with the inputs x as a^0."""
    return _base("x") if layer == 0 else _base("a", layer)


def _lse(z: IndexedBase, n: int) -> Expr:
    # The log-sum-exp over the layer, by its definition.
    return sympy.log(Sum(sympy.exp(z[M_]), (M_, 0, n - 1)))


def _index(expr: Expr, layer: int, n: int, at: sympy.Symbol) -> Expr:
    """A generic-neuron expression for neuron `at` of layer `layer` (n neurons)."""
    z, a = _base("z", layer), _base("a", layer)
    return expr.xreplace({Z: z[at], A: a[at], Y: _base("y")[at], LSE: _lse(z, n)})


def layer_derivation(program: LoopProgram) -> Derivation:
    """Forward pass, deltas and gradients of every layer in index notation."""
    spec = program.spec
    forward: list[Equation] = []
    backward: list[Equation] = []
    gradients: list[Equation] = []
    # The linear part's local derivatives, taken once on a generic neuron.
    local = local_derivatives(build_network(make_spec((1, 1), name="probe")).layers[0])
    n_layers = len(program.layers)
    for layer in program.layers:
        n, n_in, n_out = layer.index, layer.n_in, layer.n_out
        w, b, z, a = _base("w", n), _base("b", n), _base("z", n), _base("a", n)
        delta = _base("delta", n)
        source = _activations(n - 1)
        z_rhs = Sum(w[J_, I_] * source[I_], (I_, 0, n_in - 1)) + b[J_]
        forward.append(Equation(f"z{n}[j]", z_rhs, symbol=z[J_]))
        a_rhs = _index(layer.activation_expr, n, n_out, J_)
        forward.append(Equation(f"a{n}[j]", a_rhs, symbol=a[J_]))
        if n == n_layers:
            rhs = _index(program.output_delta, n, n_out, J_)
            for reduction in program.output_reductions:
                total = Sum(_index(reduction.term, n, n_out, K_), (K_, 0, n_out - 1))
                rhs = rhs.xreplace({reduction.symbol: total})
            own = J_
        else:
            above = program.layers[n]  # layer n + 1 (layers count from 1)
            w_up, delta_up = _base("w", n + 1), _base("delta", n + 1)
            # dL/da_i = sum over the neurons j above of d(w_ji a_i)/da_i delta_j.
            upstream = Sum(
                local.rename(local.dterm_dsource, weight=w_up[J_, I_], source=a[I_])
                * delta_up[J_],
                (J_, 0, above.n_out - 1),
            )
            assert layer.delta_expr is not None
            rhs = _index(layer.delta_expr, n, n_out, I_).xreplace({G: upstream})
            own = I_
        backward.append(
            Equation(
                f"delta{n}[{own}]",
                rhs,
                f"dL/dz{n}[{own}]",
                symbol=delta[own],
                wrt=z[own],
            )
        )
        dw = local.rename(local.dterm_dweight, weight=w[J_, I_], source=source[I_])
        db = local.rename(local.dz_dbias, bias=b[J_])
        gradients.append(Equation(f"dL/dw{n}[j, i]", dw * delta[J_], wrt=w[J_, I_]))
        gradients.append(Equation(f"dL/db{n}[j]", db * delta[J_], wrt=b[J_]))
    out = program.layers[-1]
    loss_rhs = program.loss_scale * Sum(
        _index(program.loss_term, out.index, out.n_out, K_), (K_, 0, out.n_out - 1)
    )
    return Derivation(
        f"{spec.title}; per layer, in index notation",
        tuple(forward),
        Equation(LOSS_SYMBOL.name, loss_rhs, symbol=LOSS_SYMBOL),
        tuple(reversed(backward)),
        tuple(gradients),
    )


def derive_layers(spec: Spec) -> Derivation:
    """`spec`'s formulas per layer in index notation (see `layer_derivation`)."""
    if not has_layer_form(spec.output_activation, spec.loss):
        raise UsageError(
            f"--layers: a softmax output under {spec.loss} has no per-layer "
            "formulas; leave out --layers to see them per parameter"
        )
    return layer_derivation(build_loop_program(spec, evaluated=False))


def format_layers_text(derivation: Derivation, title: bool = True) -> str:
    """Plain text of the layer formulas, with a line on how to read them."""
    text = format_text(derivation, title=title)
    note = (
        "Index notation: j runs over a layer's neurons, i over its inputs (the\n"
        "neurons of the layer below; x are the network's inputs), y are the targets.\n"
    )
    if title:
        head, _, rest = text.partition("\n\n")
        return f"{head}\n\n{note}\n{rest}"
    return f"{note}\n{text}"


def uses_layers_by_default(spec: Spec) -> bool:
    """True if `spec`'s network is large enough to show its formulas per layer."""
    if not has_layer_form(spec.output_activation, spec.loss):
        return False
    return spec.form == "loops" or spec.n_params > PER_PARAMETER_MAX_PARAMS


__all__ = [
    "PER_PARAMETER_MAX_PARAMS",
    "derive_layers",
    "format_layers_text",
    "layer_derivation",
    "logsumexp",
    "uses_layers_by_default",
]
