"""nnsym.runtime: the code every generated file includes, tested where it lives."""

from __future__ import annotations

import ast
import itertools
import math
from pathlib import Path

import mpmath
import pytest

from nnsym.models import training
from nnsym.pipeline import functions, runtime_source
from nnsym.runtime import checks, errors, init, numerics, optimizers, selftest
from tests.helpers import REPO, close

RUNTIME = REPO / "nnsym" / "runtime"


# --- checks -------------------------------------------------------------------


def test_floats_accepts_numbers_and_a_bare_number_for_one_value():
    assert checks._floats(["1", 2, 3.5], 3, "inputs") == (1.0, 2.0, 3.5)
    assert checks._floats(7, 1, "targets") == (7.0,)


@pytest.mark.parametrize(
    "values, count, message",
    [
        ([1.0], 2, "expected 2 inputs, got 1"),
        (["a", 1], 2, "inputs must be a sequence of 2 numbers"),
        (None, 2, "inputs must be a sequence of 2 numbers"),
        ([1.0, math.nan], 2, "inputs must be finite numbers, got nan"),
        ([math.inf], 1, "inputs must be finite numbers, got inf"),
    ],
)
def test_floats_refuses_with_one_clear_message(values, count, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(")):
        checks._floats(values, count, "inputs")


def test_params_passes_finite_params_through_and_names_the_bad_one():
    params = [0.5, -1.0, 2.0]
    assert checks._params(params, ("a", "b", "c")) is params
    with pytest.raises(ValueError, match="expected 3 parameters .* got 2"):
        checks._params([1.0, 2.0], ("a", "b", "c"))
    with pytest.raises(ValueError, match="parameter b must be finite, got nan"):
        checks._params([1.0, math.nan, 2.0], ("a", "b", "c"))
    # Finite values whose sum overflows are still accepted.
    assert checks._params([1e308, 1e308], ("a", "b")) == [1e308, 1e308]


def test_dataset_checks_every_sample_and_says_which():
    assert checks._dataset([[1, 2]], [[0]], 2, 1) == [((1.0, 2.0), (0.0,))]
    with pytest.raises(ValueError, match="got 2 inputs but 1 targets"):
        checks._dataset([[1, 2], [3, 4]], [[0]], 2, 1)
    with pytest.raises(ValueError, match="the data set is empty"):
        checks._dataset([], [], 2, 1)
    with pytest.raises(ValueError, match="^sample 1: expected 1 targets, got 2"):
        checks._dataset([[1, 2], [3, 4]], [[0], [1, 0]], 2, 1)


# --- init, errors -------------------------------------------------------------


def test_initial_params_are_uniform_in_the_unit_interval_and_repeatable():
    first = init._initial_params(1000, 7)
    assert first == init._initial_params(1000, 7) != init._initial_params(1000, 8)
    assert len(first) == 1000 and all(-1.0 <= p <= 1.0 for p in first)
    assert -0.1 < sum(first) / 1000 < 0.1


def test_divergence_error_carries_where_training_stopped():
    error = errors.DivergenceError("diverged", 3, 1.5, [0.0])
    assert isinstance(error, ArithmeticError)
    assert (str(error), error.epoch, error.last_finite_loss, error.params) == (
        "diverged",
        3,
        1.5,
        [0.0],
    )


# --- numerics -----------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [(0.0,), (1.0, 2.0, 3.0), (-1000.0, 1000.0), (1000.0, 1000.0), (-745.0, -800.0)],
)
def test_logsumexp_matches_mpmath_at_50_digits_without_overflow(values):
    with mpmath.workdps(50):
        exact = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in values))
    assert close(numerics._logsumexp(*values), float(exact), 1e-15)


def test_logsumexp_does_not_depend_on_the_order_of_its_arguments():
    # A plain sum of these rounds differently in different orders; fsum does not.
    values = (0.0, -36.7, -36.7, -36.7, 0.1, -0.1, 0.3)
    results = {numerics._logsumexp(*p) for p in itertools.permutations(values)}
    assert len(results) == 1


# --- optimizers ---------------------------------------------------------------


