"""Interop: PyTorch and scikit-learn models in, PyTorch and ONNX out.

Every numeric check compares nnsym's generated module (the symbolic pipeline,
evaluated in Python floats) with the other library computing in float64: the
libraries are the independent references.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from nnsym import api
from nnsym.cli import main
from nnsym.errors import NnsymError, UsageError
from nnsym.models.weights import Weights, load_weights, save_weights
from nnsym.pipeline.spec import make_spec
from tests.helpers import module_for

EXACT = 1e-12


def need(module):
    extra = EXTRAS[module]
    return pytest.importorskip(
        module, reason=f"{module} is not installed (pip install 'nnsym[{extra}]')"
    )


# The extra that installs each optional module, named in a skip's reason.
EXTRAS = {
    "torch": "torch",
    "sklearn": "sklearn",
    "onnxruntime": "onnx",
    "onnx": "onnx",
    "numpy": "onnx",
}


def test_a_skip_names_the_extra_not_a_table(monkeypatch):
    # None in sys.modules makes the import fail, as if it were not installed.
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(pytest.skip.Exception) as skipped:
        need("onnxruntime")
    assert str(skipped.value) == (
        "onnxruntime is not installed (pip install 'nnsym[onnx]')"
    )


def run(capsys, *argv):
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_line_error(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("nnsym: error: ")
    return lines[0]


def samples(n_inputs, count=25, seed=1):
    rng = random.Random(seed)
    return [[rng.uniform(-3, 3) for _ in range(n_inputs)] for _ in range(count)]


def nnsym_outputs(weights, xs):
    """Outputs of nnsym's own generated module for `weights`."""
    module = module_for(weights.spec)
    return [module.predict(list(weights.params), x) for x in xs]


def assert_close(ours, theirs, tolerance=EXACT):
    assert len(ours) == len(theirs)
    for row_ours, row_theirs in zip(ours, theirs):
        assert len(row_ours) == len(row_theirs)
        for a, b in zip(row_ours, row_theirs):
            assert abs(a - b) <= tolerance, (a, b)


# PyTorch -------------------------------------------------------------------


def torch_outputs(torch, module, xs):
    module = module.double().eval()
    with torch.no_grad():
        return module(torch.tensor(xs, dtype=torch.float64)).tolist()


def make_torch_models(torch):
    nn = torch.nn
    torch.manual_seed(0)
    return {
        "tanh-softmax": nn.Sequential(
            nn.Linear(3, 5),
            nn.Tanh(),
            nn.Dropout(0.5),
            nn.Linear(5, 4),
            nn.Tanh(),
            nn.Linear(4, 3),
            nn.Softmax(dim=1),
        ),
        "relu-sigmoid": nn.Sequential(
            nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1), nn.Sigmoid()
        ),
        "leaky-linear": nn.Sequential(
            nn.Sequential(nn.Linear(2, 3, bias=False), nn.LeakyReLU(0.01)),
            nn.Linear(3, 2),
        ),
    }


@pytest.mark.parametrize(
    "key, loss",
    [("tanh-softmax", "ce"), ("relu-sigmoid", "bce"), ("leaky-linear", "mse")],
)
def test_from_torch_computes_what_the_module_does(key, loss):
    torch = need("torch")
    from nnsym.interop import from_torch

    module = make_torch_models(torch)[key]
    module.train()  # dropout is dropped whatever the module's mode
    weights = from_torch(module)
    assert weights.spec.loss == loss
    xs = samples(weights.spec.arch[0])
    assert_close(nnsym_outputs(weights, xs), torch_outputs(torch, module, xs))


def test_torch_to_nnsym_to_torch_round_trip():
    torch = need("torch")
    from nnsym.interop import from_torch, to_torch

    source = make_torch_models(torch)["tanh-softmax"]
    weights = from_torch(source)
    back = to_torch(weights)
    assert from_torch(back).params == weights.params
    xs = samples(3)
    assert_close(torch_outputs(torch, back, xs), torch_outputs(torch, source, xs))
    assert_close(torch_outputs(torch, back, xs), nnsym_outputs(weights, xs))


