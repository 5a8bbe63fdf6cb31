"""PyTorch: an nn.Sequential (or its state_dict) to nnsym Weights, and back."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from nnsym.errors import UsageError
from nnsym.interop.activations import BY_TORCH, SUPPORTED, torch_names
from nnsym.interop.deps import require
from nnsym.interop.layers import Dense, layers_from_weights, weights_from_layers
from nnsym.models.weights import Weights
from nnsym.pipeline.spec import DEFAULT_MAX_PARAMS, format_arch

# Layers that do nothing at inference, so they are left out.
_DROPPED = (
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "AlphaDropout",
    "FeatureAlphaDropout",
)


def _torch() -> Any:
    return require("torch", "importing or exporting a PyTorch model")


def _children(module: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    # Nested Sequentials are one sequence of layers; their names are dotted,
    # as in the module's state_dict.
    nn = _torch().nn
    for name, child in module.named_children():
        if type(child) is nn.Sequential:
            yield from _children(child, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", child


def _refuse(name: str, child: Any, why: str) -> UsageError:
    return UsageError(
        f"cannot import layer {name} ({type(child).__name__}): {why}; nnsym "
        f"represents Linear layers, the activations {torch_names()}, and drops "
        "dropout"
    )


def _activation_of(name: str, child: Any) -> str | None:
    """The nnsym name of an activation module, None if it is not one."""
    nn = _torch().nn
    class_name = type(child).__name__
    mapping = BY_TORCH.get(class_name)
    # Only the class itself: a subclass may compute anything in forward().
    if mapping is None or type(child) is not getattr(nn, class_name, None):
        return None
    for attr, accepted in mapping.torch_attrs:
        value = getattr(child, attr, None)
        if value not in accepted:
            raise _refuse(
                name,
                child,
                f"{attr}={value!r}, but nnsym's {mapping.nnsym} has "
                f"{attr}={accepted[0]!r}",
            )
    return mapping.nnsym


def _tensor_values(tensor: Any) -> list:
    return tensor.detach().to(device="cpu", dtype=_torch().float64).tolist()


def from_torch(
    module: Any,
    loss: str | None = None,
    name: str | None = None,
    classes: list[str] | None = None,
    max_params: int = DEFAULT_MAX_PARAMS,
) -> Weights:
    """nnsym Weights for an nn.Sequential of Linear layers and activations.

    Dropout is left out (it does nothing at inference); any other layer is
    refused with one line naming it. The loss defaults by the output activation
    (softmax: ce, sigmoid: bce, else mse).
    """
    torch = _torch()
    nn = torch.nn
    if isinstance(module, nn.Linear):
        children: list[tuple[str, Any]] = [("0", module)]
    elif type(module) is nn.Sequential:
        children = list(_children(module))
    else:
        raise UsageError(
            f"cannot import a {type(module).__name__}: nnsym imports an "
            "nn.Sequential of Linear layers and activations (its forward() is "
            "known; a custom module's is not)"
        )
    layers: list[list[Any]] = []  # [weights, bias, activation or None]
    for child_name, child in children:
        if isinstance(child, nn.Linear) and type(child) is nn.Linear:
            weight = _tensor_values(child.weight)
            bias = (
                _tensor_values(child.bias)
                if child.bias is not None
                else [0.0] * len(weight)
            )
            layers.append([weight, bias, None])
            continue
        class_name = type(child).__name__
        if class_name in _DROPPED or type(child) is nn.Identity:
            continue
        activation = _activation_of(child_name, child)
        if activation is None:
            raise _refuse(child_name, child, "not a layer nnsym can represent")
        if not layers:
            raise _refuse(child_name, child, "an activation before any Linear layer")
        if layers[-1][2] is not None:
            raise _refuse(
                child_name,
                child,
                f"a second activation after {layers[-1][2]} on the same layer",
            )
        layers[-1][2] = activation
    dense = [
        Dense(
            tuple(tuple(row) for row in weight),
            tuple(bias),
            activation or "identity",
        )
        for weight, bias, activation in layers
    ]
    return weights_from_layers(
        dense,
        "the PyTorch module",
        loss=loss,
        name=name,
        classes=classes,
        max_params=max_params,
        training={"imported_from": "torch.nn.Sequential"},
    )


def from_state_dict(
    state: Mapping[str, Any],
    activation: str | None,
    output_activation: str | None,
    arch: tuple[int, ...] | None = None,
    loss: str | None = None,
    name: str | None = None,
    classes: list[str] | None = None,
    max_params: int = DEFAULT_MAX_PARAMS,
) -> Weights:
    """nnsym Weights for the state_dict of an nn.Sequential of Linear layers.

    A state_dict holds no activations, so they must be given; the layer sizes
    come from the tensors' shapes and, if `arch` is given, must match it.
    """
    torch = _torch()
    groups: dict[str, dict[str, Any]] = {}
    for key, tensor in state.items():
        prefix, _, field = str(key).rpartition(".")
        if not isinstance(tensor, torch.Tensor):
            raise UsageError(f"state_dict entry {key!r} is not a tensor")
        shape = tuple(tensor.shape)
        expected = {"weight": 2, "bias": 1}.get(field)
        if expected != len(shape):
            raise UsageError(
                f"state_dict entry {key!r} (shape {list(shape)}) is not a Linear "
                f"layer's weight or bias: layer {prefix or key} cannot be "
                "represented (nnsym imports Linear layers only)"
            )
        groups.setdefault(prefix, {})[field] = tensor
    if any("weight" not in group for group in groups.values()):
        missing = next(p for p, g in groups.items() if "weight" not in g)
        raise UsageError(f"state_dict has {missing}.bias but no {missing}.weight")
    n_layers = len(groups)
    if n_layers > 1 and activation is None:
        raise UsageError(
            "a state_dict holds no activations: give --activation for the hidden "
            "layers and --output-activation"
        )
    if output_activation is None:
        raise UsageError(
            "a state_dict holds no activations: give --output-activation "
            "(and --activation for hidden layers)"
        )
    for given in (activation, output_activation):
        if given is not None and given not in SUPPORTED:
            raise UsageError(
                f"activation {given!r} is not one of: {', '.join(SUPPORTED)}"
            )
    dense = []
    for position, group in enumerate(groups.values(), start=1):
        weight = _tensor_values(group["weight"])
        bias = _tensor_values(group["bias"]) if "bias" in group else [0.0] * len(weight)
        dense.append(
            Dense(
                tuple(tuple(row) for row in weight),
                tuple(bias),
                output_activation if position == n_layers else activation,
            )
        )
    weights = weights_from_layers(
        dense,
        "the state_dict",
        loss=loss,
        name=name,
        classes=classes,
        max_params=max_params,
        training={"imported_from": "torch state_dict"},
    )
    if arch is not None and tuple(arch) != weights.spec.arch:
        raise UsageError(
            f"--arch {format_arch(arch)} does not match the state_dict, whose "
            f"tensors make a {format_arch(weights.spec.arch)} network"
        )
    return weights


def to_torch(weights: Weights, dtype: Any = None) -> Any:
    """An nn.Sequential computing what `weights` does (float64 unless `dtype`)."""
    torch = _torch()
    nn = torch.nn
    dtype = torch.float64 if dtype is None else dtype
    modules = []
    for layer in layers_from_weights(weights):
        linear = nn.Linear(len(layer.weights[0]), len(layer.weights), dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(layer.weights, dtype=torch.float64))
            linear.bias.copy_(torch.tensor(layer.bias, dtype=torch.float64))
        modules.append(linear)
        mapping = SUPPORTED[layer.activation]
        if mapping.nnsym == "identity":
            continue
        if mapping.torch is None:
            raise UsageError(f"PyTorch has no module for nnsym's {mapping.nnsym}")
        options = {attr: accepted[0] for attr, accepted in mapping.torch_attrs}
        modules.append(getattr(nn, mapping.torch)(**options))
    return nn.Sequential(*modules)
