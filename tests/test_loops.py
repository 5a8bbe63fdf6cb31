"""The loop form: the same contract and numbers as the unrolled form, at any size."""

from __future__ import annotations

import os
import random
import subprocess
import sys

import mpmath
import pytest

from nnsym import api, primitives
from nnsym.errors import UsageError
from nnsym.pipeline import spec as spec_module
from nnsym.pipeline.loops import build_loop_program
from nnsym.pipeline.reference import MAX_CHECKED
from nnsym.pipeline.spec import AUTO_LOOPS_MIN_PARAMS, make_spec
from nnsym.targets import python as build
from tests.helpers import REPO, module_for

# Every activation of the table of primitives, and one defined by the user.
ACTIVATIONS = (*primitives.ACTIVATIONS, "cube=x**3/3")
# Those whose loop form does the very same float operations as the unrolled form:
# whole training runs agree to 1e-12.
SAME_ARITHMETIC = ("sigmoid", "tanh", "relu", "leaky_relu", "identity")
# (loss, output activation, architecture): every way the output layer meets a loss.
OUTPUTS = (
    ("sse", None, "2-3-1"),
    ("mse", "identity", "2-3-2"),
    ("bce", None, "2-3-1"),
    ("ce", None, "3-4-3"),
)
XOR_XS = [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]
XOR_YS = [(0.0,), (1.0,), (1.0,), (0.0,)]


def both(arch: str, **options):
    """The unrolled and the loop module of one network."""
    return tuple(
        module_for(make_spec(arch, form=form, **options))
        for form in ("unrolled", "loops")
    )


def samples(arch: tuple[int, ...], count: int, seed: int = 1):
    rng = random.Random(seed)
    xs = [[rng.uniform(-1, 1) for _ in range(arch[0])] for _ in range(count)]
    if arch[-1] == 1:
        ys = [[float(rng.random() < 0.5)] for _ in xs]
    else:
        ys = []
        for _ in xs:
            label = rng.randrange(arch[-1])
            ys.append([1.0 if k == label else 0.0 for k in range(arch[-1])])
    return xs, ys


def assert_close(a, b, rel=1e-12):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert abs(u - v) <= rel * max(1.0, abs(u), abs(v)), (u, v)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("loss, output, arch", OUTPUTS)
def test_loop_form_computes_what_the_unrolled_form_does(activation, loss, output, arch):
    unrolled, loops = both(
        arch, activation=activation, loss=loss, output_activation=output
    )
    for name in ("ARCH", "ACTIVATIONS", "LOSS", "PARAM_NAMES", "N_PARAMS"):
        assert getattr(loops, name) == getattr(unrolled, name)
    assert loops.init_params(7) == unrolled.init_params(7)
    xs, ys = samples(unrolled.ARCH, 6)
    params = unrolled.init_params(3)
    for x, y in zip(xs, ys):
        assert_close(loops.forward(params, x), unrolled.forward(params, x))
        assert_close([loops.loss(params, x, y)], [unrolled.loss(params, x, y)])
        (l0, g0), (l1, g1) = (m.loss_and_grad(params, x, y) for m in (unrolled, loops))
        assert_close([l1], [l0])
        assert_close(g1, g0)
    if activation in SAME_ARITHMETIC:
        epochs, lr, rel = 200, 0.1, 1e-12
    else:
        # Equal to 1e-12 per sample (above), but these helpers' derivatives are
        # not necessarily printed in the same order of operations: the last bits
        # drift with time.
        epochs, lr, rel = 50, 0.05, 1e-9
    runs = [m.train(xs, ys, lr=lr, epochs=epochs, seed=0) for m in (unrolled, loops)]
    assert_close(runs[1][1], runs[0][1], rel)  # the loss at every epoch
    assert_close(runs[1][0], runs[0][0], rel)  # the final parameters


def test_xor_trajectories_agree_for_2000_epochs():
    unrolled, loops = both("2-2-1")
    runs = [m.train(XOR_XS, XOR_YS, lr=1.0, epochs=2000, seed=0) for m in both("2-2-1")]
    assert len(runs[1][1]) == 2000
    assert_close(runs[1][1], runs[0][1])
    assert_close(runs[1][0], runs[0][0])
    assert runs[1][1][-1] < 0.01  # it learned XOR