def _torch_steps(make_optimizer, params, grads_per_step):
    torch = pytest.importorskip("torch")  # nnsym[torch]; test_training has the rules
    tensor = torch.tensor(params, dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer(torch, [tensor])
    for grads in grads_per_step:
        tensor.grad = torch.tensor(grads, dtype=torch.float64)
        optimizer.step()
    return tensor.detach().tolist()


GRADS = [[0.5, -2.0, 1e-3], [0.1, 0.3, -4.0], [-1.0, 0.0, 2.0], [0.2, 0.2, 0.2]]


TORCH_OPTIMIZERS = {
    "sgd": lambda torch, p: torch.optim.SGD(p, lr=0.05),
    "momentum": lambda torch, p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
    "nesterov": lambda torch, p: torch.optim.SGD(
        p, lr=0.05, momentum=0.9, nesterov=True
    ),
    "adam": lambda torch, p: torch.optim.Adam(p, lr=0.05, betas=(0.9, 0.999), eps=1e-8),
}


@pytest.mark.parametrize("name", sorted(TORCH_OPTIMIZERS))
def test_every_optimizer_follows_pytorch(name):
    params, state = [0.3, -0.7, 1.1], {}
    for grads in GRADS:
        params = optimizers._optimizer_step(
            "momentum" if name == "nesterov" else name,
            params,
            grads,
            state,
            0.05,
            0.9,
            (0.9, 0.999),
            1e-8,
            name == "nesterov",
        )
    expected = _torch_steps(TORCH_OPTIMIZERS[name], [0.3, -0.7, 1.1], GRADS)
    assert all(close(a, b, 1e-12) for a, b in zip(params, expected))
    # lbfgs and lm are whole training runs, not steps: tests/test_second_order.py.
    assert set(TORCH_OPTIMIZERS) - {"nesterov"} == set(optimizers.OPTIMIZERS) - set(
        optimizers.FULL_BATCH_OPTIMIZERS
    )


def test_optimizer_names_come_from_the_runtime_only():
    assert training.OPTIMIZERS is optimizers.OPTIMIZERS
    assert training.REDUCTIONS is optimizers.REDUCTIONS
    assert optimizers.OPTIMIZERS[0] == "sgd" and optimizers.REDUCTIONS[0] == "sum"


@pytest.mark.parametrize(
    "options, message",
    [
        (("nesterov", "sum", 1, 0.1, None), "optimizer must be one of sgd, momentum"),
        (("sgd", "max", 1, 0.1, None), "reduction must be one of sum, mean"),
        (("sgd", "sum", -1, 0.1, None), "epochs must be a whole number"),
        (("sgd", "sum", 1.5, 0.1, None), "epochs must be a whole number"),
        (("sgd", "sum", 1, 0.0, None), "lr must be a positive finite number"),
        (("sgd", "sum", 1, math.nan, None), "lr must be a positive finite number"),
        (("sgd", "sum", 1, 0.1, 0), "batch_size must be a whole number >= 1"),
    ],
)
def test_check_training_refuses_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        optimizers._check_training(*options)
    optimizers._check_training("adam", "mean", 0, 1, 4)


# --- selftest -----------------------------------------------------------------


def _quadratic_loss_and_grad(params, x, y):
    # L = sum_i x * p_i**2 - y: dL/dp_i = 2 x p_i.
    return sum(x * p * p for p in params) - y, [2 * x * p for p in params]


def _points(x, y):
    params = init._initial_params(3, 0)
    loss, grads = _quadratic_loss_and_grad(params, x, y)
    return ((0, x, y, loss, tuple(grads)),)


def test_check_gradients_passes_a_right_gradient_and_prints_a_table():
    lines = []
    points = _points(1.5, 0.25)
    assert selftest._check_gradients(
        _quadratic_loss_and_grad,
        lambda seed: init._initial_params(3, seed),
        (0, 1, 2),
        points,
        write=lines.append,
    )
    assert lines[0].split()[:2] == ["point", "seed"]
    assert lines[1].split()[-1] == "ok" and lines[-1] == "selftest passed"


def test_check_gradients_fails_on_a_wrong_reference_or_a_wrong_gradient():
    points = _points(1.5, 0.25)
    seed, x, y, loss, grads = points[0]
    wrong_reference = ((seed, x, y, loss, (grads[0], grads[1] * (1 + 1e-6), grads[2])),)
    lines = []

    def init_params(seed):
        return init._initial_params(3, seed)

    assert not selftest._check_gradients(
        _quadratic_loss_and_grad,
        init_params,
        (0, 1, 2),
        wrong_reference,
        write=lines.append,
    )
    assert lines[-1] == "selftest FAILED" and lines[1].endswith("FAILED")

    def wrong_gradient(params, x, y):
        loss, grads = _quadratic_loss_and_grad(params, x, y)
        return loss, [grads[0], grads[1], x * params[2]]

    assert not selftest._check_gradients(
        wrong_gradient, init_params, (0, 1, 2), points, write=lambda line: None
    )


def test_check_outputs_compares_every_output():
    def predict(x):
        return [2 * x[0], -x[0]]

    vectors = (((1.0,), (2.0, -1.0)), ((0.5,), (1.0, -0.5)))
    assert selftest._check_outputs(predict, vectors, write=lambda line: None)
    off = (((1.0,), (2.0, -1.0 + 1e-8)),)
    assert not selftest._check_outputs(predict, off, write=lambda line: None)


def test_selftest_main_exit_status(capsys):
    assert selftest._selftest_main(["--selftest"], lambda: True) == 0
    assert selftest._selftest_main(["--selftest"], lambda: False) == 1
    assert selftest._selftest_main([], lambda: True) == 2
    assert "usage:" in capsys.readouterr().err


# --- the runtime as a whole, and its inclusion ---------------------------------


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted(RUNTIME.glob("*.py")), ids=lambda p: p.name)
def test_runtime_modules_use_the_standard_library_only(path):
    assert _imports(path) <= {"math", "random", "sys"}


