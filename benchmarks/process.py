"""`python -m benchmarks --only defaults`: a whole `nnsym train` process with the
chosen defaults against a whole Python process that imports scikit-learn and
fits MLPClassifier behind a StandardScaler, on the same 500 x 30 two-class CSV
(benchmarks/optimizers.py makes it: raw features of very different sizes).

    nnsym train --arch 30-16-2 --loss ce --data two_class.csv
    python sklearn_fit.py two_class.csv      # numpy.loadtxt, make_pipeline, fit

scikit-learn is timed twice, MLPClassifier() as it comes (100 hidden units)
and with nnsym's 16; the ratio is taken against the faster of the two. nnsym
is timed warm (the folder's generated module and the cached compiled trainer
reused: every run after the first), cold (an empty folder and cache each round: SymPy
derives and writes the module and the C, the compiler builds it), and without
a C compiler on PATH (the pure-Python engine, warm). Medians of the rounds
(--quick: fewer). Goal (issue item 6): nnsym within 2.5 times scikit-learn,
warm and on a first run.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import nnsym
from benchmarks.optimizers import _two_class_csv

GOAL = 2.5
SKLEARN_FIT = """\
import sys

import numpy as np
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

data = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
hidden = (int(sys.argv[2]),) if len(sys.argv) > 2 else (100,)
model = make_pipeline(
    StandardScaler(), MLPClassifier(hidden_layer_sizes=hidden, random_state=0)
)
model.fit(data[:, :-1], data[:, -1])
print(f"accuracy: {model.score(data[:, :-1], data[:, -1]):.3f}")
"""
NNSYM = ["-m", "nnsym", "train", "--arch", "30-16-2", "--loss", "ce", "--data"]


def _timed(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stderr.strip()[-300:]}")
    return seconds, done.stdout + done.stderr


def _accuracy(output: str) -> str:
    found = re.search(r"^accuracy: ([\d.]+%?)", output, re.MULTILINE)
    return found.group(1) if found else "?"


def _engine(output: str) -> str:
    found = re.search(r"engine: (\w+)", output)
    return found.group(1) if found else "?"


def process_case(directory: Path, quick: bool) -> dict:
    """Seconds of each whole process, the engine nnsym chose, and the ratios."""
    rounds = 2 if quick else 5
    folder = directory / "defaults"
    folder.mkdir()
    csv = folder / "two_class.csv"
    _two_class_csv(csv)
    (folder / "sklearn_fit.py").write_text(SKLEARN_FIT, encoding="utf-8")
    # The child processes import the nnsym this one imported.
    root = str(Path(nnsym.__file__).resolve().parents[1])
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "NNSYM_CACHE_DIR": str(folder / "cache"), "PYTHONPATH": path}
    env.pop("PYTHONHASHSEED", None)
    result: dict = {"rounds": rounds}
    for name, extra in (("sklearn default", []), ("sklearn 16", ["16"])):
        runs = [
            _timed(["sklearn_fit.py", csv.name, *extra], folder, env)
            for _ in range(rounds)
        ]
        result[name] = {
            "seconds": statistics.median(s for s, _ in runs),
            "accuracy": _accuracy(runs[-1][1]),
        }
    colds = []
    for round_ in range(rounds):  # each from an empty folder and cache
        shutil.rmtree(folder / "generated", ignore_errors=True)
        fresh = {**env, "NNSYM_CACHE_DIR": str(folder / f"cold-cache-{round_}")}
        colds.append(_timed([*NNSYM, csv.name], folder, fresh))
    result["nnsym cold"] = {
        "seconds": statistics.median(s for s, _ in colds),
        "accuracy": _accuracy(colds[-1][1]),
        "engine": _engine(colds[-1][1]),
    }
    # Warm: the last first run's module and compiled trainer reused.
    runs = [_timed([*NNSYM, csv.name], folder, fresh) for _ in range(rounds)]
    result["nnsym warm"] = {
        "seconds": statistics.median(s for s, _ in runs),
        "accuracy": _accuracy(runs[-1][1]),
        "engine": _engine(runs[-1][1]),
        "line": next(
            (line for line in runs[-1][1].splitlines() if "optimizer:" in line), ""
        ),
    }
    bare = {**env, "PATH": str(folder / "no-compiler"), "CC": ""}
    seconds, output = _timed([*NNSYM, csv.name], folder, bare)
    result["nnsym python"] = {
        "seconds": seconds,
        "accuracy": _accuracy(output),
        "engine": _engine(output),
    }
    return result


def process_table(result: dict) -> str:
    """The seconds, the ratios to the faster scikit-learn process, the goal."""
    peer = min(result["sklearn default"]["seconds"], result["sklearn 16"]["seconds"])
    lines = [
        "whole processes on a 500 x 30 two-class CSV (median of "
        f"{result['rounds']} runs; training accuracy):",
        "  " + " ".join(["nnsym train", *NNSYM[3:], "two_class.csv"]),
    ]
    for name in ("sklearn default", "sklearn 16"):
        row = result[name]
        lines.append(
            f"  {name:<38} {row['seconds']:6.2f} s  accuracy {row['accuracy']}"
        )
    labels = {
        "nnsym warm": "nnsym, module and trainer reused",
        "nnsym cold": "nnsym, first run (generate, compile)",
        "nnsym python": "nnsym, no C compiler on PATH",
    }
    for name, label in labels.items():
        row = result[name]
        lines.append(
            f"  {label:<38} {row['seconds']:6.2f} s  accuracy {row['accuracy']}  "
            f"{row['seconds'] / peer:5.2f}x  engine {row['engine']}"
        )
    for name, which in (("nnsym warm", "warm"), ("nnsym cold", "a first run of")):
        ratio = result[name]["seconds"] / peer
        verdict = "met" if ratio <= GOAL else "NOT met"
        lines.append(
            f"  goal: {which} nnsym within {GOAL}x of the faster scikit-learn "
            f"process: {ratio:.2f}x, {verdict}"
        )
    if result["nnsym warm"].get("line"):
        lines.append(f"  chosen: {result['nnsym warm']['line']}")
    return "\n".join(lines)
