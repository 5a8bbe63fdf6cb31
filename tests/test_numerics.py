"""Numbers at the edges: NaN and infinities are refused with ValueError, extreme
finite values give finite results, and training that diverges stops and says so."""

from __future__ import annotations

import functools
import math
from types import ModuleType

import pytest

from nnsym import api
from nnsym.pipeline.spec import make_spec

NOT_FINITE = [math.nan, math.inf, -math.inf]


@functools.cache
def module_for(arch: str, **options: str) -> ModuleType:
    """The module nnsym generates for this request, compiled in memory."""
    spec = make_spec(arch, **options)
    module = ModuleType(f"nnsym_numerics_{spec.name}")
    exec(compile(api.generate(spec).source, module.__name__, "exec"), vars(module))
    return module


@pytest.fixture(scope="module")
def xor() -> ModuleType:
    return module_for("2-2-1")


@pytest.fixture(scope="module")
def linear() -> ModuleType:
    return module_for("2-1", output_activation="identity", loss="mse")


def calls(module: ModuleType, params, x, y):
    """Every public function that takes one sample."""
    return [
        lambda: module.forward(params, x),
        lambda: module.predict(params, x),
        lambda: module.loss(params, x, y),
        lambda: module.loss_and_grad(params, x, y),
        lambda: module.accuracy(params, [x], [y]),
        lambda: module.train([x], [y], lr=0.1, epochs=1, params=params),
    ]


@pytest.mark.parametrize("bad", NOT_FINITE)
@pytest.mark.parametrize("position", [0, 1])
def test_non_finite_inputs_raise_value_error(xor, bad, position):
    x = [0.5, 0.5]
    x[position] = bad
    params = xor.init_params(0)
    for call in calls(xor, params, x, [1.0]):
        with pytest.raises(ValueError, match="inputs must be finite"):
            call()


@pytest.mark.parametrize("bad", NOT_FINITE)
def test_non_finite_targets_raise_value_error(xor, bad):
    params = xor.init_params(0)
    for call in calls(xor, params, [0.5, 0.5], [bad])[2:]:
        with pytest.raises(ValueError, match="targets must be finite"):
            call()


@pytest.mark.parametrize("bad", NOT_FINITE)
@pytest.mark.parametrize("position", [0, 4, 8])
def test_non_finite_parameters_raise_value_error_naming_them(xor, bad, position):
    params = xor.init_params(0)
    params[position] = bad
    name = xor.PARAM_NAMES[position]
    for call in calls(xor, params, [0.5, 0.5], [1.0]):
        with pytest.raises(ValueError, match=f"parameter {name} must be finite"):
            call()


def test_finite_parameters_whose_sum_overflows_are_accepted(linear):
    # The quick check sums the parameters; a sum that overflows is no NaN.
    params = [1e308, 1e308, 0.0]
    assert linear.forward(params, [0.0, 0.0]) == [0.0]
    assert linear.loss_and_grad(params, [0.0, 0.0], [0.0]) == (0.0, [0.0, 0.0, 0.0])


@pytest.mark.parametrize("bad", [["a", 1], [None, 1], "ab", 3.0, [1.0], [1, 2, 3]])
def test_inputs_that_are_not_two_numbers_raise_value_error(xor, bad):
    with pytest.raises(ValueError, match="inputs"):
        xor.forward(xor.init_params(0), bad)


def test_wrong_number_of_parameters_raises_value_error(xor):
    with pytest.raises(ValueError, match="expected 9 parameters"):
        xor.forward([0.0] * 8, [0.0, 0.0])


@pytest.mark.parametrize("lr", [math.nan, math.inf, 0.0, -1.0, "0.1"])
def test_bad_learning_rates_raise_value_error(xor, lr):
    with pytest.raises(ValueError, match="lr must be"):
        xor.train([[0, 0]], [0], lr=lr, epochs=1)


@pytest.mark.parametrize(
    ("arch", "options"),
    [
        ("2-2-1", {}),
        ("2-3-1", {"activation": "tanh", "loss": "bce"}),
        ("2-3-2", {"activation": "relu", "loss": "ce"}),
        ("2-3-1", {"activation": "leaky_relu", "output_activation": "identity"}),
    ],
)
@pytest.mark.parametrize("scale", [1e6, -1e6])
def test_huge_finite_values_give_finite_results(arch, options, scale):
    # Inputs and parameters of 1e6 make pre-activations of about 1e12.
    module = module_for(arch, **options)
    params = [scale * (1 if i % 2 else -1) for i in range(module.N_PARAMS)]
    x = [scale] * module.N_INPUTS
    y = [1.0] + [0.0] * (module.N_OUTPUTS - 1)
    outputs = module.forward(params, x)
    loss, grads = module.loss_and_grad(params, x, y)
    assert all(math.isfinite(value) for value in [*outputs, loss, *grads])


def test_sigmoid_does_not_overflow_where_the_tutorial_formula_does(xor):
    with pytest.raises(OverflowError):
        1 / (1 + math.exp(1000))  # the tutorial's 1/(1+exp(-z)) at z = -1000
    # Hidden outputs 0.5 each: the output pre-activation is -1000 * 0.5 = -500.
    params = [0.0] * 6 + [-1000.0, 0.0, 0.0]
    (out,) = xor.forward(params, [0.0, 0.0])
    # sigmoid(-500) = 7.1e-218, kept to full relative precision (not 0.0).
    assert out == pytest.approx(math.exp(-500), rel=1e-14)
    assert xor.loss(params, [0.0, 0.0], [0.0]) == pytest.approx(out * out, rel=1e-14)
    params[6] = -4000.0  # z = -2000: below exp's range, 0.0 without overflow
    assert xor.forward(params, [0.0, 0.0]) == [0.0]


DATA = ([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]], [1.0, 0.0, 2.0])


@pytest.mark.parametrize("batch_size", [None, 1])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
def test_divergence_stops_with_the_epoch_and_last_finite_loss(
    linear, batch_size, optimizer
):
    xs, ys = DATA
    with pytest.raises(linear.DivergenceError) as caught:
        linear.train(
            xs,
            ys,
            lr=1e3,
            epochs=10_000,
            seed=0,
            batch_size=batch_size,
            optimizer=optimizer,
        )
    error = caught.value
    assert isinstance(error, ArithmeticError)
    assert 0 < error.epoch < 10_000
    assert math.isfinite(error.last_finite_loss)
    assert all(math.isfinite(p) for p in error.params)
    message = str(error)
    assert f"at epoch {error.epoch}" in message
    assert repr(error.last_finite_loss) in message
    assert "smaller learning rate" in message
    # The last finite loss is what training, stopped one epoch earlier, reports.
    _, history = linear.train(
        xs,
        ys,
        lr=1e3,
        epochs=error.epoch,
        seed=0,
        batch_size=batch_size,
        optimizer=optimizer,
    )
    assert len(history) == error.epoch
    assert history[-1] == error.last_finite_loss


def test_modest_learning_rate_does_not_diverge(linear):
    xs, ys = DATA
    _, history = linear.train(xs, ys, lr=0.01, epochs=200, seed=0)
    assert history[-1] < history[0]
