"""Where to evaluate a network: parameters, one input sample and its targets.

`--at` takes comma-separated `key=value` items; a value without a key belongs
to the key before it, so lists need no brackets:

    --at seed=0,x=1,0,y=1          parameters init_params(0), x = (1, 0), y = 1
    --at params=0.5,-1,0.25,x=2,3,y=0
    --at weights=xor.json,x=1,0,y=1   parameters from a weights file

Keys: `seed` (an integer; parameters drawn as the generated module's
init_params(seed) does: uniform in [-1, 1]), `params` (every parameter in
PARAM_NAMES order), `weights` (a weights file saved by `nnsym train --save`,
for the same network), `x` (the inputs), `y` (the targets). Missing keys default
to seed 0, x = 1, -0.5, 0.25, -0.125, repeated and scaled down for wide inputs
(see default_inputs) and y = 1, 0, 0, ... (class 0, a valid
target for every loss).
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nnsym.errors import UsageError
from nnsym.pipeline.spec import Spec, echo

KEYS = ("seed", "params", "weights", "x", "y")
DEFAULT_SEED = 0
MAX_SEED_DIGITS = 100
_SEED_RE = re.compile(r"-?[0-9]+", re.ASCII)


@dataclass(frozen=True)
class Point:
    """Parameters (PARAM_NAMES order), one sample's inputs and its targets."""

    params: tuple[float, ...]
    x: tuple[float, ...]
    y: tuple[float, ...]
    seed: int | None
    weights: str | None = None

    def describe(self) -> str:
        """One line saying where the network is evaluated."""
        source = f"init_params({self.seed})" if self.seed is not None else "given"
        if self.weights is not None:
            source = f"from {self.weights}"
        return f"parameters {source}, x = {_numbers(self.x)}, y = {_numbers(self.y)}"


# Wider inputs are shown as their first and last few values and their count.
SHOWN_VALUES = 8


def _numbers(values: tuple[float, ...]) -> str:
    if len(values) <= SHOWN_VALUES:
        return "(" + ", ".join(f"{v:g}" for v in values) + ")"
    head = ", ".join(f"{v:g}" for v in values[: SHOWN_VALUES - 2])
    tail = ", ".join(f"{v:g}" for v in values[-2:])
    return f"({head}, ..., {tail}; {len(values)} values)"


def default_inputs(n_inputs: int) -> tuple[float, ...]:
    """1, -0.5, 0.25, -0.125, repeated, scaled by min(1, 2 / sqrt(n_inputs)).

    Every input is non-zero, so that every weight's gradient is tested; with
    more than four inputs the pattern repeats instead of halving on (x783 would
    be 2e-236 on 784 inputs, and its weights' gradients zero to rounding), and
    the scale keeps the first layer's sums near 1, out of the activations'
    flat tails.
    """
    scale = min(1.0, 2.0 / math.sqrt(n_inputs))
    return tuple(scale * (-0.5) ** (i % 4) for i in range(n_inputs))


def init_params(n_params: int, seed: int) -> tuple[float, ...]:
    """The generated modules' init_params(seed): uniform in [-1, 1]."""
    rng = random.Random(seed)
    return tuple(rng.uniform(-1.0, 1.0) for _ in range(n_params))


def _split_items(text: str) -> dict[str, list[str]]:
    items: dict[str, list[str]] = {}
    key = None
    for token in text.split(","):
        token = token.strip()
        if "=" in token:
            key, _, token = token.partition("=")
            key = key.strip()
            if key not in KEYS:
                raise UsageError(
                    f"--at: unknown key {echo(key)}; use {', '.join(KEYS)}, "
                    "e.g. --at seed=0,x=1,0,y=1"
                )
            if key in items:
                raise UsageError(f"--at: {key} is given twice")
            items[key] = []
        elif key is None:
            raise UsageError(
                f"--at: {echo(token)} has no key; write key=value, "
                "e.g. --at seed=0,x=1,0,y=1"
            )
        items[key].append(token.strip())
    return items


def _floats(key: str, tokens: list[str], count: int) -> tuple[float, ...]:
    try:
        values = tuple(float(token) for token in tokens)
    except ValueError:
        raise UsageError(
            f"--at {key}={echo(','.join(tokens))}: every value must be a number"
        ) from None
    if not all(math.isfinite(v) for v in values):
        raise UsageError(f"--at {key}: values must be finite numbers")
    if len(values) != count:
        raise UsageError(
            f"--at {key}: this network needs {count} value(s), got {len(values)}"
        )
    return values


def parse_at(
    text: str | None,
    spec: Spec,
    read_params: Callable[[Path, Spec, str], Sequence[float]] | None = None,
) -> Point:
    """The Point described by an `--at` value (None: every default).

    `read_params(path, spec, option)` reads `weights=`'s file (see
    `nnsym.models.weights.parse_at`, which passes it).
    """
    items = _split_items(text) if text else {}
    if sum(key in items for key in ("seed", "params", "weights")) > 1:
        raise UsageError("--at: give one of seed, params or weights")
    seed = None
    weights = None
    if "weights" in items:
        weights = ",".join(items["weights"])
        if read_params is None:
            # The explain tools sit below the weights files' module: the caller
            # that reads them passes the reader (nnsym.models.weights.parse_at).
            raise UsageError(
                "--at weights= needs nnsym.api.parse_at, which reads files"
            )
        params = read_params(Path(weights), spec, "--at weights=")
    elif "params" in items:
        params = _floats("params", items["params"], spec.n_params)
    else:
        tokens = items.get("seed", [str(DEFAULT_SEED)])
        # ASCII digits with at most one minus sign, and few enough for int().
        if (
            len(tokens) != 1
            or not _SEED_RE.fullmatch(tokens[0])
            or len(tokens[0]) > MAX_SEED_DIGITS
        ):
            raise UsageError(
                f"--at seed={echo(','.join(tokens))}: seed must be an integer"
            )
        seed = int(tokens[0])
        params = init_params(spec.n_params, seed)
    n_inputs, n_outputs = spec.arch[0], spec.arch[-1]
    default_x = [repr(value) for value in default_inputs(n_inputs)]
    default_y = ["1"] + ["0"] * (n_outputs - 1)
    x = _floats("x", items.get("x", default_x), n_inputs)
    y = _floats("y", items.get("y", default_y), n_outputs)
    return Point(params, x, y, seed, weights)