@pytest.mark.parametrize(
    "arch, activation, output",
    [("2-3-1", "sigmoid", "sigmoid"), ("3-4-4-2", "leaky_relu", "identity")],
)
def test_to_torch_computes_what_nnsym_does(arch, activation, output):
    torch = need("torch")
    from nnsym.interop import to_torch

    spec = make_spec(arch, activation=activation, output_activation=output)
    rng = random.Random(7)
    weights = Weights(spec, tuple(rng.uniform(-2, 2) for _ in range(spec.n_params)))
    xs = samples(spec.arch[0])
    assert_close(
        torch_outputs(torch, to_torch(weights), xs), nnsym_outputs(weights, xs)
    )


@pytest.mark.parametrize(
    "layer, name",
    [
        (lambda nn: nn.BatchNorm1d(4), "layer 1 (BatchNorm1d)"),
        (lambda nn: nn.Conv1d(4, 4, 1), "layer 1 (Conv1d)"),
        (lambda nn: nn.LeakyReLU(0.2), "layer 1 (LeakyReLU)"),
        (lambda nn: nn.LogSoftmax(dim=1), "layer 1 (LogSoftmax)"),
    ],
)
def test_layers_nnsym_cannot_represent_are_refused_by_name(layer, name):
    torch = need("torch")
    from nnsym.interop import from_torch

    nn = torch.nn
    module = nn.Sequential(nn.Linear(2, 4), layer(nn), nn.Linear(4, 1))
    with pytest.raises(UsageError) as caught:
        from_torch(module)
    message = str(caught.value)
    assert "\n" not in message
    assert f"cannot import {name}" in message


def test_stacked_or_misplaced_activations_are_refused():
    torch = need("torch")
    from nnsym.interop import from_torch

    nn = torch.nn
    with pytest.raises(UsageError, match=r"layer 2 \(Sigmoid\): a second activation"):
        from_torch(nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Sigmoid()))
    with pytest.raises(UsageError, match=r"layer 0 \(Tanh\): an activation before"):
        from_torch(nn.Sequential(nn.Tanh(), nn.Linear(2, 2)))
    with pytest.raises(UsageError, match="softmax in a hidden layer"):
        from_torch(nn.Sequential(nn.Linear(2, 2), nn.Softmax(-1), nn.Linear(2, 1)))
    with pytest.raises(UsageError, match="mixes hidden activations"):
        from_torch(
            nn.Sequential(
                nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1)
            )
        )


def test_a_subclassed_activation_or_custom_module_is_refused():
    torch = need("torch")
    from nnsym.interop import from_torch

    nn = torch.nn

    class Sneaky(nn.ReLU):
        def forward(self, x):
            return x * 2

    with pytest.raises(UsageError, match=r"layer 1 \(Sneaky\)"):
        from_torch(nn.Sequential(nn.Linear(2, 2), Sneaky()))
    with pytest.raises(UsageError, match="not a Sneaky|cannot import a Sneaky"):
        from_torch(Sneaky())


def test_import_refuses_a_batch_norm_module_with_one_line(tmp_path, capsys):
    torch = need("torch")
    nn = torch.nn
    torch.save(
        nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Linear(4, 1)),
        tmp_path / "bn.pt",
    )
    status, _, err = run(
        capsys,
        "import",
        tmp_path / "bn.pt",
        "--trust-pickle",
        "-o",
        tmp_path / "m.json",
    )
    assert status == 2
    assert "layer 1 (BatchNorm1d)" in one_line_error(err)
    assert not (tmp_path / "m.json").exists()


def test_a_pickled_torch_module_needs_trust_pickle(tmp_path, capsys):
    torch = need("torch")
    source = make_torch_models(torch)["relu-sigmoid"]
    torch.save(source, tmp_path / "whole.pt")
    out = tmp_path / "m.json"
    status, _, err = run(capsys, "import", tmp_path / "whole.pt", "-o", out)
    assert status == 2
    assert "--trust-pickle" in one_line_error(err)
    assert not out.exists()
    status, _, err = run(
        capsys, "import", tmp_path / "whole.pt", "--trust-pickle", "-o", out
    )
    assert status == 0, err
    weights = load_weights(out)
    xs = samples(2)
    assert_close(nnsym_outputs(weights, xs), torch_outputs(torch, source, xs))


def test_a_torchscript_archive_is_refused(tmp_path, capsys):
    torch = need("torch")
    nn = torch.nn
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TorchScript is deprecated: still in use
        scripted = torch.jit.script(nn.Sequential(nn.Linear(2, 3), nn.Tanh()))
        torch.jit.save(scripted, tmp_path / "ts.pt")
    status, _, err = run(
        capsys,
        "import",
        tmp_path / "ts.pt",
        "--trust-pickle",
        "-o",
        tmp_path / "m.json",
    )
    assert status == 2
    assert "TorchScript" in one_line_error(err)


