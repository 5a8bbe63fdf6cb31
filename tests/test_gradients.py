"""Generated gradients against two independent references.

1. Central finite differences of the generated `loss` (which shares no code path
   with the backward pass), for every activation and loss combination and several
   architectures, one with three hidden layers.
2. For small nets, `sympy.diff` of the fully inlined loss, built here from SymPy's
   own functions (not nnsym's), evaluated numerically.
"""

from __future__ import annotations

import math
import random

import pytest
import sympy

from nnsym.pipeline.spec import (
    HIDDEN_ACTIVATIONS,
    LOSSES,
    OUTPUT_ACTIVATIONS,
    make_spec,
)
from tests.helpers import central_difference, close, module_for


def valid_combinations():
    """Every (hidden, output, loss) triple that nnsym accepts."""
    for hidden in HIDDEN_ACTIVATIONS:
        for output in OUTPUT_ACTIVATIONS:
            for loss in LOSSES:
                if loss == "bce" and output != "sigmoid":
                    continue
                if loss == "ce" and output != "softmax":
                    continue
                yield hidden, output, loss


COMBINATIONS = list(valid_combinations())


def random_point(mod, seed):
    """Parameters, one input and a target suited to the module's loss."""
    rng = random.Random(seed)
    params = [rng.uniform(-1.0, 1.0) for _ in range(mod.N_PARAMS)]
    x = [rng.uniform(-2.0, 2.0) for _ in range(mod.N_INPUTS)]
    if mod.LOSS == "ce":
        y = [0.0] * mod.N_OUTPUTS
        y[rng.randrange(mod.N_OUTPUTS)] = 1.0
    elif mod.LOSS == "bce":
        y = [float(rng.random() < 0.5) for _ in range(mod.N_OUTPUTS)]
    else:
        y = [rng.uniform(-1.0, 1.0) for _ in range(mod.N_OUTPUTS)]
    return params, x, y


def assert_matches_finite_differences(mod, seed):
    params, x, y = random_point(mod, seed)
    value, grads = mod.loss_and_grad(params, x, y)
    assert value == pytest.approx(mod.loss(params, x, y), rel=1e-12, abs=1e-15)
    numeric = central_difference(mod, params, x, y, h=1e-5)
    bad = [
        (name, g, n)
        for name, g, n in zip(mod.PARAM_NAMES, grads, numeric)
        if not close(g, n, 1e-6)
    ]
    assert not bad, f"{mod.__name__} at seed {seed}: {bad}"


def test_there_are_many_combinations():
    # hidden activations x (outputs x {sse, mse} + bce + ce), from the table
    assert len(HIDDEN_ACTIVATIONS) >= 9
    assert len(COMBINATIONS) == len(HIDDEN_ACTIVATIONS) * (
        2 * len(OUTPUT_ACTIVATIONS) + 2
    )


@pytest.mark.parametrize("hidden,output,loss", COMBINATIONS)
def test_every_activation_and_loss_matches_finite_differences(hidden, output, loss):
    spec = make_spec("2-3-2", activation=hidden, output_activation=output, loss=loss)
    mod = module_for(spec)
    for seed in range(3):
        assert_matches_finite_differences(mod, seed)


@pytest.mark.parametrize(
    "arch,options",
    [
        ("2-1", {}),
        ("2-2-1", {}),
        ("3-4-4-1", {"activation": "tanh"}),
        ("4-8-3", {"loss": "ce"}),
        ("2-3-3-3-2", {"activation": "tanh", "loss": "mse"}),
        ("3-4-3-4-1", {"activation": "leaky_relu", "output_activation": "identity"}),
        ("5-2-2-2-3", {"loss": "ce", "activation": "sigmoid"}),
    ],
)
def test_architectures_match_finite_differences(arch, options):
    mod = module_for(make_spec(arch, **options))
    for seed in range(3):
        assert_matches_finite_differences(mod, seed)


# --- an independent derivation: SymPy's own functions, fully inlined ---------


