"""ONNX: a weights file as an ONNX model that any ONNX runtime can run.

Each layer is one Gemm (weights as rows, as nnsym stores them: transB=1) and
one activation operator. The opset is pinned, so the same weights give the same
bytes. ONNX is binary and cannot carry nnsym's text header; the weights'
sha256 and the request go into the model's doc_string and metadata_props, and
a file holding them counts as nnsym's when deciding whether to overwrite it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from nnsym import __version__
from nnsym.errors import NnsymError, UsageError
from nnsym.interop.activations import SUPPORTED
from nnsym.interop.deps import require
from nnsym.interop.layers import layers_from_weights
from nnsym.models.weights import Weights, to_json
from nnsym.pipeline.write import write_atomic

OPSET = 17
# The IR version that goes with opset 17, so that older runtimes load the file.
IR_VERSION = 8
DTYPES = ("float32", "float64")
DEFAULT_DTYPE = "float32"
INPUT_NAME = "x"
OUTPUT_NAME = "y"
# metadata_props keys; the hash key marks a file as nnsym's.
HASH_KEY = "nnsym.weights_sha256"
SPEC_KEY = "nnsym.spec"
CLASSES_KEY = "nnsym.classes"


def _onnx() -> Any:
    return require("onnx", "nnsym export --target onnx")


def weights_hash(weights: Weights) -> str:
    """sha256 of the weights file's text, as the Python predictor records it."""
    return hashlib.sha256(to_json(weights).encode("utf-8")).hexdigest()


def onnx_model(weights: Weights, dtype: str = DEFAULT_DTYPE) -> Any:
    """An onnx.ModelProto computing `weights`' outputs for a batch of inputs."""
    onnx = _onnx()
    helper, numpy_helper = onnx.helper, onnx.numpy_helper
    numpy = require("numpy", "nnsym export --target onnx")
    if dtype not in DTYPES:
        raise UsageError(f"--dtype {dtype!r} is not one of: {', '.join(DTYPES)}")
    element = onnx.TensorProto.FLOAT if dtype == "float32" else onnx.TensorProto.DOUBLE
    spec = weights.spec
    nodes, initializers = [], []
    current = INPUT_NAME
    layers = layers_from_weights(weights)
    for position, layer in enumerate(layers, start=1):
        last = position == len(layers)
        mapping = SUPPORTED[layer.activation]
        needs_node = mapping.nnsym != "identity"
        if needs_node and mapping.onnx is None:
            raise NnsymError(
                f"ONNX opset {OPSET} has no operator for {mapping.nnsym}; "
                "export this model to another target"
            )
        w_name, b_name = f"w{position}", f"b{position}"
        initializers.append(
            numpy_helper.from_array(numpy.array(layer.weights, dtype=dtype), w_name)
        )
        initializers.append(
            numpy_helper.from_array(numpy.array(layer.bias, dtype=dtype), b_name)
        )
        linear = OUTPUT_NAME if last and not needs_node else f"z{position}"
        nodes.append(
            helper.make_node(
                "Gemm",
                [current, w_name, b_name],
                [linear],
                name=f"linear{position}",
                transB=1,
            )
        )
        current = linear
        if needs_node:
            activated = OUTPUT_NAME if last else f"a{position}"
            if mapping.onnx == "LeakyRelu" and dtype == "float64":
                # ONNX attributes are float32: alpha 0.01 would be off by 2e-10.
                # max(z, 0.01 z) is leaky_relu for slopes below 1, with the
                # slope as a float64 tensor.
                slope = f"slope{position}"
                initializers.append(
                    numpy_helper.from_array(
                        numpy.array(dict(mapping.onnx_attrs)["alpha"], dtype=dtype),
                        slope,
                    )
                )
                nodes.append(
                    helper.make_node(
                        "Mul",
                        [current, slope],
                        [f"s{position}"],
                        name=f"slope{position}",
                    )
                )
                nodes.append(
                    helper.make_node(
                        "Max",
                        [current, f"s{position}"],
                        [activated],
                        name=f"{mapping.nnsym}{position}",
                    )
                )
            else:
                nodes.append(
                    helper.make_node(
                        mapping.onnx,
                        [current],
                        [activated],
                        name=f"{mapping.nnsym}{position}",
                        **dict(mapping.onnx_attrs),
                    )
                )
            current = activated
    graph = helper.make_graph(
        nodes,
        spec.name,
        [helper.make_tensor_value_info(INPUT_NAME, element, ["batch", spec.arch[0]])],
        [helper.make_tensor_value_info(OUTPUT_NAME, element, ["batch", spec.arch[-1]])],
        initializer=initializers,
    )
    digest = weights_hash(weights)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="nnsym",
        producer_version=__version__,
        doc_string=f"nnsym export --target onnx (weights sha256 {digest}): "
        f"{spec.title}",
    )
    model.ir_version = IR_VERSION
    metadata = {
        HASH_KEY: digest,
        SPEC_KEY: spec.summary,
        CLASSES_KEY: json.dumps(
            list(weights.classes) if weights.classes is not None else None
        ),
    }
    helper.set_model_props(model, metadata)
    onnx.checker.check_model(model)
    return model


def is_nnsym_onnx(path: Path) -> bool:
    """True if `path` is an ONNX model that nnsym wrote (it has nnsym's metadata)."""
    onnx = _onnx()
    try:
        model = onnx.load_model(str(path), load_external_data=False)
    except Exception:  # noqa: BLE001 - anything unreadable is not nnsym's
        return False
    return any(prop.key == HASH_KEY for prop in model.metadata_props)


def export_onnx(
    weights: Weights,
    output: str | Path,
    dtype: str = DEFAULT_DTYPE,
    force: bool = False,
) -> bool:
    """Write `weights` as an ONNX model atomically; return False if unchanged.

    An existing file is overwritten only if nnsym wrote it, or with `force`.
    """
    output = Path(output)
    if output.is_dir():
        raise UsageError(f"{output} is a directory; give a file path, e.g. model.onnx")
    data = onnx_model(weights, dtype).SerializeToString()
    if output.exists():
        if not force and not is_nnsym_onnx(output):
            raise NnsymError(
                f"{output} exists and was not written by nnsym; choose another "
                "--output or pass --force to overwrite it"
            )
        try:
            if output.read_bytes() == data:
                return False
        except OSError:
            pass
    try:
        write_atomic(output, data)
    except OSError as error:
        raise NnsymError(
            f"cannot write {output}: {error.strerror or error}; nothing was changed"
        ) from None
    return True
