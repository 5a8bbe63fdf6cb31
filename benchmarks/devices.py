"""The generated C trainer on microcontrollers' instruction sets, simulated.

Three chips, each with its own compiler and simulator, all Debian packages:

- the ATmega328P (Arduino Uno: 32 KB flash, 2 KB RAM, 16 MHz), avr-gcc and
  avr-libc, run by simavr, which counts the chip's cycles; avr-gcc's `double`
  is 32 bits, so the AVR runs the float32 trainer;
- a Cortex-M3 (QEMU's mps2-an385 board), no floating-point unit: double in
  software, arm-none-eabi-gcc with picolibc, output by semihosting;
- a Cortex-M4F (QEMU's mps2-an386), float32 in its FPU (fpv4-sp-d16, hard
  float ABI), the same toolchain.

benchmarks/device_c/driver.c is the program each runs: it trains a case
(network, samples, starting parameters, options) a chunk of epochs at a time
through NAME_trainer_init and NAME_train_epochs and prints every parameter's
bits. The same driver built for the host is the reference. QEMU's timing is
not the chip's, so only simavr's cycle counts are reported.
"""

from __future__ import annotations

import csv
import re
import shutil
import struct
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from nnsym.pipeline.spec import Spec, make_spec
from nnsym.targets import source_for

DRIVER = Path(__file__).resolve().parent / "device_c" / "driver.c"
IRIS = Path(__file__).resolve().parent.parent / "nnsym" / "datasets" / "iris.csv"
# A program that runs longer than this has hung (a fault, a stack overflow).
RUN_TIMEOUT = 60
COMMON_FLAGS = ("-std=c99", "-Os", "-ffp-contract=off", "-ffunction-sections")
COMMON_FLAGS += ("-fdata-sections", "-Wall", "-Wextra", "-Werror")
# QEMU's boards: code from address 0, RAM from 0x20000000 (4 MB each, as the
# boards' SSRAM), named for picolibc's linker script.
MPS2_MEMORY = (
    "-Wl,--defsym=__flash=0",
    "-Wl,--defsym=__flash_size=0x400000",
    "-Wl,--defsym=__ram=0x20000000",
    "-Wl,--defsym=__ram_size=0x400000",
)
PICOLIBC = ("--specs=picolibc.specs", "--oslib=semihost")


@dataclass(frozen=True)
class Chip:
    """A microcontroller: its compiler, flags, simulator and number types."""

    name: str
    label: str
    compiler: str
    flags: tuple[str, ...]
    size_tool: str
    dtypes: tuple[str, ...]
    machine: str = ""  # QEMU's board; "" for simavr
    flash: int = 0  # bytes the chip has
    ram: int = 0

    def tools(self) -> tuple[str, ...]:
        """The programs this chip's builds and runs need."""
        runner = "simavr" if not self.machine else "qemu-system-arm"
        return (self.compiler, self.size_tool, runner)

    def missing(self) -> list[str]:
        """Those of tools() that are not on PATH."""
        return [tool for tool in self.tools() if shutil.which(tool) is None]


AVR = Chip(
    "atmega328p",
    "ATmega328P (Arduino Uno), simavr",
    "avr-gcc",
    ("-mmcu=atmega328p", "-DF_CPU=16000000UL"),
    "avr-size",
    ("float32",),
    flash=32768,
    ram=2048,
)
CORTEX_M3 = Chip(
    "cortex-m3",
    "Cortex-M3 (QEMU mps2-an385), double in software",
    "arm-none-eabi-gcc",
    ("-mcpu=cortex-m3", "-mthumb", *PICOLIBC),
    "arm-none-eabi-size",
    ("float64", "float32"),
    machine="mps2-an385",
)
CORTEX_M4F = Chip(
    "cortex-m4f",
    "Cortex-M4F (QEMU mps2-an386), float32 in its FPU",
    "arm-none-eabi-gcc",
    ("-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard") + PICOLIBC,
    "arm-none-eabi-size",
    ("float32",),
    machine="mps2-an386",
)
CHIPS = (AVR, CORTEX_M3, CORTEX_M4F)


