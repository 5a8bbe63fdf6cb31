"""The C loop-form trainer against PyTorch at every size, and against the limit.

    python -m benchmarks --only speed

Cases: moons 2-16-16-1 (200 points, full batch); 2-W-W-1 on the same moons
for W from 2 to 256; 64-32-10 on the digits data set in mini-batches of 32;
784-128-10 on a 2000 x 784 CSV-shaped data set (benchmarks.data) in
mini-batches of 32. Peers: the C loop form as `nnsym train --engine c` builds
it, in float64 and float32, and PyTorch on the CPU (1 thread, float64 and
float32, benchmarks/peers/torch_batched.py, the C trainer's mini-batch
order), all from the same initial parameters, sgd, mean reduction. Rounds
are interleaved in rotating order, and each round also times a small
multiply-add kernel (benchmarks/peak.c, built with the same flags) for this
machine's peak (the fastest of all its rounds in the run: the limit is what
the kernel reaches when nothing else runs); every ratio to PyTorch is a median
over rounds of ratios within a round.
Final losses must agree (float64 to 1e-6, float32 to 1e-3) before any time is
reported. Times are this process's CPU time (time.process_time: every peer
runs on this one thread), not wall time, so that time spent waiting for a
core on a shared machine is not counted against either side.

FLOPs of an epoch are counted from the architecture (`epoch_flops`), as the
multiplies and adds of the three products of every layer, not the
activations, losses or deltas' elementwise work, which are a few per neuron
rather than a few per weight: so GFLOP/s is a slight undercount.
"""

from __future__ import annotations

import ctypes
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.data import moons, write_pixels_csv
from benchmarks.peers import torch_batched
from nnsym.pipeline.spec import make_spec
from nnsym.targets import source_for
from nnsym.targets.cengine import FAST_FLAGS, CTrainer, compile_shared, find_compiler

PEAK_SOURCE = Path(__file__).resolve().parent / "peak.c"
# Repetitions of the peak kernel per round: 2 * 128 * this many FLOPs.
PEAK_REPETITIONS = 400_000
AGREEMENT = {"float64": 1e-6, "float32": 1e-3}