@pytest.mark.parametrize(
    "options",
    [
        dict(optimizer="momentum", batch_size=3, reduction="mean"),
        dict(optimizer="adam", batch_size=2),
        dict(optimizer="sgd", batch_size=4, target_loss=1.0),
    ],
)
def test_optimizers_batches_and_stopping_agree(options):
    unrolled, loops = both("3-4-3", loss="ce")
    xs, ys = samples(unrolled.ARCH, 10)
    runs = [
        m.train(xs, ys, lr=0.05, epochs=60, seed=4, **options)
        for m in (unrolled, loops)
    ]
    assert_close(runs[1][1], runs[0][1])
    assert_close(runs[1][0], runs[0][0])


def test_callback_and_divergence_behave_the_same():
    unrolled, loops = both("2-3-1", activation="identity", output_activation="identity")
    xs, ys = samples(unrolled.ARCH, 4)
    seen = []
    loops.train(
        xs, ys, lr=0.01, epochs=50, callback=lambda e, o: seen.append(e) or e == 4
    )
    assert seen == [0, 1, 2, 3, 4]
    errors = []
    for m in (unrolled, loops):
        with pytest.raises(m.DivergenceError) as caught:
            m.train([[1e150, 1e150]], [[0.0]], lr=1e10, epochs=20, seed=0)
        errors.append(caught.value)
    assert errors[1].epoch == errors[0].epoch
    with pytest.raises(ValueError):
        loops.loss_and_grad([0.0] * 3, [0, 0], [0])


# An independent reference: the network and loss in mpmath at 50 digits, and
# its gradient by central differences there (step 1e-20: error about 1e-30).
def _mp_activation(name, z):
    if name == "softmax":
        top = max(z)
        exps = [mpmath.exp(v - top) for v in z]
        return [e / mpmath.fsum(exps) for e in exps]
    functions = {
        "sigmoid": lambda v: 1 / (1 + mpmath.exp(-v)),
        "tanh": mpmath.tanh,
        "relu": lambda v: v if v > 0 else mpmath.mpf(0),
        "leaky_relu": lambda v: v if v > 0 else v / 100,
        "identity": lambda v: v,
    }
    return [functions[name](v) for v in z]


def _mp_loss(spec, params, x, y):
    a = [mpmath.mpf(v) for v in x]
    start = 0
    for (n_in, n_out), activation in zip(
        zip(spec.arch, spec.arch[1:]), spec.activations
    ):
        z = []
        for j in range(n_out):
            row = params[start + j * (n_in + 1) : start + (j + 1) * (n_in + 1)]
            z.append(mpmath.fsum(w * v for w, v in zip(row, a)) + row[-1])
        start += n_out * (n_in + 1)
        a = _mp_activation(activation, z)
    if spec.loss in ("sse", "mse"):
        total = mpmath.fsum((v - t) ** 2 for v, t in zip(a, y))
        return total / len(y) if spec.loss == "mse" else total
    if spec.loss == "bce":
        return -mpmath.fsum(
            t * mpmath.log(v) + (1 - t) * mpmath.log(1 - v) for v, t in zip(a, y)
        )
    return -mpmath.fsum(t * mpmath.log(v) for v, t in zip(a, y))


@pytest.mark.parametrize(
    "arch, options",
    [
        ("2-3-1", {}),
        ("3-4-4-3", dict(activation="tanh", loss="ce")),
        ("2-4-2", dict(activation="leaky_relu", output_activation="sigmoid")),
        ("3-3-1", dict(activation="relu", loss="bce")),
    ],
)
def test_gradients_match_mpmath_central_differences(arch, options):
    spec = make_spec(arch, form="loops", **options)
    mod = module_for(spec)
    xs, ys = samples(spec.arch, 2, seed=5)
    params = mod.init_params(11)
    with mpmath.workdps(50):
        h = mpmath.mpf("1e-20")
        for x, y in zip(xs, ys):
            value, grads = mod.loss_and_grad(params, x, y)
            exact = [mpmath.mpf(p) for p in params]
            assert abs(value - _mp_loss(spec, exact, x, y)) <= 1e-13 * max(
                1, abs(value)
            )
            for i, g in enumerate(grads):
                up, down = list(exact), list(exact)
                up[i] += h
                down[i] -= h
                reference = (_mp_loss(spec, up, x, y) - _mp_loss(spec, down, x, y)) / (
                    2 * h
                )
                assert abs(g - reference) <= 1e-12 * max(1, abs(reference)), i