@dataclass(frozen=True)
class Case:
    """A training run: network, samples, starting parameters and options."""

    spec: Spec
    xs: tuple[tuple[float, ...], ...]
    ys: tuple[tuple[float, ...], ...]
    start: tuple[float, ...]
    lr: float
    epochs: int
    optimizer: str = "SGD"
    batch_size: int = 0
    chunk_epochs: int = 50


def _f32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", value))[0]


def _literal(value: float, dtype: str) -> str:
    # Every float32 value is a double: its shortest repr is exact either way.
    return repr(_f32(value)) + "F" if dtype == "float32" else repr(float(value))


def _array(values: Sequence[float], dtype: str) -> str:
    return "{" + ", ".join(_literal(v, dtype) for v in values) + "}"


def case_header(case: Case, dtype: str) -> str:
    """case.h for the driver: the trainer's include, the data and the options."""
    name = case.spec.name
    lines = [
        f'#include "{name}.h"',
        f"#define NET(name) {name}_##name",
        f"#define NET_UPPER(name) {name.upper()}_##name",
        f"#define N_SAMPLES {len(case.xs)}",
        f"#define XS {_array([v for x in case.xs for v in x], dtype)}",
        f"#define YS {_array([v for y in case.ys for v in y], dtype)}",
        f"#define START {_array(case.start, dtype)}",
        f"#define OPTIMIZER {name.upper()}_{case.optimizer}",
        f"#define LR {_literal(case.lr, dtype)}",
        f"#define EPOCHS {case.epochs}L",
        f"#define BATCH_SIZE {case.batch_size}",
        f"#define CHUNK_EPOCHS {case.chunk_epochs}L",
    ]
    return "\n".join(lines) + "\n"


def write_sources(case: Case, dtype: str, folder: Path, driver: bool = True) -> Path:
    """The trainer's header, case.h and the driver in `folder`; the unit to build."""
    folder.mkdir(parents=True, exist_ok=True)
    name = case.spec.name
    header = folder / f"{name}.h"
    header.write_text(source_for(case.spec, "c", dtype), encoding="utf-8")
    (folder / "case.h").write_text(case_header(case, dtype), encoding="utf-8")
    unit = folder / "driver.c"
    unit.write_text(
        f"#define {name.upper()}_IMPLEMENTATION\n" + DRIVER.read_text(),
        encoding="utf-8",
    )
    return unit


def build(chip: Chip | None, unit: Path, output: Path) -> Path:
    """Compile and link `unit` for `chip` (None: the host, with gcc -O2)."""
    if chip is None:
        command = ["gcc", "-std=c99", "-O2", "-ffp-contract=off"]
    else:
        command = [chip.compiler, *COMMON_FLAGS, *chip.flags, "-Wl,--gc-sections"]
        if chip.machine:
            command += MPS2_MEMORY
    command += ["-I", str(unit.parent), "-o", str(output), str(unit), "-lm"]
    subprocess.run(command, check=True, capture_output=True, text=True)
    return output


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run(chip: Chip | None, program: Path) -> str:
    """Run a built program on its simulator (or the host); its output text."""
    if chip is None:
        command = [str(program)]
    elif not chip.machine:
        command = ["simavr", "-m", chip.name, "-f", "16000000", str(program)]
    else:
        command = ["qemu-system-arm", "-machine", chip.machine, "-nographic"]
        command += ["-semihosting-config", "enable=on,target=native"]
        command += ["-monitor", "none", "-serial", "none", "-kernel", str(program)]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if chip is not None and not chip.machine:
        # simavr shows the UART a line at a time, coloured, a newline as ".".
        text = ANSI.sub("", result.stderr)
        return "\n".join(
            line[:-1] if line.endswith(".") else line for line in text.splitlines()
        )
    return result.stdout + result.stderr


