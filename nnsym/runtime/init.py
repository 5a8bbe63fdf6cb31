"""A generated module's initial parameters and selftest samples, as nnsym draws them."""

import random


def _initial_params(count, seed):
    # Uniform on [-1, 1] from a private generator: the same for the same seed,
    # on every Python, without touching the global random state.
    rng = random.Random(seed)
    return [rng.uniform(-1.0, 1.0) for _ in range(count)]


def _sample_point(seed, n_inputs, n_outputs):
    # A selftest sample: inputs in [-1, 1] (four decimals) and a one-hot target
    # valid for every loss (one output: 0 or 1 by the seed's parity).
    rng = random.Random(1000 + seed)
    x = tuple(round(rng.uniform(-1.0, 1.0), 4) for _ in range(n_inputs))
    hot = seed % n_outputs if n_outputs > 1 else None
    y = tuple(
        float(k == hot) if hot is not None else float(seed % 2)
        for k in range(n_outputs)
    )
    return x, y
