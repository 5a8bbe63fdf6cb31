"""Losses and gradients in the tails, against mpmath at 50 digits and PyTorch float64.

Every loss is a sum of per-output terms that are each non-negative and computed
without cancellation, so the generated code keeps its relative precision where
outputs saturate: it must be at least as accurate as PyTorch in float64 there,
and never return a negative loss or overflow.
"""

from __future__ import annotations

import math

import mpmath
import pytest

from nnsym.pipeline.spec import make_spec
from tests.helpers import module_for

mpmath.mp.dps = 50

MP_ACTIVATIONS = {
    "sigmoid": lambda z: 1 / (1 + mpmath.exp(-z)),
    "tanh": mpmath.tanh,
    "identity": lambda z: z,
}


# Digits to work with: 1 - a for a sigmoid or softmax output at z = 700 is
# exp(-700), about 1e-304, so the naive formulas below need 304 digits more
# than the 50 they keep.
WORKING_DIGITS = 400


def mp_loss(spec, params, x, y):
    """The loss written naively, with enough digits that naive is exact."""
    with mpmath.workdps(WORKING_DIGITS):
        return +_mp_loss(spec, params, x, y)


def _mp_loss(spec, params, x, y):
    params = [mpmath.mpf(p) for p in params]
    values = [mpmath.mpf(v) for v in x]
    index = 0
    z = values
    for (n_in, n_out), name in zip(zip(spec.arch, spec.arch[1:]), spec.activations):
        z = []
        for _ in range(n_out):
            weights, bias = params[index : index + n_in], params[index + n_in]
            index += n_in + 1
            z.append(sum(w * v for w, v in zip(weights, values)) + bias)
        if name == "softmax":
            total = sum(mpmath.exp(zk) for zk in z)
            values = [mpmath.exp(zk) / total for zk in z]
        else:
            values = [MP_ACTIVATIONS[name](zk) for zk in z]
    y = [mpmath.mpf(t) for t in y]
    if spec.loss in ("sse", "mse"):
        total = sum((a - t) ** 2 for a, t in zip(values, y))
        return total if spec.loss == "sse" else total / len(y)
    if spec.loss == "bce":
        return -sum(
            t * mpmath.log(a) + (1 - t) * mpmath.log(1 - a) for a, t in zip(values, y)
        )
    return -sum(t * mpmath.log(a) for a, t in zip(values, y))


def mp_gradient(spec, params, x, y):
    """dL/dparams by mpmath's numerical differentiation at 50 digits."""
    params = [mpmath.mpf(p) for p in params]
    grads = []
    for i in range(len(params)):

        def along(t, i=i):
            moved = list(params)
            moved[i] = t
            return mp_loss(spec, moved, x, y)

        with mpmath.workdps(WORKING_DIGITS):
            grads.append(+mpmath.diff(along, params[i]))
    return grads


def torch_reference(spec, params, x, y):
    pytest.importorskip("torch")
    from nnsym.explain.fdcheck import torch_loss_and_grad
    from nnsym.explain.point import Point

    return torch_loss_and_grad(spec, Point(tuple(params), tuple(x), tuple(y), None))


def relative_error(value, exact):
    if exact == 0:
        return float(abs(value))
    return float(abs((mpmath.mpf(value) - exact) / exact))


def assert_as_accurate_as_torch(spec, params, x, y, rel=1e-13):
    """Loss and gradient within `rel` of mpmath, or no worse than PyTorch float64."""
    mod = module_for(spec)
    value, grads = mod.loss_and_grad(params, x, y)
    assert value >= 0.0 and math.isfinite(value)
    assert all(math.isfinite(g) for g in grads)
    exact = mp_loss(spec, params, x, y)
    exact_grads = mp_gradient(spec, params, x, y)
    torch_value, torch_grads = torch_reference(spec, params, x, y)
    torch_error = float(abs(mpmath.mpf(torch_value) - exact))
    error = float(abs(mpmath.mpf(value) - exact))
    assert error <= max(rel * float(abs(exact)), 2 * torch_error) + 1e-300, (
        value,
        exact,
        torch_value,
    )
    for name, g, tg, eg in zip(mod.PARAM_NAMES, grads, torch_grads, exact_grads):
        error = float(abs(mpmath.mpf(g) - eg))
        torch_error = float(abs(mpmath.mpf(tg) - eg))
        # abs floor: the gradient's own scale of rounding near saturation
        allowed = max(rel * float(abs(eg)), 2 * torch_error, 1e-300)
        assert error <= allowed, (name, g, eg, tg)


