"""How closely imported and exported models agree with their sources.

    python -m benchmarks.interop_agreement

prints, for a scikit-learn MLPClassifier fitted on the moons and a PyTorch
3-16-16-4 network, the largest absolute difference between nnsym's generated
module and the source (float64), between PyTorch's to_torch module and nnsym, and
between onnxruntime and nnsym's predictor at float32 and float64; and how long
`nnsym import` of the skops file takes (one run, wall clock).
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy
import onnxruntime
import torch
from sklearn.neural_network import MLPClassifier
from skops import io as skops_io

from benchmarks.data import moons
from nnsym import api, interop


def largest_difference(ours, theirs) -> float:
    """max |a - b| over two equally shaped nested lists."""
    return max(abs(a - b) for r, s in zip(ours, theirs) for a, b in zip(r, s))


def report(label: str, weights, source_outputs, xs) -> None:
    """Print the differences of one model."""
    module = api.module_for(weights.spec)
    ours = [module.predict(list(weights.params), x) for x in xs]
    back = interop.to_torch(weights)
    with torch.no_grad():
        theirs = back(torch.tensor(xs, dtype=torch.float64)).tolist()
    print(f"{label}: {weights.spec.summary}")
    print(
        f"  nnsym vs source (float64)    {largest_difference(ours, source_outputs):.1e}"
    )
    print(f"  to_torch vs nnsym (float64)  {largest_difference(theirs, ours):.1e}")
    for dtype in ("float32", "float64"):
        model = interop.onnx_model(weights, dtype).SerializeToString()
        session = onnxruntime.InferenceSession(
            model, providers=["CPUExecutionProvider"]
        )
        (onnx_out,) = session.run(None, {"x": numpy.array(xs, dtype=dtype)})
        print(
            f"  onnxruntime vs nnsym ({dtype}) "
            f"{largest_difference(onnx_out.tolist(), ours):.1e}"
        )


def main() -> int:
    """Fit, import, compare, print."""
    warnings.simplefilter("ignore")
    xs, ys = moons(200, seed=0)
    labels = ["inner" if y[0] else "outer" for y in ys]
    estimator = MLPClassifier(
        hidden_layer_sizes=(8, 8), activation="tanh", max_iter=500, random_state=0
    ).fit(xs, labels)
    report(
        "MLPClassifier, moons",
        interop.from_sklearn(estimator),
        estimator.predict_proba(xs).tolist(),
        [list(x) for x in xs],
    )
    torch.manual_seed(0)
    nn = torch.nn
    module = nn.Sequential(
        nn.Linear(3, 16),
        nn.ReLU(),
        nn.Linear(16, 16),
        nn.ReLU(),
        nn.Linear(16, 4),
        nn.Softmax(dim=1),
    ).double()
    rng = random.Random(0)
    txs = [[rng.uniform(-3, 3) for _ in range(3)] for _ in range(200)]
    with torch.no_grad():
        source = module(torch.tensor(txs, dtype=torch.float64)).tolist()
    report("PyTorch nn.Sequential", interop.from_torch(module), source, txs)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "moons.skops"
        skops_io.dump(estimator, path)
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "nnsym",
                "import",
                str(path),
                "-q",
                "-o",
                str(Path(folder) / "m.json"),
            ],
            check=True,
        )
        print(f"nnsym import of the skops file: {time.perf_counter() - start:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
