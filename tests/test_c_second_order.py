"""The C trainer's NAME_jacobian, NAME_LM and NAME_LBFGS against the Python module.

NAME_jacobian is checked against central differences of NAME_forward and
against the Python module's jacobian; lm and lbfgs against the Python module's
optimizer="lm" and "lbfgs" (nnsym/runtime/second_order.py, itself checked
against PyTorch in tests/test_second_order.py) from the same start. A C driver
built with -fsanitize=address,undefined runs lm and lbfgs a few epochs at a
time, on a singular system and on a network too large for lm.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from nnsym.pipeline.spec import make_spec
from nnsym.targets import source_for
from nnsym.targets.cengine import TOO_MANY_PARAMS
from nnsym.targets.cmodule import CEngine
from tests.helpers import module_for, run_cli_process
from tests.target_helpers import STRICT, c_trainer

pytestmark = pytest.mark.skipif(
    shutil.which("gcc") is None, reason="gcc is not installed"
)

# (arch, options): sse with sigmoids, bce, softmax with ce (3 outputs, and 6,
# whose log-sum-exp sums 5 terms in the loop form too), tanh with mse.
NETS = [
    ("2-2-1", {}),
    ("2-3-1", {"loss": "bce"}),
    ("4-5-3", {"loss": "ce", "output_activation": "softmax"}),
    ("3-4-6", {"loss": "ce", "output_activation": "softmax"}),
    ("2-3-2", {"activation": "tanh", "loss": "mse"}),
]
IDS = [f"{arch}-{options.get('loss', 'sse')}" for arch, options in NETS]
FORMS = ("unrolled", "loops")
ITERATIONS = 20
# float32 runs the same arithmetic in 24-bit numbers: the objectives of lbfgs's
# 20 iterations and of lm's first 5 stay within this (relative) of the double
# run's; lm's later steps, at mu down to 1e-9, amplify float32's rounding.
FLOAT32_TOLERANCE = 1e-3


def _spec(arch, options, form, suffix=""):
    spec = make_spec(arch, form=form, **options)
    if suffix:
        spec = spec.__class__(**{**spec.__dict__, "name": spec.name + suffix})
    return spec


def _specs(dtype_suffix=""):
    return tuple(_spec(a, o, f, dtype_suffix) for a, o in NETS for f in FORMS)


def _trainer(spec, dtype="float64"):
    return c_trainer(spec, _specs(), dtype)


def _data(spec, count=10, seed=5):
    rng = random.Random(seed)
    n_in, n_out = spec.arch[0], spec.arch[-1]
    xs = [[rng.uniform(-2, 2) for _ in range(n_in)] for _ in range(count)]
    if spec.loss == "ce":
        ys = [[float(k == i % n_out) for k in range(n_out)] for i in range(count)]
    elif spec.loss == "bce":
        ys = [[float((i * 7 + k) % 3 == 0) for k in range(n_out)] for i in range(count)]
    else:
        ys = [[math.sin(sum(xs[i]) + k) for k in range(n_out)] for i in range(count)]
    return xs, ys


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("arch, options", NETS, ids=IDS)
def test_jacobian_matches_central_differences_and_the_python_module(
    arch, options, form
):
    spec = _spec(arch, options, form)
    trainer, m = _trainer(spec), module_for(spec)
    params = m.init_params(4)
    h = 1e-6
    for x in _data(spec, count=3)[0]:
        jac = trainer.jacobian(params, x)
        assert len(jac) == spec.arch[-1] and all(len(r) == spec.n_params for r in jac)
        theirs = m.jacobian(params, x)
        for ours_row, their_row in zip(jac, theirs):
            for a, b in zip(ours_row, their_row):
                assert a == pytest.approx(b, abs=1e-14)
        for i in range(spec.n_params):
            up, down = list(params), list(params)
            up[i] += h
            down[i] -= h
            plus, minus = trainer.forward(up, x), trainer.forward(down, x)
            for k in range(spec.arch[-1]):
                assert jac[k][i] == pytest.approx(
                    (plus[k] - minus[k]) / (2 * h), abs=1e-7
                )


def _runs(spec, optimizer, reduction, dtype="float64", epochs=ITERATIONS):
    m = module_for(spec)
    xs, ys = _data(spec)
    start = m.init_params(3)
    python = m.train(
        xs, ys, epochs=epochs, params=start, optimizer=optimizer, reduction=reduction
    )
    code, params, history = _trainer(spec, dtype).train(
        xs,
        ys,
        lr=None,
        epochs=epochs,
        params=start,
        optimizer=optimizer,
        reduction=reduction,
    )
    assert code == 0
    return python, (params, history), m, xs


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("optimizer", ["lm", "lbfgs"])
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("arch, options", NETS, ids=IDS)
def test_parameters_equal_the_python_modules_after_20_iterations(
    arch, options, form, optimizer, reduction
):
    # With a softmax, J^T H J is singular (the outputs do not change when every
    # output neuron's weights and bias move alike, and 10 samples determine
    # fewer numbers than the parameters), and lm, its mu falling tenfold a
    # step, moves along the directions the data leave free by amounts that grow
    # tenfold a step from the last bit of each sum: the C log-sum-exp's sums are
    # compensated, as the Python module's fsum is exact, or the 3-4-6 net's
    # parameters would part by 1e-10 after 12 iterations and 2e-2 after 20.
    spec = _spec(arch, options, form)
    (want, want_history), (got, history), _, _ = _runs(spec, optimizer, reduction)
    assert len(history) == len(want_history) == ITERATIONS
    for a, b in zip(history, want_history):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12)
    for a, b in zip(got, want):
        assert a == pytest.approx(b, abs=1e-9)


@pytest.mark.parametrize("optimizer", ["lm", "lbfgs"])
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("arch, options", NETS, ids=IDS)
def test_float32_follows_the_double_run(arch, options, form, optimizer):
    spec = _spec(arch, options, form)
    (_, want_history), (_, history), _, _ = _runs(spec, optimizer, "mean", "float32")
    compared = history[:5] if optimizer == "lm" else history
    assert len(compared) == (5 if optimizer == "lm" else ITERATIONS)
    for a, b in zip(compared, want_history):
        assert a == pytest.approx(b, rel=FLOAT32_TOLERANCE)


DRIVER = r"""
#include <stdio.h>
#include <string.h>
#define %(upper)s_IMPLEMENTATION
#include "%(name)s.h"

