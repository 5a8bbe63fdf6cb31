"""Byte snapshots of every target's generated files, for a sample of requests.

`tests/test_snapshots.py` regenerates each file listed in `SNAPSHOTS` and
compares it byte for byte with the committed copy in `files/`. A change
that alters generated output on purpose (a new optimizer in a template, a
printer's new spelling) regenerates them with

    python -m tests.snapshots

and commits `tests/snapshots/files/` with the change; a change that should not alter
output must leave them as they are.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from nnsym import api
from nnsym.models.export import predictor_source
from nnsym.models.weights import Weights
from nnsym.pipeline.spec import Spec, make_spec
from nnsym.targets import source_for

# The committed files; black and ruff leave them alone, as they do generated/.
FOLDER = Path(__file__).resolve().parent / "files"

# name -> request: small networks in both forms, several activations and losses,
# softmax with ce, a user-defined activation; widths that are not multiples of
# the loop form's blocks and pairs, and more inputs than JavaScript hoists.
SPECS: dict[str, Spec] = {
    "xor": make_spec("2-2-1"),
    "xor_loops": make_spec("2-2-1", form="loops"),
    "tanh_mse": make_spec("3-4-4-1", activation="tanh", loss="mse"),
    "softmax_ce": make_spec("3-5-3", loss="ce"),
    "relu_ce_loops": make_spec("5-6-3", activation="relu", loss="ce", form="loops"),
    "cube_bce": make_spec("2-3-1", activation="cube=x**3/3", loss="bce"),
    "cube_bce_loops": make_spec(
        "2-3-1", activation="cube=x**3/3", loss="bce", form="loops"
    ),
    "gelu_elu": make_spec("2-3-2", activation="gelu", output_activation="elu"),
    "swish_softplus_loops": make_spec(
        "4-8-2", activation="swish", output_activation="softplus", form="loops"
    ),
    "leaky_identity_loops": make_spec(
        "2-5-1",
        activation="leaky_relu",
        output_activation="identity",
        loss="mse",
        form="loops",
    ),
}

EVERY_TARGET = ("python", "micropython", "c", "c_float32", "js")
# name -> the files made of it (the keys of PRODUCERS).
FILES: dict[str, tuple[str, ...]] = {
    "xor": EVERY_TARGET + ("export_python", "export_c", "export_c_float32"),
    "xor_loops": EVERY_TARGET + ("export_c", "export_js"),
    "tanh_mse": ("python", "c", "js"),
    "softmax_ce": EVERY_TARGET + ("export_js",),
    "relu_ce_loops": EVERY_TARGET + ("export_c_float32", "export_js"),
    "cube_bce": ("python", "micropython", "c", "js"),
    "cube_bce_loops": ("python", "c", "js"),
    "gelu_elu": ("python", "c", "c_float32", "js"),
    "swish_softplus_loops": ("python", "c", "c_float32", "js"),
    "leaky_identity_loops": ("python", "micropython", "c", "js"),
}


def trained(spec: Spec) -> Weights:
    """Weights with fixed, distinct parameter values (no training needed)."""
    params = tuple(((7 * i) % 11 - 5) / 8 + i / 1024 for i in range(spec.n_params))
    classes = None
    if spec.loss == "ce":
        classes = tuple(f"class{k}" for k in range(spec.arch[-1]))
    return Weights(spec, params, classes, {"data": "xor", "lr": 0.5, "epochs": 10})


@functools.cache
def python_source(spec: Spec) -> str:
    """The Python module, generated once per spec."""
    return api.generate(spec).source


PRODUCERS: dict[str, tuple[str, Callable[[Spec], str]]] = {
    "python": (".py", python_source),
    "micropython": ("_micropython.py", lambda s: source_for(s, "micropython")),
    "c": (".h", lambda s: source_for(s, "c")),
    "c_float32": ("_float32.h", lambda s: source_for(s, "c", "float32")),
    "js": (".mjs", lambda s: source_for(s, "js")),
    "export_python": (
        "_predictor.py",
        lambda s: predictor_source(trained(s), Path("predictor.py")),
    ),
    "export_c": ("_export.h", lambda s: api.export_source(trained(s), "c")),
    "export_c_float32": (
        "_export_float32.h",
        lambda s: api.export_source(trained(s), "c", "float32"),
    ),
    "export_js": ("_export.mjs", lambda s: api.export_source(trained(s), "js")),
}


def snapshots() -> list[tuple[str, str, str]]:
    """(file name, spec name, producer) of every snapshot file."""
    return [
        (name + PRODUCERS[kind][0], name, kind)
        for name, kinds in FILES.items()
        for kind in kinds
    ]


def produce(spec_name: str, kind: str) -> str:
    """The text of one snapshot file, generated now."""
    return PRODUCERS[kind][1](SPECS[spec_name])


def regenerate() -> list[Path]:
    """Write every snapshot file into this folder, and remove stale ones."""
    wanted = {file for file, _, _ in snapshots()}
    FOLDER.mkdir(exist_ok=True)
    for path in FOLDER.iterdir():
        if path.name not in wanted:
            path.unlink()
    written = []
    for file, spec_name, kind in snapshots():
        path = FOLDER / file
        path.write_bytes(produce(spec_name, kind).encode("utf-8"))
        written.append(path)
    return written
