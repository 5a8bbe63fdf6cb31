"""The C and JavaScript trainers against PyTorch and the Python module, same run.

    python -m benchmarks --only targets

XOR (2-2-1 sigmoid, sse, lr 1) and moons (2-16-16-1 tanh/tanh/sigmoid, mse
mean, lr 1), full batch, from the same initial parameters. Every peer times
its own training loop: the C trainer (-O2, and -O3 -march=native
-ffp-contract=off, the flags of `nnsym train --engine c`; both give the same
numbers, as neither fuses a multiply-add) around its one ctypes call, in the
unrolled form and in the loop form (`--form loops`, the same network's loops
over neurons), JavaScript (both forms) inside Node after a warm-up run (no
process start, no JIT compilation),
PyTorch (1 thread, float64 and float32) and the Python module (both forms)
around train().
Rounds are interleaved; each ratio is the median over rounds of (peer time
per epoch / C time per epoch) in the same round. Final losses and parameters
are checked against the C trainer's (float32 PyTorch only for its loss).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks.common import Row
from benchmarks.data import XOR_XS, XOR_YS, moons
from benchmarks.peers import torch_peer
from benchmarks.speed import epoch_flops, peak_kernel
from nnsym.pipeline.spec import Spec, make_spec
from nnsym.targets import source_for
from nnsym.targets.cengine import (
    FAST_FLAGS,
    LIBRARY_FLAGS,
    OK,
    CTrainer,
    compile_shared,
)
from nnsym.targets.python import generate, import_generated

JS_RUNNER = Path(__file__).resolve().parent / "js_run.mjs"
JS_PEAK = Path(__file__).resolve().parent / "peak.mjs"
# FLOPs of one round of the JavaScript peak kernel, per lane count: about 10 ms.
JS_PEAK_FLOPS = 100_000_000
# float32 PyTorch's final loss agrees with float64's to this, relatively.
FLOAT32_TOLERANCE = 1e-3


@dataclass
class Peer:
    """run(epochs) -> (seconds measured by the peer, params, final loss)."""

    name: str
    run: Callable[[int], tuple[float, list[float], float]]
    epochs: int
    tolerance: float | None = 1e-6  # None: no parameter check (float32)


def _c_peer(
    spec: Spec,
    directory: Path,
    xs,
    ys,
    start,
    reduction: str,
    flags: tuple[str, ...],
    dtype: str = "float64",
) -> Peer:
    form = "loops" if spec.form == "loops" else ""
    tag = "".join(flags).replace("-", "_").replace("=", "_")
    folder = directory / f"c{form}{tag}{dtype}"
    folder.mkdir(exist_ok=True)
    library = compile_shared(
        source_for(spec, "c", dtype),
        spec.name,
        folder,
        flags=(*LIBRARY_FLAGS, *flags),
    )
    trainer = CTrainer(library, spec, dtype)

    def run(epochs: int) -> tuple[float, list[float], float]:
        started = time.perf_counter()
        code, params, history = trainer.train(
            xs, ys, lr=1.0, epochs=epochs, params=start, reduction=reduction
        )
        seconds = time.perf_counter() - started
        assert code == OK
        return seconds, params, history[-1]

    label = "nnsym C loops" if form else "nnsym C"
    if dtype == "float32":
        # Its own rounding: only its loss is compared, as PyTorch float32's.
        label += " float32"
        return Peer(f"{label} (gcc {' '.join(flags)}, ctypes)", run, 0, None)
    return Peer(f"{label} (gcc {' '.join(flags)}, ctypes)", run, 0)


def _js_peer(spec: Spec, directory: Path, xs, ys, start, reduction: str) -> Peer:
    module = directory / f"{spec.name}.mjs"
    module.write_text(source_for(spec, "js"), encoding="utf-8")
    node = shutil.which("node")

    def run(epochs: int) -> tuple[float, list[float], float]:
        case = directory / f"{spec.name}-case.json"
        options = {"lr": 1.0, "epochs": epochs, "reduction": reduction}
        case.write_text(
            json.dumps(
                {
                    "xs": xs,
                    "ys": ys,
                    "params": start,
                    "options": options,
                    "warmup": max(epochs // 10, 1),
                }
            ),
            encoding="utf-8",
        )
        out = subprocess.run(
            [node, str(JS_RUNNER), str(module), str(case)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        result = json.loads(out)
        return result["seconds"], result["params"], result["finalLoss"]

    label = "loops, " if spec.form == "loops" else ""
    return Peer(f"nnsym JavaScript ({label}Node)", run, 0)


def _timed(train: Callable[[int], tuple[list[float], list[float]]]):
    def run(epochs: int) -> tuple[float, list[float], float]:
        started = time.perf_counter()
        params, history = train(epochs)
        return time.perf_counter() - started, params, history[-1]

    return run


def _case(
    name,
    spec,
    xs,
    ys,
    arch,
    acts,
    reduction,
    epochs,
    python_epochs,
    directory,
    repeats,
    use_torch,
) -> tuple[list, bool]:

    module = import_generated(generate(spec))
    start = module.init_params(0)
    mean = reduction == "mean"
    # The same network in the loop form (--form loops): its C and JavaScript.
    loops = replace(spec, form="loops", name=spec.name + "_loops")
    # -O2, and the flags of `nnsym train --engine c`.
    both = (("-O2",), FAST_FLAGS[len(LIBRARY_FLAGS) :])
    peers = [
        _c_peer(form, directory, xs, ys, start, reduction, flags)
        for form in (spec, loops)
        for flags in both
    ]
    # The loop form in float32 too: the match for PyTorch float32.
    peers += [
        _c_peer(loops, directory, xs, ys, start, reduction, flags, "float32")
        for flags in both
    ]
    for peer in peers:
        peer.epochs = epochs
    if shutil.which("node"):
        for form in (spec, loops):
            peers.append(_js_peer(form, directory, xs, ys, start, reduction))
            peers[-1].epochs = epochs
    loop_module = import_generated(generate(loops))
    for label, python in (("", module), (" (loops)", loop_module)):
        peers.append(
            Peer(
                f"nnsym Python module{label}",
                _timed(
                    lambda n, m=python: m.train(
                        xs, ys, lr=1, epochs=n, params=start, reduction=reduction
                    )
                ),
                python_epochs,
            )
        )
    if use_torch:
        for dtype in ("float64", "float32"):
            trainer = torch_peer.Trainer(arch, acts, xs, ys, mean=mean, dtype=dtype)
            peers.append(
                Peer(
                    f"PyTorch CPU {dtype} 1 thread",
                    _timed(lambda n, t=trainer: t.train(start, 1, n)),
                    epochs,
                    None if dtype == "float32" else 1e-6,
                )
            )
    rows = [Row(name, p.name, [], p.epochs) for p in peers]
    for round_index in range(repeats):
        shift = round_index % len(peers)
        order = list(range(len(peers)))[shift:] + list(range(len(peers)))[:shift]
        times = {i: peers[i].run(peers[i].epochs)[0] for i in order}
        for i, row in enumerate(rows):
            row.seconds.append(times[i])
            if i:
                row.ratios.append(
                    (times[i] / peers[i].epochs) / (times[0] / peers[0].epochs)
                )
    all_agree = True
    _, ref_params, ref_loss = peers[0].run(python_epochs)
    for peer, row in zip(peers, rows):
        _, params, loss = peer.run(python_epochs)
        if peer.tolerance is None:
            ok = abs(loss - ref_loss) <= FLOAT32_TOLERANCE * max(1.0, abs(ref_loss))
            kind = "same loss to 1e-3 (float32)"
        else:
            ok = all(
                abs(a - b) <= peer.tolerance * max(1.0, abs(a), abs(b))
                for a, b in zip([loss, *params], [ref_loss, *ref_params])
            )
            kind = "same"
        row.check = kind if ok else f"DIFFERENT (loss {loss!r} vs {ref_loss!r})"
        all_agree &= ok
    return rows, all_agree


@dataclass
class Peaks:
    """This machine's FLOP/s: C's float64 and float32, JavaScript's (None: no Node)."""

    c_float64: float
    c_float32: float
    js: float | None


