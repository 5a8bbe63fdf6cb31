"""Which parameters `nnsym check` compares, and when a comparison says nothing."""

from __future__ import annotations

import random

from nnsym.pipeline.spec import Spec

# Finite differences cost two loss evaluations per parameter and step size:
# above this many parameters, a seeded sample of CHECK_SAMPLE of them is checked
# (every layer's first weight and last bias among them), not every one.
MAX_CHECK_PARAMS = 1000
CHECK_SAMPLE = 100


def sampled_indices(spec: Spec) -> list[int]:
    """Which parameters to check: all, or above MAX_CHECK_PARAMS a seeded sample."""
    n = spec.n_params
    if n <= MAX_CHECK_PARAMS:
        return list(range(n))
    # Every layer's first weight and last bias, so that no layer goes unchecked.
    chosen = _anchors(spec)
    rest = [i for i in range(n) if i not in chosen]
    chosen |= set(random.Random(0).sample(rest, CHECK_SAMPLE - len(chosen)))
    return sorted(chosen)


def layer_of(spec: Spec, index: int) -> int:
    """The layer (from 1) that parameter `index` (PARAM_NAMES order) belongs to."""
    start = 0
    for layer, (n_in, n_out) in enumerate(zip(spec.arch, spec.arch[1:]), start=1):
        start += (n_in + 1) * n_out
        if index < start:
            return layer
    raise IndexError(index)


# The step at which the floor below is taken, whatever --step is: a gradient is
# zero to rounding by what differences can resolve, not by a step chosen badly
# (a bad step is blamed as such, see nnsym check's messages).
FLOOR_STEP = 1e-4


def rounding_floor(loss: float, step: float = FLOOR_STEP) -> float:
    """Below this, a gradient and its central difference are both rounding noise.

    The loss is known to about 2**-52 |loss|; the difference divides two such
    roundings by 2h. A margin of 64 keeps noise from counting as a check.
    """
    return 64 * 2.0**-52 * max(1.0, abs(loss)) / step


def table_indices(spec: Spec, indices: list[int]) -> list[int]:
    """The parameters of the step table: all checked, or each layer's two anchors."""
    if spec.n_params <= MAX_CHECK_PARAMS:
        return indices
    return sorted(_anchors(spec))


def _anchors(spec: Spec) -> set[int]:
    # Every layer's first weight and last bias.
    chosen: set[int] = set()
    start = 0
    for n_in, n_out in zip(spec.arch, spec.arch[1:]):
        chosen |= {start, start + (n_in + 1) * n_out - 1}
        start += (n_in + 1) * n_out
    return chosen
