"""nnsym against its peers: training speed, generation speed, PyPy, a width sweep.

    python -m benchmarks            # the default parts: all but the slow ones
    python -m benchmarks --quick    # tiny sizes, to check that it all runs
    python -m benchmarks --all      # the slow parts too: every figure in one run

Peers run in one process, interleaved (a round of every peer, repeated), from
the same initial parameters; the table shows medians, and each ratio is the
median over rounds of (peer time / nnsym time) within the same round, which
cancels most of the drift of a shared machine. Every peer's final loss and
parameters are checked against nnsym's before any time is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.common import (
    Row,
    Trainer,
    agree,
    check_peers,
    format_seconds,
    generate_module,
    interleave,
    run_process,
)
from benchmarks.data import XOR_XS, XOR_YS, moons
from benchmarks.peers import handwritten, micrograd_peer, torch_peer, var
from benchmarks.targets import flop_lines, js_goals, js_limit_lines, targets_case
from benchmarks.targets import goals as target_goals
from nnsym.pipeline.spec import make_spec

# What a plain run measures, and the slow parts that only --only or --all run
# (whole processes, microcontroller simulators, a browser, minutes of pure Python).
DEFAULT_PARTS = ("xor", "moons", "sweep", "generation", "naive", "pypy", "targets")
DEFAULT_PARTS += ("loops", "scale", "digits", "threshold", "engine", "speed")
SLOW_PARTS = ("devices", "playground", "training", "defaults")
RESULTS_DIR = Path(__file__).resolve().parent / "results"
PYPY_VERSION = (
    "import platform, sys; print('Python %s, PyPy %s' % (platform.python_version(),"
    " '.'.join(map(str, sys.pypy_version_info[:3]))))"
)


@dataclass
class Config:
    """Sizes of every case; --quick shrinks them all."""

    repeats: int
    xor_epochs: int
    moons_points: int
    moons_arch: tuple[int, ...]
    moons_epochs: int
    slow_epochs: int  # micrograd and Var, timed on fewer epochs
    sweep_widths: tuple[int, ...]
    sweep_epochs: int
    generation: tuple[tuple[str, int], ...]  # (arch, repeats)
    naive_arch: str
    pypy_repeats: int


FULL = Config(
    repeats=7,
    xor_epochs=2000,
    moons_points=200,
    moons_arch=(2, 16, 16, 1),
    moons_epochs=100,
    slow_epochs=5,
    sweep_widths=(2, 4, 8, 16, 32),
    sweep_epochs=20,
    generation=(("2-2-1", 5), ("2-8-8-1", 3), ("2-16-16-1", 3), ("64-64-64-10", 3)),
    naive_arch="2-8-8-1",
    pypy_repeats=7,
)
QUICK = Config(
    repeats=2,
    xor_epochs=20,
    moons_points=10,
    moons_arch=(2, 3, 3, 1),
    moons_epochs=3,
    slow_epochs=2,
    sweep_widths=(2, 3),
    sweep_epochs=2,
    generation=(("2-2-1", 1),),
    naive_arch="2-2-1",
    pypy_repeats=2,
)


def xor_case(config: Config, directory: Path, use_torch: bool) -> tuple[list, bool]:
    """XOR, 2-2-1 sigmoid, sse, lr 1, full batch."""
    module, _ = generate_module(make_spec("2-2-1"), directory)
    start = module.init_params(0)
    arch, acts = (2, 2, 1), ("sigmoid", "sigmoid")
    full, slow = config.xor_epochs, config.xor_epochs // 4 or 1
    trainers = [
        Trainer(
            "nnsym generated train()",
            lambda n: module.train(XOR_XS, XOR_YS, lr=1, epochs=n, params=start),
            full,
        ),
        Trainer(
            "hand-written straight-line",
            lambda n: handwritten.train_xor(XOR_XS, XOR_YS, start, 1, n),
            full,
        ),
        Trainer(
            "tutorial Var",
            lambda n: var.train(arch, XOR_XS, XOR_YS, start, 1, n),
            slow,
        ),
        Trainer(
            "micrograd + exp",
            lambda n: micrograd_peer.train(arch, acts, XOR_XS, XOR_YS, start, 1, n),
            slow,
        ),
    ]
    if use_torch:
        torch_trainer = torch_peer.Trainer(arch, acts, XOR_XS, XOR_YS)
        trainers.append(
            Trainer(
                "PyTorch CPU float64 1 thread",
                lambda n: torch_trainer.train(start, 1, n),
                slow,
            )
        )
    rows = interleave("XOR 2-2-1", trainers, config.repeats)
    return rows, check_peers(trainers, rows)


def moons_spec(arch: tuple[int, ...]):
    """tanh hidden layers, a sigmoid output, mse."""
    return make_spec(arch, activation="tanh", output_activation="sigmoid", loss="mse")


def moons_case(config: Config, directory: Path, use_torch: bool) -> tuple[list, bool]:
    """Moons, tanh/tanh/sigmoid, mse (mean over samples), lr 1, full batch."""
    xs, ys = moons(config.moons_points)
    arch = config.moons_arch
    acts = ("tanh",) * (len(arch) - 2) + ("sigmoid",)
    module, _ = generate_module(moons_spec(arch), directory)
    start = module.init_params(0)
    full, slow = config.moons_epochs, config.slow_epochs
    trainers = [
        Trainer(
            "nnsym generated train()",
            lambda n: module.train(
                xs, ys, lr=1, epochs=n, params=start, reduction="mean"
            ),
            full,
        ),
        Trainer(
            "hand-written loops",
            lambda n: handwritten.train_loops(arch, acts, xs, ys, start, 1, n, True),
            full,
        ),
        Trainer(
            "micrograd + exp",
            lambda n: micrograd_peer.train(arch, acts, xs, ys, start, 1, n, True),
            slow,
        ),
    ]
    if use_torch:
        torch_trainer = torch_peer.Trainer(arch, acts, xs, ys, mean=True)
        trainers.append(
            Trainer(
                "PyTorch CPU float64 1 thread",
                lambda n: torch_trainer.train(start, 1, n),
                full,
            )
        )
    case = f"moons {'-'.join(map(str, arch))}, {len(xs)} points"
    rows = interleave(case, trainers, config.repeats)
    return rows, check_peers(trainers, rows)


def sweep_case(config: Config, directory: Path) -> tuple[list, bool]:
    """nnsym against PyTorch on moons as the hidden layers widen: 2-W-W-1."""
    xs, ys = moons(config.moons_points)
    rows = []
    all_agree = True
    for width in config.sweep_widths:
        arch = (2, width, width, 1)
        acts = ("tanh", "tanh", "sigmoid")
        module, _ = generate_module(moons_spec(arch), directory)
        start = module.init_params(0)
        torch_trainer = torch_peer.Trainer(arch, acts, xs, ys, mean=True)
        trainers = [
            Trainer(
                "nnsym generated train()",
                lambda n, m=module, s=start: m.train(
                    xs, ys, lr=1, epochs=n, params=s, reduction="mean"
                ),
                config.sweep_epochs,
            ),
            Trainer(
                "PyTorch CPU float64 1 thread",
                lambda n, t=torch_trainer, s=start: t.train(s, 1, n),
                config.sweep_epochs,
            ),
        ]
        case = f"sweep 2-{width}-{width}-1 ({module.N_PARAMS} params)"
        new_rows = interleave(case, trainers, config.repeats)
        all_agree &= check_peers(trainers, new_rows)
        rows += new_rows
    return rows, all_agree


def crossover(rows: list[Row]) -> str:
    """The narrowest swept width at which PyTorch is faster than nnsym."""
    for row in rows:
        if row.peer.startswith("PyTorch") and row.ratio is not None and row.ratio < 1:
            return row.case
    return "none of the swept widths"


def nnsym_command(arch: str, output: Path) -> list[str]:
    """`nnsym generate` for `arch`, run with this interpreter."""
    return [sys.executable, "-m", "nnsym", "generate", "--arch", arch, "-q"] + [
        "-o",
        str(output),
        "--force",
    ]


def generation_case(config: Config, directory: Path) -> list[dict]:
    """Whole-process time of `nnsym generate`, per architecture."""
    results = []
    for arch, repeats in config.generation:
        walls, cpus = [], []
        for _ in range(repeats):
            wall, cpu, _ = run_process(nnsym_command(arch, directory / "gen.py"))
            walls.append(wall)
            cpus.append(cpu)
        n_params = make_spec(arch).n_params
        wall = statistics.median(walls)
        results.append(
            {
                "arch": arch,
                "n_params": n_params,
                "wall_seconds": walls,
                "cpu_seconds": cpus,
                "median_wall": wall,
                "median_cpu": statistics.median(cpus),
                "ms_per_param": 1000 * wall / n_params,
            }
        )
    return results


def naive_case(config: Config, directory: Path) -> dict:
    """The naive method against nnsym at one size: whole process and in-process."""
    arch = config.naive_arch
    spec = make_spec(arch)
    module, _ = generate_module(spec, directory)
    result: dict = {"arch": arch}
    # nnsym's own differentiation and cse, in process, for the stage comparison.
    from benchmarks.naive import fixed_point
    from nnsym.pipeline.cse import eliminate_common_subexpressions
    from nnsym.pipeline.gradients import backpropagate
    from nnsym.pipeline.model import build_network

    stage_times = []
    for _ in range(3):
        started = time.perf_counter()
        network = build_network(spec)
        eliminate_common_subexpressions(backpropagate(network))
        stage_times.append(time.perf_counter() - started)
    result["nnsym_stages_seconds"] = statistics.median(stage_times)
    wall, _, _ = run_process(nnsym_command(arch, directory / "naive_ref.py"))
    result["nnsym_process_seconds"] = wall
    values = fixed_point(build_network(spec))
    by_name = {s.name: v for s, v in values.items()}
    params = [by_name[name] for name in module.PARAM_NAMES]
    x = [by_name[f"x{i}"] for i in range(module.N_INPUTS)]
    y = [by_name[f"y{i}"] for i in range(module.N_OUTPUTS)]
    loss, grad = module.loss_and_grad(params, x, y)
    for flavour, flags in (("nnsym sigmoid", []), ("plain SymPy sigmoid", ["--plain"])):
        command = [sys.executable, "-m", "benchmarks.naive", arch, *flags]
        _, _, out = run_process([*command, "--check"])
        report = json.loads(out)
        ok = agree([*report["loss"], *report["grad"]], [loss, *grad])
        # Timed without --check: evaluating the result is not part of the method.
        wall, _, out = run_process(command)
        result[flavour] = {
            "process_seconds": wall,
            "stages_seconds": json.loads(out)["seconds_in_process"],
            "same_gradient": ok,
        }
    return result


def pypy_case(config: Config, directory: Path, pypy: str) -> list[Row]:
    """The XOR and moons rows under PyPy, in one PyPy process each."""
    rows = []
    cases = [
        ("xor", make_spec("2-2-1"), config.xor_epochs),
        ("moons", moons_spec(config.moons_arch), config.moons_epochs),
    ]
    for case, spec, epochs in cases:
        _, path = generate_module(spec, directory)
        command = [pypy, str(Path(__file__).with_name("pypy_run.py")), case, str(path)]
        command += [str(epochs), str(config.pypy_repeats), str(config.moons_points)]
        _, _, out = run_process(command)
        report = json.loads(out)
        names = list(report["seconds"])
        for name in names:
            row = Row(f"PyPy {report['case']}", name, report["seconds"][name], epochs)
            if name != names[0]:
                row.ratios = [
                    t / r
                    for t, r in zip(
                        report["seconds"][name], report["seconds"][names[0]]
                    )
                ]
            row.check = "same" if report["agree"][name] else "DIFFERENT"
            rows.append(row)
    return rows


def training_table(rows: list[Row]) -> str:
    """Markdown table of the training rows."""
    lines = [
        "| case | implementation | median per epoch | time / nnsym's | result |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for row in rows:
        ratio = "1 (reference)" if row.ratio is None else f"{row.ratio:.2f}x"
        lines.append(
            f"| {row.case} | {row.peer} | {format_seconds(row.per_epoch)} | {ratio}"
            f" | {row.check} |"
        )
    return "\n".join(lines)


def generation_table(results: list[dict]) -> str:
    """Markdown table of the generation rows."""
    lines = [
        "| `nnsym generate --arch` | parameters | median wall (CPU) | per parameter |",
        "| --- | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['arch']} | {r['n_params']} | {r['median_wall']:.2f} s"
            f" ({r['median_cpu']:.2f} s) | {r['ms_per_param']:.2f} ms |"
        )
    return "\n".join(lines)


def naive_table(result: dict) -> str:
    """Markdown table of the naive method against nnsym."""
    lines = [
        f"| at {result['arch']} | whole process | differentiate + cse"
        " | same gradient |",
        "| --- | ---: | ---: | --- |",
        f"| nnsym | {result['nnsym_process_seconds']:.2f} s"
        f" | {result['nnsym_stages_seconds']:.3f} s | reference |",
    ]
    for flavour in ("nnsym sigmoid", "plain SymPy sigmoid"):
        r = result[flavour]
        process_ratio = r["process_seconds"] / result["nnsym_process_seconds"]
        stage_ratio = r["stages_seconds"] / result["nnsym_stages_seconds"]
        lines.append(
            f"| naive, {flavour} | {r['process_seconds']:.2f} s ({process_ratio:.1f}x)"
            f" | {r['stages_seconds']:.3f} s ({stage_ratio:.1f}x)"
            f" | {'yes' if r['same_gradient'] else 'NO'} |"
        )
    return "\n".join(lines)


def machine() -> dict:
    """Where the numbers come from."""
    model = ""
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False)
        for line in lscpu.stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return {
        "cpu": model or platform.processor(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
    }


def attempt(report: dict, name: str, part) -> None:
    """report[name] = part(); a part that fails is named, its traceback shown, and
    the other parts' figures are still printed and written."""
    try:
        report[name] = part()
    except Exception:  # noqa: BLE001 - any failure of one part
        traceback.print_exc()
        report.setdefault("failed", []).append(name)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The benchmark's options."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, allow_abbrev=False
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 1-2 rounds")
    parser.add_argument("--repeats", type=int, help="rounds of every training case")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--no-pypy", action="store_true", help="leave PyPy out")
    parser.add_argument(
        "--only",
        choices=DEFAULT_PARTS + SLOW_PARTS,
        action="append",
        help="run only these parts (repeatable)",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="every part, the slow ones too (devices, playground, training, defaults)",
    )
    parser.add_argument("--output", type=Path, help="JSON file to write")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks, print the tables, write the JSON; 1 if a peer disagrees."""
    args = parse_args(argv)
    config = QUICK if args.quick else FULL
    if args.repeats:
        config = Config(**{**asdict(config), "repeats": args.repeats})
    parts = set(DEFAULT_PARTS + SLOW_PARTS if args.all else args.only or DEFAULT_PARTS)
    use_torch = not args.no_torch and torch_peer.available()
    pypy = None if args.no_pypy else shutil.which("pypy3")
    report: dict = {"machine": machine(), "config": asdict(config)}
    rows: list[Row] = []
    all_agree = True
    with tempfile.TemporaryDirectory(prefix="nnsym-bench-") as tmp:
        directory = Path(tmp)
        for name, case in (("xor", xor_case), ("moons", moons_case)):
            if name in parts:
                new_rows, ok = case(config, directory, use_torch)
                rows += new_rows
                all_agree &= ok
        if "targets" in parts:
            target_rows, ok, peaks = targets_case(config, directory, use_torch)
            rows += target_rows
            all_agree &= ok
            if peaks:
                report["peaks"] = asdict(peaks)
            report["js_limit"] = js_limit_lines(target_rows, peaks)
            report["target_goals"] = target_goals(target_rows)
            report["js_goals"] = js_goals(target_rows)
            report["target_flops"] = flop_lines(target_rows)
        if "pypy" in parts and pypy:
            report["machine"]["pypy"] = subprocess.run(
                [pypy, "-c", PYPY_VERSION],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
            pypy_rows = pypy_case(config, directory, pypy)
            all_agree &= all(row.check == "same" for row in pypy_rows)
            rows += pypy_rows
        if "sweep" in parts and use_torch:
            sweep_rows, ok = sweep_case(config, directory)
            all_agree &= ok
            rows += sweep_rows
            report["torch_overtakes_at"] = crossover(sweep_rows)
        if "generation" in parts:
            report["generation"] = generation_case(config, directory)
        if "naive" in parts:
            report["naive"] = naive_case(config, directory)
        # The loop form (benchmarks/layers.py), measured in this same run.
        from benchmarks import layers

        quick = args.quick
        if "loops" in parts:
            loop_rows, ok, summaries = layers.loops_case(
                directory, config.repeats, pypy, quick
            )
            rows += loop_rows
            all_agree &= ok
            report["loops"] = [asdict(s) for s in summaries]
        if "scale" in parts:
            report["scale"] = layers.scale_case(directory, 3 if not quick else 1, quick)
        if "digits" in parts:
            report["digits"] = layers.digits_case(directory, pypy, quick)
        if "threshold" in parts:
            report["threshold"] = layers.threshold_case(
                directory, config.repeats, quick
            )
        if "engine" in parts:
            from benchmarks.engine import engine_case

            report["engine"] = engine_case(directory, 3 if not quick else 1, quick)
        if "speed" in parts and use_torch:
            from benchmarks.speed import speed_case

            report["speed"], ok = speed_case(directory, config.repeats, quick)
            all_agree &= ok
        if "devices" in parts:
            from benchmarks.footprint import devices_case

            attempt(report, "devices", lambda: devices_case(directory, quick))
        if "playground" in parts:
            from benchmarks.playground import playground_case

            attempt(report, "playground", lambda: playground_case(directory, quick))
        if "training" in parts:  # not in the default run: minutes of pure Python
            from benchmarks.optimizers import training_case

            attempt(report, "optimizers", lambda: training_case(directory, quick))
        if "defaults" in parts:  # not in the default run: whole processes
            from benchmarks.process import process_case

            attempt(report, "defaults", lambda: process_case(directory, quick))
    report["training"] = [
        {**asdict(row), "median": row.median, "per_epoch": row.per_epoch}
        | {"ratio": row.ratio}
        for row in rows
    ]
    print(f"machine: {json.dumps(report['machine'])}")
    if rows:
        print("\n" + training_table(rows))
    if report.get("target_goals"):
        print("\nC trainer against PyTorch, same precision (goal: 3x):")
        print("\n".join("  " + line for line in report["target_goals"]))
    if report.get("target_flops"):
        print(
            "\nArithmetic rate (FLOPs counted from the architecture; C against"
            " C's peak, JavaScript against JavaScript's):"
        )
        print("\n".join("  " + line for line in report["target_flops"]))
    if report.get("js_goals"):
        print("\nJavaScript against C, same form (goal: within 1.5x):")
        print("\n".join("  " + line for line in report["js_goals"]))
    if report.get("js_limit"):
        print(
            "\nJavaScript's limit (benchmarks/peak.mjs: multiply-add chains in Node,"
            " fastest of its rounds):"
        )
        print("\n".join("  " + line for line in report["js_limit"]))
    if "torch_overtakes_at" in report:
        print(f"\nPyTorch first beats nnsym at: {report['torch_overtakes_at']}")
    if "generation" in report:
        print("\n" + generation_table(report["generation"]))
    if "naive" in report:
        print("\n" + naive_table(report["naive"]))
    from benchmarks import layers

    if "optimizers" in report:
        from benchmarks.optimizers import study_table

        print("\n" + study_table(report["optimizers"]))
    if "defaults" in report:
        from benchmarks.process import process_table

        print("\n" + process_table(report["defaults"]))
    if "loops" in report:
        summaries = [layers.CaseSummary(**s) for s in report["loops"]]
        print("\n" + layers.summary_table(summaries))
    if "scale" in report:
        print("\n" + layers.scale_table(report["scale"]))
    if "digits" in report:
        print("\n" + layers.digits_table(report["digits"]))
    if "threshold" in report:
        print("\n" + layers.threshold_table(report["threshold"]))
    if "speed" in report:
        from benchmarks.speed import speed_table

        print("\n" + speed_table(report["speed"]))
    if "engine" in report:
        from benchmarks.engine import engine_table

        print("\n" + engine_table(report["engine"]))
    if "devices" in report:
        from benchmarks.footprint import devices_table, write_docs

        table = devices_table(report["devices"])
        print("\n" + table)
        if not args.quick and write_docs(table):
            print("wrote the table into docs/targets.md")
    if "playground" in report:
        from benchmarks.playground import playground_table

        print("\n" + playground_table(report["playground"]))
    output = args.output or RESULTS_DIR / time.strftime("%Y%m%dT%H%M%S.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {output}")
    if report.get("failed"):
        print(
            f"error: these parts failed: {', '.join(report['failed'])}", file=sys.stderr
        )
    if not all_agree:
        print("error: some peers computed different numbers", file=sys.stderr)
        return 1
    return 1 if report.get("failed") else 0
