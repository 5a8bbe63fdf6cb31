"""Weights files: JSON holding the network's spec beside its trained parameters.

    {
      "format": "nnsym-weights",
      "version": 1,
      "spec": {"arch": [2, 2, 1], "activation": "sigmoid",
               "output_activation": "sigmoid", "loss": "sse", "name": "mlp_2_2_1"},
      "params": {"w1_0_0": 5.61, ..., "b2_0": -2.45},
      "classes": null,
      "training": {"data": "xor", "lr": 1.0, "epochs": 2000, ...}
    }

Parameters are keyed by name (the generated module's PARAM_NAMES) and written
with Python's shortest round-tripping repr, so loading gives back the same floats.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from nnsym.errors import NnsymError, UsageError
from nnsym.explain import point
from nnsym.pipeline.spec import (
    DEFAULT_FORM,
    DEFAULT_MAX_PARAMS,
    OUTPUT_ACTIVATIONS,
    Spec,
    count_params,
    echo,
    format_arch,
    make_spec,
    network_summary,
    param_names,
)
from nnsym.pipeline.write import (
    check_folder,
    check_regular_or_missing,
    read_head,
    write_atomic,
)

FORMAT = "nnsym-weights"
VERSION = 1
# The Spec fields a weights file records, in the order it writes them.
SPEC_KEYS = ("arch", "activation", "output_activation", "loss", "name")


@dataclass(frozen=True)
class Weights:
    """A trained network: its spec, parameters in PARAM_NAMES order, and metadata."""

    spec: Spec
    params: tuple[float, ...]
    classes: tuple[str, ...] | None = None
    training: dict[str, Any] = field(default_factory=dict)

    def label(self, outputs: list[float] | tuple[float, ...]) -> str | None:
        """The class label for one sample's outputs; None for a model without labels.

        The largest output's label; for one sigmoid output with two labels
        (negative, positive), the second above 0.5, as scikit-learn decides.
        """
        if self.classes is None:
            return None
        if len(outputs) == 1:
            return self.classes[outputs[0] > self.spec.classification_threshold]
        return self.classes[list(outputs).index(max(outputs))]


def labels_needed(spec: Spec) -> int:
    """How many class labels a model holds: one per output, two for one sigmoid."""
    n_outputs = spec.arch[-1]
    return 2 if n_outputs == 1 and spec.output_activation == "sigmoid" else n_outputs


def _spec_record(spec: Spec) -> dict[str, Any]:
    # The module's form only when it is not the default, so that files written
    # before there was a choice read the same.
    record: dict[str, Any] = {key: spec.option(key) for key in SPEC_KEYS}
    if spec.form != DEFAULT_FORM:
        record["form"] = spec.form
    return record


def to_json(weights: Weights) -> str:
    """The weights file's text; raise NnsymError if a parameter is not finite."""
    spec = weights.spec
    names = param_names(spec.arch)
    if len(weights.params) != len(names):
        raise ValueError(f"expected {len(names)} parameters, got {len(weights.params)}")
    document = {
        "format": FORMAT,
        "version": VERSION,
        "spec": _spec_record(spec),
        "params": {name: float(value) for name, value in zip(names, weights.params)},
        "classes": list(weights.classes) if weights.classes is not None else None,
        "training": weights.training,
    }
    try:
        return json.dumps(document, indent=2, allow_nan=False) + "\n"
    except ValueError:
        raise NnsymError(
            "the parameters are not all finite numbers; nothing was saved "
            "(train again with a smaller --lr)"
        ) from None


# How every weights file nnsym writes begins (json.dumps with indent=2).
_WEIGHTS_START = re.compile(rb'\s*\{\s*"format"\s*:\s*"nnsym-weights"')


def _is_weights_file(path: Path) -> bool:
    # Only the first bytes are read: a large foreign file costs nothing.
    try:
        return _WEIGHTS_START.match(read_head(path, 256)) is not None
    except OSError:
        return False


def check_save_target(path: str | Path, force: bool = False) -> None:
    """Raise unless a weights file may be written at `path`.

    Checked before training: a regular file or a missing path in a writable
    folder, and an existing file is an nnsym weights file (unless `force`).
    """
    path = Path(path)
    check_folder(path, "--save")
    exists = check_regular_or_missing(path, "--save")
    if exists and not force and not _is_weights_file(path):
        raise NnsymError(
            f"{path} exists and is not an nnsym weights file; choose another "
            "path or pass --force to overwrite it"
        )


