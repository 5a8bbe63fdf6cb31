"""The generated module's initial parameters, also drawn by nnsym for its selftest."""

import random


def _initial_params(count, seed):
    # Uniform on [-1, 1] from a private generator: the same for the same seed,
    # on every Python, without touching the global random state.
    rng = random.Random(seed)
    return [rng.uniform(-1.0, 1.0) for _ in range(count)]
