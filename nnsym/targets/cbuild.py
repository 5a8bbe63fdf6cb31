"""A C compiler found on PATH, a generated C trainer built into a shared library,
and the ctypes layouts of its option and trainer structs.

Standard library only (ctypes, shutil, subprocess).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nnsym.errors import NnsymError

COMPILERS = ("cc", "gcc", "clang")
# A shared library of ISO C99.
LIBRARY_FLAGS = ("-std=c99", "-shared", "-fPIC")
# The library is built on the machine that runs it, so it may use all of that
# machine's instructions (the moons 2-16-16-1 loop trainer: 58.6 us an epoch at
# -O2, 48.3 at these flags; docs/benchmarks.md). No fused multiply-add, which
# would round differently from the Python module: gcc's ISO C mode never fuses,
# clang fuses within an expression unless told not to.
FAST_FLAGS = (*LIBRARY_FLAGS, "-O3", "-march=native", "-ffp-contract=off")
# For a compiler that refuses one of the flags above.
PORTABLE_FLAGS = (*LIBRARY_FLAGS, "-O2")


def find_compiler() -> str | None:
    """The first C compiler on PATH ($CC first), or None."""
    preferred = os.environ.get("CC")
    for name in ((preferred,) if preferred else ()) + COMPILERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def require_compiler() -> str:
    """A C compiler on PATH, or a one-line NnsymError saying none was found."""
    compiler = find_compiler()
    if compiler is None:
        raise NnsymError(
            "--engine c needs a C compiler, and none of cc, gcc or clang is on "
            "PATH; install one (e.g. apt-get install gcc) or use --engine python"
        )
    return compiler


def compile_shared(
    source: str,
    prefix: str,
    folder: Path,
    compiler: str | None = None,
    flags: Sequence[str] | None = None,
    defines: Sequence[str] = (),
) -> Path:
    """Compile a generated C trainer (header text) into a shared library in `folder`.

    Without `flags`: FAST_FLAGS, or PORTABLE_FLAGS where the compiler refuses those.
    `defines`: macros set on the command line ("NAME=VALUE"), e.g. the header's
    NAME_SECOND_ORDER.
    """
    compiler = compiler or require_compiler()
    header = folder / f"{prefix}.h"
    header.write_text(source, encoding="utf-8")
    unit = folder / f"{prefix}_lib.c"
    unit.write_text(
        f'#define {prefix.upper()}_IMPLEMENTATION\n#include "{header.name}"\n',
        encoding="utf-8",
    )
    library = folder / f"lib{prefix}.so"
    for attempt in (flags,) if flags is not None else (FAST_FLAGS, PORTABLE_FLAGS):
        macros = [f"-D{define}" for define in defines]
        command = [compiler, *attempt, *macros, "-o", str(library), str(unit), "-lm"]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode == 0:
            break
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["no message"])[0]
        raise NnsymError(f"compiling the generated C failed: {first}")
    return library


def options_struct(real: Any = ctypes.c_double) -> type[ctypes.Structure]:
    """The ctypes mirror of NAME_options; `real` is the ctypes type of NAME_real."""

    class Options(ctypes.Structure):
        _fields_ = [
            ("optimizer", ctypes.c_int),
            ("reduction", ctypes.c_int),
            ("lr", real),
            ("epochs", ctypes.c_long),
            ("batch_size", ctypes.c_size_t),
            ("momentum", real),
            ("beta1", real),
            ("beta2", real),
            ("eps", real),
            ("seed", ctypes.c_ulong),
            ("has_target_loss", ctypes.c_int),
            ("target_loss", real),
            ("weight_decay", real),
            ("nesterov", ctypes.c_int),
            ("clip_grad_norm", real),
        ]

    return Options


def trainer_struct(options: Any, real: Any = ctypes.c_double) -> type[ctypes.Structure]:
    """The ctypes mirror of NAME_trainer, a run trained in steps."""

    class TrainerState(ctypes.Structure):
        _fields_ = [
            ("options", options),
            ("n_samples", ctypes.c_size_t),
            ("order", ctypes.POINTER(ctypes.c_size_t)),
            ("moments", ctypes.POINTER(real)),
            ("epochs_run", ctypes.c_long),
            ("steps", ctypes.c_long),
            ("shuffle", ctypes.c_ulonglong),
            ("objective", real),
            ("finished", ctypes.c_int),
        ]

    return TrainerState


class FlatRows:
    """Rows already flattened into a C array (CTrainer.rows): converted once."""

    def __init__(self, array_: Any, kept: Any, count: int) -> None:
        self.array, self.kept, self.count = array_, kept, count

    def __len__(self) -> int:
        return self.count
