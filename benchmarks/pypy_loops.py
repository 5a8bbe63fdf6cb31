"""The loop form under another interpreter (PyPy), in one process.

    pypy3 benchmarks/pypy_loops.py moons NAME=PATH [NAME=PATH ...] POINTS EPOCHS REPEATS
    pypy3 benchmarks/pypy_loops.py digits LOOPS_PATH DATA_JSON SETTINGS_JSON

Imports only the standard library, the generated modules and the pure-Python
peers; warms the JIT up first, then times the trainers interleaved and prints
JSON. `moons` times the given generated modules (the first is the reference)
and the hand-written loops; `digits` trains the loop form once on a held-out
split and reports the time and the test accuracy. The unrolled form is best
timed in a process of its own: its long traces slow the JIT down for the
others.
"""

import importlib.util
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.data import moons  # noqa: E402
from benchmarks.peers import handwritten  # noqa: E402

TOLERANCE = 1e-6
WARMUP_ROUNDS = 2


def load(path, name):
    """Import a generated module from its file."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def moons_case(modules, points, epochs, repeats):
    """Seconds per run of each trainer, and whether each matched the first."""
    loaded = [
        (name, load(path, "module_%d" % index))
        for index, (name, path) in enumerate(modules)
    ]
    xs, ys = moons(points)
    first = loaded[0][1]
    start = first.init_params(0)
    arch, acts = first.ARCH, first.ACTIVATIONS

    def nnsym(module):
        return lambda: module.train(
            xs, ys, lr=1, epochs=epochs, params=start, reduction="mean"
        )

    runs = [(name, nnsym(module)) for name, module in loaded] + [
        (
            "hand-written loops",
            lambda: handwritten.train_loops(arch, acts, xs, ys, start, 1, epochs, True),
        ),
    ]
    results = {name: run() for name, run in runs}
    ref_params, ref_history = results[runs[0][0]]
    agree = {}
    for name, (params, history) in results.items():
        pairs = zip([history[-1], *params], [ref_history[-1], *ref_params])
        agree[name] = all(
            abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b)) for a, b in pairs
        )
    for _ in range(WARMUP_ROUNDS):
        for _, run in runs:
            run()
    seconds = {name: [] for name, _ in runs}
    for round_index in range(repeats):
        order = runs[round_index % len(runs) :] + runs[: round_index % len(runs)]
        for name, run in order:
            started = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - started)
    final = {
        name: [history[-1], *params] for name, (params, history) in results.items()
    }
    return {"seconds": seconds, "agree": agree, "final": final}


def digits_case(loops_path, data_path, settings_path):
    """One training run on the held-out split: seconds and test accuracy."""
    module = load(loops_path, "digits_module")
    data = json.loads(Path(data_path).read_text())
    settings = json.loads(Path(settings_path).read_text())
    started = time.perf_counter()
    params, history = module.train(data["train_xs"], data["train_ys"], **settings)
    seconds = time.perf_counter() - started
    test = module.accuracy(params, data["test_xs"], data["test_ys"])
    return {"seconds": seconds, "test_accuracy": test, "final_objective": history[-1]}


def main(argv):
    """Run one case; print JSON."""
    case = argv[0]
    if case == "moons":
        *modules, points, epochs, repeats = argv[1:]
        pairs = [module.split("=", 1) for module in modules]
        report = moons_case(pairs, int(points), int(epochs), int(repeats))
    else:
        report = digits_case(*argv[1:])
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