def targets_case(
    config, directory: Path, use_torch: bool
) -> tuple[list, bool, Peaks | None]:
    """XOR and moons: C, JavaScript, the Python module and PyTorch, ratios to C."""
    if shutil.which("gcc") is None and shutil.which("cc") is None:
        return [], True, None
    quick = config.moons_epochs < 10
    xor_epochs = 20 if quick else 20000
    rows, ok = _case(
        "targets: xor 2-2-1 (ratio to C)",
        make_spec("2-2-1"),
        [list(x) for x in XOR_XS],
        [list(y) for y in XOR_YS],
        (2, 2, 1),
        ("sigmoid", "sigmoid"),
        "sum",
        xor_epochs,
        xor_epochs // 10 or 1,
        directory,
        config.repeats,
        use_torch,
    )
    _count_flops(rows, (2, 2, 1), 4)
    xs, ys = moons(config.moons_points)
    arch = config.moons_arch
    acts = ("tanh",) * (len(arch) - 2) + ("sigmoid",)
    spec = make_spec(arch, activation="tanh", output_activation="sigmoid", loss="mse")
    moons_epochs = 3 if quick else 1000
    more, more_ok = _case(
        f"targets: moons {'-'.join(map(str, arch))}, {len(xs)} points (ratio to C)",
        spec,
        [list(x) for x in xs],
        [list(y) for y in ys],
        arch,
        acts,
        "mean",
        moons_epochs,
        moons_epochs // 10 or 1,
        directory,
        config.repeats,
        use_torch,
    )
    _count_flops(more, arch, len(xs))
    peaks = _peaks(directory, config.repeats)
    for row in rows + more:
        rate = row.flops / row.per_epoch if row.flops else 0
        if rate and "nnsym C" in row.peer:
            peak = peaks.c_float32 if "float32" in row.peer else peaks.c_float64
            row.note = f"{rate / 1e9:.2f} GFLOP/s, {rate / peak:.1%} of peak"
        elif rate and "JavaScript" in row.peer and peaks.js:
            row.note = (
                f"{rate / 1e9:.2f} GFLOP/s, {rate / peaks.js:.1%} of JavaScript's peak"
            )
    return rows + more, ok and more_ok, peaks


