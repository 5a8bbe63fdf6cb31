# ruff: noqa: ANN001 - included verbatim in generated files, which carry no annotations
# MicroPython profile: what MicroPython lacks, for the code below this block.
# `math` is a namespace with the math module's functions plus log1p and fsum
# where the port has none; `random.Random` is splitmix64, the generator of the
# C and JavaScript trainers (MicroPython has no random.Random), so init_params
# and the mini-batch shuffle draw the same numbers as theirs for the same seed.
import math as _math_module


class math:  # noqa: N801 - stands in for the module of that name
    pass


for _name in dir(_math_module):
    if not _name.startswith("_"):
        setattr(math, _name, getattr(_math_module, _name))


def _log1p(x):
    # log(1 + x) to full precision for small x (Goldberg's correction): u - 1
    # is exact, and log(u) / (u - 1) is smooth near u = 1.
    u = 1.0 + x
    if u == 1.0:
        return x
    if not _math_module.isfinite(u):
        return _math_module.log(u)
    return _math_module.log(u) * x / (u - 1.0)


def _fsum(values):
    # Neumaier's compensated sum: near fsum's accuracy for the few terms here.
    total = 0.0
    compensation = 0.0
    for value in values:
        t = total + value
        if abs(total) >= abs(value):
            compensation += (total - t) + value
        else:
            compensation += (value - t) + total
        total = t
    return total + compensation


if not hasattr(math, "log1p"):
    math.log1p = _log1p
if not hasattr(math, "fsum"):
    math.fsum = _fsum


class _SplitMix64:
    # splitmix64 (Steele, Lea and Flood 2014) on Python's exact integers.

    _MASK = 0xFFFFFFFFFFFFFFFF

    def __init__(self, seed=None):
        if seed is None:
            import time

            seed = time.ticks_us() if hasattr(time, "ticks_us") else int(time.time())
        self.state = int(seed) & self._MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & self._MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self._MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self._MASK
        return z ^ (z >> 31)

    def uniform(self, low, high):
        # low + (high - low) * u with u the top 53 bits over 2**53: for
        # (-1, 1), exactly the C and JavaScript initParams' 2 * u - 1.
        unit = (self.next() >> 11) / 9007199254740992.0
        return low + (high - low) * unit

    def shuffle(self, items):
        # Fisher-Yates from the last position down; j = next() mod (i + 1).
        i = len(items)
        while i > 1:
            j = self.next() % i
            items[i - 1], items[j] = items[j], items[i - 1]
            i -= 1


class random:  # noqa: N801 - stands in for the module of that name
    Random = _SplitMix64
