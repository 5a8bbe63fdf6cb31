"""Numerically safe building blocks that the printed expressions call."""

import math


def _logsumexp(*values):
    # Shift by the largest value so that no exp() overflows; fsum, so that the
    # result does not depend on the order of the values.
    top = max(values)
    return top + math.log(math.fsum(math.exp(v - top) for v in values))
