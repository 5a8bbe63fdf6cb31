"""`nnsym train --engine c` as a whole process: what is spent besides training.

    python -m benchmarks --only engine

784-128-10 ce in the loop form, 6 epochs in mini-batches of 32, on a 2000 x
784 CSV made by benchmarks.data.write_pixels_csv. The module is generated
first (not timed: `nnsym generate` has its own part). Then the same command
runs as a child process, first with an empty cache of compiled trainers (it
compiles), then `repeats` times with the cache filled. Each run's training
time is the one the command prints ("6 epochs in X s"); the overhead is the
process's wall time (and CPU time, its children included) minus that. The
CSV reader's speed is measured in this process, on the same file.
"""

from __future__ import annotations

import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.data import write_pixels_csv

ROOT = Path(__file__).resolve().parent.parent
ARCH = "784-128-10"
ROWS, COLUMNS = 2000, 784
EPOCHS_RUN = re.compile(r"(\d+) epochs in ([0-9.]+) s")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(command: list[str], env: dict[str, str]) -> dict:
    cpu, started = _children_cpu(), time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - started, _children_cpu() - cpu
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    match = EPOCHS_RUN.search(result.stdout)
    assert match, result.stdout
    training = float(match.group(2))
    return {
        "wall": wall,
        "cpu": cpu,
        "training": training,
        "overhead_wall": wall - training,
        "overhead_cpu": cpu - training,
    }


def engine_case(directory: Path, repeats: int, quick: bool) -> dict:
    """Cold and warm `train --engine c` processes, and the CSV reader's speed."""
    from nnsym.models.data import load_data
    from nnsym.pipeline.spec import make_spec

    arch = "16-8-10" if quick else ARCH
    rows, columns = (50, 16) if quick else (ROWS, COLUMNS)
    data = directory / "pixels.csv"
    write_pixels_csv(data, rows, columns)
    spec = make_spec(arch, loss="ce", form="loops")
    started = time.perf_counter()
    load_data(str(data), spec)
    reading = time.perf_counter() - started
    cache = directory / "engine-cache"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NNSYM_CACHE_DIR": str(cache)}
    module = directory / "engine_module.py"
    command = [sys.executable, "-m", "nnsym", "train", "--arch", arch, "--loss"]
    command += ["ce", "--form", "loops", "--data", str(data), "--seed", "0"]
    command += ["--batch-size", "32", "-o", str(module)]
    subprocess.run(
        [sys.executable, "-m", "nnsym", "generate", "--arch", arch, "--loss", "ce"]
        + ["--form", "loops", "-o", str(module)],
        env=env,
        check=True,
        capture_output=True,
    )
    cold = _run([*command, "--engine", "c", "--epochs", "6"], env)
    warm = [
        _run([*command, "--engine", "c", "--epochs", "6"], env) for _ in range(repeats)
    ]
    return {
        "arch": arch,
        "rows": rows,
        "columns": columns,
        "csv_seconds": reading,
        "csv_numbers_per_second": rows * (columns + 1) / reading,
        "cold": cold,
        "warm": warm,
        "warm_median": {
            key: statistics.median(run[key] for run in warm) for key in warm[0]
        },
    }


def engine_table(result: dict) -> str:
    """The cold and warm runs' times, and the CSV reader's speed."""
    lines = [
        f"train --engine c, {result['arch']} on a {result['rows']} x "
        f"{result['columns']} CSV, 6 epochs, batch 32 (goal: overhead <= 3 s):",
        "| run | wall | CPU | training | wall - training | CPU - training |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, run in (
        ("first (compiles)", result["cold"]),
        (f"cached (median of {len(result['warm'])})", result["warm_median"]),
    ):
        lines.append(
            f"| {name} | {run['wall']:.2f} s | {run['cpu']:.2f} s | "
            f"{run['training']:.2f} s | {run['overhead_wall']:.2f} s | "
            f"{run['overhead_cpu']:.2f} s |"
        )
    lines.append(
        f"CSV read in this process: {result['csv_seconds']:.2f} s, "
        f"{result['csv_numbers_per_second'] / 1e6:.2f} million numbers a second "
        "(goal: 1)"
    )
    return "\n".join(lines)