def test_a_state_dict_imports_with_its_activations_given(tmp_path, capsys):
    torch = need("torch")
    source = make_torch_models(torch)["tanh-softmax"]
    torch.save(source.state_dict(), tmp_path / "sd.pt")
    out = tmp_path / "m.json"
    status, _, err = run(capsys, "import", tmp_path / "sd.pt", "-o", out)
    assert status == 2
    assert "--output-activation" in one_line_error(err)
    status, _, err = run(
        capsys,
        "import",
        tmp_path / "sd.pt",
        "-o",
        out,
        "--arch",
        "3-5-4-2",
        "--activation",
        "tanh",
        "--output-activation",
        "softmax",
    )
    assert status == 2
    assert "does not match the state_dict" in one_line_error(err)
    status, _, err = run(
        capsys,
        "import",
        tmp_path / "sd.pt",
        "-o",
        out,
        "--arch",
        "3-5-4-3",
        "--activation",
        "tanh",
        "--output-activation",
        "softmax",
        "--classes",
        "a,b,c",
    )
    assert status == 0, err
    weights = load_weights(out)
    assert weights.classes == ("a", "b", "c")
    assert weights.spec.loss == "ce"
    xs = samples(3)
    assert_close(nnsym_outputs(weights, xs), torch_outputs(torch, source, xs))


# scikit-learn --------------------------------------------------------------


