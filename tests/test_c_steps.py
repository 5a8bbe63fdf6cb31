"""The C trainer in steps: NAME_trainer_init and NAME_train_epochs.

A run trained a few epochs at a time, with or without a history, ends with the
parameters, history and result of one whole NAME_train, to the last bit.
"""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from nnsym.pipeline.spec import make_spec
from nnsym.targets import source_for
from nnsym.targets.cengine import DIVERGED, OK, CTrainer, compile_shared
from tests.helpers import module_for
from tests.target_helpers import STRICT, XOR

pytestmark = pytest.mark.skipif(
    shutil.which("gcc") is None, reason="gcc is not installed"
)

# Each run: optimizer, reduction, lr, epochs, batch size, target loss (0: none).
RUNS = (
    ("SGD", "MEAN", 0.5, 60, 0, 0.0),
    ("MOMENTUM", "SUM", 0.01, 45, 7, 0.0),
    ("ADAM", "MEAN", 0.01, 50, 10, 0.0),
    ("SGD", "SUM", 0.05, 500, 0, 40.0),
)

DRIVER = r"""
#include <stdio.h>
#include <string.h>
#define %(upper)s_IMPLEMENTATION
#include "%(name)s.h"

#define N %(n)d
#define MAX_EPOCHS 500
typedef %(name)s_real real;

static const real xs[] = {%(xs)s};
static const real ys[] = {%(ys)s};
struct run {
    int optimizer, reduction;
    double lr;
    long epochs;
    size_t batch;
    double target;
};
static const struct run runs[] = {%(runs)s};

int main(void)
{
    static real whole[%(upper)s_N_PARAMS], stepped[%(upper)s_N_PARAMS];
    static real history[MAX_EPOCHS + 1], parts[MAX_EPOCHS + 1];
    static real moments[%(upper)s_N_MOMENTS(%(upper)s_ADAM)];
    static const long chunks[] = {1, 2, 3, 5, 8, 13};
    size_t order[N], k;
    long run_whole, calls, c, kept;
    int code_whole, code, same;
    %(name)s_options options;
    %(name)s_trainer trainer;
    for (k = 0; k < sizeof runs / sizeof runs[0]; k++) {
        %(name)s_default_options(&options);
        options.optimizer = runs[k].optimizer;
        options.reduction = runs[k].reduction;
        options.lr = (real)runs[k].lr;
        options.epochs = runs[k].epochs;
        options.batch_size = runs[k].batch;
        options.seed = 5;
        options.has_target_loss = runs[k].target > 0;
        options.target_loss = (real)runs[k].target;
        %(name)s_init_params(whole, 3);
        memcpy(stepped, whole, sizeof whole);
        memset(parts, 0, sizeof parts);
        code_whole =
            %(name)s_train(whole, xs, ys, N, &options, order, history, &run_whole);
        /* A trainer, its order and its moments are the caller's: dirty them first. */
        memset(order, 0xA5, sizeof order);
        memset(moments, 0x5A, sizeof moments);
        code = %(name)s_trainer_init(&trainer, &options, N, order, moments);
        same = code == %(upper)s_OK;
        for (calls = 0; code == %(upper)s_OK && !trainer.finished; calls++) {
            c = chunks[calls %% 6];
            kept = trainer.epochs_run;
            /* Every third call keeps no history. */
            code = %(name)s_train_epochs(&trainer, stepped, xs, ys, c,
                calls %% 3 == 2 ? NULL : parts + kept);
            if (calls %% 3 == 2) {
                c = trainer.epochs_run - kept + (code == %(upper)s_DIVERGED);
                memcpy(parts + kept, history + kept, (size_t)c * sizeof(real));
            }
        }
        same = same && code == code_whole && trainer.epochs_run == run_whole;
        same = same && memcmp(whole, stepped, sizeof whole) == 0;
        same = same && memcmp(history, parts,
            (size_t)(run_whole + (code == %(upper)s_DIVERGED)) * sizeof(real)) == 0;
        same = same && memcmp(&trainer.objective,
            &history[run_whole - (code != %(upper)s_DIVERGED)], sizeof(real)) == 0;
        /* Once finished, a call runs nothing and gives the run's result again. */
        c = %(name)s_train_epochs(&trainer, stepped, xs, ys, 10, NULL);
        same = same && c == code;
        same = same && trainer.epochs_run == run_whole;
        /* history may be NULL in one whole run too. */
        %(name)s_init_params(stepped, 3);
        c = %(name)s_train(stepped, xs, ys, N, &options, order, NULL, &kept);
        same = same && c == code_whole && kept == run_whole;
        same = same && memcmp(whole, stepped, sizeof whole) == 0;
        printf("%%s %%d %%ld %%ld %%.9g\n", same ? "same" : "DIFFERENT", code,
            run_whole, calls, (double)history[0]);
    }
    return 0;
}
"""


