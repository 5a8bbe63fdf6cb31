"""The C runtime's sigmoid (nnsym_sigmoid.h) against mpmath in units in the last place.

Also: the same bits in a vectorized loop as in single calls.
"""

from __future__ import annotations

import ctypes
import math
import random
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from tests.target_helpers import STRICT

pytestmark = pytest.mark.skipif(
    shutil.which("gcc") is None, reason="gcc is not installed"
)

RUNTIME = Path(__file__).resolve().parent.parent / "nnsym" / "runtime" / "c"

UNITS = {
    # One file per precision: the header's defaults are the double version.
    "float64": (
        '#include "nnsym_defaults.h"\n#include "nnsym_sigmoid.h"\n'
        "double sigmoid(double x) { return nnsym_branchless_sigmoid(x); }\n"
        "int overflow_raised_at(double x)\n"
        "{ volatile double t; feclearexcept(FE_ALL_EXCEPT);\n"
        "  t = nnsym_branchless_sigmoid(x);\n"
        "  (void)t; return fetestexcept(FE_OVERFLOW) != 0; }\n"
        "void layer(int n, const double *z, double *a)\n"
        "{ int k; for (k = 0; k < n; k++) a[k] = nnsym_branchless_sigmoid(z[k]); }\n"
    ),
    "float32": (
        "#define NNSYM_RT(name) f32_##name\n#define NNSYM_REAL float\n"
        '#define NNSYM_MATH(name) name##f\n#include "nnsym_sigmoid.h"\n'
        "float sigmoid(float x) { return f32_branchless_sigmoid(x); }\n"
        "int overflow_raised_at(float x)\n"
        "{ volatile float t; feclearexcept(FE_ALL_EXCEPT);\n"
        "  t = f32_branchless_sigmoid(x);\n"
        "  (void)t; return fetestexcept(FE_OVERFLOW) != 0; }\n"
        "void layer(int n, const float *z, float *a)\n"
        "{ int k; for (k = 0; k < n; k++) a[k] = f32_branchless_sigmoid(z[k]); }\n"
    ),
}
# Where the results go from 1/(1 + e) to e/(1 + e) (0), become subnormal,
# switch to the scaled power of two, and round to 0 or 1; by precision.
EDGES = {
    "float64": (0.0, -708.4, -693.2, -693.1, -709.0, -745.1, -745.2, 36.7, 37.5),
    "float32": (0.0, -87.3, -69.3, -69.4, -88.7, -103.3, -103.9, 16.6, 17.4),
}
# The range of inputs whose sigmoid is neither 0 nor 1 after rounding, and more.
RANGES = {"float64": (-746.0, 40.0), "float32": (-105.0, 20.0)}


def sigmoid_points(dtype: str) -> list[float]:
    """Uniform over the range, dense near 0, and around each edge."""
    rng = random.Random(f"sigmoid-{dtype}")
    low, high = RANGES[dtype]
    points = [rng.uniform(low, high) for _ in range(12000)]
    points += [rng.uniform(-40.0, 40.0) for _ in range(4000)]
    points += [sign * math.exp(rng.uniform(-40.0, 1.0)) for sign in (1, -1)] * 1000
    points += [sign * 10.0**e for e in range(-300, 3) for sign in (1.0, -1.0)]
    for edge in EDGES[dtype]:
        points += [edge + rng.uniform(-0.5, 0.5) for _ in range(200)]
    return points + [5e-324, -5e-324, 1e-8, -1e-8]


def load(tmp_path: Path, dtype: str, flags: tuple[str, ...]) -> ctypes.CDLL:
    """The header compiled alone, with `flags`, as a shared library."""
    unit = tmp_path / "sigmoid.c"
    unit.write_text("#include <fenv.h>\n" + UNITS[dtype])
    library = tmp_path / f"libsigmoid{len(flags)}.so"
    subprocess.run(
        ["gcc", *STRICT, *flags, "-shared", "-fPIC", "-I", str(RUNTIME)]
        + ["-o", str(library), str(unit), "-lm"],
        check=True,
    )
    lib = ctypes.CDLL(str(library))
    real = ctypes.c_float if dtype == "float32" else ctypes.c_double
    lib.sigmoid.restype, lib.sigmoid.argtypes = real, [real]
    lib.overflow_raised_at.restype = ctypes.c_int
    lib.overflow_raised_at.argtypes = [real]
    return lib


def rounded(value: float, single: bool) -> float:
    return struct.unpack("f", struct.pack("f", value))[0] if single else value


def ulp(value: float, single: bool) -> float:
    if not single:
        return math.ulp(value)
    exponent = math.frexp(value)[1] if value else -125
    return 2.0 ** (max(exponent, -125) - 24)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_runtime_sigmoid_is_within_two_units_in_the_last_place(tmp_path: Path, dtype):
    import mpmath

    lib = load(tmp_path, dtype, ("-O2",))
    single = dtype == "float32"
    mpmath.mp.dps = 50
    worst, worst_tail = 0.0, 0.0
    for point in sigmoid_points(dtype):
        x = rounded(point, single)
        exact = 1 / (1 + mpmath.exp(-mpmath.mpf(x)))
        got = lib.sigmoid(x)
        unit = ulp(rounded(float(exact), single), single)
        error = float(abs(mpmath.mpf(got) - exact) / unit)
        assert error <= 2, (x, got, float(exact), error)
        worst = max(worst, error)
        if x < -20:
            worst_tail = max(worst_tail, error)
    # Not trivially exact: the approximation is visible at the last place,
    # the lower tail's too, where 0.5 + 0.5 tanh(x/2) would have no digit left.
    assert worst > 0.0 and worst_tail > 0.0
    # Exactly 0 and 1 once rounded so, without overflowing on the way.
    for big in (1e6, 1e30, math.inf, 800.0, 746.0):
        assert lib.sigmoid(big) == 1.0 and lib.sigmoid(-big) == 0.0
    for big in (1e30, 800.0, 400.0, 100.0):
        assert lib.overflow_raised_at(big) == 0 and lib.overflow_raised_at(-big) == 0
    assert lib.sigmoid(0.0) == 0.5 and lib.sigmoid(-0.0) == 0.5
    assert math.isnan(lib.sigmoid(math.nan))
    # The smallest results: subnormal, and to their last bit.
    smallest = 5e-324 if not single else 2.0**-149
    tail = -745.0 if not single else -103.0
    assert 0.0 < lib.sigmoid(tail) <= 2 * smallest


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_runtime_sigmoid_is_the_same_in_a_vector_loop(tmp_path: Path, dtype):
    # NAME_chunk applies it to a whole layer in a loop gcc vectorizes at -O3;
    # each value must be the one a single call gives (-O0), to the last bit.
    single = dtype == "float32"
    vector = load(tmp_path, dtype, ("-O3", "-march=native", "-ffp-contract=off"))
    scalar = load(tmp_path, dtype, ("-O0",))
    points = [rounded(p, single) for p in sigmoid_points(dtype)[:4099]]
    points += [math.inf, -math.inf, -0.0, 1e30, -1e30]
    real = ctypes.c_float if single else ctypes.c_double
    values = (real * len(points))(*points)
    out = (real * len(points))()
    vector.layer(len(points), values, out)
    for x, got in zip(points, out):
        assert struct.pack("d", got) == struct.pack("d", scalar.sigmoid(x)), x
