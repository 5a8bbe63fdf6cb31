"""The Python target with trained weights baked in: a standalone predictor.

The forward pass goes through the same pipeline as a generated module (SymPy
network, common subexpressions, nnsym's printer, Jinja, black); the trained
parameters are baked in as float literals that round-trip exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from nnsym.pipeline.cse import eliminate_common_subexpressions
from nnsym.pipeline.emit import HelperDefinition, build_context, emit, format_source
from nnsym.pipeline.gradients import backpropagate
from nnsym.pipeline.loops import build_loop_program
from nnsym.pipeline.loops_emit import build_loop_context
from nnsym.pipeline.model import build_network
from nnsym.pipeline.reference import (
    SEEDS,
    layer_outputs,
    reference_outputs,
    sample_point,
)
from nnsym.pipeline.sections import Section
from nnsym.pipeline.spec import Spec, param_names
from nnsym.runtime.optimizers import OPTIMIZERS, REDUCTIONS
from nnsym.targets.registry import Baked

PREDICTOR_TEMPLATE = "predictor.py.jinja"
LOOPS_PREDICTOR_TEMPLATE = "predictor_loops.py.jinja"
# PARAMS lines of the loop predictor: as many numbers as fit in this width.
PARAM_LINE_WIDTH = 75
# Only these come from a weights file into the docstring, and only as numbers or
# one of a fixed set of words: nothing else a file holds reaches the code.
_TRAINING_NUMBERS = ("lr", "epochs_run", "seed", "final_loss")
_TRAINING_WORDS = {"optimizer": OPTIMIZERS, "reduction": REDUCTIONS}


@dataclass(frozen=True)
class PredictorHeader:
    """What both predictor templates say of the model, printed as Python source."""

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


@dataclass(frozen=True)
class PredictorContext(PredictorHeader):
    """Everything the predictor template needs, already printed as Python source."""

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


def _header(spec: Spec, baked: Baked, context: Any) -> dict[str, Any]:
    """PredictorHeader's fields, from the module context of either form."""
    classes = (
        "None"
        if baked.classes is None
        else "(" + "".join(f"{label!r}, " for label in baked.classes) + ")"
    )
    return dict(
        title=spec.title,
        name=baked.module_name,
        model_hash=baked.model_hash[:16],
        example=", ".join(["0.0"] * spec.arch[0]),
        example_cli=",".join(["0"] * spec.arch[0]),
        training=_training_summary(baked.training),
        arch=context.arch,
        activations=context.activations,
        loss=context.loss,
        n_inputs=spec.arch[0],
        n_outputs=spec.arch[-1],
        classes=classes,
    )


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
    """The source of a standalone module that predicts with `baked`'s parameters.

    A loop-form model gets a loop predictor, whose size grows with the number
    of layers and of parameters only through the PARAMS literal.
    """
    if spec.form == "loops":
        return loop_predictor_source(spec, baked, origin)
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
    values = tuple(repr(float(v)) for v in baked.params)
    predictor = PredictorContext(
        **_header(spec, baked, context),
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


@dataclass(frozen=True)
class LoopPredictorContext(PredictorHeader):
    """What the loop predictor template needs, already printed as Python source."""

    n_layers: int
    param_lines: tuple[str, ...]
    unpack_layers: str
    math_binding: str
    forward_lines: tuple[str, ...]
    helpers: tuple[str, ...]
    helper_definitions: tuple[HelperDefinition, ...]
    # (seed, outputs) pairs printed as tuples, for the selftest.
    reference_outputs: tuple[str, ...]


def _param_lines(params: tuple[float, ...]) -> tuple[str, ...]:
    # Numbers joined into lines of PARAM_LINE_WIDTH (black leaves them, between
    # fmt: off and on): one a line would make a large model's file three times
    # as long.
    lines: list[str] = []
    line = ""
    for value in params:
        text = repr(float(value)) + ","
        if line and len(line) + 1 + len(text) > PARAM_LINE_WIDTH:
            lines.append(line)
            line = text
        else:
            line = f"{line} {text}" if line else text
    if line:
        lines.append(line)
    return tuple(lines)


def loop_predictor_source(spec: Spec, baked: Baked, origin: str) -> str:
    """The loop-form predictor: the loop module's forward pass over baked layers."""
    # The loop module's helpers, all of them: one may call another (gelu calls
    # sigmoid), and each is a few lines.
    context = build_loop_context(spec, build_loop_program(spec), "", "")
    vectors = []
    for seed in SEEDS:
        x, _ = sample_point(seed, spec.arch[0], spec.arch[-1])
        vectors.append(repr((seed, layer_outputs(spec, baked.params, x))))
    predictor = LoopPredictorContext(
        **_header(spec, baked, context),
        n_layers=spec.n_layers,
        param_lines=_param_lines(baked.params),
        unpack_layers=context.unpack_layers,
        math_binding=context.math_binding,
        forward_lines=context.forward_lines,
        helpers=context.helpers,
        helper_definitions=context.helper_definitions,
        reference_outputs=tuple(vectors),
    )
    return emit(
        LOOPS_PREDICTOR_TEMPLATE,
        origin,
        baked.advice,
        formatter=_format_around_params,
        p=predictor,
    )


_PARAMS_PLACEHOLDER = "# fmt: off\nPARAMS = ()\n# fmt: on\n"


def _format_around_params(source: str) -> str:
    # black keeps a fmt: off block as it is, but still reads it: on a large
    # model most of its time. The block is set aside while black formats the
    # rest, which gives the same text.
    start = source.index("# fmt: off\n")
    end = source.index("# fmt: on\n") + len("# fmt: on\n")
    formatted = format_source(source[:start] + _PARAMS_PLACEHOLDER + source[end:])
    return formatted.replace(_PARAMS_PLACEHOLDER, source[start:end], 1)
