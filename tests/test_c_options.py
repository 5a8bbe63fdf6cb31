"""The C trainer's weight decay, Nesterov momentum and gradient clipping.

Each against the Python module's train() with the same options from the same
start, on the full batch (mini-batches are shuffled in another order): the
parameters and every epoch's objective agree to the last few bits.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nnsym.pipeline.spec import make_spec
from nnsym.targets import ccache
from nnsym.targets.cmodule import c_engine
from tests.helpers import module_for

pytestmark = pytest.mark.skipif(
    shutil.which("gcc") is None, reason="gcc is not installed"
)
REPO = Path(__file__).resolve().parent.parent

# (optimizer, options of train()), each with an option the C trainer has.
RUNS = [
    ("sgd", {"lr": 0.5, "weight_decay": 0.01}),
    ("momentum", {"lr": 0.1, "nesterov": True}),
    ("momentum", {"lr": 0.1, "weight_decay": 0.001, "nesterov": True}),
    ("adam", {"lr": 0.05, "clip_grad_norm": 0.05}),
    ("adam", {"lr": 0.05, "weight_decay": 0.01, "clip_grad_norm": 0.5}),
    ("lm", {"weight_decay": 0.01}),
    ("lbfgs", {"weight_decay": 0.01}),
]
RUN_IDS = [
    "-".join([optimizer, *(k for k in options if k != "lr")])
    for optimizer, options in RUNS
]
# (arch, options): sse with sigmoids, tanh with mse, a softmax with ce.
NETS = [
    ("2-3-1", {}),
    ("2-3-2", {"activation": "tanh", "loss": "mse"}),
    ("3-4-3", {"loss": "ce", "output_activation": "softmax"}),
]


@pytest.fixture(scope="module", autouse=True)
def cache(tmp_path_factory) -> Path:
    """A cache of compiled trainers of this file's own: each net compiles once."""
    folder = tmp_path_factory.mktemp("cache")
    saved = os.environ.get(ccache.CACHE_ENV)
    os.environ[ccache.CACHE_ENV] = str(folder)
    yield folder
    if saved is None:
        del os.environ[ccache.CACHE_ENV]
    else:
        os.environ[ccache.CACHE_ENV] = saved


def _data(spec, count=12, seed=3):
    rng = random.Random(seed)
    n_in, n_out = spec.arch[0], spec.arch[-1]
    xs = [[rng.uniform(-2, 2) for _ in range(n_in)] for _ in range(count)]
    if spec.loss == "ce":
        ys = [[float(k == i % n_out) for k in range(n_out)] for i in range(count)]
    else:
        ys = [
            [0.5 + 0.4 * math.sin(sum(xs[i]) + k) for k in range(n_out)]
            for i in range(count)
        ]
    return xs, ys


@pytest.mark.parametrize("optimizer, options", RUNS, ids=RUN_IDS)
@pytest.mark.parametrize("form", ["unrolled", "loops"])
@pytest.mark.parametrize("arch, net", NETS, ids=[a for a, _ in NETS])
def test_the_c_trainer_follows_the_python_module(arch, net, form, optimizer, options):
    spec = make_spec(arch, form=form, **net)
    module = module_for(spec)
    engine = c_engine(spec, module)
    xs, ys = _data(spec)
    common = dict(options, optimizer=optimizer, epochs=20, seed=1)
    if optimizer in ("sgd", "momentum", "adam"):
        common["reduction"] = "mean"
    want, want_history = module.train(xs, ys, **common)
    got, history = engine.train(xs, ys, **common)
    assert len(history) == len(want_history) == 20
    for a, b in zip(history, want_history):
        assert a == pytest.approx(b, rel=1e-11, abs=1e-13)
    for a, b in zip(got, want):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-10)
    # The options did something: without them, other parameters.
    plain = {k: v for k, v in common.items() if k in ("optimizer", "epochs", "seed")}
    plain.update({k: common[k] for k in ("lr", "reduction") if k in common})
    unchanged, _ = engine.train(xs, ys, **plain)
    assert max(abs(a - b) for a, b in zip(unchanged, got)) > 1e-6


def test_clipping_bounds_every_step():
    # sgd with lr 1 and a norm of at most 1e-3: no parameter moves further.
    spec = make_spec("2-3-1")
    engine = c_engine(spec, module_for(spec))
    xs, ys = _data(spec)
    start = engine.init_params(0)
    moved, _ = engine.train(xs, ys, lr=1.0, epochs=1, params=start, clip_grad_norm=1e-3)
    step = math.sqrt(sum((a - b) ** 2 for a, b in zip(moved, start)))
    assert 0 < step <= 1e-3


@pytest.mark.parametrize(
    "options, message",
    [
        ({"optimizer": "sgd", "nesterov": True}, "nesterov=True needs"),
        ({"optimizer": "lm", "clip_grad_norm": 1.0}, "clip_grad_norm is for"),
        ({"optimizer": "adam", "clip_grad_norm": 0.0}, "clip_grad_norm must be"),
        ({"optimizer": "sgd", "weight_decay": -1.0}, "weight_decay must be"),
        ({"optimizer": "sgd", "weight_decay": math.nan}, "weight_decay must be"),
    ],
)
def test_bad_options_get_the_python_modules_messages(options, message):
    spec = make_spec("2-2-1")
    module = module_for(spec)
    engine = c_engine(spec, module)
    xs, ys = _data(spec, count=4)
    lr = None if options["optimizer"] == "lm" else 0.1
    for trainer in (module, engine):
        with pytest.raises(ValueError, match=message):
            trainer.train(xs, ys, lr=lr, epochs=3, **options)


def test_train_engine_c_with_the_options_reports_the_python_engines_numbers(
    tmp_path: Path,
):
    common = ["train", "--arch", "4-3-3", "--loss", "ce", "--data", "iris"]
    common += ["--optimizer", "momentum", "--nesterov", "--lr", "0.01"]
    common += ["--weight-decay", "0.01", "--clip-grad-norm", "5"]
    common += ["--epochs", "30", "--seed", "0", "-o", str(tmp_path / "m.py")]
    reports = {}
    for engine in ("python", "c"):
        out = subprocess.run(
            [sys.executable, "-m", "nnsym", *common, "--engine", engine],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        reports[engine] = [
            line for line in out.splitlines() if line.startswith(("final", "accuracy"))
        ]
    assert len(reports["c"]) == 2 and reports["c"] == reports["python"]
