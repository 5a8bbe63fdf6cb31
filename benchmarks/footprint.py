"""Flash and RAM of the C trainer on microcontrollers; simavr's cycle counts.

`python -m benchmarks --only devices` builds, for each chip of
benchmarks/devices.py, number type and form, the trainer alone (its object
file), the least program that trains (one sample, one epoch) and an empty
program, and reads their sizes with the toolchain's `size`; the stack is the
deepest chain of frames gcc reports (-fstack-usage: main, NAME_train_epochs and
the deepest function it calls). It checks the RAM formula of docs/targets.md
against those numbers, runs the device test's training cases on the ATmega328P
under simavr for cycle counts (the only cycle-accurate simulator here: QEMU's
timing is not the chip's), and writes the table into docs/targets.md.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks import devices
from benchmarks.devices import COMMON_FLAGS, MPS2_MEMORY, Chip, sizes
from nnsym.pipeline.spec import Spec, make_spec
from nnsym.targets import source_for

DOCS = Path(__file__).resolve().parent.parent / "docs" / "targets.md"
BEGIN, END = "<!-- devices table: begin -->", "<!-- devices table: end -->"
# Samples the loop form's chunk kernel pushes through a layer at once
# (NAME_CHUNK): 16, and 1 where int has 16 bits (the AVR, simulated by simavr).
CHUNK = 16


MINIMAL = r"""
/* The least program that trains: one sample of zeros, one epoch, no output. */
#define %(upper)s_IMPLEMENTATION
#include "%(name)s.h"

static const %(name)s_real xs[%(upper)s_N_INPUTS];
static const %(name)s_real ys[%(upper)s_N_OUTPUTS];
static %(name)s_real params[%(upper)s_N_PARAMS];
static %(name)s_real moments[%(upper)s_N_MOMENTS(%(upper)s_SGD) + 1];
volatile %(name)s_real result;