#define N %(n)d
typedef %(name)s_real real;
static const real xs[] = {%(xs)s};
static const real ys[] = {%(ys)s};
static real work[%(upper)s_LM_WORKSPACE > %(upper)s_LBFGS_WORKSPACE ?
    %(upper)s_LM_WORKSPACE : %(upper)s_LBFGS_WORKSPACE];

/* A run of `epochs`, whole and in calls of 1, 2, 3, 5, 8, 13 epochs: prints
 * same or DIFFERENT, the code, the epochs run and the last objective. */
static void run(int optimizer, long epochs)
{
    static real whole[%(upper)s_N_PARAMS], stepped[%(upper)s_N_PARAMS];
    static real history[64], parts[64];
    static const long chunks[] = {1, 2, 3, 5, 8, 13};
    %(name)s_options options;
    %(name)s_trainer trainer;
    int code, code_whole, same;
    long calls;
    %(name)s_default_options(&options);
    options.optimizer = optimizer;
    options.epochs = epochs;
    %(name)s_init_params(whole, 3);
    memcpy(stepped, whole, sizeof whole);
    memset(work, 0x5A, sizeof work);
    code_whole = %(name)s_trainer_init(&trainer, &options, N, NULL, work);
    if (code_whole == %(upper)s_OK) {
        code_whole = %(name)s_train_epochs(&trainer, whole, xs, ys, epochs, history);
    }
    if (code_whole == %(upper)s_TOO_MANY_PARAMS) {
        printf("refused %%d\n", code_whole);
        return;
    }
    memset(work, 0xA5, sizeof work);
    code = %(name)s_trainer_init(&trainer, &options, N, NULL, work);
    for (calls = 0; code == %(upper)s_OK && !trainer.finished; calls++) {
        code = %(name)s_train_epochs(&trainer, stepped, xs, ys, chunks[calls %% 6],
            parts + trainer.epochs_run);
    }
    same = code == code_whole && memcmp(whole, stepped, sizeof whole) == 0 &&
        memcmp(history, parts, (size_t)trainer.epochs_run * sizeof(real)) == 0;
    printf("%%s %%d %%ld %%.17g\n", same ? "same" : "DIFFERENT", code,
        trainer.epochs_run, (double)trainer.objective);
}

