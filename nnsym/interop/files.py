"""Model files: find what a file holds (PyTorch, skops, pickle) and import it.

Unpickling runs code from the file, so a pickle (a whole PyTorch module, or a
scikit-learn model saved with pickle or joblib) is loaded only when the caller
trusts it. A PyTorch state_dict (loaded with `weights_only=True`) and a skops
file (which loads only the scikit-learn types it names) need no such trust.
"""

from __future__ import annotations

import pickle
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nnsym.errors import UsageError
from nnsym.interop.deps import is_optional, missing, require
from nnsym.interop.sklearn_io import from_sklearn
from nnsym.interop.torch_io import from_state_dict, from_torch
from nnsym.models.weights import Weights
from nnsym.pipeline.spec import DEFAULT_MAX_PARAMS, format_arch

# The first byte of a pickle of protocol 2 or later (what torch, joblib and
# pickle write).
_PICKLE_MAGIC = b"\x80"
# Modules whose types a skops file may load: scikit-learn's own and NumPy's.
_SKOPS_TRUSTED_PREFIXES = ("sklearn.", "numpy.")


def _trust_hint(path: Path) -> str:
    return (
        f"{path} is a pickle, and unpickling runs code from the file: pass "
        "--trust-pickle only if you trust its source"
    )


def _read_error(path: Path, kind: str, error: Exception) -> UsageError:
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    return UsageError(f"cannot read {path} as {kind}: {reason[:200]}")


def _load_torch(path: Path, trust_pickle: bool) -> Any:
    torch = require("torch", f"reading {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # one line of error, or none
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        if not trust_pickle:
            raise UsageError(
                f"{path} holds a pickled PyTorch object (a whole module), and "
                "loading it runs code from the file: pass --trust-pickle if you "
                "trust its source, or save module.state_dict() and import that "
                "with --activation and --output-activation"
            ) from None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return torch.load(path, map_location="cpu", weights_only=False)
        except Exception as inner:  # noqa: BLE001 - any failure is the file's
            raise _read_error(path, "a PyTorch file", inner) from None
    except Exception as error:  # noqa: BLE001 - any failure is the file's
        raise _read_error(path, "a PyTorch file", error) from None


def _load_skops(path: Path) -> Any:
    sio = require("skops.io", f"reading {path}")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as error:  # noqa: BLE001
        raise _read_error(path, "a skops file", error) from None
    foreign = [t for t in untrusted if not t.startswith(_SKOPS_TRUSTED_PREFIXES)]
    if foreign:
        raise UsageError(
            f"{path} holds types from outside scikit-learn and NumPy "
            f"({', '.join(sorted(foreign)[:3])}); nnsym does not load them"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return sio.load(path, trusted=untrusted)
    except Exception as error:  # noqa: BLE001
        raise _read_error(path, "a skops file", error) from None


def _load_pickle(path: Path) -> Any:
    # joblib (a scikit-learn dependency) reads its own files and plain pickles.
    try:
        import joblib
    except ImportError:
        joblib = None
    try:
        with warnings.catch_warnings():
            # scikit-learn warns about models pickled by another version; the
            # attributes nnsym reads (coefs_, intercepts_, ...) have not changed.
            warnings.simplefilter("ignore")
            if joblib is not None:
                return joblib.load(path)
            with path.open("rb") as handle:
                return pickle.load(handle)
    except ModuleNotFoundError as error:
        # The pickle names a class from a library that is not installed.
        needed = error.name or "?"
        if is_optional(needed):
            raise missing(needed, f"reading {path}") from None
        raise UsageError(
            f"{path} needs the module {needed}, which is not installed"
        ) from None
    except Exception as error:  # noqa: BLE001 - any failure is the file's
        raise _read_error(path, "a pickle", error) from None


def read_model_file(path: str | Path, trust_pickle: bool = False) -> Any:
    """The object a model file holds: a module, an estimator or a state_dict."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            start = handle.read(4)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a directory, not a model file") from None
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError) as error:
            raise _read_error(path, "a zip archive", error) from None
        if "schema.json" in names:
            return _load_skops(path)
        if any(name.endswith("constants.pkl") for name in names):
            raise UsageError(
                f"{path} is a TorchScript archive (torch.jit.save); nnsym imports "
                "torch.save of an nn.Sequential or of its state_dict"
            )
        if any(name == "data.pkl" or name.endswith("/data.pkl") for name in names):
            return _load_torch(path, trust_pickle)
    elif start.startswith(_PICKLE_MAGIC) or path.suffix in (
        ".joblib",
        ".pkl",
        ".pickle",
    ):
        if not trust_pickle:
            raise UsageError(_trust_hint(path))
        return _load_pickle(path)
    raise UsageError(
        f"{path} is not a PyTorch file (torch.save), a skops file or a pickle; "
        "nnsym imports those"
    )


def import_object(
    obj: Any,
    arch: tuple[int, ...] | None = None,
    activation: str | None = None,
    output_activation: str | None = None,
    loss: str | None = None,
    name: str | None = None,
    classes: list[str] | None = None,
    binary: str = "sigmoid",
    max_params: int = DEFAULT_MAX_PARAMS,
) -> Weights:
    """nnsym Weights for a torch module, a scikit-learn MLP or a state_dict.

    Options that a model already holds (its layer sizes, its activations) are
    checked against it when given.
    """
    kind = type(obj).__module__.split(".")[0]
    if isinstance(obj, Mapping):
        return from_state_dict(
            obj,
            activation,
            output_activation,
            arch=arch,
            loss=loss,
            name=name,
            classes=classes,
            max_params=max_params,
        )
    if kind == "torch":
        weights = from_torch(
            obj, loss=loss, name=name, classes=classes, max_params=max_params
        )
    elif kind == "sklearn":
        if classes is not None:
            raise UsageError(
                "--classes is for PyTorch models; a scikit-learn classifier's "
                "labels come from its classes_"
            )
        weights = from_sklearn(
            obj, loss=loss, name=name, binary=binary, max_params=max_params
        )
    else:
        raise UsageError(
            f"cannot import a {type(obj).__name__}: nnsym imports a PyTorch "
            "nn.Sequential or state_dict, or a scikit-learn MLPClassifier or "
            "MLPRegressor"
        )
    spec = weights.spec
    if arch is not None and tuple(arch) != spec.arch:
        raise UsageError(
            f"--arch {format_arch(arch)} does not match the model, a "
            f"{format_arch(spec.arch)} network"
        )
    hidden = spec.activations[:-1]
    if activation is not None and hidden and hidden[0] != activation:
        raise UsageError(
            f"--activation {activation} does not match the model's hidden "
            f"activation {hidden[0]}"
        )
    if output_activation is not None and output_activation != spec.output_activation:
        raise UsageError(
            f"--output-activation {output_activation} does not match the model's "
            f"{spec.output_activation}"
        )
    return weights


def load_model_file(
    path: str | Path, trust_pickle: bool = False, **options: Any
) -> Weights:
    """nnsym Weights for a model file; `options` as for import_object."""
    return import_object(read_model_file(path, trust_pickle), **options)
