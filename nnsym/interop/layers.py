"""Dense layers (rows of weights, biases, activation) to and from nnsym's Weights."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nnsym.errors import UsageError
from nnsym.interop.activations import is_hidden
from nnsym.models.weights import Weights, labels_needed
from nnsym.pipeline.spec import DEFAULT_ACTIVATION, DEFAULT_MAX_PARAMS, make_spec

# The loss an imported model gets when none is given, by its output activation:
# the loss nnsym pairs with that output when training.
DEFAULT_LOSSES = {"softmax": "ce", "sigmoid": "bce"}
FALLBACK_LOSS = "mse"


@dataclass(frozen=True)
class Dense:
    """One fully connected layer: weights[neuron][source], bias[neuron], activation."""

    weights: tuple[tuple[float, ...], ...]
    bias: tuple[float, ...]
    activation: str


def default_loss(output_activation: str) -> str:
    """ce for softmax, bce for sigmoid, mse for anything else."""
    return DEFAULT_LOSSES.get(output_activation, FALLBACK_LOSS)


def weights_from_layers(
    layers: Sequence[Dense],
    source: str,
    loss: str | None = None,
    name: str | None = None,
    classes: Sequence[str] | None = None,
    max_params: int = DEFAULT_MAX_PARAMS,
    training: dict[str, Any] | None = None,
) -> Weights:
    """nnsym Weights for a stack of dense layers; UsageError if nnsym cannot hold it.

    `source` names the model in errors, e.g. "the torch module".
    """
    if not layers:
        raise UsageError(f"{source} has no Linear layer: nothing to import")
    arch = [len(layers[0].weights[0]) if layers[0].weights else 0]
    for position, layer in enumerate(layers, start=1):
        widths = {len(row) for row in layer.weights}
        if widths != {arch[-1]} or len(layer.bias) != len(layer.weights):
            raise UsageError(
                f"{source}: layer {position} does not take the {arch[-1]} outputs "
                "of the layer before it"
            )
        arch.append(len(layer.weights))
    hidden = {layer.activation for layer in layers[:-1]}
    if len(hidden) > 1:
        raise UsageError(
            f"{source} mixes hidden activations ({', '.join(sorted(hidden))}); "
            "an nnsym network has one activation for all hidden layers"
        )
    output_activation = layers[-1].activation
    if hidden:
        activation = hidden.pop()
        if not is_hidden(activation):
            raise UsageError(
                f"{source} uses {activation} in a hidden layer; nnsym allows it "
                "only on the output layer"
            )
    elif is_hidden(output_activation):
        activation = output_activation
    else:
        activation = DEFAULT_ACTIVATION
    if loss is None:
        loss = default_loss(output_activation)
    params = []
    for position, layer in enumerate(layers, start=1):
        for row, bias in zip(layer.weights, layer.bias):
            for value in (*row, bias):
                if not math.isfinite(value):
                    raise UsageError(
                        f"{source}: layer {position} holds {value!r}, not a finite "
                        "number"
                    )
                params.append(float(value))
    spec = make_spec(
        tuple(arch),
        activation=activation,
        output_activation=output_activation,
        loss=loss,
        name=name,
        max_params=max_params,
    )
    if classes is not None:
        classes = tuple(str(label) for label in classes)
        if len(classes) != labels_needed(spec):
            raise UsageError(
                f"{len(classes)} class labels for a model with {arch[-1]} outputs; "
                "give one label per output (two for one sigmoid output)"
            )
        if len(set(classes)) != len(classes):
            raise UsageError(f"the class labels {', '.join(classes)} repeat a label")
    return Weights(spec, tuple(params), classes, dict(training or {}))


def layers_from_weights(weights: Weights) -> list[Dense]:
    """The dense layers of `weights`, in PARAM_NAMES order (neuron by neuron)."""
    spec = weights.spec
    values = iter(weights.params)
    layers = []
    for (n_in, n_out), activation in zip(
        zip(spec.arch, spec.arch[1:]), spec.activations
    ):
        rows, biases = [], []
        for _ in range(n_out):
            rows.append(tuple(next(values) for _ in range(n_in)))
            biases.append(next(values))
        layers.append(Dense(tuple(rows), tuple(biases), activation))
    return layers
