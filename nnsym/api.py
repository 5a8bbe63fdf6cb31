"""The Python API behind the command line: the whole pipeline, one call a job.

    from pathlib import Path

    from nnsym import api

    spec = api.make_spec("2-2-1")
    generated = api.generate(spec)  # formulas and module source
    api.write_module(generated, api.default_output(spec))
    trained = api.train(spec, "xor", api.TrainingSettings(lr=1.0), seed=0)
    trained.save(Path("xor.json"))  # what `nnsym train --save` writes
    module = api.module_for_weights(trained.weights, Path("xor.json"))
    api.export_predictor(trained.weights, Path("predictor.py"))
    big = api.make_spec("784-128-10", loss="ce", form="loops")  # loops per layer

`nnsym.models.training` holds the steps of a training run, for finer control.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from nnsym.models.data import Dataset, load_data
from nnsym.models.export import export_predictor
from nnsym.models.training import (
    Trained,
    TrainingPlan,
    TrainingResult,
    TrainingSettings,
    objective,
    plan_training,
    run_training,
    train,
)
from nnsym.models.weights import Weights, check_module, load_weights, save_weights
from nnsym.pipeline.build import (
    GENERATED_DIR,
    Generated,
    Progress,
    check_target,
    default_output,
    differentiate,
    generate,
    import_generated,
    is_up_to_date,
    load_module,
    module_for,
    prepare_module,
    write_module,
)
from nnsym.pipeline.spec import Spec, make_spec


def module_for_weights(weights: Weights, path: str | Path) -> ModuleType:
    """The module for a weights file's network, checked against it (see module_for).

    `path` is the weights file, named in the error if the module does not match.
    """
    path = Path(path)
    module = module_for(weights.spec)
    check_module(weights, module, path)
    return module


__all__ = [
    "GENERATED_DIR",
    "Progress",
    "Spec",
    "Dataset",
    "Generated",
    "Trained",
    "TrainingPlan",
    "TrainingResult",
    "TrainingSettings",
    "Weights",
    "check_target",
    "default_output",
    "differentiate",
    "export_predictor",
    "generate",
    "import_generated",
    "is_up_to_date",
    "load_data",
    "load_module",
    "load_weights",
    "make_spec",
    "module_for",
    "module_for_weights",
    "objective",
    "plan_training",
    "prepare_module",
    "run_training",
    "save_weights",
    "train",
    "write_module",
]
