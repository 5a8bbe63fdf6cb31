"""Input scaling as part of the model: fitted on the training rows, folded into layer 1.

`nnsym train` trains on scaled inputs x' = (x - offset) / scale (standard:
the training rows' mean and population standard deviation, as scikit-learn's
StandardScaler; minmax: their minimum and range, as MinMaxScaler), then saves
parameters that take the raw inputs: with z = W1 x' + b1 the first layer,

    W1_raw[j][i] = W1[j][i] / scale[i]
    b1_raw[j]    = b1[j] - sum_i W1_raw[j][i] * offset[i]

so that every consumer of a weights file (predict, export to Python, C,
JavaScript and ONNX, the generated module itself) takes raw inputs with no
step of its own. The scaling is recorded in the weights file's "training"
entry ("input_scaling"), and `--init` unfolds a file's parameters into the new
run's scaled inputs. A constant column gets scale 1 (no division by zero).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from nnsym.models.data import Dataset
from nnsym.pipeline.spec import Spec

SCALINGS = ("standard", "minmax", "none")


@dataclass(frozen=True)
class Scaling:
    """x' = (x - offset) / scale, one offset and scale per input."""

    method: str
    offset: tuple[float, ...]
    scale: tuple[float, ...]

    def apply(self, x: Sequence[float]) -> tuple[float, ...]:
        """One sample's inputs, scaled."""
        return tuple((v - m) / s for v, m, s in zip(x, self.offset, self.scale))

    def record(self) -> dict[str, Any]:
        """The weights file's "input_scaling" entry."""
        return {
            "method": self.method,
            "offset": list(self.offset),
            "scale": list(self.scale),
            "folded_into": "layer 1: the saved parameters take raw inputs",
        }


def fit_scaling(method: str, xs: Sequence[Sequence[float]]) -> Scaling | None:
    """The scaling `method` fitted on the rows `xs`; None for "none"."""
    if method == "none":
        return None
    if method not in SCALINGS:
        raise ValueError(f"unknown scaling {method!r}")
    offsets, scales = [], []
    for column in zip(*xs):
        if method == "standard":
            offset = math.fsum(column) / len(column)
            spread = math.sqrt(
                math.fsum((v - offset) ** 2 for v in column) / len(column)
            )
        else:
            offset = min(column)
            spread = max(column) - offset
        # A constant column (or one too narrow to divide by) is left unscaled.
        offsets.append(offset)
        scales.append(spread if spread > 1e-12 * max(1.0, abs(offset)) else 1.0)
    return Scaling(method, tuple(offsets), tuple(scales))


def scale_dataset(dataset: Dataset, scaling: Scaling | None) -> Dataset:
    """`dataset` with its inputs scaled (itself for no scaling)."""
    if scaling is None:
        return dataset
    return replace(dataset, xs=tuple(scaling.apply(x) for x in dataset.xs))


def fold(spec: Spec, params: Sequence[float], scaling: Scaling | None) -> list[float]:
    """Parameters for scaled inputs -> the same network on raw inputs."""
    params = list(params)
    if scaling is None:
        return params
    width = spec.arch[0] + 1
    for j in range(spec.arch[1]):
        row = params[j * width : (j + 1) * width]
        weights = [w / s for w, s in zip(row, scaling.scale)]
        bias = row[-1] - math.fsum(w * m for w, m in zip(weights, scaling.offset))
        params[j * width : (j + 1) * width] = [*weights, bias]
    return params


def unfold(spec: Spec, params: Sequence[float], scaling: Scaling | None) -> list[float]:
    """Parameters on raw inputs -> the same network on scaled inputs (undo fold)."""
    params = list(params)
    if scaling is None:
        return params
    width = spec.arch[0] + 1
    for j in range(spec.arch[1]):
        row = params[j * width : (j + 1) * width]
        bias = row[-1] + math.fsum(w * m for w, m in zip(row, scaling.offset))
        weights = [w * s for w, s in zip(row, scaling.scale)]
        params[j * width : (j + 1) * width] = [*weights, bias]
    return params
