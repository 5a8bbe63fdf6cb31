"""Shared helpers for the C, JavaScript and MicroPython target tests."""

from __future__ import annotations

import functools
import math
import random
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from nnsym.errors import UsageError
from nnsym.pipeline.spec import LOSSES, Spec, make_spec
from nnsym.primitives import ACTIVATIONS
from nnsym.targets import source_for
from nnsym.targets.cengine import CTrainer
from tests.helpers import module_for

REPO = Path(__file__).resolve().parent.parent
JS_TESTS = REPO / "tests" / "js"
MICROPYTHON_PACKAGE = "@micropython/micropython-webassembly-pyscript"
STRICT = ("-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror")

# XOR and the micrograd tutorial's data, as in nnsym.models.data.
XOR = ([[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [1], [1], [0]])
MICROGRAD = (
    [[2, 3, -1], [3, -1, 0.5], [0.5, 1, 1], [1, 1, -1]],
    [[1], [-1], [-1], [1]],
)


def matrix_specs() -> list[Spec]:
    """Every activation x loss, on a small net with two outputs (ce needs them)."""
    return [
        make_spec("2-3-2", activation=activation, loss=loss)
        for activation in ACTIVATIONS
        for loss in LOSSES
    ]


def extra_specs() -> list[Spec]:
    """Softmax under sse/mse, and user-defined activations (helper and inline)."""
    return [
        make_spec(
            "2-3-3", activation="cube=x**3/3", output_activation="softmax", loss="mse"
        ),
        make_spec("2-3-2", activation="elu", output_activation="softmax", loss="sse"),
        make_spec("2-2-1", activation="x*tanh(x)", loss="bce"),
    ]


def loop_specs() -> list[Spec]:
    """The loop form of every activation x loss it supports, and a custom one.

    A softmax output under sse or mse has no loop form (make_spec refuses it).
    """
    specs = []
    for activation in ACTIVATIONS:
        for loss in LOSSES:
            try:
                specs.append(
                    make_spec("2-3-2", activation=activation, loss=loss, form="loops")
                )
            except UsageError:
                pass
    specs.append(make_spec("2-2-1", activation="x*tanh(x)", loss="bce", form="loops"))
    specs.append(
        make_spec("3-4-4-3", activation="cube=x**3/3", loss="ce", form="loops")
    )
    # A custom activation named like a buffer (its helper is _a1 in JavaScript).
    specs.append(make_spec("2-3-1", activation="a1=x**3/3", loss="sse", form="loops"))
    # Widths past a block of four, with a rest: both dot-product loops of C and JS.
    specs.append(make_spec("3-6-5-2", activation="tanh", loss="sse", form="loops"))
    specs.append(
        make_spec(
            "5-9-4-3",
            activation="elu",
            output_activation="softmax",
            loss="ce",
            form="loops",
        )
    )
    return specs


def xor_spec() -> Spec:
    """The 2-2-1 sigmoid sse network of the README."""
    return make_spec("2-2-1")


def micrograd_spec() -> Spec:
    """The micrograd tutorial's 3-4-4-1 tanh network (mse)."""
    return make_spec("3-4-4-1", activation="tanh", loss="mse")


def node() -> str | None:
    """Node.js on PATH, if its version is 18 or later."""
    path = shutil.which("node")
    if path is None:
        return None
    version = subprocess.run(
        [path, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    try:
        major = int(version.lstrip("v").split(".")[0])
    except ValueError:
        return None
    return path if major >= 18 else None


def micropython_package() -> Path | None:
    """The MicroPython WebAssembly npm package, installed under the repository."""
    folder = REPO / "node_modules" / MICROPYTHON_PACKAGE
    return folder if (folder / "micropython.mjs").is_file() else None


@functools.cache
def c_library(specs: tuple[Spec, ...], dtype: str = "float64") -> Path:
    """All `specs`' C trainers compiled into one shared library.

    One translation unit includes every generated header: each symbol's prefix
    keeps them apart, and one compiler run is far cheaper than one per network.
    """
    folder = Path(tempfile.mkdtemp(prefix="nnsym-c-tests-"))
    lines = []
    for spec in specs:
        (folder / f"{spec.name}.h").write_text(
            source_for(spec, "c", dtype), encoding="utf-8"
        )
        lines += [
            f"#define {spec.name.upper()}_IMPLEMENTATION",
            f'#include "{spec.name}.h"',
        ]
    unit = folder / "all.c"
    unit.write_text("\n".join(lines) + "\n", encoding="utf-8")
    library = folder / "liball.so"
    subprocess.run(
        [
            "gcc",
            *STRICT,
            "-O2",
            "-shared",
            "-fPIC",
            "-o",
            str(library),
            str(unit),
            "-lm",
        ],
        check=True,
    )
    return library


def c_trainer(spec: Spec, specs: tuple[Spec, ...], dtype: str = "float64") -> CTrainer:
    """`spec`'s trainer in the library of `specs` (which includes it)."""
    return CTrainer(c_library(specs, dtype), spec, dtype)


def splitmix64(seed: int, count: int) -> list[int]:
    """The first `count` outputs of splitmix64 from `seed`, as its paper gives it."""
    mask = (1 << 64) - 1
    state = seed & mask
    out = []
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        out.append(z ^ (z >> 31))
    return out


def shuffled_orders(seed: int, n: int, epochs: int) -> list[list[int]]:
    """The mini-batch order of each epoch: Fisher-Yates driven by splitmix64(seed)."""
    draws = iter(splitmix64(seed, epochs * max(n - 1, 0)))
    order = list(range(n))
    orders = []
    for _ in range(epochs):
        for i in range(n, 1, -1):
            j = next(draws) % i
            order[i - 1], order[j] = order[j], order[i - 1]
        orders.append(list(order))
    return orders


def close(a: float, b: float, tolerance: float) -> bool:
    """|a - b| <= tolerance * max(1, |a|, |b|)."""
    return abs(a - b) <= tolerance * max(1.0, abs(a), abs(b))


def tanh_points() -> list[float]:
    """Both branches, their boundary, the tiny, the saturated and the special."""
    rng = random.Random("tanh")
    magnitudes = [10.0**e for e in range(-300, 3)] + [5e-324, 2.2e-308, 0.625]
    magnitudes += [math.nextafter(0.625, 0.0), 1e-8, 0.5493, 19.0, 22.0, 400.0]
    magnitudes += [rng.uniform(0.0, 1.0) for _ in range(3000)]
    magnitudes += [rng.uniform(0.0, 25.0) for _ in range(2000)]
    magnitudes += [math.exp(rng.uniform(-40.0, 3.0)) for _ in range(2000)]
    return [sign * m for m in magnitudes for sign in (1.0, -1.0)]


def relu_case(tag: str) -> tuple[Spec, Any, list, list, list[float]]:
    """A 3-6-5-2 relu loop-form spec, its Python module, 37 samples and a start.

    relu and sse use no transcendental function: every target's arithmetic can
    equal the Python module's to the last bit.
    """
    spec = make_spec("3-6-5-2", activation="relu", loss="sse", form="loops")
    module = module_for(spec)
    rng = random.Random(tag)
    xs = [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(37)]
    ys = [[rng.uniform(0, 1) for _ in range(2)] for _ in range(37)]
    start = [rng.uniform(-0.5, 0.5) for _ in range(module.N_PARAMS)]
    return spec, module, xs, ys, start


def summed_sgd(
    module: Any,
    xs: list,
    ys: list,
    start: list[float],
    lr: float,
    epochs: int,
    batch_size: int | None,
    seed: int,
) -> tuple[list[float], list[float]]:
    """(params, history) of sgd on the sum, each batch's gradients added sample by
    sample in order (the splitmix64 order for mini-batches)."""
    size = batch_size or len(xs)
    orders = (
        shuffled_orders(seed, len(xs), epochs)
        if batch_size
        else [list(range(len(xs)))] * epochs
    )
    params, history = list(start), []
    for order in orders:
        objective = 0.0
        for first in range(0, len(xs), size):
            sums, batch_loss = [0.0] * len(params), 0.0
            for s in order[first : first + size]:
                loss, grad = module.loss_and_grad(params, xs[s], ys[s])
                batch_loss += loss
                sums = [a + g for a, g in zip(sums, grad)]
            objective += batch_loss
            params = [p - lr * g for p, g in zip(params, sums)]
        history.append(objective)
    return params, history


# lm and lbfgs: iterations of the runs compared with the Python module's.
FULL_BATCH_ITERATIONS = 20


def well_posed_data(spec: Spec) -> tuple[list, list]:
    """Data on which lm and lbfgs from the same start stay together (see below)."""
    # XOR for 2-2-1; otherwise more samples than parameters and targets that
    # no network fits exactly (soft ones for bce and ce), so that the minimum
    # is an isolated point at finite parameters: where the loss only tends to
    # 0 as the parameters grow without bound (XOR under bce, one-hot ce
    # targets), lm's system grows ill-conditioned, and any difference of a
    # unit in the last place, such as Math.exp's from the C library's exp,
    # grows with every step.
    n_in, n_out = spec.arch[0], spec.arch[-1]
    if spec.arch == (2, 2, 1):
        return XOR
    rng = random.Random(spec.name)
    count = max(12, 2 * spec.n_params // n_out)
    xs = [[rng.uniform(-2, 2) for _ in range(n_in)] for _ in range(count)]
    ys = []
    for x in xs:
        noisy = [math.sin(sum(x) + k) + rng.gauss(0, 0.3) for k in range(n_out)]
        if spec.loss == "ce":
            weights = [math.exp(v) for v in noisy]
            ys.append([w / sum(weights) for w in weights])
        elif spec.loss == "bce" or spec.activations[-1] == "sigmoid":
            ys.append([0.5 + 0.4 * math.tanh(v) for v in noisy])
        else:
            ys.append(noisy)
    return xs, ys


def full_batch_runs(spec: Spec) -> dict[str, dict]:
    """lm and lbfgs runs of 20 iterations, in the JavaScript option names."""
    runs = {
        "lm": {"optimizer": "lm", "epochs": FULL_BATCH_ITERATIONS},
        "lbfgs": {"optimizer": "lbfgs", "epochs": FULL_BATCH_ITERATIONS},
    }
    if spec.loss != "ce":
        # The mean, and lbfgs with its options given.
        runs["lm-mean"] = {
            "optimizer": "lm",
            "epochs": FULL_BATCH_ITERATIONS,
            "reduction": "mean",
        }
        runs["lbfgs-options"] = {
            "optimizer": "lbfgs",
            "epochs": FULL_BATCH_ITERATIONS,
            "lr": 0.5,
            "historySize": 3,
            "reduction": "mean",
        }
    return runs


# The JavaScript option names that differ from the Python module's.
PYTHON_OPTIONS = {"historySize": "history_size", "targetLoss": "target_loss"}


def python_train(module: Any, xs: list, ys: list, start: list, options: dict) -> dict:
    """The Python module's train() with options in the JavaScript names."""
    kwargs = {PYTHON_OPTIONS.get(k, k): v for k, v in options.items()}
    # stopAt (of tests/test_js_second_order.py): a callback stops at that epoch.
    stop_at = kwargs.pop("stopAt", None)
    kwargs["callback"] = lambda epoch, objective: epoch == stop_at
    params, history = module.train(xs, ys, params=start, **kwargs)
    return {"params": params, "history": history}


def worst_relative(got: list[float], want: list[float]) -> float:
    """The largest |a - b| / max(1, |a|, |b|) over the pairs."""
    return max(abs(a - b) / max(1.0, abs(a), abs(b)) for a, b in zip(got, want))
