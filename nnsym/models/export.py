"""A trained model as one standalone, standard-library-only inference module.

The forward pass goes through the same pipeline as a generated module (SymPy
network, common subexpressions, nnsym's printer, Jinja, black); the trained
parameters are baked in as float literals that round-trip exactly.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

from nnsym.errors import UsageError
from nnsym.models.training import OPTIMIZERS, REDUCTIONS
from nnsym.models.weights import Weights, to_json
from nnsym.pipeline.cse import eliminate_common_subexpressions
from nnsym.pipeline.emit import HelperDefinition, build_context, emit
from nnsym.pipeline.gradients import backpropagate
from nnsym.pipeline.model import build_network
from nnsym.pipeline.spec import check_name, param_names
from nnsym.pipeline.write import write_generated

PREDICTOR_TEMPLATE = "predictor.py.jinja"
# Only these come from a weights file into the docstring, and only as numbers or
# one of a fixed set of words: nothing else a file holds reaches the code.
_TRAINING_NUMBERS = ("lr", "epochs_run", "seed", "final_loss")
_TRAINING_WORDS = {"optimizer": OPTIMIZERS, "reduction": REDUCTIONS}


@dataclass(frozen=True)
class PredictorContext:
    """Everything the predictor template needs, already printed as Python source."""

    title: str
    name: str
    model_hash: str
    example: str
    example_cli: str
    training: str
    arch: str
    activations: str
    loss: str
    n_inputs: int
    n_outputs: int
    classes: str
    params: tuple[tuple[str, str], ...]
    unpack_params: str
    unpack_inputs: str
    forward_math: str
    forward_lines: tuple[str, ...]
    outputs: tuple[str, ...]
    helpers: tuple[str, ...]
    helper_definitions: tuple[HelperDefinition, ...]


def _training_summary(training: dict) -> str:
    parts = []
    for key, allowed in _TRAINING_WORDS.items():
        if training.get(key) in allowed:
            parts.append(f"{key} {training[key]}")
    for key in _TRAINING_NUMBERS:
        value = training.get(key)
        if (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and math.isfinite(value)
        ):
            parts.append(f"{key} {value!r}")
    return ", ".join(parts)


def _module_name(output: Path) -> str:
    # The docstring's example imports the module by its file name, when that is
    # a plain identifier; anything else the user typed stays out of the code.
    try:
        check_name(output.stem)
    except UsageError:
        return "predictor"
    return output.stem


def predictor_source(weights: Weights, output: Path) -> str:
    """The source of a standalone module that predicts with `weights`."""
    spec = weights.spec
    program = eliminate_common_subexpressions(backpropagate(build_network(spec)))
    context = build_context(spec, program, formulas="", title="")
    helpers = tuple(
        helper
        for helper in context.helpers
        if any(f"{helper}(" in line for line in context.forward_lines)
    )
    model_hash = hashlib.sha256(to_json(weights).encode("utf-8")).hexdigest()
    example = ", ".join(["0.0"] * spec.arch[0])
    values = tuple(repr(float(v)) for v in weights.params)
    classes = (
        "None"
        if weights.classes is None
        else "(" + "".join(f"{label!r}, " for label in weights.classes) + ")"
    )
    predictor = PredictorContext(
        title=spec.title,
        name=_module_name(output),
        model_hash=model_hash[:16],
        example=example,
        example_cli=",".join(["0"] * spec.arch[0]),
        training=_training_summary(weights.training),
        arch=context.arch,
        activations=context.activations,
        loss=context.loss,
        n_inputs=spec.arch[0],
        n_outputs=spec.arch[-1],
        classes=classes,
        params=tuple(zip(param_names(spec.arch), values)),
        unpack_params=context.unpack_params,
        unpack_inputs=context.unpack_inputs,
        forward_math=context.forward_math,
        forward_lines=context.forward_lines,
        outputs=context.outputs,
        helpers=helpers,
        helper_definitions=context.forward_helper_definitions,
    )
    return emit(
        PREDICTOR_TEMPLATE,
        f"nnsym export (weights sha256 {model_hash})",
        "export the model again instead",
        p=predictor,
    )


def export_predictor(weights: Weights, output: str | Path, force: bool = False) -> bool:
    """Write the predictor module atomically; return False if it was unchanged."""
    output = Path(output)
    return write_generated(output, predictor_source(weights, output), force=force)
