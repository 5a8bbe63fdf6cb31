# ruff: noqa: ANN001 - included verbatim in generated files, which carry no annotations
# MicroPython profile: what MicroPython lacks, for the code below this block.
# `math` is a namespace with the math module's functions plus log1p, expm1 and fsum
# where the port has none; `random.Random` (which MicroPython lacks) is CPython's
# Mersenne Twister, so that init_params, the mini-batch shuffle and the
# selftest's points are CPython's, number for number, for the same seed.
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


def _expm1(x):
    # exp(x) - 1 to full precision for small x (Kahan's correction), as _log1p.
    u = _math_module.exp(x)
    if u == 1.0:
        return x
    if u - 1.0 == -1.0:
        return -1.0
    if not _math_module.isfinite(u):
        return u
    return (u - 1.0) * x / _math_module.log(u)


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
if not hasattr(math, "expm1"):
    math.expm1 = _expm1
if not hasattr(math, "fsum"):
    math.fsum = _fsum


class _MersenneTwister:
    # CPython's random.Random for integer seeds, draw for draw: MT19937
    # (Matsumoto and Nishimura 1998) seeded by init_by_array as CPython seeds
    # it, with CPython's random(), uniform() and shuffle(). Integers wider than
    # 31 bits need a port with long integers (most have them).

    def __init__(self, seed=None):
        if seed is None:
            import time

            seed = time.ticks_us() if hasattr(time, "ticks_us") else int(time.time())
        seed = abs(int(seed))
        key = []
        while True:
            key.append(seed & 0xFFFFFFFF)
            seed >>= 32
            if not seed:
                break
        self._seed_by_array(key)

    def _seed_by_array(self, key):
        mt = [0] * 624
        mt[0] = 19650218
        for i in range(1, 624):
            mt[i] = (1812433253 * (mt[i - 1] ^ (mt[i - 1] >> 30)) + i) & 0xFFFFFFFF
        i, j = 1, 0
        for _ in range(max(624, len(key))):
            mixed = (mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525
            mt[i] = ((mt[i] ^ mixed) + key[j] + j) & 0xFFFFFFFF
            i += 1
            j += 1
            if i >= 624:
                mt[0] = mt[623]
                i = 1
            if j >= len(key):
                j = 0
        for _ in range(623):
            mixed = (mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941
            mt[i] = ((mt[i] ^ mixed) - i) & 0xFFFFFFFF
            i += 1
            if i >= 624:
                mt[0] = mt[623]
                i = 1
        mt[0] = 0x80000000
        self._state = mt
        self._index = 624

    def _next32(self):
        mt = self._state
        if self._index >= 624:
            for k in range(624):
                y = (mt[k] & 0x80000000) | (mt[(k + 1) % 624] & 0x7FFFFFFF)
                mt[k] = mt[(k + 397) % 624] ^ (y >> 1) ^ (0x9908B0DF if y & 1 else 0)
            self._index = 0
        y = mt[self._index]
        self._index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        return y ^ (y >> 18)

    def random(self):
        # 53 random bits, as CPython's genrand_res53.
        a = self._next32() >> 5
        b = self._next32() >> 6
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0)

    def uniform(self, low, high):
        return low + (high - low) * self.random()

    def _below(self, n):
        # CPython's _randbelow for n < 2**32: getrandbits(n.bit_length()) until
        # the draw is below n (MicroPython's int has no bit_length).
        bits = 0
        rest = n
        while rest:
            bits += 1
            rest >>= 1
        r = self._next32() >> (32 - bits)
        while r >= n:
            r = self._next32() >> (32 - bits)
        return r

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self._below(i + 1)
            items[i], items[j] = items[j], items[i]


class random:  # noqa: N801 - stands in for the module of that name
    Random = _MersenneTwister


# The loop form's dot products use operator.mul; most ports have no operator
# module.
try:
    from operator import mul
except ImportError:

    def mul(a, b):
        return a * b