def test_sigmoid_output_keeps_relative_precision_at_minus_40():
    mod = module_for(make_spec("1-1"))
    (output,) = mod.forward([1.0, 0.0], [-40.0])
    exact = 1 / (1 + mpmath.exp(40))
    assert relative_error(output, exact) < 1e-15


@pytest.mark.parametrize("scale", [0.5, 5.0, 40.0, 300.0, 700.0])
@pytest.mark.parametrize("targets", [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.3, 0.9)])
def test_bce_is_never_negative_and_accurate_in_the_tails(scale, targets):
    spec = make_spec("2-2", loss="bce")
    mod = module_for(spec)
    # Both outputs saturated the way the targets ask, or the opposite way.
    for sign in (1.0, -1.0):
        params = [sign * scale, 0.0, 0.0, 0.0, sign * scale, 0.0]
        x = [1.0 if targets[0] >= 0.5 else -1.0, 1.0 if targets[1] >= 0.5 else -1.0]
        value, _ = mod.loss_and_grad(params, x, list(targets))
        assert value >= 0.0
        exact = mp_loss(spec, params, x, targets)
        assert relative_error(value, exact) < 1e-13, (params, x, value, exact)


def test_bce_case_of_the_issue_is_not_negative():
    # -y0 z0 - y1 z1 + softplus(z0) + softplus(z1) returned -1.5e-8 here.
    spec = make_spec("2-2", loss="bce")
    params = [25.0, 0.0, 0.0, 0.0, 25.0, 0.0]
    x, y = [1.3, -1.1], [1.0, 0.0]
    assert_as_accurate_as_torch(spec, params, x, y)


@pytest.mark.parametrize("z0", [5.0, 20.0, 40.0, 300.0])
def test_softmax_sse_near_saturation(z0):
    spec = make_spec("2-3", output_activation="softmax")
    # Biases (z0, 0, 0): the first output is 1 - 2 exp(-z0) / (1 + ...).
    params = [0.0, 0.0, z0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    value, _ = module_for(spec).loss_and_grad(params, [0.5, -0.5], [1.0, 0.0, 0.0])
    exact = mp_loss(spec, params, [0.5, -0.5], [1.0, 0.0, 0.0])
    assert relative_error(value, exact) < 1e-13, (value, exact)


@pytest.mark.parametrize(
    "options",
    [
        {"output_activation": "softmax"},
        {"output_activation": "softmax", "loss": "mse"},
        {"loss": "ce"},
        {"loss": "bce"},
        {"output_activation": "sigmoid"},
    ],
    ids=["softmax-sse", "softmax-mse", "ce", "bce", "sigmoid-sse"],
)
@pytest.mark.parametrize("scale", [1.0, 12.0, 35.0])
def test_loss_and_gradient_at_least_as_accurate_as_pytorch(options, scale):
    spec = make_spec("2-3", **options)
    n_outputs = 3
    params = []
    for j in range(n_outputs):
        params += [scale * (1.0 - j), -0.5 * scale, 0.25 * scale * j]
    x = [1.0, 0.5]
    targets = [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    if spec.loss in ("sse", "mse", "bce") and spec.output_activation == "sigmoid":
        targets.append([0.2, 0.7, 1.0])
    for y in targets:
        assert_as_accurate_as_torch(spec, params, x, y)