def _count_flops(rows: list, arch: tuple[int, ...], samples: int) -> None:
    for row in rows:
        row.flops = epoch_flops(arch, samples, None)


def _peaks(directory: Path, repeats: int) -> Peaks:
    """C's peaks (benchmarks/peak.c) and JavaScript's (peak.mjs): fastest rounds."""
    measure = peak_kernel(directory)
    rounds = [measure() for _ in range(max(repeats, 3))]
    node = shutil.which("node")
    # At least 5 rounds: the first of each lane count includes V8's compiling it.
    js = (
        js_peak(node, max(repeats, 5), JS_PEAK_FLOPS)["flopsPerSecond"]
        if node
        else None
    )
    return Peaks(max(r[0] for r in rounds), max(r[1] for r in rounds), js)


def js_peak(node: str, rounds: int, flops: int) -> dict:
    """benchmarks/peak.mjs's report: fastest FLOP/s, its lanes, the chains' sums."""
    out = subprocess.run(
        [node, str(JS_PEAK), str(rounds), str(flops)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def flop_lines(rows: list) -> list[str]:
    """Each case's achieved GFLOP/s and its share of its own language's peak."""
    return [f"{row.case}, {row.peer}: {row.note}" for row in rows if row.note]


def js_limit_lines(rows: list, peaks: Peaks | None) -> list[str]:
    """JavaScript's peak against C's, and the JS/C time ratio it allows on moons.

    JavaScript at its peak would take C's FLOPs in (C's GFLOP/s / JavaScript's
    peak) of C's time: no JavaScript trainer doing the same FLOPs can take a
    smaller share.
    """
    if peaks is None or not peaks.js:
        return []
    lines = [
        f"JavaScript peak: {peaks.js / 1e9:.1f} GFLOP/s float64 (C's, peak.c: "
        f"{peaks.c_float64 / 1e9:.1f}); C's peak over JavaScript's: "
        f"{peaks.c_float64 / peaks.js:.2f}x"
    ]
    for row in rows:
        if not row.case.startswith("targets: moons") or not row.flops:
            continue
        rate = row.flops / row.per_epoch
        if row.peer.startswith("nnsym JavaScript (loops"):
            lines.append(
                f"{row.peer}: {rate / 1e9:.2f} GFLOP/s, "
                f"{rate / peaks.js:.1%} of JavaScript's peak"
            )
        if not row.peer.startswith("nnsym C loops ("):
            continue
        lines.append(
            f"lowest JavaScript loops / {row.peer} its peak allows: "
            f"{rate / peaks.js:.2f}x (C {rate / 1e9:.2f} GFLOP/s / "
            f"JavaScript peak {peaks.js / 1e9:.1f})"
        )
    return lines


def goals(rows: list) -> list[str]:
    """PyTorch's time over the C trainer's, per precision, as the issue's goal reads.

    Each ratio is the median over rounds of (PyTorch's time per epoch / the C
    trainer's of the same precision) in the same round.
    """
    lines = []
    for row in rows:
        if not row.case.startswith("targets: moons") or "nnsym C" not in row.peer:
            continue
        dtype = "float32" if "float32" in row.peer else "float64"
        torch_rows = [
            r
            for r in rows
            if r.case == row.case and r.peer.endswith(f"{dtype} 1 thread")
        ]
        if not torch_rows:
            continue
        (torch_row,) = torch_rows
        ratio = _median_ratio(torch_row, row)
        lines.append(f"PyTorch {dtype} / {row.peer}: {ratio:.2f}x")
    return lines


def _median_ratio(slower, faster) -> float:
    """The median over rounds of slower's time per epoch over faster's."""
    return statistics.median(
        (s / slower.epochs) / (f / faster.epochs)
        for s, f in zip(slower.seconds, faster.seconds)
    )


def js_goals(rows: list) -> list[str]:
    """Each JavaScript trainer's time over each float64 C trainer's of its form."""
    lines = []
    for row in rows:
        if not row.case.startswith("targets: moons") or "JavaScript" not in row.peer:
            continue
        label = "nnsym C loops (" if "loops" in row.peer else "nnsym C ("
        for c_row in rows:
            if c_row.case != row.case or not c_row.peer.startswith(label):
                continue
            ratio = _median_ratio(row, c_row)
            lines.append(f"{row.peer} / {c_row.peer}: {ratio:.2f}x")
    return lines
