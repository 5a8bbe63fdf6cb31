"""The selftest's reference values, against an independent derivation."""

from __future__ import annotations

import mpmath
import pytest
import sympy

from nnsym.pipeline.build import differentiate
from nnsym.pipeline.reference import (
    checked_indices,
    evaluate,
    reference_outputs,
    sample_point,
    selftest_reference,
)
from nnsym.pipeline.spec import make_spec
from nnsym.primitives import PRIMITIVES
from nnsym.runtime.init import _initial_params
from tests.helpers import close, module_for

SMALL = [
    make_spec("2-1"),
    make_spec("2-2-1"),
    make_spec("2-2-1", activation="tanh", loss="mse"),
    make_spec("2-3-1", activation="relu", loss="bce"),
    make_spec("2-2-3", loss="ce"),
]


def inlined_loss(network):
    """The loss as one expression in inputs, targets and parameters."""
    loss = network.loss_on_z
    for layer in reversed(network.layers):
        loss = loss.xreplace(dict(zip(layer.z, layer.z_exprs)))
        if layer.index > 1:
            previous = network.layers[layer.index - 2]
            loss = loss.xreplace(dict(zip(previous.a, previous.a_exprs)))
    return loss


@pytest.mark.parametrize("spec", SMALL, ids=lambda s: s.name)
def test_references_equal_sympy_diff_of_the_inlined_loss_at_50_digits(spec):
    gradients = differentiate(spec)
    network = gradients.network
    loss = inlined_loss(network)
    assert loss.free_symbols <= {*network.inputs, *network.targets, *network.params}
    reference = selftest_reference(gradients)
    for point in reference.points:
        params = _initial_params(len(network.params), point.seed)
        with mpmath.workdps(50):
            values = dict(zip(network.params, map(mpmath.mpf, params)))
            values.update(zip(network.inputs, map(mpmath.mpf, point.x)))
            values.update(zip(network.targets, map(mpmath.mpf, point.y)))
            assert close(point.loss, float(evaluate(loss, values)), 1e-15)
            for i, value in zip(reference.indices, point.grads):
                exact = evaluate(sympy.diff(loss, network.params[i]), values)
                assert close(value, float(exact), 1e-15)


@pytest.mark.parametrize("spec", SMALL, ids=lambda s: s.name)
def test_generated_module_agrees_with_the_references(spec):
    module = module_for(spec)
    reference = selftest_reference(differentiate(spec))
    for point in reference.points:
        loss, grads = module.loss_and_grad(
            module.init_params(point.seed), point.x, point.y
        )
        assert close(loss, point.loss, 1e-13)
        assert all(
            close(grads[i], value, 1e-13)
            for i, value in zip(reference.indices, point.grads)
        )


def test_reference_outputs_are_the_forward_pass():
    spec = make_spec("2-2-3", loss="ce")
    module = module_for(spec)
    network = differentiate(spec).network
    params = module.init_params(5)
    outputs = reference_outputs(network, params, (0.25, -0.5))
    assert abs(sum(outputs) - 1.0) < 1e-15
    assert all(
        close(a, b, 1e-14)
        for a, b in zip(outputs, module.forward(params, (0.25, -0.5)))
    )


def test_checked_indices_cover_every_layer_of_a_large_network():
    assert checked_indices(9) == tuple(range(9))
    indices = checked_indices(1000)
    assert len(indices) == 40 and indices[0] == 0 and indices[-1] == 999
    assert indices == tuple(sorted(set(indices)))


def test_sample_points_have_valid_targets_for_every_loss():
    for seed in range(3):
        x, y = sample_point(seed, 3, 4)
        assert len(x) == 3 and all(-1.0 <= v <= 1.0 for v in x)
        assert sorted(y) == [0.0, 0.0, 0.0, 1.0]
        _, (single,) = sample_point(seed, 2, 1)
        assert single in (0.0, 1.0)


# Each primitive in closed form, written independently of the table's safe forms.
CLOSED_FORMS = {
    "sigmoid": lambda v: 1 / (1 + mpmath.exp(-v)),
    "tanh": mpmath.tanh,
    "relu": lambda v: max(v, 0),
    "leaky_relu": lambda v: v if v > 0 else v / 100,
    "identity": lambda v: v,
    "softplus": lambda v: mpmath.log(1 + mpmath.exp(v)),
    "swish": lambda v: v / (1 + mpmath.exp(-v)),
    "gelu": lambda v: v
    * (
        1
        + mpmath.tanh(mpmath.sqrt(2 / mpmath.pi) * (v + mpmath.mpf("0.044715") * v**3))
    )
    / 2,
    "elu": lambda v: v if v > 0 else mpmath.exp(v) - 1,
    "step": lambda v: 1 if v > 0 else 0,
    "leaky_step": lambda v: 1 if v > 0 else mpmath.mpf(1) / 100,
}


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_every_primitive_evaluates_to_its_closed_form_at_30_digits(name):
    x = sympy.Symbol("x", real=True)
    expr = {"identity": x, "tanh": sympy.tanh(x)}.get(name, sympy.Function(name)(x))
    with mpmath.workdps(30):
        for value in ("-3.5", "-0.25", "0.0", "0.75", "12.0"):
            v = mpmath.mpf(value)
            assert mpmath.almosteq(
                evaluate(expr, {x: v}), CLOSED_FORMS[name](v), rel_eps=1e-25
            ), (name, value)
