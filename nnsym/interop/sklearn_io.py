"""scikit-learn: a fitted MLPClassifier or MLPRegressor to nnsym Weights."""

from __future__ import annotations

from typing import Any

from nnsym.errors import UsageError
from nnsym.interop.activations import BY_SKLEARN
from nnsym.interop.deps import require
from nnsym.interop.layers import Dense, weights_from_layers
from nnsym.models.weights import Weights
from nnsym.pipeline.spec import DEFAULT_MAX_PARAMS

# How a two-class MLPClassifier (one logistic output) is imported: as that
# output (the default) or as two softmax outputs.
BINARY_MODES = ("softmax", "sigmoid")


def _activation(estimator: Any, attribute: str) -> str:
    value = getattr(estimator, attribute)
    mapping = BY_SKLEARN.get(value)
    if mapping is None:
        raise UsageError(
            f"cannot import {type(estimator).__name__} with {attribute}={value!r}: "
            f"nnsym represents {', '.join(sorted(BY_SKLEARN))}"
        )
    return mapping.nnsym


def from_sklearn(
    estimator: Any,
    loss: str | None = None,
    name: str | None = None,
    binary: str = "sigmoid",
    max_params: int = DEFAULT_MAX_PARAMS,
) -> Weights:
    """nnsym Weights for a fitted MLPClassifier or MLPRegressor.

    The outputs are the classifier's predict_proba (labels from classes_) or the
    regressor's predict. A two-class classifier has one logistic output in
    scikit-learn; it stays one sigmoid output (loss bce, `binary="sigmoid"`, the
    default), with its two labels (negative, positive), or with
    `binary="softmax"` becomes two softmax outputs, [1 - p, p] (loss ce).
    """
    neural_network = require("sklearn.neural_network", "importing a scikit-learn model")
    kind = type(estimator).__name__
    if not isinstance(
        estimator, (neural_network.MLPClassifier, neural_network.MLPRegressor)
    ):
        raise UsageError(
            f"cannot import a {kind}: nnsym imports scikit-learn's MLPClassifier "
            "and MLPRegressor (for a Pipeline, import its MLP step and apply the "
            "other steps to the inputs yourself)"
        )
    if not hasattr(estimator, "coefs_"):
        raise UsageError(f"the {kind} is not fitted: call fit() before importing it")
    if binary not in BINARY_MODES:
        raise UsageError(f"binary {binary!r} is not one of: {', '.join(BINARY_MODES)}")
    hidden = _activation(estimator, "activation")
    output = _activation(estimator, "out_activation_")
    dense = []
    n_layers = len(estimator.coefs_)
    for position, (coef, intercept) in enumerate(
        zip(estimator.coefs_, estimator.intercepts_), start=1
    ):
        # scikit-learn stores (n_in, n_out); nnsym goes neuron by neuron.
        rows = tuple(tuple(float(v) for v in column) for column in coef.T)
        bias = tuple(float(v) for v in intercept)
        dense.append(Dense(rows, bias, output if position == n_layers else hidden))
    classes = None
    if isinstance(estimator, neural_network.MLPClassifier):
        labels = [str(label) for label in estimator.classes_]
        if getattr(estimator, "_label_binarizer", None) is not None and getattr(
            estimator._label_binarizer, "y_type_", ""
        ).startswith("multilabel"):
            raise UsageError(
                f"cannot import a multi-label {kind}: nnsym's classes are one label "
                "per sample"
            )
        if len(labels) == 2 and output == "sigmoid" and binary == "softmax":
            # softmax(0, z) = (1 - sigmoid(z), sigmoid(z)): a zero neuron for
            # the first class makes the probabilities of both labels.
            last = dense[-1]
            zero = tuple(0.0 for _ in last.weights[0])
            dense[-1] = Dense((zero, *last.weights), (0.0, *last.bias), "softmax")
        # One logistic output keeps both labels: (negative, positive).
        classes = labels
    return weights_from_layers(
        dense,
        f"the {kind}",
        loss=loss,
        name=name,
        classes=classes,
        max_params=max_params,
        training={"imported_from": f"sklearn {kind}"},
    )
