"""Stage 1: parse and validate a request into a frozen `Spec`."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

from nnsym.errors import UsageError

HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "identity")
OUTPUT_ACTIVATIONS = HIDDEN_ACTIVATIONS + ("softmax",)
LOSSES = ("sse", "mse", "bce", "ce")

DEFAULT_ACTIVATION = "sigmoid"
DEFAULT_LOSS = "sse"
# Generation time grows linearly, at roughly this many parameters a second on a
# 2-core machine; used only to tell the user what a refused request would cost.
PARAMS_PER_SECOND = 600
DEFAULT_MAX_PARAMS = 20_000
MAX_LAYER_SIZE = 100_000

# ASCII digits only: Python's int() would also take '２' or '٣', which no one
# types on purpose in an architecture.
_LAYER_RE = re.compile(r"[0-9]+", re.ASCII)
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)


@dataclass(frozen=True)
class Spec:
    """A validated request: what network to build and how to name it."""

    arch: tuple[int, ...]
    activation: str
    output_activation: str
    loss: str
    name: str

    @property
    def n_layers(self) -> int:
        """Number of layers with parameters (all but the input layer)."""
        return len(self.arch) - 1

    @property
    def activations(self) -> tuple[str, ...]:
        """One activation name per non-input layer."""
        return (self.activation,) * (self.n_layers - 1) + (self.output_activation,)

    @property
    def n_params(self) -> int:
        """Number of weights and biases."""
        return count_params(self.arch)

    def command_line(self) -> str:
        """The `nnsym generate` command that reproduces this spec."""
        return (
            f"nnsym generate --arch {format_arch(self.arch)}"
            f" --activation {self.activation}"
            f" --output-activation {self.output_activation}"
            f" --loss {self.loss} --name {self.name}"
        )


def count_params(arch: tuple[int, ...]) -> int:
    """Weights plus biases of a fully connected network with these layer sizes."""
    return sum((n_in + 1) * n_out for n_in, n_out in zip(arch, arch[1:]))


def format_arch(arch: tuple[int, ...]) -> str:
    """`(2, 2, 1)` -> `'2-2-1'`."""
    return "-".join(str(size) for size in arch)


def parse_arch(text: str) -> tuple[int, ...]:
    """Parse `'2-2-1'` into `(2, 2, 1)`; raise UsageError on anything else."""
    hint = "write layer sizes from input to output joined by '-', e.g. 2-2-1"
    stripped = text.strip()
    if not stripped:
        raise UsageError(f"--arch is empty: {hint}")
    parts = stripped.split("-")
    if len(parts) < 2:
        raise UsageError(
            f"--arch {text!r} has one layer; a network needs an input and an "
            f"output layer: {hint}"
        )
    sizes = []
    for position, part in enumerate(parts, start=1):
        if not _LAYER_RE.fullmatch(part):
            what = "is missing" if part == "" else f"is {part!r}, not a whole number"
            raise UsageError(f"--arch {text!r}: layer {position} {what}: {hint}")
        size = int(part)
        if size < 1:
            raise UsageError(f"--arch {text!r}: layer {position} has size 0: {hint}")
        if size > MAX_LAYER_SIZE:
            raise UsageError(
                f"--arch {text!r}: layer {position} has {size} units; "
                f"the most nnsym builds is {MAX_LAYER_SIZE}"
            )
        sizes.append(size)
    return tuple(sizes)


def default_name(
    arch: tuple[int, ...], activation: str, output_activation: str, loss: str
) -> str:
    """Module name that tells the request apart: mlp_2_2_1, mlp_3_4_4_1_tanh, ..."""
    parts = ["mlp", *(str(size) for size in arch)]
    hidden = len(arch) > 2
    if hidden and activation != DEFAULT_ACTIVATION:
        parts.append(activation)
    if output_activation != (activation if hidden else DEFAULT_ACTIVATION):
        parts.append(output_activation)
    if loss != DEFAULT_LOSS:
        parts.append(loss)
    return "_".join(parts)


def default_output_activation(activation: str, loss: str) -> str:
    """The output activation a loss needs, else the hidden one ('everywhere')."""
    if loss == "ce":
        return "softmax"
    if loss == "bce":
        return "sigmoid"
    return activation


def make_spec(
    arch: str | tuple[int, ...],
    activation: str = DEFAULT_ACTIVATION,
    output_activation: str | None = None,
    loss: str = DEFAULT_LOSS,
    name: str | None = None,
    max_params: int = DEFAULT_MAX_PARAMS,
) -> Spec:
    """Validate a request and return its frozen Spec; raise UsageError if invalid."""
    sizes = parse_arch(arch) if isinstance(arch, str) else _check_sizes(arch)
    if activation == "softmax":
        raise UsageError(
            "--activation softmax: softmax is only for the output layer; "
            "use --output-activation softmax"
        )
    _check_choice("--activation", activation, HIDDEN_ACTIVATIONS)
    _check_choice("--loss", loss, LOSSES)
    if output_activation is None:
        output_activation = default_output_activation(activation, loss)
    _check_choice("--output-activation", output_activation, OUTPUT_ACTIVATIONS)
    n_outputs = sizes[-1]
    if output_activation == "softmax" and n_outputs < 2:
        raise UsageError(
            "softmax over a single output is always 1; use at least 2 outputs "
            "(e.g. --arch 4-8-3) or --output-activation sigmoid"
        )
    if loss == "bce" and output_activation != "sigmoid":
        raise UsageError(
            f"--loss bce needs --output-activation sigmoid, not {output_activation}"
        )
    if loss == "ce" and output_activation != "softmax":
        raise UsageError(
            f"--loss ce needs --output-activation softmax, not {output_activation}"
        )
    if name is None:
        name = default_name(sizes, activation, output_activation, loss)
    check_name(name)
    n_params = count_params(sizes)
    if n_params > max_params:
        minutes = n_params / PARAMS_PER_SECOND / 60
        raise UsageError(
            f"--arch {format_arch(sizes)} has {n_params} parameters, more than the "
            f"limit of {max_params} (generation would take about {minutes:.0f} "
            f"minutes or more); raise the limit with --max-params {n_params}"
        )
    return Spec(sizes, activation, output_activation, loss, name)


def check_name(name: str) -> None:
    """Raise UsageError unless `name` is an ASCII, non-keyword Python identifier."""
    if not _NAME_RE.fullmatch(name) or keyword.iskeyword(name):
        raise UsageError(
            f"--name {name!r} is not a valid module name: use letters, digits and "
            "underscores, not starting with a digit, and not a Python keyword"
        )


def _check_sizes(sizes: tuple[int, ...]) -> tuple[int, ...]:
    sizes = tuple(sizes)
    if len(sizes) < 2 or not all(
        isinstance(size, int) and not isinstance(size, bool) and size >= 1
        for size in sizes
    ):
        raise UsageError(
            f"architecture {sizes!r} must be two or more positive whole numbers"
        )
    return parse_arch(format_arch(sizes))


def _check_choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UsageError(f"{option} {value!r} is not one of: {', '.join(choices)}")
