"""One table: each nnsym activation as PyTorch, scikit-learn and ONNX spell it.

A new activation is one line here; an entry whose nnsym name the spec does not
accept (yet) is ignored, so the table may run ahead of the spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nnsym.pipeline.spec import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from nnsym.primitives import LEAKY_SLOPE_VALUE


@dataclass(frozen=True)
class ActivationMap:
    """How one nnsym activation is written elsewhere (None: no equivalent)."""

    nnsym: str
    # torch.nn class name, and the attributes a module must have to be this
    # activation: each with its accepted values, the first used by to_torch.
    torch: str | None
    torch_attrs: tuple[tuple[str, tuple[Any, ...]], ...]
    # MLPClassifier/MLPRegressor `activation` or `out_activation_`.
    sklearn: str | None
    # ONNX operator (default domain) and its attributes.
    onnx: str | None
    onnx_attrs: tuple[tuple[str, Any], ...] = ()


# nn.Identity maps to identity too; `None` in torch means "no module needed".
TABLE = (
    ActivationMap("sigmoid", "Sigmoid", (), "logistic", "Sigmoid"),
    ActivationMap("tanh", "Tanh", (), "tanh", "Tanh"),
    ActivationMap("relu", "ReLU", (), "relu", "Relu"),
    ActivationMap(
        "leaky_relu",
        "LeakyReLU",
        (("negative_slope", (LEAKY_SLOPE_VALUE,)),),
        None,
        "LeakyRelu",
        (("alpha", LEAKY_SLOPE_VALUE),),
    ),
    ActivationMap("identity", "Identity", (), "identity", None),
    ActivationMap(
        "softmax",
        "Softmax",
        (("dim", (-1, 1, None)),),
        "softmax",
        "Softmax",
        (("axis", -1),),
    ),
    # PyTorch's softplus is linear above `threshold` (20), off by under 2.1e-9
    # there. onnxruntime runs Softplus and Elu in float32 only.
    ActivationMap(
        "softplus",
        "Softplus",
        (("beta", (1.0, 1)), ("threshold", (20.0, 20))),
        None,
        "Softplus",
    ),
    ActivationMap("swish", "SiLU", (), None, None),
    ActivationMap("gelu", "GELU", (("approximate", ("tanh",)),), None, None),
    ActivationMap("elu", "ELU", (("alpha", (1.0, 1)),), None, "Elu", (("alpha", 1.0),)),
)

SUPPORTED = {m.nnsym: m for m in TABLE if m.nnsym in OUTPUT_ACTIVATIONS}
BY_TORCH = {m.torch: m for m in SUPPORTED.values() if m.torch is not None}
BY_SKLEARN = {m.sklearn: m for m in SUPPORTED.values() if m.sklearn is not None}


def is_hidden(name: str) -> bool:
    """True if nnsym accepts `name` for hidden layers (softmax is output only)."""
    return name in HIDDEN_ACTIVATIONS


def torch_names() -> str:
    """The PyTorch activation modules nnsym represents, for error messages."""
    return ", ".join(sorted(BY_TORCH))
