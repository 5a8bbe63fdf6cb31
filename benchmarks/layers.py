"""The loop form: its speed against the unrolled form and the peers, and its scale.

    python -m benchmarks --only loops      # moons, CPython and PyPy
    python -m benchmarks --only scale      # 784-128-10: generate, lines, import
    python -m benchmarks --only digits     # the documented digits run
    python -m benchmarks --only threshold  # where --form auto switches

Every ratio compares runs of the same benchmark process (or of the PyPy
process it starts right after), never figures from another day.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import common as base
from benchmarks.data import moons
from benchmarks.peers import handwritten
from nnsym.pipeline.spec import make_spec

HERE = Path(__file__).resolve().parent
# (arch, points, epochs, PyPy epochs): the two moons cases.
LOOP_CASES = (((2, 16, 16, 1), 200, 40, 200), ((2, 32, 32, 1), 1000, 4, 20))
QUICK_LOOP_CASES = (((2, 3, 3, 1), 10, 2, 2),)
SCALE_ARCH = "784-128-10"
# The documented digits run (README): settings of the module's train().
DIGITS_ARCH = "64-32-10"
DIGITS_SETTINGS = dict(lr=0.5, epochs=30, batch_size=32, reduction="mean", seed=0)
DIGITS_COMMAND = (
    "nnsym train --arch 64-32-10 --loss ce --data digits --test-split 0.2 --seed 0 "
    "--form loops --lr 0.5 --epochs 30 --batch-size 32 --reduction mean"
)
THRESHOLD_WIDTHS = (8, 16, 32, 64)


@dataclass
class CaseSummary:
    """The ratios the issue asks for, for one moons case."""

    case: str
    cpython_loops: float  # seconds per epoch
    cpython_unrolled: float
    cpython_handwritten: float
    pypy_loops: float | None = None
    pypy_handwritten: float | None = None
    pypy_unrolled: float | None = None


def moons_spec(arch: tuple[int, ...], form: str):
    """The moons network of the main benchmark, in the given form."""
    return make_spec(
        arch, activation="tanh", output_activation="sigmoid", loss="mse", form=form
    )


def loops_case(
    directory: Path, repeats: int, pypy: str | None, quick: bool
) -> tuple[list[base.Row], bool, list[CaseSummary]]:
    """Moons in both forms and by hand, on CPython and (if given) PyPy."""
    rows: list[base.Row] = []
    summaries = []
    all_agree = True
    for arch, points, epochs, pypy_epochs in QUICK_LOOP_CASES if quick else LOOP_CASES:
        xs, ys = moons(points)
        loops, loops_path = base.generate_module(moons_spec(arch, "loops"), directory)
        unrolled, unrolled_path = base.generate_module(
            moons_spec(arch, "unrolled"), directory
        )
        start = loops.init_params(0)
        acts = loops.ACTIVATIONS

        def nnsym(module, xs=xs, ys=ys, start=start):
            return lambda n: module.train(
                xs, ys, lr=1, epochs=n, params=start, reduction="mean"
            )

        trainers = [
            base.Trainer("nnsym loop form", nnsym(loops), epochs),
            base.Trainer("nnsym unrolled form", nnsym(unrolled), epochs),
            base.Trainer(
                "hand-written loops",
                lambda n, a=arch, f=acts, x=xs, y=ys, p=start: handwritten.train_loops(
                    a, f, x, y, p, 1, n, True
                ),
                epochs,
            ),
        ]
        case = f"moons {'-'.join(map(str, arch))}, {points} points"
        new_rows = base.interleave(case, trainers, repeats)
        all_agree &= base.check_peers(trainers, new_rows)
        rows += new_rows
        summary = CaseSummary(case, *(row.per_epoch for row in new_rows))
        if pypy:
            # The unrolled form in a process of its own (see pypy_loops.py).
            per_epoch: dict[str, float] = {}
            finals: dict[str, list[float]] = {}
            for modules in (
                [f"nnsym loop form={loops_path}"],
                [f"nnsym unrolled form={unrolled_path}"],
            ):
                command = [pypy, str(HERE / "pypy_loops.py"), "moons", *modules]
                command += [str(points), str(pypy_epochs), str(repeats)]
                _, _, out = base.run_process(command)
                report = json.loads(out)
                names = list(report["seconds"])
                for name in names:
                    if name in per_epoch:  # hand-written loops, timed once is enough
                        continue
                    seconds = report["seconds"][name]
                    row = base.Row(f"PyPy {case}", name, seconds, pypy_epochs)
                    if name != names[0]:
                        reference = report["seconds"][names[0]]
                        row.ratios = [t / r for t, r in zip(seconds, reference)]
                    elif finals:  # another process: against the loop form's median
                        loops_run = per_epoch["nnsym loop form"] * pypy_epochs
                        row.ratios = [t / loops_run for t in seconds]
                    # Each process checks against its first trainer; the second
                    # process's first is checked against the loop form here.
                    ok = report["agree"][name]
                    if finals:
                        ok = base.agree(
                            report["final"][name], finals["nnsym loop form"]
                        )
                    finals.setdefault(name, report["final"][name])
                    row.check = "same" if ok else "DIFFERENT"
                    all_agree &= ok
                    rows.append(row)
                    per_epoch[name] = statistics.median(seconds) / pypy_epochs
            summary.pypy_loops = per_epoch["nnsym loop form"]
            summary.pypy_unrolled = per_epoch["nnsym unrolled form"]
            summary.pypy_handwritten = per_epoch["hand-written loops"]
        summaries.append(summary)
    return rows, all_agree, summaries


def summary_table(summaries: list[CaseSummary]) -> str:
    """The issue's speed targets as ratios (over 1 means the target is met)."""
    lines = [
        "| case | CPython: hand-written / loops | CPython: unrolled / loops"
        " | PyPy loops vs CPython loops | vs CPython unrolled"
        " | PyPy: hand-written / loops |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in summaries:
        pypy = ["n/a"] * 3
        if s.pypy_loops:
            pypy = [
                f"{s.cpython_loops / s.pypy_loops:.1f}x faster",
                f"{s.cpython_unrolled / s.pypy_loops:.1f}x faster",
                f"{s.pypy_handwritten / s.pypy_loops:.2f}",
            ]
        lines.append(
            f"| {s.case} | {s.cpython_handwritten / s.cpython_loops:.2f}"
            f" | {s.cpython_unrolled / s.cpython_loops:.2f} | "
            + " | ".join(pypy)
            + " |"
        )
    return "\n".join(lines)


def _measured_process(args: list[str]) -> tuple[float, int, str]:
    """Wall seconds and peak memory (KiB) of `python -m nnsym ARGS`."""
    script = (
        "import resource, runpy, sys\n"
        f"sys.argv = ['nnsym', *{args!r}]\n"
        "try:\n"
        "    runpy.run_module('nnsym', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=base.ROOT,
        check=True,
    )
    wall = time.perf_counter() - started
    return wall, int(done.stderr.strip().splitlines()[-1]), done.stdout


IMPORT_SCRIPT = (
    "import importlib.util, resource, sys, time\n"
    "started = time.perf_counter()\n"
    "spec = importlib.util.spec_from_file_location('m', sys.argv[1])\n"
    "module = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(module)\n"
    "print(time.perf_counter() - started,"
    " resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
)


def scale_case(directory: Path, repeats: int, quick: bool) -> dict:
    """784-128-10 in the loop form: generate, size of the module, import."""
    arch = "4-8-3" if quick else SCALE_ARCH
    path = directory / "scale.py"
    runs = [
        _measured_process(
            ["generate", "--arch", arch, "--loss", "ce", "--form", "loops", "-q"]
            + ["-o", str(path), "--force"]
        )
        for _ in range(repeats)
    ]
    lines = path.read_text(encoding="utf-8").count("\n")
    imports = []
    for _ in range(repeats):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", IMPORT_SCRIPT, str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        process = time.perf_counter() - started
        seconds, peak = done.stdout.split()
        imports.append((float(seconds), process, int(peak)))
    return {
        "arch": arch,
        "n_params": make_spec(arch, loss="ce", form="loops").n_params,
        "generate_wall": statistics.median(r[0] for r in runs),
        "generate_peak_mib": max(r[1] for r in runs) / 1024,
        "module_lines": lines,
        "module_bytes": path.stat().st_size,
        "import_seconds": statistics.median(i[0] for i in imports),
        "import_process_seconds": statistics.median(i[1] for i in imports),
        "import_peak_mib": max(i[2] for i in imports) / 1024,
    }


def scale_table(result: dict) -> str:
    """Markdown table of the scale row."""
    return "\n".join(
        [
            "| loop form | parameters | generate (whole process) | peak memory"
            " | module lines | import (in process / whole process) |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
            f"| {result['arch']} ce | {result['n_params']}"
            f" | {result['generate_wall']:.2f} s"
            f" | {result['generate_peak_mib']:.0f} MiB"
            f" | {result['module_lines']}"
            f" | {result['import_seconds'] * 1000:.1f} ms"
            f" / {result['import_process_seconds']:.2f} s |",
        ]
    )


def digits_case(directory: Path, pypy: str | None, quick: bool) -> dict:
    """The documented digits run on CPython and PyPy: seconds, test accuracy."""
    from nnsym.models.data import load_data, split_dataset

    spec = make_spec(DIGITS_ARCH, loss="ce", form="loops")
    module, path = base.generate_module(spec, directory)
    train, test = split_dataset(load_data("digits", spec), 0.2, seed=0)
    settings = dict(DIGITS_SETTINGS, epochs=2 if quick else DIGITS_SETTINGS["epochs"])
    started = time.perf_counter()
    params, _ = module.train(list(train.xs), list(train.ys), **settings)
    result = {
        "command": DIGITS_COMMAND,
        "cpython_seconds": time.perf_counter() - started,
        "cpython_test_accuracy": module.accuracy(params, list(test.xs), list(test.ys)),
    }
    if pypy:
        data = directory / "digits.json"
        data.write_text(
            json.dumps(
                {
                    "train_xs": train.xs,
                    "train_ys": train.ys,
                    "test_xs": test.xs,
                    "test_ys": test.ys,
                }
            )
        )
        options = directory / "settings.json"
        options.write_text(json.dumps(settings))
        command = [pypy, str(HERE / "pypy_loops.py"), "digits", str(path)]
        _, _, out = base.run_process([*command, str(data), str(options)])
        report = json.loads(out)
        result["pypy_seconds"] = report["seconds"]
        result["pypy_test_accuracy"] = report["test_accuracy"]
    return result


def digits_table(result: dict) -> str:
    """Markdown table of the digits run."""
    lines = [
        "| digits 64-32-10, 30 epochs | training time | test accuracy |",
        "| --- | ---: | ---: |",
        f"| CPython | {result['cpython_seconds']:.1f} s"
        f" | {result['cpython_test_accuracy']:.1%} |",
    ]
    if "pypy_seconds" in result:
        lines.append(
            f"| PyPy | {result['pypy_seconds']:.1f} s"
            f" | {result['pypy_test_accuracy']:.1%} |"
        )
    return "\n".join(lines)


def threshold_case(directory: Path, repeats: int, quick: bool) -> list[dict]:
    """Both forms of 2-W-W-1 on CPython: generation and epoch time, by width."""
    results = []
    xs, ys = moons(10 if quick else 200)
    for width in (2, 3) if quick else THRESHOLD_WIDTHS:
        arch = (2, width, width, 1)
        row: dict = {"arch": "-".join(map(str, arch))}
        modules = {}
        for form in ("unrolled", "loops"):
            spec = moons_spec(arch, form)
            row["n_params"] = spec.n_params
            wall, _, _ = _measured_process(
                ["generate", "--arch", row["arch"], "--activation", "tanh"]
                + ["--output-activation", "sigmoid", "--loss", "mse", "--form", form]
                + ["-q", "-o", str(directory / f"t_{form}.py"), "--force"]
            )
            row[f"{form}_generate"] = wall
            modules[form] = base.generate_module(spec, directory)[0]
        start = modules["loops"].init_params(0)
        trainers = [
            base.Trainer(
                form,
                lambda n, m=module, p=start: m.train(
                    xs, ys, lr=1, epochs=n, params=p, reduction="mean"
                ),
                2 if quick else 20,
            )
            for form, module in modules.items()
        ]
        timed = base.interleave(row["arch"], trainers, repeats)
        row["unrolled_epoch"], row["loops_epoch"] = (r.per_epoch for r in timed)
        results.append(row)
    return results


def threshold_table(results: list[dict]) -> str:
    """Markdown table of the two forms by size."""
    lines = [
        "| moons net | parameters | generate unrolled / loops"
        " | epoch unrolled / loops (CPython) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['arch']} | {r['n_params']}"
            f" | {r['unrolled_generate']:.1f} s / {r['loops_generate']:.1f} s"
            f" | {base.format_seconds(r['unrolled_epoch'])}"
            f" / {base.format_seconds(r['loops_epoch'])} |"
        )
    return "\n".join(lines)
