"""What the benchmark cases share: a table row, a timed peer, and their checks.

Imported by run.py (the tables and the command line) and by the cases in
layers.py and targets.py, which run.py imports in turn: keeping these here
keeps the imports one way.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nnsym import api

ROOT = Path(__file__).resolve().parent.parent
# Final losses and parameters of two peers agree to this relative tolerance; they
# differ only by rounding (e.g. sigmoid as tanh or as 1 / (1 + exp(-z))).
TOLERANCE = 1e-6


@dataclass
class Row:
    """One line of the table."""

    case: str
    peer: str
    seconds: list[float]
    epochs: int
    ratios: list[float] = field(default_factory=list)
    check: str = ""
    note: str = ""
    # FLOPs of one epoch (benchmarks.speed.epoch_flops), where counted.
    flops: int = 0

    @property
    def median(self) -> float:
        """Median time of one run."""
        return statistics.median(self.seconds)

    @property
    def per_epoch(self) -> float:
        """Median time of one epoch."""
        return self.median / self.epochs if self.epochs else self.median

    @property
    def ratio(self) -> float | None:
        """Median over rounds of this peer's time per epoch over nnsym's."""
        return statistics.median(self.ratios) if self.ratios else None


@dataclass
class Trainer:
    """A peer: `run(epochs)` trains from the shared initial parameters."""

    name: str
    run: Callable[[int], tuple[list[float], list[float]]]
    epochs: int


def generate_module(spec, directory: Path):
    """Generate `spec`'s module into `directory` and import it."""
    path = directory / f"{spec.name}.py"
    api.write_module(api.generate(spec), path, force=True)
    return api.load_module(path), path


def interleave(case: str, trainers: list[Trainer], repeats: int) -> list[Row]:
    """Time every trainer once per round, in rotating order; nnsym is trainers[0]."""
    rows = [Row(case, t.name, [], t.epochs) for t in trainers]
    for round_index in range(repeats):
        order = list(range(len(trainers)))
        shift = round_index % len(order)
        order = order[shift:] + order[:shift]
        times = {}
        for index in order:
            started = time.perf_counter()
            trainers[index].run(trainers[index].epochs)
            times[index] = time.perf_counter() - started
        for index, row in enumerate(rows):
            row.seconds.append(times[index])
            if index:
                per_epoch = times[index] / trainers[index].epochs
                row.ratios.append(per_epoch / (times[0] / trainers[0].epochs))
    return rows


def agree(a: list[float], b: list[float]) -> bool:
    """Equal to TOLERANCE, relative to the larger magnitude (or absolute near 0)."""
    return len(a) == len(b) and all(
        abs(x - y) <= TOLERANCE * max(1.0, abs(x), abs(y)) for x, y in zip(a, b)
    )


def check_peers(trainers: list[Trainer], rows: list[Row]) -> bool:
    """Compare each peer's final loss and parameters with nnsym's, same epochs."""
    reference = trainers[0]
    all_agree = True
    for trainer, row in zip(trainers, rows):
        params, history = trainer.run(trainer.epochs)
        ref_params, ref_history = reference.run(trainer.epochs)
        ok = agree([history[-1], *params], [ref_history[-1], *ref_params])
        row.check = (
            "same" if ok else f"DIFFERENT (loss {history[-1]!r} vs {ref_history[-1]!r})"
        )
        row.note = f"final loss {history[-1]:.6g} after {trainer.epochs} epochs"
        all_agree &= ok
    return all_agree


def run_process(command: list[str], timeout: float = 900) -> tuple[float, float, str]:
    """Run a command; return (wall seconds, CPU seconds of the child, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def format_seconds(seconds: float) -> str:
    """A duration with a readable unit."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"
