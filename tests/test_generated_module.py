"""The generated module: standard library only, safe numerics, clear errors."""

from __future__ import annotations

import ast
import math
import subprocess
import sys

import pytest

from nnsym.pipeline.spec import make_spec
from tests.helpers import REPO, module, module_for
from tests.test_gradients import COMBINATIONS

# sys only for the selftest entry point (`python module.py --selftest`).
# The loop form also imports operator, for its sum(map(mul, ...)) dot products.
STDLIB_IMPORTS = {"math", "random", "sys", "operator"}


def imported_modules(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") in (
            "__import__",
            "exec",
            "eval",
        ):
            names.add(node.func.id)
    return names


@pytest.mark.parametrize("path", sorted((REPO / "generated").glob("*.py")), ids=str)
def test_committed_modules_import_only_math_random_sys_and_operator(path):
    assert imported_modules(path.read_text()) <= STDLIB_IMPORTS


def test_parameter_order_is_the_tutorials():
    mod = module("2-2-1")
    assert mod.PARAM_NAMES == (
        "w1_0_0", "w1_0_1", "b1_0",  # weights1, bias1
        "w1_1_0", "w1_1_1", "b1_1",  # weights2, bias2
        "w2_0_0", "w2_0_1", "b2_0",  # weights3, bias3
    )  # fmt: skip
    assert mod.ARCH == (2, 2, 1)
    assert mod.ACTIVATIONS == ("sigmoid", "sigmoid")
    assert mod.LOSS == "sse"
    assert mod.N_PARAMS == 9


def test_forward_computes_the_tutorial_network_by_hand():
    mod = module("2-2-1")
    p = [0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, -0.8, 0.9]

    def sigmoid(v):
        return 1 / (1 + math.exp(-v))

    x0, x1 = 1.0, 0.5
    h0 = sigmoid(x0 * p[0] + x1 * p[1] + p[2])
    h1 = sigmoid(x0 * p[3] + x1 * p[4] + p[5])
    out = sigmoid(h0 * p[6] + h1 * p[7] + p[8])
    assert mod.forward(p, [x0, x1])[0] == pytest.approx(out, rel=1e-14)
    assert mod.loss(p, [x0, x1], 1.0) == pytest.approx((out - 1.0) ** 2, rel=1e-13)


def test_module_trains_with_no_site_packages():
    code = (
        "import sys; sys.path.insert(0, 'generated'); import mlp_2_2_1 as m; "
        "xs = [[0, 0], [0, 1], [1, 0], [1, 1]]; ys = [0, 1, 1, 0]; "
        "p, h = m.train(xs, ys, lr=1, epochs=2000, seed=0); "
        "print(h[0], h[-1], [round(m.forward(p, x)[0]) for x in xs])"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    first, last, rounded = result.stdout.split(" ", 2)
    assert float(last) < 0.05 < float(first)
    assert rounded.strip() == "[0, 1, 1, 0]"


@pytest.mark.parametrize("hidden,output,loss", COMBINATIONS)
def test_huge_preactivations_give_finite_results(hidden, output, loss):
    mod = module_for(
        make_spec("2-3-2", activation=hidden, output_activation=output, loss=loss)
    )
    y = [1.0, 0.0]
    for sign in (1.0, -1.0):
        # Weights of 1e6 on inputs of 1 make every pre-activation about 1e6 in size.
        params = [sign * 1e6 if i % 2 else -sign * 1e6 for i in range(mod.N_PARAMS)]
        for x in ([1.0, 1.0], [-1.0, 1.0], [1e6, -1e6]):
            outputs = mod.forward(params, x)
            value, grads = mod.loss_and_grad(params, x, y)
            assert all(math.isfinite(v) for v in outputs), outputs
            assert math.isfinite(value), value
            assert all(math.isfinite(g) for g in grads)


def test_wrong_input_length_names_the_expected_length():
    mod = module("2-2-1")
    params = mod.init_params(0)
    with pytest.raises(ValueError, match="expected 2 inputs, got 3"):
        mod.forward(params, [1, 2, 3])
    with pytest.raises(ValueError, match="expected 1 targets, got 2"):
        mod.loss(params, [1, 2], [1, 2])
    with pytest.raises(ValueError, match="expected 9 parameters"):
        mod.loss_and_grad(params[:-1], [1, 2], 1)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_inputs_raise_value_error(bad):
    mod = module("2-2-1")
    with pytest.raises(ValueError, match="finite"):
        mod.forward(mod.init_params(0), [bad, 0.0])
    with pytest.raises(ValueError, match="finite"):
        mod.loss(mod.init_params(0), [0.0, 0.0], [bad])


def test_bare_number_target_equals_sequence():
    mod = module("2-2-1")
    params = mod.init_params(1)
    assert mod.loss_and_grad(params, [1, 0], 1) == mod.loss_and_grad(
        params, [1, 0], [1.0]
    )


def test_init_params_is_reproducible_and_uniform():
    mod = module("2-2-1")
    assert mod.init_params(7) == mod.init_params(7)
    assert mod.init_params(7) != mod.init_params(8)
    assert all(-1.0 <= p <= 1.0 for p in mod.init_params(3))


def test_docstring_holds_the_formulas():
    mod = module("2-2-1")
    assert "dL/dw2_0_1 = a1_1*delta2_0" in mod.__doc__
    assert "delta2_0 = dL/dz2_0 = 2*a2_0*(1 - a2_0)*(a2_0 - y0)" in mod.__doc__
