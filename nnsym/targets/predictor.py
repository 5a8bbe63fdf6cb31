"""The Python target with trained weights baked in: a standalone predictor.

The forward pass goes through the same pipeline as a generated module (SymPy
network, common subexpressions, nnsym's printer, Jinja, black); the trained
parameters are baked in as float literals that round-trip exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from nnsym.pipeline.cse import eliminate_common_subexpressions
from nnsym.pipeline.emit import HelperDefinition, build_context, emit
from nnsym.pipeline.gradients import backpropagate
from nnsym.pipeline.model import build_network
from nnsym.pipeline.reference import SEEDS, reference_outputs, sample_point
from nnsym.pipeline.sections import Section
from nnsym.pipeline.spec import Spec, param_names
from nnsym.runtime.optimizers import OPTIMIZERS, REDUCTIONS
from nnsym.targets.registry import Baked

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
    forward_sections: tuple[Section, ...]
    outputs: tuple[str, ...]
    helpers: tuple[str, ...]
    # (inputs, outputs) pairs printed as tuples, for the selftest.
    reference_outputs: tuple[str, ...]
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


def predictor_source(spec: Spec, baked: Baked, origin: str) -> str:
    """The source of a standalone module that predicts with `baked`'s parameters."""
    program = eliminate_common_subexpressions(backpropagate(build_network(spec)))
    context = build_context(spec, program, formulas="", title="")
    helpers = tuple(
        helper
        for helper in context.helpers
        if any(f"{helper}(" in line for line in context.forward_lines)
    )
    vectors = []
    for seed in SEEDS:
        x, _ = sample_point(seed, spec.arch[0], spec.arch[-1])
        outputs = reference_outputs(program.network, baked.params, x)
        vectors.append(repr((x, outputs)))
    example = ", ".join(["0.0"] * spec.arch[0])
    values = tuple(repr(float(v)) for v in baked.params)
    classes = (
        "None"
        if baked.classes is None
        else "(" + "".join(f"{label!r}, " for label in baked.classes) + ")"
    )
    predictor = PredictorContext(
        title=spec.title,
        name=baked.module_name,
        model_hash=baked.model_hash[:16],
        example=example,
        example_cli=",".join(["0"] * spec.arch[0]),
        training=_training_summary(baked.training),
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
        forward_sections=context.forward_sections,
        outputs=context.outputs,
        helpers=helpers,
        reference_outputs=tuple(vectors),
        helper_definitions=context.forward_helper_definitions,
    )
    return emit(PREDICTOR_TEMPLATE, origin, baked.advice, p=predictor)