def fitted(kind, labels, hidden=(4,), activation="tanh", seed=0):
    need("sklearn")
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    rng = random.Random(seed)
    xs = samples(2, 60, seed)
    if kind == "regressor":
        ys = [[x[0] * x[1] + rng.gauss(0, 0.1), x[0] - x[1]] for x in xs]
        estimator = MLPRegressor(
            hidden_layer_sizes=hidden, activation=activation, max_iter=300
        )
    else:
        ys = [labels[(x[0] > 0) + (x[1] > 0) * (len(labels) - 2)] for x in xs]
        estimator = MLPClassifier(
            hidden_layer_sizes=hidden, activation=activation, max_iter=300
        )
    estimator.set_params(random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converged: irrelevant here
        estimator.fit(xs, ys)
    return estimator, xs, ys


@pytest.mark.parametrize(
    "labels, activation",
    [(["cat", "dog", "eel"], "relu"), ([3, 7, 9], "logistic")],
)
def test_from_sklearn_classifier_gives_predict_proba_and_labels(labels, activation):
    from nnsym.interop import from_sklearn

    estimator, xs, _ = fitted("classifier", labels, activation=activation)
    weights = from_sklearn(estimator)
    assert weights.classes == tuple(str(label) for label in labels)
    assert weights.spec.output_activation == "softmax"
    assert weights.spec.loss == "ce"
    assert_close(nnsym_outputs(weights, xs), estimator.predict_proba(xs).tolist())


@pytest.mark.parametrize("activation", ["tanh", "logistic"])
def test_a_binary_classifier_imports_as_its_one_logistic_output(activation):
    from nnsym.interop import from_sklearn

    estimator, xs, _ = fitted("classifier", ["no", "yes"], activation=activation)
    weights = from_sklearn(estimator)
    assert weights.spec.arch == (2, 4, 1)
    assert (weights.spec.output_activation, weights.spec.loss) == ("sigmoid", "bce")
    assert weights.classes == ("no", "yes")
    expected = [[p] for p in estimator.predict_proba(xs)[:, 1].tolist()]
    assert_close(nnsym_outputs(weights, xs), expected)
    predicted = [weights.label(outputs) for outputs in nnsym_outputs(weights, xs)]
    assert predicted == [str(label) for label in estimator.predict(xs)]
    assert len(set(predicted)) == 2


def test_a_binary_classifier_can_become_two_softmax_outputs():
    from nnsym.interop import from_sklearn

    estimator, xs, _ = fitted("classifier", ["no", "yes"])
    weights = from_sklearn(estimator, binary="softmax")
    assert weights.spec.arch == (2, 4, 2)
    assert (weights.spec.output_activation, weights.spec.loss) == ("softmax", "ce")
    assert weights.classes == ("no", "yes")
    assert_close(nnsym_outputs(weights, xs), estimator.predict_proba(xs).tolist())


def test_a_binary_import_predicts_and_exports_its_labels(tmp_path, monkeypatch, capsys):
    from nnsym.interop import from_sklearn

    monkeypatch.chdir(tmp_path)
    estimator, xs, _ = fitted("classifier", ["no", "yes"])
    save_weights(tmp_path / "m.json", from_sklearn(estimator))
    samples = [f"{x[0]!r},{x[1]!r}" for x in xs[:8]]
    status, out, _ = run(capsys, "predict", "--model", "m.json", "--", *samples)
    assert status == 0
    lines = out.splitlines()
    labels = [line.rsplit("(", 1)[1].rstrip(")") for line in lines]
    assert labels == [str(label) for label in estimator.predict(xs[:8])]
    assert run(capsys, "export", "--model", "m.json", "-o", "p.py", "-q")[0] == 0
    ran = subprocess.run(
        [sys.executable, "p.py", "--", *samples], capture_output=True, text=True
    )
    assert ran.returncode == 0
    assert [line.rsplit("(", 1)[1] for line in ran.stdout.splitlines()] == [
        line.rsplit("(", 1)[1] for line in lines
    ]


def test_from_sklearn_regressor_gives_predict():
    from nnsym.interop import from_sklearn

    estimator, xs, _ = fitted("regressor", None, hidden=(5, 3), activation="relu")
    weights = from_sklearn(estimator)
    assert weights.spec.arch == (2, 5, 3, 2)
    assert (weights.spec.output_activation, weights.spec.loss) == ("identity", "mse")
    assert_close(nnsym_outputs(weights, xs), estimator.predict(xs).tolist())


def test_sklearn_to_torch_continues_from_the_same_weights():
    torch = need("torch")
    from nnsym.interop import from_sklearn, to_torch

    estimator, xs, _ = fitted("classifier", ["a", "b", "c"])
    module = to_torch(from_sklearn(estimator))
    assert_close(torch_outputs(torch, module, xs), estimator.predict_proba(xs).tolist())


def test_other_estimators_and_unfitted_ones_are_refused():
    need("sklearn")
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    from nnsym.interop import from_sklearn

    with pytest.raises(UsageError, match="cannot import a LogisticRegression"):
        from_sklearn(LogisticRegression())
    with pytest.raises(UsageError, match="not fitted"):
        from_sklearn(MLPClassifier())


def test_a_sklearn_pickle_needs_trust_pickle_and_skops_does_not(tmp_path, capsys):
    need("sklearn")
    import joblib

    estimator, xs, _ = fitted("classifier", ["cat", "dog", "eel"])
    joblib.dump(estimator, tmp_path / "m.joblib")
    out = tmp_path / "m.json"
    status, _, err = run(capsys, "import", tmp_path / "m.joblib", "-o", out)
    assert status == 2
    assert "--trust-pickle" in one_line_error(err)
    assert not out.exists()
    status, _, err = run(
        capsys, "import", tmp_path / "m.joblib", "--trust-pickle", "-o", out
    )
    assert status == 0, err
    assert load_weights(out).classes == ("cat", "dog", "eel")

    skops_io = pytest.importorskip("skops.io", reason="skops is not installed")
    skops_io.dump(estimator, tmp_path / "m.skops")
    status, _, err = run(capsys, "import", tmp_path / "m.skops", "-o", out)
    assert status == 0, err
    weights = load_weights(out)
    assert_close(nnsym_outputs(weights, xs), estimator.predict_proba(xs).tolist())


# The imported weights everywhere a trained model goes ---------------------

NETWORK = ["--arch", "2-4-3", "--activation", "tanh", "--output-activation", "softmax"]


@pytest.fixture
def imported(tmp_path, monkeypatch):
    """A 3-class MLPClassifier imported with `nnsym import`, and its data."""
    from nnsym.interop import from_sklearn

    monkeypatch.chdir(tmp_path)
    estimator, xs, ys = fitted("classifier", ["cat", "dog", "eel"])
    save_weights(tmp_path / "m.json", from_sklearn(estimator))
    lines = ["a,b,label"] + [f"{x[0]!r},{x[1]!r},{y}" for x, y in zip(xs, ys)]
    (tmp_path / "data.csv").write_text("\n".join(lines) + "\n")
    return estimator, xs, ys


def test_imported_weights_predict_with_labels(imported, capsys):
    estimator, xs, _ = imported
    x = xs[0]
    status, out, _ = run(capsys, "predict", "--model", "m.json", f"{x[0]!r},{x[1]!r}")
    assert status == 0
    values, label = out.strip().split("  ")
    ours = [float(v) for v in values.split(", ")]
    assert_close([ours], estimator.predict_proba([x]).tolist())
    assert label == f"({estimator.predict([x])[0]})"


def test_imported_weights_export_to_python(imported, capsys):
    estimator, xs, _ = imported
    status, _, err = run(capsys, "export", "--model", "m.json", "-o", "imp.py")
    assert status == 0, err
    predictor = api.load_module(Path("imp.py"))
    assert_close(
        [predictor.predict(x) for x in xs], estimator.predict_proba(xs).tolist()
    )
    assert [predictor.classify(x) for x in xs] == estimator.predict(xs).tolist()


def test_imported_weights_export_to_onnx(imported, capsys):
    ort = need("onnxruntime")
    numpy = need("numpy")
    estimator, xs, _ = imported
    status, _, err = run(
        capsys, "export", "--model", "m.json", "--target", "onnx", "--dtype", "float64"
    )
    assert status == 0, err
    session = ort.InferenceSession("model.onnx", providers=["CPUExecutionProvider"])
    (theirs,) = session.run(None, {"x": numpy.array(xs, dtype="float64")})
    assert_close(theirs.tolist(), estimator.predict_proba(xs).tolist())


def test_imported_weights_check_and_graph(imported, capsys):
    status, out, err = run(
        capsys,
        "check",
        *NETWORK,
        "--loss",
        "ce",
        "--at",
        "weights=m.json,x=1,0,y=1,0,0",
    )
    assert status == 0, err + out
    status, out, err = run(
        capsys,
        "graph",
        *NETWORK,
        "--loss",
        "ce",
        "-o",
        "g.dot",
        "--at",
        "weights=m.json,x=1,0,y=1,0,0",
    )
    assert status == 0, err
    assert Path("g.dot").exists()


def test_imported_weights_continue_training(imported, capsys):
    estimator, xs, ys = imported
    from sklearn.metrics import log_loss

    # Zero epochs: the objective at the imported point is scikit-learn's log loss.
    status, out, err = run(
        capsys,
        "train",
        *NETWORK,
        "--loss",
        "ce",
        "--data",
        "data.csv",
        "--reduction",
        "mean",
        "--init",
        "m.json",
        "--epochs",
        "0",
    )
    assert status == 0, err
    expected = log_loss(ys, estimator.predict_proba(xs))
    assert f"final loss: {expected:.6g}" in out
    status, out, err = run(
        capsys,
        "train",
        *NETWORK,
        "--loss",
        "ce",
        "--data",
        "data.csv",
        "--init",
        "m.json",
        "--epochs",
        "5",
        "--save",
        "m2.json",
    )
    assert status == 0, err
    assert load_weights(Path("m2.json")).classes == ("cat", "dog", "eel")


# ONNX ----------------------------------------------------------------------


@pytest.mark.parametrize("dtype, tolerance", [("float32", 1e-6), ("float64", EXACT)])
@pytest.mark.parametrize(
    "arch, activation, output",
    [
        ("3-5-4-3", "tanh", "softmax"),
        ("2-4-1", "relu", "sigmoid"),
        ("2-3-2", "leaky_relu", "identity"),
    ],
)
def test_onnx_runtime_agrees_with_the_predictor(
    tmp_path, capsys, dtype, tolerance, arch, activation, output
):
    ort = need("onnxruntime")
    numpy = need("numpy")
    spec = make_spec(arch, activation=activation, output_activation=output)
    rng = random.Random(3)
    params = tuple(rng.uniform(-1.5, 1.5) for _ in range(spec.n_params))
    save_weights(tmp_path / "w.json", Weights(spec, params))
    assert (
        run(capsys, "export", "--model", tmp_path / "w.json", "-o", tmp_path / "p.py")[
            0
        ]
        == 0
    )
    predictor = api.load_module(tmp_path / "p.py")
    status, _, err = run(
        capsys,
        "export",
        "--model",
        tmp_path / "w.json",
        "--target",
        "onnx",
        "--dtype",
        dtype,
        "-o",
        tmp_path / "m.onnx",
    )
    assert status == 0, err
    session = ort.InferenceSession(
        str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"]
    )
    xs = samples(spec.arch[0], 40)
    (theirs,) = session.run(None, {"x": numpy.array(xs, dtype=dtype)})
    assert theirs.dtype == numpy.dtype(dtype)
    ours = [predictor.predict(x) for x in xs]
    for a_row, b_row in zip(ours, theirs.tolist()):
        for a, b in zip(a_row, b_row):
            assert abs(a - b) <= tolerance * max(1.0, abs(a)), (a, b)


def test_onnx_file_records_the_weights_and_is_not_written_over_foreign_files(
    tmp_path, capsys
):
    onnx = need("onnx")
    spec = make_spec("4-8-3", loss="ce")
    params = tuple(random.Random(0).uniform(-1, 1) for _ in range(spec.n_params))
    save_weights(tmp_path / "w.json", Weights(spec, params, ("a", "b", "c")))
    target = tmp_path / "m.onnx"
    argv = ["export", "--model", tmp_path / "w.json", "--target", "onnx", "-o", target]
    assert run(capsys, *argv)[0] == 0
    first = target.read_bytes()
    status, _, err = run(capsys, *argv)
    assert status == 0 and err.startswith("unchanged")
    assert target.read_bytes() == first  # same weights, same bytes
    model = onnx.load(str(target))
    props = {p.key: p.value for p in model.metadata_props}
    import hashlib

    digest = hashlib.sha256((tmp_path / "w.json").read_bytes()).hexdigest()
    assert props["nnsym.weights_sha256"] == digest
    assert digest in model.doc_string
    assert json.loads(props["nnsym.classes"]) == ["a", "b", "c"]
    assert model.opset_import[0].version == 17

    foreign = tmp_path / "other.onnx"
    foreign.write_bytes(b"not nnsym's")
    status, _, err = run(capsys, *argv[:-1], foreign)
    assert status == 1
    assert "--force" in one_line_error(err)
    assert foreign.read_bytes() == b"not nnsym's"
    assert run(capsys, *argv[:-1], foreign, "--force")[0] == 0


def test_dtype_is_only_for_onnx(tmp_path, capsys):
    spec = make_spec("2-1")
    save_weights(tmp_path / "w.json", Weights(spec, (0.0, 0.0, 0.0)))
    status, _, err = run(
        capsys, "export", "--model", tmp_path / "w.json", "--dtype", "float64"
    )
    assert status == 2
    assert "--target onnx" in one_line_error(err)


# Missing optional libraries -------------------------------------------------


@pytest.mark.parametrize(
    "modules, argv, extra",
    [
        (["torch"], ["import", "model.pt", "-o", "m.json"], "torch"),
        (["skops", "skops.io"], ["import", "model.skops", "-o", "m.json"], "sklearn"),
        (
            ["sklearn", "sklearn.neural_network"],
            ["import", "model.pkl", "--trust-pickle", "-o", "m.json"],
            "sklearn",
        ),
        (["onnx"], ["export", "--model", "w.json", "--target", "onnx"], "onnx"),
    ],
)
def test_a_missing_extra_is_one_line_and_status_1(
    tmp_path, capsys, monkeypatch, modules, argv, extra
):
    import zipfile

    monkeypatch.chdir(tmp_path)
    save_weights(tmp_path / "w.json", Weights(make_spec("2-1"), (0.0, 0.0, 0.0)))
    # Files that look like each format: the library is asked for before reading.
    with zipfile.ZipFile(tmp_path / "model.pt", "w") as archive:
        archive.writestr("model/data.pkl", b"")
    with zipfile.ZipFile(tmp_path / "model.skops", "w") as archive:
        archive.writestr("schema.json", b"{}")
    # A pickle naming a scikit-learn class (protocol 0: GLOBAL, then STOP).
    (tmp_path / "model.pkl").write_bytes(b"csklearn.neural_network\nMLPClassifier\n.")
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    status, _, err = run(capsys, *argv)
    assert status == 1, err
    assert f"pip install 'nnsym[{extra}]'" in one_line_error(err)


def test_missing_dependency_is_an_nnsym_error():
    from nnsym.interop import MissingDependencyError

    assert issubclass(MissingDependencyError, NnsymError)
    assert not issubclass(MissingDependencyError, UsageError)