def test_included_source_is_the_definition_verbatim_comments_and_all():
    source = (RUNTIME / "optimizers.py").read_text(encoding="utf-8")
    included = runtime_source.runtime("_optimizer_step")
    assert included in source
    assert "# One update from a batch's gradient" in included
    namespace = {"math": math}
    exec(runtime_source.runtime("OPTIMIZERS", "REDUCTIONS"), namespace)
    assert namespace["OPTIMIZERS"] == optimizers.OPTIMIZERS
    assert "# The first of each" in runtime_source.runtime("OPTIMIZERS")


def test_unknown_runtime_name_is_an_error():
    with pytest.raises(KeyError, match="_nothing"):
        runtime_source.runtime("_floats", "_nothing")


@pytest.mark.parametrize(
    "name",
    ["mlp_2_2_1.py", "mlp_4_8_3_softmax_ce.py", "mlp_64_32_10_softmax_ce_loops.py"],
)
def test_generated_modules_hold_the_runtime_and_no_other_copy(name):
    text = (REPO / "generated" / name).read_text(encoding="utf-8")
    for definition in (
        "_floats",
        "_params",
        "_dataset",
        "_optimizer_step",
        "_check_training",
        "DivergenceError",
        "_cholesky_solve",
        "_lbfgs",
        "_strong_wolfe",
        "_levenberg_marquardt",
        "_train_full_batch",
        *(["_logsumexp"] if "softmax" in name and "loops" not in name else []),
        *(["_log1p_rest"] if "softmax" in name and "loops" in name else []),
    ):
        assert runtime_source.runtime(definition) in text
        assert (
            text.count(f"def {definition}(") + text.count(f"class {definition}(") == 1
        )


@pytest.mark.parametrize(
    "values",
    [[0.0, -40.0, -40.0], [300.0, 1.0, -2.0], [5.0, 5.0, 1.0], [-3.0, 700.0, 699.0]],
)
def test_log1p_rest_is_the_log_sum_exp_less_its_largest_value(values):
    # lse = top + lp, lp accurate even where it is tiny (log(1 + 2e-35) is 0);
    # the naive lse - top, with the digits that leaves 50 of (1e-130: 400).
    top = max(values)
    with mpmath.workdps(400):
        exact = mpmath.log(sum(mpmath.exp(mpmath.mpf(v)) for v in values)) - top
    assert abs(numerics._log1p_rest(values, top) - exact) <= 1e-15 * abs(exact)


def test_graph_uses_the_runtime_logsumexp():
    # graph.py evaluates SymPy's logsumexp through the table's numeric functions.
    assert functions.numeric_functions()["logsumexp"] is numerics._logsumexp
