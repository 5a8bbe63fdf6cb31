"""Outputs from the weights alone (nnsym.models.inference, behind `nnsym predict`):
the generated modules' numbers for every activation, safe user expressions, and
batch prediction from a CSV file."""

from __future__ import annotations

import json
import math
import random

import mpmath
import pytest

from nnsym.errors import UsageError
from nnsym.models import inference
from nnsym.models.inference import FUNCTIONS, Network, compile_activation
from nnsym.models.weights import Weights, load_weights, save_weights
from nnsym.pipeline.spec import make_spec
from nnsym.primitives import ACTIVATIONS, PRIMITIVES
from tests.helpers import module_for, run_cli_in_process

POINTS = [(0.3, -1.2, 2.0), (-8.0, 5.5, 0.0), (40.0, -35.0, 1e-3), (-700.0, 720, 3)]


def random_weights(spec, seed=0, scale=1.5):
    rng = random.Random(seed)
    params = tuple(rng.uniform(-scale, scale) for _ in range(spec.n_params))
    return Weights(spec, params)


def test_every_function_of_the_table_is_computed():
    assert set(FUNCTIONS) == set(PRIMITIVES)


def test_gelu_scale_is_sqrt_8_over_pi():
    with mpmath.workdps(50):
        assert inference._GELU_SCALE == float(mpmath.sqrt(8 / mpmath.pi))


@pytest.mark.parametrize("activation", [*ACTIVATIONS, "softcube=x**3/30 + tanh(x)"])
def test_outputs_are_the_loop_modules_to_the_bit(activation):
    loops = make_spec(
        "3-4-3-2", activation=activation, output_activation="identity", form="loops"
    )
    softmax = make_spec("3-4-3", activation=activation, loss="ce", form="loops")
    for spec in (loops, softmax):
        module = module_for(spec)
        weights = random_weights(spec)
        network = Network(weights)
        for x in POINTS:
            expected = module.predict(list(weights.params), x)
            got = network.predict(x)
            if "=" in activation:
                # The module prints x**3 as x*x*x: the same to rounding.
                assert all(
                    math.isclose(a, b, rel_tol=1e-13) for a, b in zip(got, expected)
                )
            else:
                assert got == expected, (spec.summary, x)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "gelu", "x*sigmoid(x)"])
def test_outputs_are_the_unrolled_modules_to_rounding(activation):
    spec = make_spec("3-3-2", activation=activation, output_activation="sigmoid")
    module = module_for(spec)
    weights = random_weights(spec, seed=1)
    for x in POINTS[:3]:
        expected = module.predict(list(weights.params), x)
        got = Network(weights).predict(x)
        assert all(math.isclose(a, b, rel_tol=1e-13) for a, b in zip(got, expected))


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "x.real",
        "(lambda: 1)()",
        "exp",
        "open(x)",
        "x if x else 1",
        "[x][0]",
        "y + 1",
        "exp(x, 2)",
        "exp(x=1)",
        "'a'",
        "x" * 600,
    ],
)
def test_user_expressions_beyond_arithmetic_are_refused(text):
    with pytest.raises(UsageError, match="activation"):
        compile_activation(text)


def test_user_expressions_compute_as_written():
    assert compile_activation("x*sigmoid(x)")(2.0) == 2.0 * FUNCTIONS["sigmoid"](2.0)
    assert compile_activation("-x**2 + pi")(3.0) == -9.0 + math.pi
    assert compile_activation("log(1 + exp(x))/2")(0.0) == math.log(2.0) / 2
    # Whole numbers are floats: a power of constants is no huge exact integer.
    with pytest.raises(OverflowError):
        compile_activation("x + 10**10**10")(1.0)


def test_a_weights_file_with_a_hostile_expression_is_refused(tmp_path, capsys):
    spec = make_spec("2-2-1", activation="tcube=x**3/3")
    path = tmp_path / "m.json"
    save_weights(path, random_weights(spec))
    document = json.loads(path.read_text())
    document["spec"]["activation"] = "tcube=__import__('os').getcwd()"
    path.write_text(json.dumps(document))
    code, out, err = run_cli_in_process(["predict", "--model", path, "1,0"], capsys)
    assert code == 2 and "define one name twice" in err
    document["spec"]["output_activation"] = document["spec"]["activation"]
    path.write_text(json.dumps(document))
    code, out, err = run_cli_in_process(["predict", "--model", path, "1,0"], capsys)
    assert code == 2 and out == "" and "not plain arithmetic of x" in err
    assert load_weights(path, symbolic=False).spec.custom == (
        ("tcube", "__import__('os').getcwd()"),
    )


