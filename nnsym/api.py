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
    page = api.build_playground(spec, "xor")  # the page of `nnsym playground`
    page.save(Path("xor.html"))  # in a notebook, `page` shows itself inline

`nnsym.models.training` holds the steps of a training run, for finer control.

Names are imported on first use: loading weights, or predicting with an
up-to-date module in generated/, never imports SymPy, Jinja or black.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nnsym.models.weights import Weights

# name -> the module that defines it, imported when the name is first used.
_LAZY = {
    "make_spec": "nnsym.pipeline.spec",
    "format_arch": "nnsym.pipeline.spec",
    "Spec": "nnsym.pipeline.spec",
    "check_unrolled_size": "nnsym.pipeline.spec",
    "has_layer_form": "nnsym.pipeline.spec",
    "Dataset": "nnsym.models.data",
    "CsvFormat": "nnsym.models.data",
    "read_table": "nnsym.models.data",
    "Network": "nnsym.models.inference",
    "batch_from_table": "nnsym.models.inference",
    "has_classes": "nnsym.models.inference",
    "model_inputs": "nnsym.models.inference",
    "right_answers": "nnsym.models.inference",
    "percent": "nnsym.models.training",
    "load_data": "nnsym.models.data",
    "builtin_names": "nnsym.models.data",
    "export_predictor": "nnsym.models.export",
    "check_plot_target": "nnsym.models.plot",
    "plot_loss": "nnsym.models.plot",
    "automatic_plan": "nnsym.models.defaults",
    "wants_loops": "nnsym.models.defaults",
    "known_optimizer": "nnsym.models.defaults",
    "FIRST_ORDER_OPTIONS": "nnsym.models.defaults",
    "is_automatic": "nnsym.models.defaults",
    "OPTIMIZERS": "nnsym.models.training",
    "LR_SCHEDULES": "nnsym.models.settings",
    "EXTRA_OPTIONS": "nnsym.models.settings",
    "REDUCTIONS": "nnsym.models.training",
    "ProgressLine": "nnsym.models.training",
    "Trained": "nnsym.models.training",
    "TrainingPlan": "nnsym.models.training",
    "TrainingResult": "nnsym.models.training",
    "TrainingSettings": "nnsym.models.training",
    "objective": "nnsym.models.training",
    "plan_training": "nnsym.models.training",
    "run_training": "nnsym.models.training",
    "train": "nnsym.models.training",
    "training_advice": "nnsym.models.training",
    "Weights": "nnsym.models.weights",
    "check_module": "nnsym.models.weights",
    "check_save_target": "nnsym.models.weights",
    "load_weights": "nnsym.models.weights",
    "save_weights": "nnsym.models.weights",
    "GENERATED_DIR": "nnsym.pipeline.build",
    "Generated": "nnsym.targets.python",
    "Progress": "nnsym.pipeline.build",
    "check_target": "nnsym.pipeline.build",
    "default_output": "nnsym.pipeline.build",
    "differentiate": "nnsym.pipeline.build",
    "generate": "nnsym.targets.python",
    "import_generated": "nnsym.targets.python",
    "is_up_to_date": "nnsym.pipeline.build",
    "load_module": "nnsym.pipeline.build",
    "module_for": "nnsym.targets.python",
    "prepare_module": "nnsym.targets.python",
    "write_module": "nnsym.targets.python",
    "build_network": "nnsym.pipeline.model",
    "write_atomic": "nnsym.pipeline.write",
    "check_writable_target": "nnsym.pipeline.write",
    "inspect_drawing": "nnsym.explain.drawing",
    "mark_drawing": "nnsym.explain.drawing",
    "write_generated": "nnsym.pipeline.write",
    "derive": "nnsym.explain.formulas",
    "derive_layers": "nnsym.explain.layer_formulas",
    "format_layers_text": "nnsym.explain.layer_formulas",
    "uses_layers_by_default": "nnsym.explain.layer_formulas",
    "layer_graph": "nnsym.explain.graph",
    "format_derivation": "nnsym.explain.formulas",
    "select_parameter": "nnsym.explain.formulas",
    "differentiate_text": "nnsym.explain.chain",
    "format_diff_latex": "nnsym.explain.chain",
    "format_diff_text": "nnsym.explain.chain",
    "parse_at": "nnsym.models.weights",
    "CheckReport": "nnsym.explain.fdcheck",
    "check_gradients": "nnsym.targets.python",
    "check_request": "nnsym.explain.fdcheck",
    "format_report": "nnsym.explain.fdcheck",
    "graph_for": "nnsym.explain.graph",
    "dot_file": "nnsym.explain.graph",
    "render": "nnsym.explain.graph",
    "parse_arch": "nnsym.pipeline.spec",
    "load_model_file": "nnsym.interop",
    "export_onnx": "nnsym.interop.onnx_export",
    "check_target_options": "nnsym.targets",
    "source_for": "nnsym.targets",
    "check_suffix": "nnsym.targets",
    "default_path": "nnsym.targets",
    "write_target": "nnsym.targets",
    "export_source": "nnsym.models.export",
    "registry": "nnsym.targets",
    "Request": "nnsym.targets",
    "render_target": "nnsym.targets",
    "c_engine": "nnsym.targets.cmodule",
    "Playground": "nnsym.playground.page",
    "build_playground": "nnsym.playground.page",
    "require_compiler": "nnsym.targets.cengine",
}


def __getattr__(name: str) -> Any:
    """Import the module behind `name` on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nnsym.api' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The API's names, imported or not."""
    return sorted({*globals(), *_LAZY})


def module_for_weights(weights: Weights, path: str | Path) -> ModuleType:
    """The module for a weights file's network, checked against it (see module_for).

    `path` is the weights file, named in the error if the module does not match.
    """
    from nnsym.models.weights import check_module
    from nnsym.targets.python import module_for

    path = Path(path)
    module = module_for(weights.spec)
    check_module(weights, module, path)
    return module


__all__ = sorted([*_LAZY, "module_for_weights"])
