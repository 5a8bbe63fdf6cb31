"""Numerically safe building blocks that the printed expressions call."""

import math


def _logsumexp(*values):
    # Shift by the largest value so that no exp() overflows; fsum, so that the
    # result does not depend on the order of the values.
    top = max(values)
    return top + math.log(math.fsum(math.exp(v - top) for v in values))


def _log1p_rest(values, top):
    # log(sum_k exp(v_k)) is top + this, top the largest value: log1p of the sum
    # of exp(v - top) over every value but the (first) largest, whose term, 1,
    # is never added, so that a tiny sum keeps its digits; fsum, as above.
    # (A NaN equals nothing: then every term is NaN, and so is the result.)
    terms = []
    skipped = False
    for v in values:
        if v == top and not skipped:
            skipped = True
        else:
            terms.append(math.exp(v - top))
    return math.log1p(math.fsum(terms))
