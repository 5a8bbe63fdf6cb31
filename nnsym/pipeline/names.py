"""Names of a network's parameters and of its architecture, as every file writes them.

Standard library only; re-exported by `nnsym.pipeline.spec`.
"""

from __future__ import annotations

from collections.abc import Sequence


def count_params(arch: tuple[int, ...]) -> int:
    """Weights plus biases of a fully connected network with these layer sizes."""
    return sum((n_in + 1) * n_out for n_in, n_out in zip(arch, arch[1:]))


def weight_name(layer: int, neuron: int, source: int) -> str:
    """Name of the weight from input `source` to `neuron` of `layer` (from 1)."""
    return f"w{layer}_{neuron}_{source}"


def bias_name(layer: int, neuron: int) -> str:
    """Name of the bias of `neuron` in `layer` (from 1)."""
    return f"b{layer}_{neuron}"


def param_names(arch: tuple[int, ...]) -> tuple[str, ...]:
    """Parameter names in PARAM_NAMES order: layer, neuron, its weights, its bias."""
    return tuple(
        name
        for layer, (n_in, n_out) in enumerate(zip(arch, arch[1:]), start=1)
        for neuron in range(n_out)
        for name in (
            *(weight_name(layer, neuron, source) for source in range(n_in)),
            bias_name(layer, neuron),
        )
    )


def network_summary(arch: Sequence[int], activations: Sequence[str], loss: str) -> str:
    """`'2-2-1 sigmoid/sigmoid sse'`: layer sizes, activations and loss."""
    return f"{format_arch(arch)} {'/'.join(activations)} {loss}"


def format_arch(arch: Sequence[int]) -> str:
    """`(2, 2, 1)` -> `'2-2-1'`."""
    return "-".join(str(size) for size in arch)