int main(void)
{
    %(name)s_options options;
    %(name)s_trainer trainer;
    %(name)s_default_options(&options);
    %(name)s_init_params(params, 0);
    if (%(name)s_trainer_init(&trainer, &options, 1, 0, moments) == %(upper)s_OK) {
        %(name)s_train_epochs(&trainer, params, xs, ys, 1, 0);
    }
    result = params[0];
    return 0;
}
"""
EMPTY = "volatile int result;\nint main(void)\n{\n    result = 1;\n    return 0;\n}\n"


@dataclass
class Footprint:
    """Flash and RAM of one trainer on one chip, in bytes (static RAM: above an
    empty program's)."""

    chip: str
    dtype: str
    form: str
    arch: str
    n_params: int
    trainer_flash: int = 0  # the trainer's object code and constants
    program_flash: int = 0  # the least program that trains, C library included
    empty_flash: int = 0  # the same toolchain's empty program
    static_ram: int = 0  # the least program's data and bss
    stack: int = 0  # its deepest call chain's frames (-fstack-usage)
    formula_static: int = 0  # static RAM by the formula of docs/targets.md
    note: str = ""  # why the least program was not linked

    @property
    def ram(self) -> int:
        """Static RAM and stack of the least program."""
        return self.static_ram + self.stack


def _stack_usage(folder: Path) -> dict[str, int]:
    # gcc's -fstack-usage: "file:line:col:function<TAB>bytes<TAB>kind".
    frames: dict[str, int] = {}
    for path in folder.glob("*.su"):
        for line in path.read_text().splitlines():
            where, size, _ = line.split("\t")
            name = where.rsplit(":", 1)[-1].split(".")[0]
            frames[name] = max(frames.get(name, 0), int(size))
    return frames


def _footprint(
    chip: Chip, spec: Spec, dtype: str, *sizes: int, note: str = ""
) -> Footprint:
    """A Footprint row of `spec` on `chip`: its sizes in the dataclass's order."""
    arch = "-".join(map(str, spec.arch))
    return Footprint(
        chip.name, dtype, spec.form, arch, spec.n_params, *sizes, note=note
    )


def footprint(chip: Chip, spec: Spec, dtype: str, folder: Path) -> Footprint:
    """Build the trainer alone, the least program and an empty one for `chip`."""
    folder.mkdir(parents=True, exist_ok=True)
    name = spec.name
    (folder / f"{name}.h").write_text(source_for(spec, "c", dtype), encoding="utf-8")
    alone = folder / "trainer.c"
    alone.write_text(f'#define {name.upper()}_IMPLEMENTATION\n#include "{name}.h"\n')
    minimal = folder / "minimal.c"
    minimal.write_text(MINIMAL % {"name": name, "upper": name.upper()})
    empty = folder / "empty.c"
    empty.write_text(EMPTY)
    base = [chip.compiler, *COMMON_FLAGS, *chip.flags, "-I", str(folder)]
    link = ["-Wl,--gc-sections", *(MPS2_MEMORY if chip.machine else ())]
    compiled = subprocess.run(
        [*base, "-c", "-o", str(folder / "trainer.o"), str(alone)],
        capture_output=True,
        text=True,
        check=False,
    )
    if compiled.returncode != 0:
        # A row that says why (the compiler's first error), not a lost run.
        error = next(
            (line for line in compiled.stderr.splitlines() if "error:" in line),
            compiled.stderr.strip()[:200],
        )
        note = "does not compile: " + error.split("error:", 1)[-1].strip()
        return _footprint(chip, spec, dtype, note=note)
    subprocess.run(
        [*base, "-fstack-usage", "-c", "-o", str(folder / "minimal.o")]
        + [str(minimal)],
        check=True,
        capture_output=True,
        cwd=folder,
    )
    for source, program in ((empty, "empty.elf"), (minimal, "minimal.elf")):
        linked = subprocess.run(
            [*base, *link, "-o", str(folder / program), str(source), "-lm"],
            capture_output=True,
            text=True,
            check=False,
        )
        # The linker's own words: which of the chip's memories overflowed.
        region = re.search(r"(?:fit in|not within) region `(\w+)'", linked.stderr)
        if linked.returncode != 0 and region:
            memory = {"text": "flash", "data": "RAM"}.get(region.group(1), "memory")
            note = f"does not link: {memory} too small"
            trainer_flash, _ = sizes(chip, folder / "trainer.o")
            return _footprint(chip, spec, dtype, trainer_flash, note=note)
        linked.check_returncode()
    frames = _stack_usage(folder)
    prefix = f"{name}_"
    trainer_frames = {
        k[len(prefix) :]: v for k, v in frames.items() if k.startswith(prefix)
    }
    # main -> train_epochs -> the deepest of the functions it calls.
    callees = [
        v for k, v in trainer_frames.items() if k not in ("train_epochs", "train")
    ]
    stack = frames.get("main", 0) + trainer_frames.get("train_epochs", 0)
    stack += max(callees, default=0)
    trainer_flash, _ = sizes(chip, folder / "trainer.o")
    program_flash, static_ram = sizes(chip, folder / "minimal.elf")
    empty_flash, _ = sizes(chip, folder / "empty.elf")
    return _footprint(
        chip, spec, dtype, trainer_flash, program_flash, empty_flash, static_ram, stack
    )


def networks(quick: bool) -> list[Spec]:
    """The table's networks in both forms; 64-32-10 only in the loop form.

    (2,410 parameters: --form auto writes loops from 1,000 on.)
    """
    specs = []
    archs = [
        ("2-2-1", {}),
        ("4-8-3", {"loss": "ce"}),
        ("2-16-16-1", {"activation": "tanh", "loss": "mse"}),
        ("64-32-10", {"loss": "ce"}),
    ]
    for arch, options in archs[: 1 if quick else 4]:
        for form in ("unrolled", "loops"):
            if arch == "64-32-10" and form == "unrolled":
                continue
            specs.append(make_spec(arch, form=form, **options))
    return specs


def combinations(quick: bool) -> list[tuple[Chip, str]]:
    """Each chip with each of its number types."""
    pairs = [(chip, dtype) for chip in devices.CHIPS for dtype in chip.dtypes]
    return pairs[:1] if quick else pairs


def formula_static(spec: Spec, dtype: str, chip: Chip) -> int:
    """The least program's static RAM above an empty one's, by the formula.

    The caller's parameters, moments (one number for sgd) and result, its
    sample on the AVR (whose constants are in RAM; the Cortex-M's in flash),
    and in the loop form the trainer's own sums and chunk records.
    """
    real = 4 if dtype == "float32" else 8
    n = spec.n_params
    caller = n + 1 + 1
    if not chip.machine:
        caller += spec.arch[0] + spec.arch[-1]
    own = 0
    if spec.form == "loops":
        # docs/targets.md's formula: the gradient sums, and the chunk kernel's
        # columns and rows per layer (none kept for an identity layer's a).
        chunk = CHUNK if chip.machine else 1
        widths = spec.arch
        rows = widths[0] + sum(
            widths[k - 1] + 3 * widths[k] for k in range(1, len(widths))
        )
        activations = spec.activations
        rows -= sum(
            widths[k] for k in range(1, len(widths)) if activations[k - 1] == "identity"
        )
        softmax = spec.output_activation == "softmax"
        own = n + chunk * (rows + (1 if softmax else 0))
    return (caller + own) * real


def devices_case(directory: Path, quick: bool = False) -> dict:
    """Footprints of every network, chip and number type; AVR cycle counts."""
    rows = []
    for chip, dtype in combinations(quick):
        if chip.missing():
            continue
        for spec in networks(quick):
            folder = directory / f"fp-{chip.name}-{dtype}-{spec.name}"
            row = footprint(chip, spec, dtype, folder)
            row.formula_static = formula_static(spec, dtype, chip)
            if not row.note:
                row.static_ram -= sizes(chip, folder / "empty.elf")[1]
            rows.append(row)
    cycles = []
    if not devices.AVR.missing():
        cases = [("XOR 2-2-1", devices.xor_case())]
        if not quick:
            cases += [
                ("XOR 2-2-1 loops", devices.xor_case("loops")),
                ("iris 4-8-3 (18 flowers)", devices.iris_case()),
            ]
        for label, case in cases:
            folder = directory / f"cycles-{case.spec.name}"
            result = devices.train_on(devices.AVR, case, "float32", folder)
            flash, static = sizes(devices.AVR, folder / "prog.elf")
            cycles.append(
                {
                    "case": label,
                    "epochs": case.epochs,
                    "samples": len(case.xs),
                    "cycles": result.cycles,
                    "stack": result.stack,
                    "static": static,
                    "flash": flash,
                }
            )
    return {"footprints": [asdict(row) for row in rows], "cycles": cycles}


def _kb(value: int) -> str:
    return f"{value / 1024:.1f} KB" if value >= 1024 else f"{value} B"


def devices_table(report: dict) -> str:
    """The Markdown tables of a devices_case() report."""
    lines = [
        "| chip | number | form | network | params | trainer alone | least "
        "program | its static RAM (formula) | its stack | fits the Uno |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in report["footprints"]:
        if row["note"]:
            alone = _kb(row["trainer_flash"]) if row["trainer_flash"] else "-"
            lines.append(
                f"| {row['chip']} | {row['dtype']} | {row['form']} | {row['arch']} | "
                f"{row['n_params']:,} | {alone} | "
                f"{row['note']} | | | no |"
            )
            continue
        ram = row["static_ram"] + row["stack"]
        fits = ""
        if row["chip"] == devices.AVR.name:
            fits = (
                "yes"
                if ram <= devices.AVR.ram and row["program_flash"] <= devices.AVR.flash
                else "no"
            )
        lines.append(
            f"| {row['chip']} | {row['dtype']} | {row['form']} | {row['arch']} | "
            f"{row['n_params']:,} | {_kb(row['trainer_flash'])} | "
            f"{_kb(row['program_flash'])} | {row['static_ram']:,} B "
            f"({row['formula_static']:,}) | {row['stack']:,} B | {fits} |"
        )
    if report["cycles"]:
        lines += [
            "",
            "Cycles on the ATmega328P, counted by simavr (Timer1 at the CPU clock; "
            "the time at 16 MHz), with the device test's driver (benchmarks/"
            "device_c/driver.c):",
            "",
            "| case | epochs x samples | cycles | per sample and epoch | "
            "time at 16 MHz | flash | static RAM | stack (painted) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in report["cycles"]:
            per = row["cycles"] / (row["epochs"] * row["samples"])
            lines.append(
                f"| {row['case']} | {row['epochs']:,} x {row['samples']} | "
                f"{row['cycles']:,} | {per:,.0f} | {row['cycles'] / 16e6:.2f} s | "
                f"{_kb(row['flash'])} | {row['static']:,} B | {row['stack']:,} B |"
            )
    return "\n".join(lines)


def write_docs(table: str, path: Path = DOCS) -> bool:
    """Put `table` between the devices markers of docs/targets.md; False if absent."""
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        return False
    path.write_text(
        pattern.sub(lambda _: f"{BEGIN}\n{table}\n{END}", text), encoding="utf-8"
    )
    return True