# --- nnsym predict --data -----------------------------------------------------------


@pytest.fixture
def labelled(tmp_path, monkeypatch, capsys):
    """A model trained on a CSV file with a header and text labels."""
    monkeypatch.chdir(tmp_path)
    rows = ["x1,x2,kind"] + [f"{i % 3},{(i * 7) % 5},{'abc'[i % 3]}" for i in range(30)]
    (tmp_path / "kinds.csv").write_text("\n".join(rows) + "\n")
    code, out, err = run_cli_in_process(
        ["train", "--arch", "2-4-3", "--loss", "ce", "--data", "kinds.csv"]
        + ["--epochs", "300", "--seed", "0", "--save", "m.json", "-o", "m.py"]
        + ["--reduction", "mean"],
        capsys,
    )
    assert code == 0, err
    accuracy = next(line for line in out.splitlines() if line.startswith("accuracy"))
    return tmp_path, rows, accuracy


def test_predict_data_prints_a_line_per_row_and_the_accuracy(labelled, capsys):
    folder, rows, accuracy = labelled
    code, out, err = run_cli_in_process(
        ["predict", "--model", "m.json", "--data", "kinds.csv"], capsys
    )
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == len(rows) - 1
    # The same lines as for the samples given one by one.
    samples = [",".join(row.split(",")[:2]) for row in rows[1:4]]
    _, one_by_one, _ = run_cli_in_process(
        ["predict", "--model", "m.json", *samples], capsys
    )
    assert one_by_one.splitlines() == lines[:3]
    assert err.strip() == accuracy


def test_predict_data_finds_columns_by_the_training_header(labelled, capsys):
    folder, rows, _ = labelled
    # Columns reordered, one more, and no target: outputs only.
    shuffled = ["note,x2,x1"] + [
        f"n{i},{r.split(',')[1]},{r.split(',')[0]}" for i, r in enumerate(rows[1:])
    ]
    (folder / "new.csv").write_text("\n".join(shuffled) + "\n")
    code, out, err = run_cli_in_process(
        ["predict", "--model", "m.json", "--data", "new.csv"], capsys
    )
    _, expected, _ = run_cli_in_process(
        ["predict", "--model", "m.json", "--data", "kinds.csv"], capsys
    )
    assert code == 0 and err == ""
    assert out == expected


def test_predict_data_with_a_missing_column_is_one_line(labelled, capsys):
    folder, _, _ = labelled
    (folder / "partial.csv").write_text("x1,kind\n1,a\n")
    code, out, err = run_cli_in_process(
        ["predict", "--model", "m.json", "--data", "partial.csv"], capsys
    )
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert "no column x2; the model takes the inputs x1, x2" in err
    code, _, err = run_cli_in_process(
        ["predict", "--model", "m.json", "--data", "partial.csv", "1,2"], capsys
    )
    assert code == 2 and "samples or --data, not both" in err
    code, _, err = run_cli_in_process(["predict", "--model", "m.json"], capsys)
    assert code == 2 and "--data" in err


def test_predict_data_without_a_header_goes_by_position(labelled, capsys):
    folder, rows, _ = labelled
    (folder / "bare.csv").write_text("\n".join(r.replace(",", ";") for r in rows[1:]))
    code, out, err = run_cli_in_process(
        ["predict", "--model", "m.json", "--data", "bare.csv"], capsys
    )
    _, expected, accuracy = run_cli_in_process(
        ["predict", "--model", "m.json", "--data", "kinds.csv"], capsys
    )
    assert code == 0 and out == expected and err == accuracy


def test_predict_data_counts_a_one_output_classifier(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli_in_process(
        [
            "train",
            "--data",
            "xor",
            "--epochs",
            "2000",
            "--seed",
            "0",
            "--save",
            "m.json",
        ]
        + ["-q", "-o", "m.py"],
        capsys,
    )
    assert code == 0, err
    (tmp_path / "gates.csv").write_text("x0,x1,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    code, out, err = run_cli_in_process(
        ["predict", "--model", "m.json", "--data", "gates.csv"], capsys
    )
    assert code == 0 and len(out.splitlines()) == 4
    assert err.strip() == "accuracy: 100% (4 of 4)"
