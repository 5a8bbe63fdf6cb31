"""Checks at the boundary of a generated file: samples, parameters, data sets.

Each value is checked once where it enters, so that the straight-line code
behind can assume finite floats of the right count.
"""

import math


def _floats(values, count, what):
    # One sample's inputs or targets as floats, checked once at the boundary.
    if isinstance(values, (int, float)) and count == 1:
        values = (values,)
    try:
        result = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise ValueError(
            "%s must be a sequence of %d numbers, got %r" % (what, count, values)
        ) from None
    if len(result) != count:
        raise ValueError("expected %d %s, got %d" % (count, what, len(result)))
    for value in result:
        if not math.isfinite(value):
            raise ValueError("%s must be finite numbers, got %r" % (what, value))
    return result


def _params(params, names):
    if len(params) != len(names):
        raise ValueError(
            "expected %d parameters (PARAM_NAMES), got %d" % (len(names), len(params))
        )
    # One fast sum; name the culprit only if it is NaN or infinite (or overflows).
    if not math.isfinite(sum(params)):
        for name, value in zip(names, params):
            if not math.isfinite(value):
                raise ValueError("parameter %s must be finite, got %r" % (name, value))
    return params


def _dataset(xs, ys, n_inputs, n_outputs):
    if len(xs) != len(ys):
        raise ValueError("got %d inputs but %d targets" % (len(xs), len(ys)))
    if not xs:
        raise ValueError("the data set is empty")
    data = []
    for index, (x, y) in enumerate(zip(xs, ys)):
        try:
            data.append(
                (_floats(x, n_inputs, "inputs"), _floats(y, n_outputs, "targets"))
            )
        except ValueError as error:
            raise ValueError("sample %d: %s" % (index, error)) from None
    return data
