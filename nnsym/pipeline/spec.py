"""Stage 1: parse and validate a request into a frozen `Spec`."""

from __future__ import annotations

import hashlib
import keyword
import re
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from nnsym import primitives
from nnsym.errors import UsageError, echo
from nnsym.errors import echo_list as echo_list  # re-exported for the callers
from nnsym.pipeline.arch import MAX_LAYER_SIZE as MAX_LAYER_SIZE  # re-exported
from nnsym.pipeline.arch import MAX_LAYERS as MAX_LAYERS
from nnsym.pipeline.arch import check_sizes
from nnsym.pipeline.arch import parse_arch as parse_arch
from nnsym.pipeline.costs import (  # re-exported: spec's callers use them
    PARAMS_PER_SECOND as PARAMS_PER_SECOND,
)
from nnsym.pipeline.costs import estimated_seconds as estimated_seconds
from nnsym.pipeline.costs import format_duration as format_duration
from nnsym.pipeline.costs import physical_memory as physical_memory

HIDDEN_ACTIVATIONS = primitives.ACTIVATIONS
OUTPUT_ACTIVATIONS = primitives.OUTPUT_ACTIVATIONS
# How a user-defined activation is written, for help texts and errors.
CUSTOM_ACTIVATION_HINT = "or an expression of x, e.g. 'cube=x**3/3' or 'x*sigmoid(x)'"
LOSSES = ("sse", "mse", "bce", "ce")
# The generated module's form: one line per scalar, or loops over each layer.
FORMS = ("unrolled", "loops", "auto")
# The form a Spec, a weights file and a header's command line have when they
# name none (files written before there was a choice are unrolled).
DEFAULT_FORM = "unrolled"
# The form the commands ask for when --form is not given: big networks then need
# no flag, small ones are unrolled as before.
REQUEST_FORM = "auto"
# `--form auto` writes loops from this many parameters on (see docs/forms.md):
# below it the unrolled form trains faster on CPython and generates in seconds.
AUTO_LOOPS_MIN_PARAMS = 1000
# The loop form generates in a time independent of the parameters, so it is
# refused only where training would run out of memory: train() holds about six
# list copies of the parameters (flat, by rows, by columns, the sums, the
# gradient, the update), each a float object (24 bytes) and a pointer (8).
LOOP_BYTES_PER_PARAM = 6 * 32

# Number types a trainer may have (each target's record says which it has).
DTYPES = ("float64", "float32")
DEFAULT_ACTIVATION = "sigmoid"
DEFAULT_LOSS = "sse"
DEFAULT_MAX_PARAMS = 20_000
# File names are at most 255 bytes; leave room for ".py" and the temporary
# file's prefix and suffix.
MAX_NAME_LENGTH = 100

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
# A generated module must not shadow a module that it, or the standard library
# behind it, imports (a generated random.py next to other modules breaks them).
_RESERVED_NAMES = frozenset(getattr(sys, "stdlib_module_names", ("math", "random")))


@dataclass(frozen=True)
class Spec:
    """A validated request: what network to build and how to name it."""

    arch: tuple[int, ...]
    activation: str
    output_activation: str
    loss: str
    name: str
    # User-defined activations among the two: (name, expression in x).
    custom: tuple[tuple[str, str], ...] = ()
    form: str = DEFAULT_FORM

    @property
    def n_layers(self) -> int:
        """Number of layers with parameters (all but the input layer)."""
        return len(self.arch) - 1

    @property
    def activations(self) -> tuple[str, ...]:
        """One activation name per non-input layer."""
        return (self.activation,) * (self.n_layers - 1) + (self.output_activation,)

    @property
    def classification_threshold(self) -> float:
        """Output above which a one-output network says class 1 (tanh: 0, else 0.5)."""
        return 0.0 if self.output_activation == "tanh" else 0.5

    @property
    def n_params(self) -> int:
        """Number of weights and biases."""
        return count_params(self.arch)

    @property
    def network(self) -> tuple[tuple[int, ...], tuple[str, ...], str]:
        """What the parameters mean: layer sizes, activations, loss (not the name)."""
        return (self.arch, self.activations, self.loss)

    def option(self, key: str) -> object:
        """The text of option `key` that gives this spec (custom: 'name=expr')."""
        value = getattr(self, key)
        definitions = dict(self.custom)
        if key in ("activation", "output_activation") and value in definitions:
            return f"{value}={definitions[value]}"
        return value

    @property
    def summary(self) -> str:
        """The network in a few words: `'2-2-1 sigmoid/sigmoid sse'`."""
        return network_summary(self.arch, self.activations, self.loss)

    @property
    def title(self) -> str:
        """`'Network 2-2-1, activations sigmoid, sigmoid, loss sse'`."""
        return (
            f"Network {format_arch(self.arch)}, activations "
            f"{', '.join(self.activations)}, loss {self.loss}"
        )

    def command_line(self) -> str:
        """The `nnsym generate` command that reproduces this spec."""
        # --form is written for the loop form, and for an unrolled one that the
        # command's default (auto) would write as loops; small unrolled networks
        # read as they did before auto was the default.
        named = self.form != DEFAULT_FORM or self.form != auto_form(self)
        return (
            f"nnsym generate --arch {format_arch(self.arch)}"
            f" --activation {shlex.quote(self.option('activation'))}"
            f" --output-activation {shlex.quote(self.option('output_activation'))}"
            f" --loss {self.loss} --name {self.name}"
            + (f" --form {self.form}" if named else "")
        )


