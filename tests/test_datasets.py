"""The shipped iris and digits data sets, and held-out test splits."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nnsym.errors import UsageError
from nnsym.models.data import DATASETS_DIR, builtin_names, load_data, split_dataset
from nnsym.models.training import TrainingSettings, plan_training, run_training
from nnsym.pipeline.spec import make_spec
from tests.helpers import REPO, module_for


def test_iris_and_digits_are_built_in_with_their_licence():
    assert {"iris", "digits"} <= set(builtin_names())
    readme = (DATASETS_DIR / "README.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in readme and "archive.ics.uci.edu" in readme
    iris = load_data("iris", make_spec("4-5-3", loss="ce"))
    assert len(iris) == 150 and iris.classes == ("setosa", "versicolor", "virginica")
    assert sum(y[0] for y in iris.ys) == 50
    digits = load_data("digits", make_spec("64-10", loss="ce"))
    assert len(digits) == 1797 and len(digits.xs[0]) == 64
    assert digits.classes == tuple(str(d) for d in range(10))
    pixels = [v for x in digits.xs for v in x]
    assert min(pixels) == 0.0 and max(pixels) == 1.0  # counts 0..16, scaled


def test_packaged_sets_say_what_network_fits():
    with pytest.raises(UsageError, match="64 inputs"):
        load_data("digits", make_spec("4-3", loss="ce"))
    with pytest.raises(UsageError, match="--loss ce"):
        load_data("iris", make_spec("4-3-1"))
    with pytest.raises(UsageError, match="3 classes"):
        load_data("iris", make_spec("4-5-2", loss="ce"))


def test_split_is_seeded_disjoint_and_complete():
    data = load_data("iris", make_spec("4-5-3", loss="ce"))
    train, test = split_dataset(data, 0.2, seed=0)
    assert (len(train), len(test)) == (120, 30)
    assert sorted(train.xs + test.xs) == sorted(data.xs)
    assert split_dataset(data, 0.2, seed=0)[1].xs == test.xs
    assert split_dataset(data, 0.2, seed=1)[1].xs != test.xs
    with pytest.raises(UsageError, match="test-split"):
        split_dataset(data, 0.001, seed=0)


def test_digits_held_out_accuracy():
    # A short run (the documented command trains longer and reaches over 95%).
    spec = make_spec("64-32-10", loss="ce", form="loops")
    settings = TrainingSettings(
        lr=0.5, epochs=8, batch_size=32, reduction="mean", optimizer="sgd"
    )
    plan = plan_training(spec, "digits", settings, seed=0, test_split=0.2)
    assert len(plan.dataset) == 1438 and len(plan.test) == 359
    module = module_for(spec)
    result = run_training(module, plan)
    share = module.accuracy(result.params, list(plan.test.xs), list(plan.test.ys))
    assert share >= 0.9


def test_train_command_reports_test_accuracy(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "nnsym",
            "train",
            "--arch",
            "4-6-3",
            "--loss",
            "ce",
            "--data",
            "iris",
            "--test-split",
            "0.2",
            "--seed",
            "0",
            "--epochs",
            "200",
            "--lr",
            "0.05",
            "--optimizer",
            "adam",
            "--reduction",
            "mean",
            "--form",
            "loops",
            "-o",
            str(tmp_path / "iris.py"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    assert "over 120 samples" in result.stdout
    assert "test accuracy:" in result.stdout and "of 30)" in result.stdout