def test_generation_is_deterministic_across_hash_seeds():
    spec = make_spec("3-5-4-2", activation="tanh", loss="ce", form="loops")
    source = api.generate(spec).source
    script = (
        "import sys; from nnsym import api; from nnsym.pipeline.spec import make_spec; "
        "sys.stdout.write(api.generate(make_spec('3-5-4-2', activation='tanh', "
        "loss='ce', form='loops')).source)"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345", PYTHONPATH=str(REPO))
    other = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert other.stdout == source


def _code_lines(source: str) -> int:
    # The selftest's data aside: the checked indices and reference values, at
    # most MAX_CHECKED of each per point.
    start = source.index("_CHECKED = ")
    source = source[:start] + source[source.index("_REFERENCE_POINTS = ") :]
    return source.count("\n")


def test_code_size_grows_with_layers_not_parameters(monkeypatch):
    values = api.generate(make_spec("64-64-10", form="loops")).source
    assert values.count("\n") - _code_lines(values) < 4 * (MAX_CHECKED + 8)
    # Compared like for like: every selftest with central differences only.
    monkeypatch.setattr(build, "LOOPS_REFERENCE_MAX_PARAMS", 0)
    small = api.generate(make_spec("2-2-1", form="loops")).source
    wide = api.generate(make_spec("200-100-10", form="loops")).source
    assert abs(_code_lines(wide) - _code_lines(small)) < 10
    deeper = api.generate(make_spec("2-2-2-2-2-1", form="loops")).source
    assert _code_lines(deeper) > _code_lines(small)


def test_form_is_part_of_the_request():
    spec = make_spec("2-2-1")
    assert spec.form == "unrolled" and "--form" not in spec.command_line()
    loops = make_spec("2-2-1", form="loops")
    assert loops.command_line().endswith("--name mlp_2_2_1_loops --form loops")
    assert make_spec("2-2-1", form="auto").form == "unrolled"
    big = "2-40-22-1"
    assert make_spec(big).n_params >= AUTO_LOOPS_MIN_PARAMS
    assert make_spec(big, form="auto").form == "loops"
    with pytest.raises(UsageError, match="--form"):
        make_spec("2-2-1", form="rolled")


def test_loop_form_needs_no_parameter_cap_but_refuses_what_memory_cannot_hold(
    monkeypatch,
):
    with pytest.raises(UsageError, match="--form loops"):
        make_spec("784-128-10", loss="ce")
    spec = make_spec("784-128-10", loss="ce", form="loops")
    assert spec.n_params == 101_770
    monkeypatch.setattr(spec_module, "physical_memory", lambda: 2**30)
    with pytest.raises(UsageError, match="GiB of memory"):
        make_spec("3000-3000-10", form="loops")  # 9 million parameters


def test_program_is_derived_not_typed():
    # The derivative of each activation comes from SymPy: sigmoid's is a(1 - a),
    # tanh's 1 - a**2; softmax with ce gives a * sum(y) - y through a reduction,
    # evaluated with 1 - a as -expm1(-gap - lp) (precision in the tails).
    spec = make_spec("2-3-3-3", activation="tanh", loss="ce")
    shown = build_loop_program(spec, evaluated=False)
    hidden = [str(layer.delta_expr) for layer in shown.layers[:-1]]
    assert hidden == ["g*(1 - a**2)", "g*(1 - a**2)"]
    (reduction,) = shown.output_reductions
    assert str(reduction.term) == "y"
    assert str(shown.output_delta) == "a*r - y"
    assert str(shown.loss_term) == "y*(lse - z)"
    program = build_loop_program(spec)
    assert str(program.output_delta) == "a*(r - y) + y*expm1(-gap - lp)"
    assert str(program.loss_term) == "y*(gap + lp)"
    assert str(program.layers[-1].activation_expr) == "exp(-gap - lp)"


def test_large_network_runs_with_checked_gradients():
    spec = make_spec("50-40-30-5", activation="tanh", loss="ce", form="loops")
    mod = module_for(spec)
    xs, ys = samples(spec.arch, 1)
    params = mod.init_params(0)
    _, grads = mod.loss_and_grad(params, xs[0], ys[0])
    rng = random.Random(2)
    for i in rng.sample(range(spec.n_params), 20):
        up, down = list(params), list(params)
        up[i] += 1e-6
        down[i] -= 1e-6
        estimate = (mod.loss(up, xs[0], ys[0]) - mod.loss(down, xs[0], ys[0])) / 2e-6
        assert abs(estimate - grads[i]) <= 1e-7 * max(1, abs(grads[i]))


def test_pypy_runs_the_same_numbers(tmp_path):
    pypy = "/usr/bin/pypy3" if os.path.exists("/usr/bin/pypy3") else None
    if pypy is None:
        pytest.skip("pypy3 is not installed")
    spec = make_spec("3-4-3", loss="ce", form="loops")
    path = tmp_path / f"{spec.name}.py"
    path.write_text(api.generate(spec).source, encoding="utf-8")
    mod = module_for(spec)
    xs, ys = samples(spec.arch, 5)
    params, history = mod.train(xs, ys, lr=0.1, epochs=30, seed=0)
    script = (
        "import importlib.util, json, sys\n"
        f"s = importlib.util.spec_from_file_location('m', {str(path)!r})\n"
        "m = importlib.util.module_from_spec(s); s.loader.exec_module(m)\n"
        "assert m._PLAIN_LOOPS\n"
        f"print(json.dumps(m.train({xs!r}, {ys!r}, lr=0.1, epochs=30, seed=0)))\n"
    )
    result = subprocess.run(
        [pypy, "-c", script], capture_output=True, text=True, check=True
    )
    import json

    other_params, other_history = json.loads(result.stdout)
    assert_close(other_history, history, rel=1e-15)
    assert_close(other_params, params, rel=1e-15)


def test_check_samples_the_parameters_of_a_big_network():
    from nnsym.explain.fdcheck import CHECK_SAMPLE, check_gradients, format_report
    from nnsym.explain.point import parse_at

    spec = make_spec("64-32-10", loss="ce", form="loops")
    report = check_gradients(spec, parse_at(None, spec), module=module_for(spec))
    names = [p.name for p in report.params]
    assert len(names) == CHECK_SAMPLE and report.n_params == 2410
    assert {"w1_0_0", "b1_31", "w2_0_0", "b2_9"} <= set(names)
    assert report.agrees
    assert f"a seeded sample of {CHECK_SAMPLE} of the 2410" in format_report(report)


def test_batches_larger_than_a_fold_chunk_agree():
    # train() folds the kept samples into the sums every _CHUNK samples; a
    # batch of 600 folds three times, in sample order.
    unrolled, loops = both("2-3-2", loss="ce")
    assert loops._CHUNK < 600
    xs, ys = samples(unrolled.ARCH, 600, seed=9)
    runs = [m.train(xs, ys, lr=0.001, epochs=5, seed=0) for m in (unrolled, loops)]
    assert_close(runs[1][1], runs[0][1])
    assert_close(runs[1][0], runs[0][0])


@pytest.mark.parametrize("loss", ["sse", "mse"])
def test_softmax_under_squared_error_has_no_loop_form(loss):
    # Its loss is not one term per output (see spec.has_layer_form): refused,
    # and auto keeps such a network unrolled however large.
    with pytest.raises(UsageError, match="--form loops: a softmax output"):
        make_spec("3-4-3", output_activation="softmax", loss=loss, form="loops")
    big = make_spec("20-64-3", output_activation="softmax", loss=loss, form="auto")
    assert big.n_params >= AUTO_LOOPS_MIN_PARAMS and big.form == "unrolled"


def test_the_docs_give_the_784_128_10_loop_modules_real_line_count(tmp_path):
    # README and docs/forms.md quote the module's size: kept true by this test.
    import re
    from pathlib import Path

    from nnsym.targets.python import generate

    source = generate(make_spec("784-128-10", loss="ce", form="loops")).source
    lines = len(source.splitlines())
    small = generate(make_spec("64-32-10", loss="ce", form="loops")).source
    root = Path(__file__).parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    forms = (root / "docs" / "forms.md").read_text(encoding="utf-8")
    assert f"as a {lines}-line module" in readme
    assert re.search(rf"\| 784-128-10 ce \| 101,770 \|[^\n]*\| {lines} \|", forms)
    sentence = " ".join(forms.split())
    assert f"{lines} lines for 784-128-10" in sentence
    assert f"{len(small.splitlines())} lines for 64-32-10" in sentence
