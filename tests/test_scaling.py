"""Input scaling: fitted on the training rows, folded into layer 1, raw inputs after."""

from __future__ import annotations

import json
import math
import random

import pytest

from nnsym.models import scaling
from nnsym.pipeline.spec import make_spec
from tests.helpers import REPO, module, run_cli_process


def _rows(count=30, seed=0):
    rng = random.Random(seed)
    # Raw features of very different sizes, and a constant column.
    return [
        (rng.uniform(0, 1000), rng.gauss(-3, 0.01), 7.0, rng.uniform(-1, 1))
        for _ in range(count)
    ]


@pytest.mark.parametrize("method", ["standard", "minmax"])
def test_fitted_scaling_matches_scikit_learn_and_spares_constant_columns(method):
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    rows = _rows()
    fitted = scaling.fit_scaling(method, rows)
    reference = (
        preprocessing.StandardScaler()
        if method == "standard"
        else preprocessing.MinMaxScaler()
    ).fit(rows)
    ours = [fitted.apply(x) for x in rows]
    theirs = reference.transform(rows).tolist()
    for a, b in zip(ours, theirs, strict=True):
        assert a == pytest.approx(b, abs=1e-9)
    assert fitted.scale[2] == 1.0 and all(math.isfinite(v) for r in ours for v in r)


def test_folded_parameters_take_raw_inputs():
    spec = make_spec("4-3-2", loss="ce")
    m = module("4-3-2", loss="ce")
    rows = _rows()
    fitted = scaling.fit_scaling("standard", rows)
    params = m.init_params(2)
    raw = scaling.fold(spec, params, fitted)
    for x in rows:
        assert m.forward(raw, x) == pytest.approx(m.forward(params, fitted.apply(x)))
    back = scaling.unfold(spec, raw, fitted)
    assert back == pytest.approx(params, rel=1e-12, abs=1e-12)


def test_train_scales_a_csv_by_default_and_saves_a_raw_input_model(tmp_path):
    rng = random.Random(1)
    lines = ["size,offset,label"]
    for _ in range(40):
        size, offset = rng.uniform(0, 5000), rng.uniform(-1, 1)
        lines.append(f"{size},{offset},{'big' if size > 2500 else 'small'}")
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    args = ["train", "--arch", "2-4-2", "--loss", "ce", "--data", "d.csv"]
    args += ["--optimizer", "lm", "--epochs", "50", "--seed", "0"]
    ran = run_cli_process([*args, "--save", "m.json"], cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "inputs scaled (standard" in ran.stderr
    saved = json.loads((tmp_path / "m.json").read_text())
    record = saved["training"]["input_scaling"]
    assert record["method"] == "standard" and len(record["offset"]) == 2
    # predict takes raw inputs.
    for sample, label in (("4900,0", "big"), ("100,0", "small")):
        out = run_cli_process(["predict", "--model", "m.json", sample], cwd=tmp_path)
        assert out.returncode == 0 and f"({label})" in out.stdout, out.stdout
    raw = run_cli_process([*args, "--scale", "none"], cwd=tmp_path)
    assert raw.returncode == 0 and "inputs scaled" not in raw.stderr


DOCUMENTED_IRIS = (
    "nnsym train --arch 4-8-3 --loss ce --data iris.csv --lr 0.05 --epochs 500 "
    "--save iris.json"
)


def test_the_documented_iris_command_learns(tmp_path):
    # docs/data-and-weights.md's command, on the packaged iris set as a CSV file.
    docs = (REPO / "docs" / "data-and-weights.md").read_text(encoding="utf-8")
    assert DOCUMENTED_IRIS in docs
    from nnsym.models.data import load_data

    iris = load_data("iris", make_spec("4-8-3", loss="ce"))
    lines = [",".join(iris.input_names) + ",species"]
    for x, y in zip(iris.xs, iris.ys, strict=True):
        lines.append(",".join(map(repr, x)) + "," + iris.classes[y.index(1.0)])
    (tmp_path / "iris.csv").write_text("\n".join(lines) + "\n")
    ran = run_cli_process([*DOCUMENTED_IRIS.split()[1:], "--seed", "0"], cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    accuracy = float(ran.stdout.split("accuracy: ")[1].split("%")[0])
    assert accuracy >= 95, ran.stdout
