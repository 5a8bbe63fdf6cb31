"""The C trainer on the ATmega328P, Cortex-M3 and Cortex-M4F, simulated.

Each case trains a chunk of epochs at a time (NAME_train_epochs, no history) on
the chip under simavr or QEMU (benchmarks/devices.py) and must end with the
parameters of the same driver built for the host in the same number type:
float32 on the AVR (avr-gcc's double is 32 bits) and the Cortex-M4F's FPU,
double in software on the Cortex-M3. Needs the Debian packages gcc-avr avr-libc
simavr gcc-arm-none-eabi picolibc-arm-none-eabi qemu-system-arm (.ci/run).
"""

from __future__ import annotations

import functools
import math
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from benchmarks import devices
from nnsym.pipeline.spec import make_spec
from nnsym.targets.cengine import OK
from tests.helpers import module_for
from tests.target_helpers import close

TOLERANCE = {"float64": 1e-12, "float32": 1e-5}
# (chip, number type) of each run: the AVR and the M4F in float32, the M3 in
# double, as each chip's hardware has it.
RUNS = [
    (devices.AVR, "float32"),
    (devices.CORTEX_M3, "float64"),
    (devices.CORTEX_M4F, "float32"),
]
CASES = {
    "xor": lambda: devices.xor_case(),
    # The loop form: 1000 epochs, which keep simavr's run to a few seconds.
    "xor-loops": lambda: _shorter(devices.xor_case("loops"), 1000),
    "iris-4-8-3": lambda: devices.iris_case(),
}


def _shorter(case, epochs):
    import dataclasses

    return dataclasses.replace(case, epochs=epochs)


@functools.cache
def _host(name: str, dtype: str) -> devices.Result:
    folder = Path(tempfile.mkdtemp(prefix=f"nnsym-host-{name}-{dtype}-"))
    return devices.train_on(None, CASES[name](), dtype, folder)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("chip,dtype", RUNS, ids=[chip.name for chip, _ in RUNS])
def test_trains_on_the_chip_as_on_the_host(tmp_path: Path, chip, dtype, name):
    missing = chip.missing()
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (see .ci/run)")
    case = CASES[name]()
    got = devices.train_on(chip, case, dtype, tmp_path)
    want = _host(name, dtype)
    assert got.code == want.code == OK
    assert got.epochs == want.epochs == case.epochs
    assert len(got.params) == len(want.params) == case.spec.n_params
    tolerance = TOLERANCE[dtype]
    for a, b in zip(got.params, want.params, strict=True):
        assert close(a, b, tolerance), (got.params, want.params)
    assert close(got.objective, want.objective, tolerance)
    # It learned: the objective fell well below the start's.
    module = module_for(case.spec)
    before = math.fsum(
        module.loss(list(case.start), list(x), list(y))
        for x, y in zip(case.xs, case.ys)
    )
    assert got.objective < 0.9 * before
    if name.startswith("xor"):
        assert got.objective < 0.01
        # The four XOR answers, from the chip's parameters.
        for x, (y,) in zip(case.xs, case.ys):
            (out,) = module.forward(got.params, list(x))
            assert (out > 0.5) == (y > 0.5)
    if chip is devices.AVR:
        # simavr counted the cycles; static RAM and the painted stack fit the
        # Uno's 2 KB, the program its 32 KB of flash.
        flash, static = devices.sizes(chip, tmp_path / "prog.elf")
        assert got.cycles and got.cycles > 0
        assert got.stack and static + got.stack < chip.ram
        assert flash < chip.flash


def _compile_only(compiler: list[str], spec, dtype: str, folder: Path, defines=()):
    """Compiles a unit implementing the trainer's header: (result, its symbols)."""
    from nnsym.targets import source_for

    header = folder / f"{spec.name}.h"
    header.write_text(source_for(spec, "c", dtype), encoding="utf-8")
    unit = folder / "unit.c"
    unit.write_text(
        "".join(f"#define {spec.name.upper()}_{d}\n" for d in defines)
        + f'#define {spec.name.upper()}_IMPLEMENTATION\n#include "{header.name}"\n',
        encoding="utf-8",
    )
    done = subprocess.run(
        [*compiler, "-c", "-o", str(folder / "unit.o"), str(unit)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        return done, ""
    nm = compiler[0].replace("gcc", "nm") if compiler[0].endswith("-gcc") else "nm"
    listed = subprocess.run(
        [nm, str(folder / "unit.o")], capture_output=True, text=True, check=True
    )
    return done, listed.stdout


def test_the_avr_compiles_a_trainer_whose_jacobian_would_not_fit(tmp_path: Path):
    # 10 x 2,410 floats are more than a 16-bit address range: NAME_JACOBIAN is 0
    # there, so the header compiles with -Werror, without NAME_jacobian.
    chip = devices.AVR
    if shutil.which(chip.compiler) is None:
        pytest.skip(f"{chip.compiler} not installed (see .ci/run)")
    avr = [chip.compiler, *devices.COMMON_FLAGS, *chip.flags]
    spec = make_spec("64-32-10", loss="ce", form="loops")
    done, symbols = _compile_only(avr, spec, "float32", tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"{spec.name}_train" in symbols
    assert f"{spec.name}_jacobian" not in symbols
    # A small network keeps its Jacobian on the same chip.
    small = make_spec("4-8-3", loss="ce")
    done, symbols = _compile_only(avr, small, "float32", tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"{small.name}_jacobian" in symbols


@pytest.mark.parametrize("form", ["unrolled", "loops"])
def test_the_jacobian_can_be_left_out_and_lm_then_cannot_be_asked_for(
    tmp_path: Path, form: str
):
    if shutil.which("gcc") is None:
        pytest.skip("gcc not installed")
    spec = make_spec("2-3-2", form=form)
    gcc = ["gcc", *devices.COMMON_FLAGS]
    # The host keeps it by default.
    done, symbols = _compile_only(gcc, spec, "float64", tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"{spec.name}_jacobian" in symbols
    # Left out (lm and lbfgs then left out by default): compiles with -Werror.
    for defines in (("JACOBIAN 0",), ("JACOBIAN 0", "SECOND_ORDER 0")):
        done, symbols = _compile_only(gcc, spec, "float64", tmp_path, defines)
        assert done.returncode == 0, done.stderr
        assert f"{spec.name}_train" in symbols
        assert f"{spec.name}_jacobian" not in symbols
    # Left out with lm asked for: the header's #error says why.
    defines = ("JACOBIAN 0", "SECOND_ORDER 1")
    done, _ = _compile_only(gcc, spec, "float64", tmp_path, defines)
    assert done.returncode != 0
    assert "lm needs the Jacobian" in done.stderr


def test_the_engine_flags_compile_a_wide_loop_header_without_a_warning(tmp_path: Path):
    # gcc -O3 once warned of undefined behaviour in add_outer's rows left over
    # (784-128-10: 128 rows in blocks of four, then 10); -Werror makes it fail.
    if shutil.which("gcc") is None:
        pytest.skip("gcc not installed")
    from nnsym.targets.cengine import FAST_FLAGS

    spec = make_spec("784-128-10", loss="ce", form="loops")
    flags = [f for f in FAST_FLAGS if f not in ("-shared",)]
    done, _ = _compile_only(
        ["gcc", *flags, "-Wall", "-Wextra", "-Werror"], spec, "float64", tmp_path
    )
    assert done.returncode == 0, done.stderr