def _driver(spec, dtype: str, runs, xs, ys) -> str:
    def literal(run):
        optimizer, reduction, lr, epochs, batch, target = run
        upper = spec.name.upper()
        return (
            f"{{{upper}_{optimizer}, {upper}_{reduction}, {lr!r}, {epochs}, "
            f"{batch}, {target!r}}}"
        )

    return DRIVER % {
        "name": spec.name,
        "upper": spec.name.upper(),
        "n": len(xs),
        "xs": ", ".join(repr(float(v)) for x in xs for v in x),
        "ys": ", ".join(repr(float(v)) for y in ys for v in y),
        "runs": ", ".join(literal(run) for run in runs),
    }


def _run_driver(tmp_path: Path, spec, dtype: str, runs, xs, ys) -> list[list[str]]:
    (tmp_path / f"{spec.name}.h").write_text(source_for(spec, "c", dtype))
    (tmp_path / "driver.c").write_text(_driver(spec, dtype, runs, xs, ys))
    program = tmp_path / "driver"
    subprocess.run(
        ["gcc", *STRICT, "-O1", "-g", "-fsanitize=address,undefined"]
        + ["-fno-sanitize-recover=all", "-o", str(program), str(tmp_path / "driver.c")]
        + ["-lm"],
        check=True,
    )
    run = subprocess.run([str(program)], capture_output=True, text=True, check=True)
    assert run.stderr == ""
    return [line.split() for line in run.stdout.splitlines()]


def _data(tag: str, n: int = 37) -> tuple[list, list]:
    rng = random.Random(tag)
    xs = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(n)]
    ys = [[rng.choice((-1.0, 1.0))] for _ in range(n)]
    return xs, ys


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("form", ["unrolled", "loops"])
def test_training_in_steps_equals_one_whole_run_to_the_bit(
    tmp_path: Path, form: str, dtype: str
):
    spec = make_spec("3-4-4-1", activation="tanh", loss="mse", form=form)
    xs, ys = _data("steps")
    lines = _run_driver(tmp_path, spec, dtype, RUNS, xs, ys)
    assert [line[0] for line in lines] == ["same"] * len(RUNS), lines
    codes = [int(line[1]) for line in lines]
    epochs = [int(line[2]) for line in lines]
    calls = [int(line[3]) for line in lines]
    assert codes == [OK] * len(RUNS)
    # The whole number of epochs ran, over many calls; the target loss stopped
    # the last run early.
    assert epochs[:3] == [run[3] for run in RUNS[:3]] and calls[0] > 6
    assert 0 < epochs[3] < RUNS[3][3]


@pytest.mark.parametrize("form", ["unrolled", "loops"])
def test_divergence_in_steps_is_the_whole_runs(tmp_path: Path, form: str):
    # A linear network with a learning rate far too large, as in test_target_c.
    spec = make_spec("2-1", activation="identity", form=form)
    spec = spec.__class__(**{**spec.__dict__, "name": spec.name + "_steps"})
    xs, ys = [[1e3, -2e3], [3e3, 1e3]], [[1.0], [0.0]]
    lines = _run_driver(
        tmp_path, spec, "float64", [("SGD", "SUM", 10.0, 500, 0, 0.0)], xs, ys
    )
    ((same, code, epochs, calls, _),) = lines
    assert same == "same" and int(code) == DIVERGED
    assert 0 < int(epochs) < 500 and int(calls) > 1


def test_the_engine_trains_in_chunks_with_the_whole_runs_numbers(tmp_path: Path):
    spec = make_spec("2-2-1")
    library = compile_shared(source_for(spec, "c"), spec.name, tmp_path)
    trainer = CTrainer(library, spec)
    start = module_for(spec).init_params(0)
    seen: list[int] = []

    def between(epoch: int, objective: float) -> bool:
        seen.append(epoch)
        return False

    for options in (
        {"optimizer": "adam", "lr": 0.05},
        {"optimizer": "momentum", "lr": 0.1, "batch_size": 3, "seed": 4},
    ):
        whole = trainer.train(*XOR, epochs=3000, params=start, **options)
        seen.clear()
        chunked = trainer.train(
            *XOR, epochs=3000, params=start, between=between, **options
        )
        assert chunked == whole and whole[0] == OK and len(whole[2]) == 3000
        # Told after each chunk, in order, the last time of the last epoch.
        assert len(seen) > 1 and seen == sorted(seen) and seen[-1] == 2999
    # between() returning True stops the run after that chunk.
    code, params, history = trainer.train(
        *XOR, epochs=3000, params=start, lr=1.0, between=lambda e, o: True
    )
    assert code == OK and 0 < len(history) < 3000
    assert params != start
