"""The Arduino example (docs/arduino/xor_train): its C core on the ATmega328P.

The sketch's C core, xor_core.c with the generated mlp_2_2_1.h, is built with
avr-gcc against avr-libc with a stand-in for the sketch's loop() (the Arduino
core itself is not installed here) and run under simavr, and built for the host:
both learn XOR, with the same outputs to float32's precision.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from benchmarks import devices
from nnsym.pipeline.spec import make_spec
from nnsym.targets import source_for
from tests.target_helpers import STRICT, close

SKETCH = Path(__file__).resolve().parent.parent / "docs" / "arduino" / "xor_train"

# The sketch's setup() and loop(), in C, printing over the UART (or stdout).
HARNESS = r"""
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "xor_core.h"
#ifdef __AVR__
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
static int put(char c, FILE *stream)
{
    (void)stream;
    while (!(UCSR0A & _BV(UDRE0))) {
    }
    UDR0 = (uint8_t)c;
    return 0;
}
static FILE uart = FDEV_SETUP_STREAM(put, NULL, _FDEV_SETUP_WRITE);
#endif

static void print_float(const char *label, float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    printf("%s %08lx\n", label, (unsigned long)bits);
}

int main(void)
{
    int a, b, more = 1;
#ifdef __AVR__
    UCSR0B = _BV(TXEN0);
    stdout = &uart;
#endif
    printf("begin %d\n", xor_core_begin(0));
    while (more) {
        more = xor_core_train(100);
        printf("epoch %ld\n", xor_core_epochs());
        print_float("loss", xor_core_loss());
    }
    for (a = 0; a <= 1; a++) {
        for (b = 0; b <= 1; b++) {
            print_float("out", xor_core_predict((float)a, (float)b));
        }
    }
    printf("end\n");
#ifdef __AVR__
    cli();
    sleep_cpu();
#endif
    return 0;
}
"""


def _parse(text: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, _, value = line.strip().rstrip(".").partition(" ")
        values.setdefault(key, []).append(value)
    return values


def _float(word: str) -> float:
    return struct.unpack(">f", bytes.fromhex(word))[0]


def test_the_sketchs_header_is_the_generated_one():
    # Regenerate with the command in its first line (-o into the sketch).
    committed = (SKETCH / "mlp_2_2_1.h").read_text(encoding="utf-8")
    assert committed == source_for(make_spec("2-2-1"), "c", "float32")


def test_the_sketch_calls_only_its_core():
    sketch = (SKETCH / "xor_train.ino").read_text(encoding="utf-8")
    declared = set(
        re.findall(r"\b(xor_core_\w+)\(", (SKETCH / "xor_core.h").read_text())
    )
    called = set(re.findall(r"\b(xor_core_\w+)\(", sketch))
    assert called and called <= declared
    assert '#include "xor_core.h"' in sketch


def _build_and_run(tmp_path: Path, chip) -> dict[str, list[str]]:
    (tmp_path / "harness.c").write_text(HARNESS)
    sources = [str(SKETCH / "xor_core.c"), str(tmp_path / "harness.c")]
    if chip is None:
        program = tmp_path / "host"
        command = ["gcc", *STRICT, "-O2", "-ffp-contract=off"]
    else:
        program = tmp_path / "xor.elf"
        command = [chip.compiler, *STRICT, "-Os", *chip.flags, "-Wl,--gc-sections"]
    command += ["-I", str(SKETCH), "-o", str(program), *sources, "-lm"]
    subprocess.run(command, check=True)
    return _parse(devices.run(chip, program))


def test_the_core_learns_xor_on_the_atmega328p_as_on_the_host(tmp_path: Path):
    missing = devices.AVR.missing()
    if missing or shutil.which("gcc") is None:
        pytest.skip(f"{', '.join(missing) or 'gcc'} not installed (see .ci/run)")
    (tmp_path / "avr").mkdir()
    (tmp_path / "host").mkdir()
    avr = _build_and_run(tmp_path / "avr", devices.AVR)
    host = _build_and_run(tmp_path / "host", None)
    assert avr["begin"] == host["begin"] == ["0"]
    assert "end" in avr and "end" in host
    # 20 calls of 100 epochs, as the sketch's loop() makes them.
    assert avr["epoch"] == host["epoch"] == [str(100 * k) for k in range(1, 21)]
    losses = [_float(v) for v in avr["loss"]]
    assert losses[-1] < 0.01 < losses[0]
    outputs = [_float(v) for v in avr["out"]]
    assert [out > 0.5 for out in outputs] == [False, True, True, False]
    for got, want in zip(
        outputs + losses,
        [_float(v) for v in host["out"] + host["loss"]],
        strict=True,
    ):
        assert close(got, want, 1e-5)