def auto_form(spec: Spec) -> str:
    """The form `--form auto` gives `spec`'s network."""
    return _auto_form(spec.n_params, has_layer_form(spec.output_activation, spec.loss))


def _auto_form(n_params: int, layered: bool) -> str:
    return "loops" if layered and n_params >= AUTO_LOOPS_MIN_PARAMS else "unrolled"


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


def default_name(
    arch: tuple[int, ...],
    activation: str,
    output_activation: str,
    loss: str,
    form: str = DEFAULT_FORM,
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
    if form == "loops":
        # Its own file: the two forms of one network are different modules.
        parts.append("loops")
    name = "_".join(parts)
    if len(name) <= MAX_NAME_LENGTH:
        return name
    # A deep network: keep what fits, cut at a '_', and add a hash of the whole
    # name, so that different requests still get different names.
    digest = hashlib.sha256(name.encode("ascii")).hexdigest()[:12]
    kept = name[: MAX_NAME_LENGTH - len(digest) - 1].rsplit("_", 1)[0]
    return f"{kept}_{digest}"


def has_layer_form(output_activation: str, loss: str) -> bool:
    """True if the network has a loop form and per-layer formulas.

    A softmax output under sse or mse is computed with the complement of each
    output written as the sum of the others (exact near saturation); that loss
    is not a sum of one term per output, which the per-layer derivation needs.
    """
    return not (output_activation == "softmax" and loss in ("sse", "mse"))


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
    max_params: int | None = DEFAULT_MAX_PARAMS,
    form: str = DEFAULT_FORM,
    task: str = "generating it unrolled",
) -> Spec:
    """Validate a request and return its frozen Spec; raise UsageError if invalid.

    `max_params` limits the unrolled form (None: no limit, for a caller that
    unrolls nothing or checks with check_unrolled_size itself); `task` says in
    the refusal what would take long.
    """
    if max_params is not None and (
        isinstance(max_params, bool) or not isinstance(max_params, int)
    ):
        raise UsageError(f"--max-params must be a whole number, got {echo(max_params)}")
    if max_params is not None and max_params < 1:
        raise UsageError(f"--max-params must be at least 1, got {max_params}")
    sizes = parse_arch(arch) if isinstance(arch, str) else check_sizes(arch)
    if activation == "softmax":
        raise UsageError(
            "--activation softmax: softmax is only for the output layer; "
            "use --output-activation softmax"
        )
    custom: dict[str, str] = {}
    activation = _activation_choice(
        "--activation", activation, HIDDEN_ACTIVATIONS, custom
    )
    _check_choice("--loss", loss, LOSSES)
    if output_activation is None:
        output_activation = default_output_activation(activation, loss)
    output_activation = _activation_choice(
        "--output-activation", output_activation, OUTPUT_ACTIVATIONS, custom
    )
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
    n_params = count_params(sizes)
    _check_choice("--form", form, FORMS)
    layered = has_layer_form(output_activation, loss)
    if form == "auto":
        form = _auto_form(n_params, layered)
    if form == "loops" and not layered:
        raise UsageError(
            f"--form loops: a softmax output is supported with --loss ce, not "
            f"{loss}; use --form unrolled"
        )
    if name is None:
        name = default_name(sizes, activation, output_activation, loss, form)
    check_name(name)
    if form == "loops":
        needed = n_params * LOOP_BYTES_PER_PARAM
        memory = physical_memory()
        if memory is not None and needed > memory:
            raise UsageError(
                f"--arch {echo(format_arch(sizes))} has {n_params} parameters; "
                f"training them in pure Python needs about {needed / 2**30:.0f} GiB "
                f"of memory, more than this machine's {memory / 2**30:.0f} GiB"
            )
        return Spec(
            sizes, activation, output_activation, loss, name, _custom(custom), form
        )
    spec = Spec(sizes, activation, output_activation, loss, name, _custom(custom))
    if max_params is not None:
        check_unrolled_size(spec, max_params, task)
    return spec