def save_weights(path: str | Path, weights: Weights, force: bool = False) -> None:
    """Write `weights` to `path` atomically (the old file or the new, never half)."""
    path = Path(path)
    check_save_target(path, force)
    text = to_json(weights)
    try:
        write_atomic(path, text)
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
        raise NnsymError(f"cannot write {path}: {reason}; nothing was saved") from None


def _reject_constant(name: str) -> float:
    raise ValueError(f"holds {name}, which is not a finite number")


def load_weights(path: str | Path, symbolic: bool = True) -> Weights:
    """Read and check a weights file; raise UsageError with one line if it is bad.

    `symbolic=False` reads a user-defined activation ('name=expression') without
    SymPy, for computing from the weights (nnsym.models.inference) only: its
    expression is not registered for generating code.
    """
    path = Path(path)
    retrain = "save it again with nnsym train --save"
    check_regular_or_missing(path, "weights file")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(
            f"{path}: no such file; train a model with nnsym train --save {path}"
        ) from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a directory, not a weights file") from None
    except PermissionError:
        raise UsageError(f"{path}: permission denied") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a weights file: not UTF-8 text") from None
    if not text.strip():
        raise UsageError(f"{path} is empty, not a weights file; {retrain}")
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise UsageError(
            f"{path} is not valid JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg}); the file may be truncated; {retrain}"
        ) from None
    except ValueError as error:
        raise UsageError(f"{path} {error}; {retrain}") from None
    except RecursionError:
        raise UsageError(
            f"{path} is not a weights file: its JSON is nested too deeply"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise UsageError(
            f'{path} is not an nnsym weights file (no "format": "{FORMAT}")'
        )
    version = document.get("version")
    if version != VERSION:
        raise UsageError(
            f"{path} has weights format version {version!r}; this nnsym reads "
            f"version {VERSION}"
        )
    spec = _read_spec(path, document.get("spec"), symbolic)
    params = _read_params(path, spec, document.get("params"))
    classes = _read_classes(path, spec, document.get("classes"))
    training = document.get("training")
    if not isinstance(training, dict):
        training = {}
    return Weights(spec, params, classes, training)


def params_for(path: Path, spec: Spec, option: str) -> tuple[float, ...]:
    """The parameters in a weights file, refused unless it is for `spec`'s network.

    `option` is how the user named the file, e.g. `'--init '`, for the error.
    """
    weights = load_weights(path)
    theirs = weights.spec
    if theirs.network != spec.network or theirs.custom != spec.custom:
        raise UsageError(
            f"{option}{path} holds a {theirs.summary} network, not the "
            f"{spec.summary} network asked for; give the same network options, "
            f"e.g. --arch "
            f"{format_arch(theirs.arch)} "
            f"--activation {shlex.quote(theirs.option('activation'))} "
            f"--output-activation {shlex.quote(theirs.option('output_activation'))} "
            f"--loss {theirs.loss}"
        )
    return weights.params


def _read_spec(path: Path, raw: object, symbolic: bool = True) -> Spec:
    keys = SPEC_KEYS
    if not isinstance(raw, dict) or any(key not in raw for key in keys):
        raise UsageError(
            f'{path}: "spec" must be an object with {", ".join(keys)}; '
            "save the model again with nnsym train --save"
        )
    arch = raw["arch"]
    if not (
        isinstance(arch, list)
        and all(isinstance(size, int) and not isinstance(size, bool) for size in arch)
    ):
        raise UsageError(
            f'{path}: "arch" must be a list of whole numbers, got {echo(arch)}'
        )
    if not all(isinstance(raw[key], str) for key in keys[1:]):
        raise UsageError(f'{path}: "spec" fields other than "arch" must be text')
    form = raw.get("form", DEFAULT_FORM)
    if form not in ("unrolled", "loops"):
        raise UsageError(
            f'{path}: "form" must be "unrolled" or "loops", got {echo(form)}'
        )
    activation, output_activation = raw["activation"], raw["output_activation"]
    custom = {} if symbolic else _custom_activations(activation, output_activation)
    if len({name for name, _ in custom.values()}) < len(custom):
        raise UsageError(
            f"{path}: bad spec: the activations {echo(activation)} and "
            f"{echo(output_activation)} define one name twice"
        )
    try:
        spec = make_spec(
            tuple(arch),
            # Checked as identity, the one activation that asks nothing of the
            # others; the expression is checked where it is compiled.
            activation="identity" if activation in custom else activation,
            output_activation=(
                "identity" if output_activation in custom else output_activation
            ),
            loss=raw["loss"],
            name=raw["name"],
            max_params=max(count_params(tuple(arch)) if len(arch) > 1 else 0, 1),
            form=form,
        )
    except UsageError as error:
        raise UsageError(f"{path}: bad spec: {error}") from None
    if not custom:
        return spec
    return replace(
        spec,
        activation=custom.get(activation, (activation,))[0],
        output_activation=custom.get(output_activation, (output_activation,))[0],
        custom=tuple(sorted(set(custom.values()))),
    )


def _custom_activations(*options: str) -> dict[str, tuple[str, str]]:
    # option -> (name, expression) for each 'name=expression' the file records.
    found = {}
    for option in options:
        name, sep, text = option.partition("=")
        if sep and name.isidentifier() and name not in OUTPUT_ACTIVATIONS:
            found[option] = (name, text)
    return found


def _read_params(path: Path, spec: Spec, raw: object) -> tuple[float, ...]:
    arch = format_arch(spec.arch)
    if not isinstance(raw, dict):
        raise UsageError(
            f'{path}: "params" must be an object of {spec.n_params} named numbers '
            f"for a {arch} network"
        )
    # The architecture comes from the file: listing the names of a network far
    # larger than the parameters it holds (say 2-100000-100000-1) would exhaust
    # memory before the mismatch is found.
    if spec.n_params > max(len(raw), DEFAULT_MAX_PARAMS):
        raise UsageError(
            f"{path} holds {len(raw)} parameters, but a {arch} network has "
            f"{spec.n_params}: the file does not match its architecture"
        )
    names = param_names(spec.arch)
    missing = [name for name in names if name not in raw]
    extra = sorted(set(raw) - set(names))
    if missing or extra:
        detail = []
        if missing:
            detail.append(f"missing {', '.join(missing[:3])}")
        if extra:
            # Keys come from the file: quote any but plain names, so the error
            # stays one line.
            shown = [
                key if key.isidentifier() and len(key) <= 60 else echo(key)
                for key in extra[:3]
            ]
            detail.append(f"unexpected {', '.join(shown)}")
        raise UsageError(
            f"{path} holds {len(raw)} parameters, but a {arch} network has "
            f"{len(names)} ({'; '.join(detail)}): the file does not match its "
            "architecture"
        )
    values = []
    for name in names:
        value = raw[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UsageError(f"{path}: parameter {name} is {echo(value)}, not a number")
        if not math.isfinite(value):
            raise UsageError(f"{path}: parameter {name} is {value!r}, not finite")
        values.append(float(value))
    return tuple(values)


def _read_classes(path: Path, spec: Spec, raw: object) -> tuple[str, ...] | None:
    if raw is None:
        return None
    n_labels = labels_needed(spec)
    if (
        not isinstance(raw, list)
        or len(raw) != n_labels
        or not all(isinstance(label, str) for label in raw)
    ):
        raise UsageError(
            f'{path}: "classes" must be null or a list of {n_labels} labels'
        )
    return tuple(raw)


def check_module(weights: Weights, module: ModuleType, path: Path) -> None:
    """Raise NnsymError unless `module` is the network the weights were trained for."""
    spec = weights.spec
    found = (tuple(module.ARCH), tuple(module.ACTIVATIONS), module.LOSS)
    if (*found, tuple(module.PARAM_NAMES)) != (*spec.network, param_names(spec.arch)):
        raise NnsymError(
            f"{path} holds a {spec.summary} network, but the module is "
            f"{network_summary(*found)}"
        )


def parse_at(text: str | None, spec: Spec) -> point.Point:
    """`--at`'s Point (see `nnsym.explain.point`), reading a `weights=` file."""
    return point.parse_at(text, spec, read_params=params_for)
