"""`nnsym export` of a loop-form model: a loop predictor, small at any size, with
the loop module's outputs to the bit."""

from __future__ import annotations

import ast
import math
import random
import subprocess
import sys

import black
import pytest

from nnsym.models.export import export_predictor, predictor_source
from nnsym.models.inference import Network
from nnsym.models.weights import Weights
from nnsym.pipeline.emit import BLACK_MODE
from nnsym.pipeline.spec import make_spec
from nnsym.primitives import ACTIVATIONS
from tests.helpers import load_module, module_for


def weights_for(spec, seed=0, classes=None):
    rng = random.Random(seed)
    params = tuple(rng.uniform(-2, 2) for _ in range(spec.n_params))
    return Weights(spec, params, classes, {"lr": 0.5, "seed": seed})


@pytest.mark.parametrize(
    "options",
    [
        *(
            {"activation": name, "output_activation": "identity"}
            for name in ACTIVATIONS
        ),
        {"activation": "softcube=x**3/30 + tanh(x)", "output_activation": "sigmoid"},
        {"activation": "gelu", "loss": "ce"},
        {"activation": "tanh", "loss": "bce"},
    ],
    ids=lambda options: "-".join(options.values()),
)
def test_a_loop_model_exports_as_a_loop_predictor(tmp_path, options):
    spec = make_spec(
        "3-5-4-3" if options.get("loss") == "ce" else "3-5-4-1", form="loops", **options
    )
    weights = weights_for(spec)
    path = tmp_path / "predictor.py"
    assert export_predictor(weights, path)
    predictor = load_module(path)
    module = module_for(spec)
    network = Network(weights)
    rng = random.Random(1)
    for _ in range(10):
        x = [rng.uniform(-4, 4) for _ in range(spec.arch[0])]
        expected = module.predict(list(weights.params), x)
        assert predictor.predict(x) == expected
        # nnsym predict's numbers; a user's x**3 is x*x*x in the module.
        ours = network.predict(x)
        if spec.custom:
            assert all(
                math.isclose(a, b, rel_tol=1e-13) for a, b in zip(ours, expected)
            )
        else:
            assert ours == expected
    assert predictor.PARAMS == weights.params and predictor.ARCH == spec.arch
    assert predictor.selftest(write=lambda line: None)


def test_the_loop_predictor_is_standalone_formatted_and_small(tmp_path):
    spec = make_spec("64-128-10", loss="ce", form="loops")
    weights = weights_for(spec, classes=tuple("abcdefghij"))
    source = predictor_source(weights, tmp_path / "big.py")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    assert imported <= {"math", "random", "sys", "operator"}
    body = source.split("\n", 3)[3]
    assert black.format_str(body, mode=BLACK_MODE) == body
    # Several numbers a line, and code that does not grow with the network:
    # the unrolled predictor had a line per parameter and more per neuron.
    assert source.count("\n") < spec.n_params / 2
    path = tmp_path / "big.py"
    path.write_text(source)
    ran = subprocess.run(
        [sys.executable, "-I", "-S", str(path), ",".join(["0.5"] * 64)],
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stderr
    outputs = Network(weights).predict([0.5] * 64)
    label = "abcdefghij"[outputs.index(max(outputs))]
    assert ran.stdout == ", ".join(map(repr, outputs)) + f"  ({label})\n"
    assert load_module(path).classify([0.5] * 64) == label
    check = subprocess.run(
        [sys.executable, "-I", "-S", str(path), "--selftest"],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0 and "selftest passed" in check.stdout


def test_a_wrong_reference_fails_the_loop_selftest(tmp_path):
    spec = make_spec("2-3-1", form="loops")
    source = predictor_source(weights_for(spec), tmp_path / "p.py")
    start = source.index("_REFERENCE_OUTPUTS = (")
    edited = source[:start] + source[start:].replace("(0, (", "(0, (1.5 + ", 1)
    path = tmp_path / "p.py"
    path.write_text(edited)
    assert not load_module(path).selftest(write=lambda line: None)