@dataclass
class Result:
    """What the driver printed."""

    code: int
    epochs: int
    objective: float
    params: list[float]
    cycles: int | None = None
    stack: int | None = None
    extra: dict = field(default_factory=dict)


def _real(word: str) -> float:
    if len(word) == 16:
        return struct.unpack(">d", bytes.fromhex(word))[0]
    return struct.unpack(">f", bytes.fromhex(word))[0]


def parse(text: str) -> Result:
    """The driver's output; ValueError if it did not reach its end."""
    values: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, _, value = line.strip().partition(" ")
        values.setdefault(key, []).append(value)
    if "end" not in values or "code" not in values:
        raise ValueError(f"the program did not finish: {text[-500:]!r}")
    return Result(
        code=int(values["code"][0]),
        epochs=int(values["epochs"][0]),
        objective=_real(values["objective"][0]),
        params=[_real(v) for v in values.get("param", [])],
        cycles=int(values["cycles"][0]) if "cycles" in values else None,
        stack=int(values["stack"][0]) if "stack" in values else None,
    )


def train_on(chip: Chip | None, case: Case, dtype: str, folder: Path) -> Result:
    """Build the driver for `chip` (None: host), run it, parse what it printed."""
    unit = write_sources(case, dtype, folder)
    program = build(chip, unit, folder / ("host" if chip is None else "prog.elf"))
    return parse(run(chip, program))


def sizes(chip: Chip, path: Path) -> tuple[int, int]:
    """(flash, static RAM) of an object or program: text + data, data + bss."""
    out = (
        subprocess.run(
            [chip.size_tool, str(path)], capture_output=True, text=True, check=True
        )
        .stdout.splitlines()[1]
        .split()
    )
    text, data, bss = int(out[0]), int(out[1]), int(out[2])
    return text + data, data + bss


def xor_case(form: str = "unrolled") -> Case:
    """The README's XOR network, 2000 epochs of sgd at lr 1, from init_params(0)."""
    from tests.helpers import module_for

    spec = make_spec("2-2-1", form=form)
    start = module_for(spec).init_params(0)
    xs = ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))
    ys = ((0.0,), (1.0,), (1.0,), (0.0,))
    return Case(spec, xs, ys, tuple(start), lr=1.0, epochs=2000, chunk_epochs=100)


def iris_rows(
    per_class: int,
) -> tuple[list[tuple[float, ...]], list[tuple[float, ...]]]:
    """The first `per_class` flowers of each iris species, inputs standardized."""
    with IRIS.open(newline="") as handle:
        rows = [row for row in csv.reader(handle) if row]
    rows = [row for row in rows if _is_number(row[0])]
    labels = sorted({row[-1] for row in rows})
    chosen: list[list[str]] = []
    for label in labels:
        chosen += [row for row in rows if row[-1] == label][:per_class]
    columns = [[float(row[k]) for row in chosen] for k in range(4)]
    means = [sum(c) / len(c) for c in columns]
    scales = [
        (sum((v - m) ** 2 for v in c) / len(c)) ** 0.5 for c, m in zip(columns, means)
    ]
    xs = [
        tuple((float(row[k]) - means[k]) / scales[k] for k in range(4))
        for row in chosen
    ]
    ys = [tuple(float(row[-1] == other) for other in labels) for row in chosen]
    return xs, ys


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def iris_case(form: str = "unrolled", epochs: int = 20, per_class: int = 6) -> Case:
    """4-8-3 softmax/cross-entropy on 18 iris flowers (6 a species), sgd on the sum."""
    import random

    spec = make_spec("4-8-3", loss="ce", form=form)
    xs, ys = iris_rows(per_class)
    rng = random.Random("iris-device")
    start = tuple(rng.uniform(-0.5, 0.5) for _ in range(spec.n_params))
    return Case(
        spec, tuple(xs), tuple(ys), start, lr=0.1, epochs=epochs, chunk_epochs=5
    )
