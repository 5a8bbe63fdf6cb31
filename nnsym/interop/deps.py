"""Optional libraries: imported only here; a missing one names its extra."""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType

from nnsym.errors import NnsymError

# What each optional module is called on PyPI and which nnsym extra installs it.
_EXTRAS = {
    "torch": ("PyTorch", "torch"),
    "sklearn": ("scikit-learn", "sklearn"),
    "skops": ("skops", "sklearn"),
    "onnx": ("onnx", "onnx"),
    "onnxruntime": ("onnxruntime", "onnx"),
    # onnx brings NumPy; the ONNX exporter builds its tensors with it.
    "numpy": ("NumPy", "onnx"),
}


class MissingDependencyError(NnsymError):
    """An optional library is not installed (exit status 1, like any NnsymError)."""


def missing(module: str, purpose: str) -> MissingDependencyError:
    """The error for `module` not being installed, naming its extra."""
    top = module.split(".")[0]
    package, extra = _EXTRAS.get(top, (top, top))
    return MissingDependencyError(
        f"{purpose} needs {package}, which is not installed: "
        f"pip install 'nnsym[{extra}]'"
    )


def is_optional(module: str) -> bool:
    """True if `module` belongs to one of nnsym's optional extras."""
    return module.split(".")[0] in _EXTRAS


def require(module: str, purpose: str) -> ModuleType:
    """Import `module`, or raise MissingDependencyError naming the extra to install."""
    try:
        with warnings.catch_warnings():
            # e.g. a PyTorch CPU build without NumPy warns on import; nnsym's
            # conversions do not need what the warning is about.
            warnings.simplefilter("ignore")
            return importlib.import_module(module)
    except ImportError:
        raise missing(module, purpose) from None