int main(void)
{
    %(name)s_options options;
    long epochs_run = 7;
    int code;
    run(%(upper)s_LM, %(epochs)d);
    run(%(upper)s_LBFGS, %(epochs)d);
    /* NAME_train has no workspace for them. */
    %(name)s_default_options(&options);
    options.optimizer = %(upper)s_LBFGS;
    code = %(name)s_train(work, xs, ys, N, &options, NULL, NULL, &epochs_run);
    printf("train %%d %%ld\n", code, epochs_run);
    return 0;
}
"""


def _driver_lines(tmp_path: Path, spec, xs, ys, epochs=30) -> list[list[str]]:
    (tmp_path / f"{spec.name}.h").write_text(source_for(spec, "c"), encoding="utf-8")
    values = {
        "name": spec.name,
        "upper": spec.name.upper(),
        "n": len(xs),
        "xs": ", ".join(repr(float(v)) for x in xs for v in x),
        "ys": ", ".join(repr(float(v)) for y in ys for v in y),
        "epochs": epochs,
    }
    (tmp_path / "driver.c").write_text(DRIVER % values, encoding="utf-8")
    program = tmp_path / "driver"
    subprocess.run(
        ["gcc", *STRICT, "-pedantic", "-O1", "-g", "-fsanitize=address,undefined"]
        + ["-fno-sanitize-recover=all", "-o", str(program), str(tmp_path / "driver.c")]
        + ["-lm"],
        check=True,
    )
    run = subprocess.run([str(program)], capture_output=True, text=True, check=True)
    assert run.stderr == ""
    return [line.split() for line in run.stdout.splitlines()]


@pytest.mark.parametrize("form", FORMS)
def test_runs_in_steps_equal_one_whole_run_under_the_sanitizers(tmp_path, form):
    spec = _spec("4-5-3", {"loss": "ce", "output_activation": "softmax"}, form)
    xs, ys = _data(spec)
    lm, lbfgs, train = _driver_lines(tmp_path, spec, xs, ys)
    assert lm[:3] == ["same", "0", "30"] and lbfgs[:3] == ["same", "0", "30"]
    assert float(lm[3]) < 0.1 and float(lbfgs[3]) < 1.0
    assert train == ["train", "2", "0"]


@pytest.mark.parametrize("form", FORMS)
def test_a_singular_system_raises_mu_and_never_crashes(tmp_path, form):
    # Every sample the same: J^T J has rank one, singular for any mu below its
    # rounding; lm must raise mu or stop, not crash, and both fit the target.
    spec = _spec("2-3-1", {}, form, "_singular")
    xs, ys = [[1.0, 1.0]] * 6, [[0.25]] * 6
    lm, lbfgs, _ = _driver_lines(tmp_path, spec, xs, ys)
    assert lm[0] == "same" and lm[1] == "0" and 1 <= int(lm[2]) <= 30
    assert lbfgs[0] == "same" and lbfgs[1] == "0"
    assert float(lm[3]) < 1e-6 and float(lbfgs[3]) < 1e-6


def test_nan_in_the_data_is_the_divergence_status():
    spec = _spec("2-2-1", {}, "unrolled")
    trainer = _trainer(spec)
    start = module_for(spec).init_params(0)
    for optimizer in ("lm", "lbfgs"):
        code, params, history = trainer.train(
            [[0.0, math.nan], [1.0, 1.0]],
            [[0.0], [1.0]],
            lr=None,
            epochs=5,
            params=start,
            optimizer=optimizer,
        )
        assert code == 1 and params == start and math.isnan(history[-1])


def test_lm_is_refused_above_the_limit_with_a_line_that_suggests_lbfgs(tmp_path):
    spec = _spec("30-30-3", {}, "loops", "_large")
    assert spec.n_params > module_for(spec).LM_MAX_PARAMS
    xs, ys = _data(spec, count=4)
    lm, lbfgs, _ = _driver_lines(tmp_path, spec, xs, ys, epochs=3)
    assert lm == ["refused", str(TOO_MANY_PARAMS)] and lbfgs[:2] == ["same", "0"]
    engine = CEngine(module_for(spec), c_trainer(spec, (spec,)))
    with pytest.raises(ValueError, match="at most 1000 parameters.*lbfgs"):
        engine.train(xs, ys, lr=None, epochs=3, optimizer="lm")


@pytest.mark.parametrize("optimizer", ["lm", "lbfgs"])
def test_train_engine_c_reports_the_python_engines_numbers(tmp_path, optimizer):
    args = ["train", "--arch", "2-2-1", "--data", "xor", "--optimizer", optimizer]
    args += ["--epochs", "20", "--seed", "1"]
    runs, weights = {}, {}
    for engine in ("python", "c"):
        folder = tmp_path / engine
        folder.mkdir()
        result = run_cli_process(
            [*args, "--engine", engine, "--save", "w.json"], cwd=folder
        )
        assert result.returncode == 0, result.stderr
        # All but the line of the time taken.
        runs[engine] = [
            line for line in result.stdout.splitlines() if "epochs in" not in line
        ]
        saved = json.loads((folder / "w.json").read_text(encoding="utf-8"))
        weights[engine] = saved
    assert runs["c"] == runs["python"] and "final loss" in "".join(runs["c"])
    python, c = weights["python"], weights["c"]
    assert c["training"]["epochs_run"] == python["training"]["epochs_run"]
    assert c["training"]["final_loss"] == pytest.approx(
        python["training"]["final_loss"], rel=1e-9, abs=1e-15
    )


def test_the_cli_refuses_lm_mini_batches_for_the_c_engine(tmp_path):
    result = run_cli_process(
        ["train", "--arch", "2-2-1", "--data", "xor", "--optimizer", "lm"]
        + ["--engine", "c", "--batch-size", "2", "--epochs", "3", "-q"],
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "full batch" in result.stderr and "Traceback" not in result.stderr
