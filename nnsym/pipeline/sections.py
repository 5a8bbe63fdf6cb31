"""The generated code's lines grouped under comments a reader can follow.

`forward()` gets a program of its own: the forward pass alone, with only its own
common subexpressions, so that no temporary made for the backward pass shows up
in it. The lines of `loss_and_grad()` and `train()` keep their order (so their
numbers stay bit for bit the same) and are cut into sections: each layer, the
loss, each layer of the backward pass, the gradients.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy
from sympy import Symbol

from nnsym.pipeline.cse import TEMP_PREFIX, Assignment
from nnsym.pipeline.gradients import delta_symbol
from nnsym.pipeline.model import LOSS_SYMBOL, Network

# How the loss section's comment names each loss.
LOSS_COMMENTS = {
    "sse": "L = sum of (a - y)**2",
    "mse": "L = mean of (a - y)**2",
    "bce": "L = binary cross-entropy, as softplus(z) - y*z",
    "ce": "L = cross-entropy, as logsumexp(z) - z·y",
}


@dataclass(frozen=True)
class Section:
    """Consecutive lines of generated code under one comment."""

    comment: str
    lines: tuple[str, ...]


def forward_steps(network: Network) -> tuple[Assignment, ...]:
    """The forward pass alone; only an activation's own repeats are shared.

    A pre-activation is a sum of distinct products, so only the activations
    (softmax's log-sum-exp, for one) have anything to share.
    """
    temps = sympy.numbered_symbols(TEMP_PREFIX, real=True)
    steps: list[Assignment] = []
    for layer in network.layers:
        steps += [Assignment(z, e) for z, e in zip(layer.z, layer.z_exprs)]
        named, exprs = zip(*layer.activation_steps)
        shared, reduced = sympy.cse(list(exprs), symbols=temps, order="canonical")
        steps += [Assignment(t, e) for t, e in shared]
        steps += [Assignment(a, e) for a, e in zip(named, reduced)]
    return tuple(steps)


def _layer_comment(network: Network, index: int) -> str:
    layer = network.layers[index - 1]
    source = "x" if index == 1 else f"a{index - 1}"
    activation = "z" if layer.activation == "identity" else f"{layer.activation}(z)"
    return f"layer {index}: z = W·{source} + b, a = {activation}"


def section_keys(network: Network) -> dict[Symbol, tuple[int, int]]:
    """The section of every named symbol, as a sortable (stage, layer) key."""
    keys: dict[Symbol, tuple[int, int]] = {LOSS_SYMBOL: (1, 0)}
    for layer in network.layers:
        for symbol in (*layer.z, *layer.a):
            keys[symbol] = (0, layer.index)
        for j in range(len(layer.z)):
            keys[delta_symbol(layer, j)] = (2, layer.index)
    return keys


def _comment(network: Network, key: tuple[int, int]) -> str:
    stage, index = key
    if stage == 0:
        return _layer_comment(network, index)
    if stage == 1:
        return "loss: " + LOSS_COMMENTS.get(network.spec.loss, network.spec.loss)
    if stage == 2:
        return f"backward, layer {index}: delta = dL/dz"
    return "gradients: dL/dw = delta * input, dL/db = delta"


def sections(
    network: Network, steps: tuple[Assignment, ...], printed: dict[Assignment, str]
) -> tuple[Section, ...]:
    """`steps` printed, in order, under one comment per layer, loss and delta layer.

    A temporary belongs to the section of the next named step; those after the
    last named step are shared by the gradients.
    """
    keys = section_keys(network)
    step_keys: list[tuple[int, int]] = []
    following = (3, 0)
    for step in reversed(steps):
        following = keys.get(step.target, following)
        step_keys.append(following)
    step_keys.reverse()
    return tuple(
        Section(_comment(network, key), tuple(printed[step] for step, _ in group))
        for key, group in itertools.groupby(zip(steps, step_keys), key=lambda p: p[1])
    )