def check_unrolled_size(
    spec: Spec,
    max_params: int = DEFAULT_MAX_PARAMS,
    task: str = "generating it unrolled",
    way_out: str | None = None,
) -> None:
    """Raise UsageError if `spec` has more parameters than `max_params` allows.

    For work that writes the network out a line per scalar; `task` names that
    work in the message ("generating it", ...), `way_out` what to do instead
    (default: the loop form, where the network has one).
    """
    n_params = spec.n_params
    if n_params <= max_params:
        return
    duration = format_duration(estimated_seconds(n_params))
    if way_out is None and has_layer_form(spec.output_activation, spec.loss):
        way_out = (
            "the loop form (--form auto, the default, or --form loops) does not "
            "grow with the parameters"
        )
    elif way_out is None:
        way_out = (
            f"a softmax output under {spec.loss} has no loop form nor per-layer "
            "view (--loss ce has both)"
        )
    raise UsageError(
        f"--arch {echo(format_arch(spec.arch))} has {n_params} parameters, more "
        f"than the unrolled form's limit of {max_params} ({task} could take "
        f"{duration} or more); {way_out}, or pass --max-params {n_params}"
    )


def _custom(custom: dict[str, str]) -> tuple[tuple[str, str], ...]:
    # The spec's user-defined activations, in an order that does not depend on
    # how they were given.
    return tuple(sorted(custom.items()))


def check_name(name: str) -> None:
    """Raise UsageError unless `name` is a safe module name.

    That is an ASCII Python identifier, not a keyword, at most MAX_NAME_LENGTH
    characters, and not the name of a standard-library module (which the
    generated module would shadow).
    """
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise UsageError(
            f"--name {echo(name)} is not a valid module name: use ASCII letters, "
            "digits and underscores, not starting with a digit"
        )
    if keyword.iskeyword(name):
        raise UsageError(
            f"--name {name!r} is not a valid module name: it is a Python keyword; "
            "choose another"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise UsageError(
            f"--name {echo(name)} is not a valid module name: it has {len(name)} "
            f"characters; use at most {MAX_NAME_LENGTH}"
        )
    if name in _RESERVED_NAMES:
        raise UsageError(
            f"--name {name!r} is not a valid module name: it would shadow the "
            f"standard-library module {name}; choose another"
        )


def _activation_choice(
    option: str, value: str, choices: tuple[str, ...], custom: dict[str, str]
) -> str:
    # A table name, a name defined earlier in the request, or 'name=expression'
    # (or a bare expression) of x, registered as a user-defined activation.
    if not isinstance(value, str) or value in choices:
        _check_choice(option, value, choices)
        return value
    if value in custom:
        return value
    if _NAME_RE.fullmatch(value.strip()) and value.strip() != "x":
        raise UsageError(
            f"{option} {echo(value)} is not one of: {', '.join(choices)}; "
            f"{CUSTOM_ACTIVATION_HINT}"
        )
    from nnsym.pipeline.expression import define_activation

    name, text = define_activation(value, option)
    if custom.get(name, text) != text:
        raise UsageError(
            f"{option} {echo(value)}: {name!r} is already defined as {custom[name]!r}"
        )
    custom[name] = text
    return name


def _check_choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in choices:
        raise UsageError(f"{option} {echo(value)} is not one of: {', '.join(choices)}")
