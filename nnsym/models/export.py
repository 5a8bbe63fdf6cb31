"""A trained model as one standalone file: a target's source with the weights baked in.

`export_source(weights, target)` works for every target whose registry record
exports (Python's standard-library predictor, C, JavaScript); the target's
render function does the printing (`nnsym.targets.predictor` for Python).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from nnsym.errors import UsageError
from nnsym.models.weights import Weights, to_json
from nnsym.pipeline.spec import check_name
from nnsym.pipeline.write import check_writable_target, write_generated
from nnsym.targets import registry, source_for
from nnsym.targets.registry import Baked


def _module_name(output: Path | None) -> str:
    # The docstring's example imports the module by its file name, when that is
    # a plain identifier; anything else the user typed stays out of the code.
    if output is None:
        return "predictor"
    try:
        check_name(output.stem)
    except UsageError:
        return "predictor"
    return output.stem


def export_source(
    weights: Weights,
    target: str = registry.DEFAULT,
    dtype: str = "float64",
    output: Path | None = None,
) -> str:
    """`target`'s file with `weights`' parameters baked in, and predict.

    `output`: where it will be written (the Python predictor imports by its name).
    """
    choices = registry.exportable()
    if target not in choices:
        listed = ", ".join(choices[:-1]) + " or " + choices[-1]
        raise UsageError(f"nnsym export --target is {listed}")
    registry.check_options(target, dtype)
    model_hash = hashlib.sha256(to_json(weights).encode("utf-8")).hexdigest()
    origin = "nnsym export"
    if target != registry.DEFAULT:
        origin += f" --target {target}"
    if dtype != "float64":
        origin += f" --dtype {dtype}"
    baked = Baked(
        tuple(weights.params),
        f"weights sha256 {model_hash[:16]}",
        classes=weights.classes,
        training=dict(weights.training),
        module_name=_module_name(output),
        model_hash=model_hash,
    )
    return source_for(
        weights.spec,
        target,
        dtype,
        baked=baked,
        origin=f"{origin} (weights sha256 {model_hash})",
    )


def predictor_source(weights: Weights, output: Path) -> str:
    """The source of a standalone Python module that predicts with `weights`."""
    return export_source(weights, registry.DEFAULT, output=output)


def export_predictor(weights: Weights, output: str | Path, force: bool = False) -> bool:
    """Write the predictor module atomically; return False if it was unchanged."""
    output = Path(output)
    # Refused before the predictor is rendered, which takes SymPy and black.
    check_writable_target(output, force=force)
    return write_generated(output, predictor_source(weights, output), force=force)
