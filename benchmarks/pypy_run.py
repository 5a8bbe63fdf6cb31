"""The XOR or moons rows under another interpreter (PyPy), in one process.

    pypy3 benchmarks/pypy_run.py CASE MODULE_PATH EPOCHS REPEATS MOONS_POINTS

Imports only the standard library, the generated module and the pure-Python
peers; warms the JIT up first, then times the trainers interleaved and prints
JSON: seconds per run of each trainer and whether it matched nnsym's result.
"""

import importlib.util
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.data import XOR_XS, XOR_YS, moons  # noqa: E402
from benchmarks.peers import handwritten  # noqa: E402

TOLERANCE = 1e-6
WARMUP_ROUNDS = 3


def load(path):
    """Import the generated module from its file."""
    spec = importlib.util.spec_from_file_location("generated_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def trainers(case, module, points):
    """(name, train(epochs) -> (params, losses)) for this case; nnsym first."""
    start = module.init_params(0)
    if case == "xor":
        return "XOR 2-2-1", [
            (
                "nnsym generated train()",
                lambda n: module.train(XOR_XS, XOR_YS, lr=1, epochs=n, params=start),
            ),
            (
                "hand-written straight-line",
                lambda n: handwritten.train_xor(XOR_XS, XOR_YS, start, 1, n),
            ),
        ]
    xs, ys = moons(points)
    arch = module.ARCH
    acts = module.ACTIVATIONS
    label = "moons %s, %d points" % ("-".join(map(str, arch)), len(xs))
    return label, [
        (
            "nnsym generated train()",
            lambda n: module.train(
                xs, ys, lr=1, epochs=n, params=start, reduction="mean"
            ),
        ),
        (
            "hand-written loops",
            lambda n: handwritten.train_loops(arch, acts, xs, ys, start, 1, n, True),
        ),
    ]


def main(argv):
    """Time the trainers of one case; print JSON."""
    case, path, epochs, repeats, points = argv
    epochs, repeats, points = int(epochs), int(repeats), int(points)
    label, runs = trainers(case, load(path), points)
    results = {name: run(epochs) for name, run in runs}
    ref_params, ref_history = results[runs[0][0]]
    agree = {}
    for name, (params, history) in results.items():
        pairs = zip([history[-1], *params], [ref_history[-1], *ref_params])
        agree[name] = all(
            abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b)) for a, b in pairs
        )
    for _ in range(WARMUP_ROUNDS):
        for _, run in runs:
            run(epochs)
    seconds = {name: [] for name, _ in runs}
    for round_index in range(repeats):
        order = runs[round_index % len(runs) :] + runs[: round_index % len(runs)]
        for name, run in order:
            started = time.perf_counter()
            run(epochs)
            seconds[name].append(time.perf_counter() - started)
    print(json.dumps({"case": label, "seconds": seconds, "agree": agree}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