def reference_activation(name, z):
    if name == "sigmoid":
        return 1 / (1 + sympy.exp(-z))
    if name == "tanh":
        return sympy.tanh(z)
    if name == "relu":
        return sympy.Piecewise((z, z > 0), (0, True))
    if name == "leaky_relu":
        return sympy.Piecewise((z, z > 0), (z / 100, True))
    if name == "identity":
        return z
    if name == "softplus":
        return sympy.log(1 + sympy.exp(z))
    if name == "swish":
        return z / (1 + sympy.exp(-z))
    if name == "gelu":
        inner = sympy.sqrt(2 / sympy.pi) * (z + sympy.Rational(44715, 10**6) * z**3)
        return z * (1 + sympy.tanh(inner)) / 2
    if name == "elu":
        return sympy.Piecewise((z, z > 0), (sympy.exp(z) - 1, True))
    raise AssertionError(name)


def reference_loss(spec, x, params, y):
    """The whole network and loss as one SymPy expression in x, params and y."""
    values = list(x)
    index = 0
    for layer, (n_in, n_out) in enumerate(zip(spec.arch, spec.arch[1:]), start=1):
        zs = []
        for _ in range(n_out):
            weights = params[index : index + n_in]
            bias = params[index + n_in]
            index += n_in + 1
            zs.append(sum(w * v for w, v in zip(weights, values)) + bias)
        name = spec.activations[layer - 1]
        if name == "softmax":
            total = sum(sympy.exp(z) for z in zs)
            values = [sympy.exp(z) / total for z in zs]
        else:
            values = [reference_activation(name, z) for z in zs]
    if spec.loss == "sse":
        return sum((a - t) ** 2 for a, t in zip(values, y))
    if spec.loss == "mse":
        return sum((a - t) ** 2 for a, t in zip(values, y)) / len(y)
    if spec.loss == "bce":
        return -sum(
            t * sympy.log(a) + (1 - t) * sympy.log(1 - a) for a, t in zip(values, y)
        )
    if spec.loss == "ce":
        return -sum(t * sympy.log(a) for a, t in zip(values, y))
    raise AssertionError(spec.loss)


@pytest.mark.parametrize(
    "arch,options",
    [
        ("2-1", {}),
        ("2-2-1", {}),
        ("2-2-1", {"activation": "tanh", "loss": "mse"}),
        ("2-2-2", {"activation": "relu", "output_activation": "softmax"}),
        ("2-2-2", {"activation": "leaky_relu", "loss": "bce"}),
        ("2-2-3", {"loss": "ce"}),
        ("2-2-1", {"activation": "identity", "output_activation": "tanh"}),
        ("2-2-2", {"activation": "softplus", "output_activation": "swish"}),
        ("2-2-1", {"activation": "gelu", "output_activation": "elu"}),
        ("2-2-2", {"activation": "swish", "loss": "bce"}),
    ],
)
def test_gradients_match_sympy_diff_of_the_inlined_loss(arch, options):
    spec = make_spec(arch, **options)
    mod = module_for(spec)
    x_syms = sympy.symbols(f"x0:{spec.arch[0]}", real=True)
    p_syms = sympy.symbols(f"p0:{spec.n_params}", real=True)
    y_syms = sympy.symbols(f"y0:{spec.arch[-1]}", real=True)
    total = reference_loss(spec, x_syms, p_syms, y_syms)
    args = [*x_syms, *p_syms, *y_syms]
    loss_fn = sympy.lambdify(args, total, "math")
    grad_fns = [sympy.lambdify(args, sympy.diff(total, p), "math") for p in p_syms]
    for seed in range(3):
        params, x, y = random_point(mod, seed)
        if spec.loss == "bce":
            y = [float(t) for t in y]
        values = [*x, *params, *y]
        value, grads = mod.loss_and_grad(params, x, y)
        assert math.isclose(value, loss_fn(*values), rel_tol=1e-9, abs_tol=1e-12)
        for name, g, fn in zip(mod.PARAM_NAMES, grads, grad_fns):
            assert math.isclose(g, fn(*values), rel_tol=1e-9, abs_tol=1e-12), name
