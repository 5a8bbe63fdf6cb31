"""The benchmark data sets, made in pure Python so that every peer sees the same."""

from __future__ import annotations

import math
import random

XOR_XS = [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]
XOR_YS = [(0.0,), (1.0,), (1.0,), (0.0,)]


def moons(n_samples: int = 200, noise: float = 0.1, seed: int = 0):
    """Two interleaved half-moons (as scikit-learn's make_moons), labels 0 and 1."""
    rng = random.Random(seed)
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    xs = []
    ys = []
    for k in range(n_outer):
        t = math.pi * k / max(n_outer - 1, 1)
        xs.append((math.cos(t), math.sin(t)))
        ys.append((0.0,))
    for k in range(n_inner):
        t = math.pi * k / max(n_inner - 1, 1)
        xs.append((1.0 - math.cos(t), 0.5 - math.sin(t)))
        ys.append((1.0,))
    xs = [(x0 + rng.gauss(0.0, noise), x1 + rng.gauss(0.0, noise)) for x0, x1 in xs]
    return xs, ys


def write_pixels_csv(path, rows: int = 2000, columns: int = 784, seed: int = 0):
    """A CSV shaped like MNIST: `columns` pixels in [0, 1) (most 0) and a label 0-9
    (row number mod 10).

    The pixels whose index is the label mod 10 are lit, so that a network can
    learn it; four decimals per lit pixel, as a scaled image would have.
    """
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as out:
        out.write(",".join(f"p{i}" for i in range(columns)) + ",label\n")
        for row in range(rows):
            label = row % 10  # every class, however few the rows
            pixels = [
                f"{rng.random():.4f}" if i % 10 == label or rng.random() < 0.1 else "0"
                for i in range(columns)
            ]
            out.write(",".join(pixels) + f",{label}\n")
