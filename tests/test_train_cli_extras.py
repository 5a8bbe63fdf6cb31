"""`nnsym train`'s weight decay, Nesterov, schedules, clipping and early stopping."""

from __future__ import annotations

import json

import pytest

from nnsym import api
from nnsym.cli import main
from tests.helpers import run_cli_in_process

IRIS = ["--data", "iris", "--arch", "4-5-3", "--loss", "ce", "--seed", "3"]
IRIS += ["--optimizer", "adam", "--lr", "0.05", "--reduction", "mean"]


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *argv):
    return run_cli_in_process(list(argv), capsys)


def test_early_stopping_keeps_the_best_epoch_and_says_so(in_tmp, capsys):
    status, out, err = run(
        capsys,
        "train",
        *IRIS,
        "--epochs",
        "2000",
        "--test-split",
        "0.2",
        "--validation-split",
        "0.25",
        "--patience",
        "10",
        "--save",
        "m.json",
    )
    assert status == 0, err
    # 150 rows: 30 for testing, then a quarter of the 120 left for validation.
    line = next(x for x in out.splitlines() if x.startswith("validation loss: "))
    assert "(mean of ce over 30 validation samples), lowest after epoch " in line
    kept, run_for = (
        int(n) for n in line.split("epoch ")[1].split(",")[0].split(" of ")
    )
    assert run_for == kept + 10 < 2000
    assert "final loss: " in out and "over 90 samples" in out
    assert "stopped early: no lower validation loss in 10 epochs" in out
    training = json.loads((in_tmp / "m.json").read_text())["training"]
    assert training["epochs_kept"] == kept and training["epochs_run"] == run_for
    assert training["validation_split"] == 0.25 and training["patience"] == 10
    # The same split and a run of exactly `kept` epochs give the same parameters.
    status, _, err = run(
        capsys,
        "train",
        *IRIS,
        "--epochs",
        str(kept),
        "--test-split",
        "0.2",
        "--validation-split",
        "0.25",
        "--save",
        "again.json",
    )
    assert status == 0, err
    again = json.loads((in_tmp / "again.json").read_text())
    assert again["params"] == json.loads((in_tmp / "m.json").read_text())["params"]
    assert again["training"]["epochs_kept"] == kept


@pytest.mark.parametrize(
    "options, recorded",
    [
        (["--weight-decay", "0.01"], {"weight_decay": 0.01}),
        (["--optimizer", "momentum", "--nesterov"], {"nesterov": True}),
        (
            ["--lr-schedule", "step", "--lr-step-size", "5", "--lr-gamma", "0.5"],
            {"lr_schedule": "step", "lr_step_size": 5, "lr_gamma": 0.5},
        ),
        (["--lr-schedule", "cosine", "--lr-min", "0.01"], {"lr_min": 0.01}),
        (
            ["--lr-schedule", "plateau", "--lr-patience", "1", "--lr", "8"],
            {"lr_schedule": "plateau", "lr_patience": 1},
        ),
        (["--clip-grad-norm", "0.05"], {"clip_grad_norm": 0.05}),
    ],
)
def test_each_option_reaches_the_trainer_and_the_weights_file(
    in_tmp, capsys, options, recorded
):
    common = ["train", "--data", "xor", "--epochs", "40", "--seed", "0"]
    # The same run without the option: --optimizer and --lr kept.
    base = [
        text
        for i in range(0, len(options) - 1)
        if options[i] in ("--optimizer", "--lr")
        for text in options[i : i + 2]
    ]
    status, plain, err = run(capsys, *common, *base, "--save", "plain.json")
    assert status == 0, err
    status, out, err = run(capsys, *common, *options, "--save", "m.json")
    assert status == 0, err
    training = json.loads((in_tmp / "m.json").read_text())["training"]
    assert {key: training[key] for key in recorded} == recorded
    plain_params = json.loads((in_tmp / "plain.json").read_text())["params"]
    assert json.loads((in_tmp / "m.json").read_text())["params"] != plain_params


@pytest.mark.parametrize(
    "options, message",
    [
        (["--weight-decay", "-1"], "--weight-decay"),
        (["--nesterov"], "--nesterov is for --optimizer momentum"),
        (["--lr-schedule", "linear"], "--lr-schedule"),
        (["--lr-schedule", "step"], "--lr-schedule step needs --lr-step-size"),
        (["--lr-step-size", "5"], "--lr-step-size is for --lr-schedule step"),
        (
            ["--lr-schedule", "cosine", "--lr-gamma", "0.5"],
            "--lr-gamma is for --lr-schedule step or plateau, not cosine",
        ),
        (["--lr-schedule", "plateau", "--lr-gamma", "0"], "--lr-gamma must be"),
        (["--clip-grad-norm", "0"], "--clip-grad-norm"),
        (["--validation-split", "1"], "--validation-split"),
        (["--patience", "3"], "--patience counts epochs"),
        (["--validation-split", "0.2", "--patience", "0"], "--patience"),
        (["--validation-split", "0.9"], "--validation-split 0.9 of 4 samples"),
        (
            ["--optimizer", "lbfgs", "--clip-grad-norm", "1"],
            "--clip-grad-norm is for sgd, momentum and adam",
        ),
        (
            ["--optimizer", "lm", "--validation-split", "0.25"],
            "--validation-split is for sgd, momentum and adam",
        ),
        (
            ["--engine", "c", "--weight-decay", "0.1", "--lr-schedule", "cosine"]
            + ["--validation-split", "0.25"],
            "--engine c's trainer has no --lr-schedule, --validation-split",
        ),
    ],
)
def test_bad_values_are_one_line_exit_2_and_write_nothing(
    in_tmp, capsys, options, message
):
    try:
        status = main(["train", "--data", "xor", "--save", "m.json", *options])
    except SystemExit as error:  # argparse refuses some of them
        status = error.code
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and message in err, err
    assert list(in_tmp.iterdir()) == []


def test_the_engine_records_name_the_options_their_trainers_have():
    for name in api.registry.engines():
        engine = api.registry.engine(name)
        if engine is not None:
            assert set(engine.options) <= {
                flag for _, flag, _ in api.EXTRA_OPTIONS
            }, name