def epoch_flops(arch: tuple[int, ...], samples: int, batch: int | None) -> int:
    """FLOPs of one sgd epoch, counted from the architecture.

    Per sample and layer of n_in inputs and n_out neurons: the forward dot
    products, n_in multiplies and n_in adds per neuron plus the bias's add;
    the backward dL/da of the layer's inputs (every layer but the first), a
    multiply and an add per weight; the gradient sums, a multiply and an add
    per weight and an add per bias. Per step (batch), the sgd update: a
    multiply and a subtract per parameter. Activations, losses, deltas and the
    mean's division are not counted.
    """
    per_sample = 0
    for layer, (n_in, n_out) in enumerate(zip(arch, arch[1:])):
        weights = n_in * n_out
        per_sample += 2 * weights + n_out  # forward
        per_sample += 2 * weights if layer else 0  # backward dL/da
        per_sample += 2 * weights + n_out  # gradient sums
    params = sum((n_in + 1) * n_out for n_in, n_out in zip(arch, arch[1:]))
    steps = -(-samples // batch) if batch else 1
    return samples * per_sample + steps * 2 * params


@dataclass
class Case:
    """One network, its data and how long a round trains it."""

    name: str
    arch: tuple[int, ...]
    activation: str
    output: str
    loss: str
    xs: list
    ys: list
    batch: int | None
    c_epochs: int
    torch_epochs: int
    lr: float = 0.5


@dataclass
class Result:
    """A case's times per epoch (per round) and the ratios of one round each."""

    case: str
    arch: str
    flops: int
    seconds: dict[str, list[float]] = field(default_factory=dict)
    peak: list[float] = field(default_factory=list)
    losses: dict[str, float] = field(default_factory=dict)

    def median(self, peer: str) -> float:
        """Median time per epoch."""
        return statistics.median(self.seconds[peer])

    def ratio(self, slower: str, faster: str) -> float:
        """Median over rounds of slower's time per epoch over faster's."""
        return statistics.median(
            s / f for s, f in zip(self.seconds[slower], self.seconds[faster])
        )

    def gflops(self, peer: str) -> float:
        """Achieved GFLOP/s at the median time."""
        return self.flops / self.median(peer) / 1e9


def cases(directory: Path, quick: bool) -> list[Case]:
    """The sweep's networks and data (tiny ones for --quick)."""
    from nnsym.models.data import load_data

    xs, ys = moons(200 if not quick else 20)
    xs, ys = [list(x) for x in xs], [list(y) for y in ys]
    widths = (16, 2, 4, 8, 32, 64, 128, 256) if not quick else (3,)
    found = []
    for width in widths:
        # About 0.1 s of C a round, whatever the width.
        epochs = 1 if quick else max(2, int(3e7 // (200 * width * (width + 4))))
        found.append(
            Case(
                f"moons 2-{width}-{width}-1",
                (2, width, width, 1),
                "tanh",
                "sigmoid",
                "mse",
                xs,
                ys,
                None,
                epochs,
                max(1, epochs // 5),
            )
        )
    spec = make_spec("64-32-10", loss="ce", form="loops")
    digits = load_data("digits", spec)
    rows = 1797 if not quick else 40
    found.append(
        Case(
            "digits 64-32-10, batch 32",
            (64, 32, 10),
            "sigmoid",
            "softmax",
            "ce",
            [list(x) for x in digits.xs[:rows]],
            [list(y) for y in digits.ys[:rows]],
            32,
            10 if not quick else 1,
            3 if not quick else 1,
        )
    )
    if not quick:
        path = directory / "pixels-speed.csv"
        write_pixels_csv(path)
        pixels = load_data(str(path), make_spec("784-128-10", loss="ce", form="loops"))
        found.append(
            Case(
                "pixels 784-128-10, batch 32",
                (784, 128, 10),
                "sigmoid",
                "softmax",
                "ce",
                [list(x) for x in pixels.xs],
                [list(y) for y in pixels.ys],
                32,
                3,
                3,
                lr=0.1,
            )
        )
    return found


def peak_kernel(directory: Path):
    """measure() -> (float64, float32) FLOP/s of benchmarks/peak.c, built here."""
    compiler = find_compiler()
    library = directory / "libpeak.so"
    subprocess.run(
        [compiler, *FAST_FLAGS, "-o", str(library), str(PEAK_SOURCE)], check=True
    )
    lib = ctypes.CDLL(str(library))
    functions = []
    for name in ("peak_double", "peak_float"):
        function = getattr(lib, name)
        function.restype = ctypes.c_double
        function.argtypes = [ctypes.c_long]
        functions.append(function)

    def measure() -> tuple[float, float]:
        rates = []
        for function in functions:
            started = time.process_time()
            function(PEAK_REPETITIONS)
            seconds = time.process_time() - started
            rates.append(2 * 128 * PEAK_REPETITIONS / seconds)
        return rates[0], rates[1]

    return measure


def run_case(case: Case, directory: Path, repeats: int, peak) -> tuple[Result, bool]:
    """Every peer of one case, interleaved; (result, whether the losses agree)."""
    spec = make_spec(
        case.arch,
        activation=case.activation,
        output_activation=case.output,
        loss=case.loss,
        form="loops",
    )
    start = [float(v) for v in initial_params(spec)]
    peers = {}
    for dtype in ("float64", "float32"):
        folder = directory / f"speed-{spec.name}-{dtype}"
        folder.mkdir(exist_ok=True)
        library = compile_shared(source_for(spec, "c", dtype), spec.name, folder)
        trainer = CTrainer(library, spec, dtype)
        # Converted once, as PyTorch's tensors are: only training is timed.
        xs = trainer.rows(case.xs, case.arch[0])
        ys = trainer.rows(case.ys, case.arch[-1])

        def c_run(epochs, trainer=trainer, xs=xs, ys=ys):
            started = time.process_time()
            code, _, history = trainer.train(
                xs,
                ys,
                lr=case.lr,
                epochs=epochs,
                params=start,
                batch_size=case.batch,
                reduction="mean",
                seed=0,
            )
            assert code == 0, code
            return time.process_time() - started, history[-1]

        peers[f"C {dtype}"] = (c_run, case.c_epochs)
        acts = (case.activation,) * (len(case.arch) - 2) + (case.output,)
        torch_trainer = torch_batched.Trainer(
            case.arch,
            acts,
            case.loss,
            case.xs,
            case.ys,
            dtype=dtype,
            batch_size=case.batch,
        )

        torch_trainer.prepare(max(case.torch_epochs, 2))

        def torch_run(epochs, trainer=torch_trainer):
            started = time.process_time()
            _, history = trainer.train(start, case.lr, epochs)
            return time.process_time() - started, history[-1]

        peers[f"PyTorch {dtype}"] = (torch_run, case.torch_epochs)
    result = Result(
        case.name,
        "-".join(map(str, case.arch)),
        epoch_flops(case.arch, len(case.xs), case.batch),
    )
    names = list(peers)
    for name in names:
        result.seconds[name] = []
    for round_index in range(repeats):
        shift = round_index % len(names)
        result.peak.append(peak())
        for name in names[shift:] + names[:shift]:
            run, epochs = peers[name]
            seconds, _ = run(epochs)
            result.seconds[name].append(seconds / epochs)
    agree = True
    for name, (run, _) in peers.items():
        result.losses[name] = run(2)[1]
    for dtype in ("float64", "float32"):
        c, torch = result.losses[f"C {dtype}"], result.losses[f"PyTorch {dtype}"]
        agree &= abs(c - torch) <= AGREEMENT[dtype] * max(1.0, abs(c))
    return result, agree


def initial_params(spec) -> list[float]:
    """init_params(0) of the C trainer (splitmix64, the same in every target)."""
    from nnsym.targets.cengine import load_trainer

    return load_trainer(spec, source_for(spec, "c")).init_params(0)


def speed_case(directory: Path, repeats: int, quick: bool) -> tuple[list[dict], bool]:
    """Every case: times, ratios to PyTorch, GFLOP/s and fraction of the peak."""
    if find_compiler() is None:
        return [], True
    peak = peak_kernel(directory)
    out, all_agree, results = [], True, []
    for case in cases(directory, quick):
        result, agree = run_case(case, directory, repeats, peak)
        all_agree &= agree
        results.append((result, agree))
    peaks = [max(p[i] for result, _ in results for p in result.peak) for i in (0, 1)]
    for result, agree in results:
        row = {"case": result.case, "arch": result.arch, "flops": result.flops}
        row["agree"] = agree
        row["losses"] = result.losses
        row["peak_gflops"] = [p / 1e9 for p in peaks]
        for index, dtype in enumerate(("float64", "float32")):
            c = f"C {dtype}"
            row[dtype] = {
                "c_us": result.median(c) * 1e6,
                "torch_us": result.median(f"PyTorch {dtype}") * 1e6,
                "torch_over_c": result.ratio(f"PyTorch {dtype}", c),
                "gflops": result.gflops(c),
                "of_peak": result.gflops(c) * 1e9 / peaks[index],
            }
        out.append(row)
    return out, all_agree


def speed_table(rows: list[dict]) -> str:
    """One line per case and number type."""
    lines = [
        "C loop form (engine flags) against PyTorch 1 thread, same precision "
        "(goals: 7x on moons 2-16-16-1, 1.5x at 784-128-10, above 1 everywhere):",
        "| case | type | C per epoch | PyTorch per epoch | PyTorch / C | "
        "C GFLOP/s | of peak | losses agree |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        for dtype in ("float64", "float32"):
            d = row[dtype]
            lines.append(
                f"| {row['case']} | {dtype} | {_time(d['c_us'])} | "
                f"{_time(d['torch_us'])} | {d['torch_over_c']:.2f}x | "
                f"{d['gflops']:.2f} | {d['of_peak']:.1%} | "
                f"{'yes' if row['agree'] else 'NO'} |"
            )
    if rows:
        peaks = rows[-1]["peak_gflops"]
        lines.append(
            f"peak (multiply-add kernel, same flags, fastest of its rounds): "
            f"{peaks[0]:.1f} GFLOP/s float64, {peaks[1]:.1f} float32"
        )
    return "\n".join(lines)


def _time(us: float) -> str:
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.1f} us"
