"""Interop: models from PyTorch and scikit-learn in, PyTorch and ONNX out.

    from nnsym import interop

    weights = interop.from_torch(module)        # an nn.Sequential
    weights = interop.from_sklearn(estimator)   # a fitted MLPClassifier/Regressor
    weights = interop.load_model_file("model.pt", trust_pickle=False)
    module = interop.to_torch(weights)          # nn.Sequential, float64
    interop.export_onnx(weights, "model.onnx", dtype="float32")

PyTorch, scikit-learn (with skops) and ONNX (with onnxruntime) are optional
extras, imported only here: a missing one raises MissingDependencyError (an
NnsymError, exit status 1) naming the extra to install.
"""

from __future__ import annotations

from nnsym.interop.deps import MissingDependencyError
from nnsym.interop.files import import_object, load_model_file, read_model_file
from nnsym.interop.layers import DEFAULT_LOSSES, Dense, default_loss
from nnsym.interop.onnx_export import OPSET, export_onnx, onnx_model
from nnsym.interop.sklearn_io import from_sklearn
from nnsym.interop.torch_io import from_state_dict, from_torch, to_torch

__all__ = [
    "DEFAULT_LOSSES",
    "OPSET",
    "Dense",
    "MissingDependencyError",
    "default_loss",
    "export_onnx",
    "from_sklearn",
    "from_state_dict",
    "from_torch",
    "import_object",
    "load_model_file",
    "onnx_model",
    "read_model_file",
    "to_torch",
]
