"""The Python API does what `nnsym train` does: same files, same numbers."""

from __future__ import annotations

import json

import pytest

from nnsym import api
from nnsym.cli import main
from nnsym.errors import UsageError
from nnsym.models.weights import load_weights

SETTINGS = {"lr": 0.5, "epochs": 300, "optimizer": "momentum", "batch_size": 2}


def test_api_train_saves_the_file_the_command_line_saves(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    status = main(
        ["train", "--arch", "2-3-1", "--data", "xor", "--seed", "7", "-q"]
        + ["--lr", "0.5", "--epochs", "300", "--optimizer", "momentum"]
        + ["--batch-size", "2", "--save", "cli.json"]
    )
    assert status == 0, capsys.readouterr().err
    trained = api.train(
        api.make_spec("2-3-1"),
        "xor",
        api.TrainingSettings(**SETTINGS),
        seed=7,
        output=tmp_path / "api" / "module.py",
    )
    trained.save(tmp_path / "api.json")
    cli = json.loads((tmp_path / "cli.json").read_text())
    assert json.loads((tmp_path / "api.json").read_text()) == cli
    assert trained.final_loss == cli["training"]["final_loss"]
    assert trained.result.epochs_run == 300
    assert (tmp_path / "api" / "module.py").is_file()


def test_api_train_refuses_before_writing_anything(tmp_path):
    with pytest.raises(UsageError, match="finite"):
        api.TrainingSettings(target_loss=float("inf"))
    with pytest.raises(UsageError, match="--optimizer 'rmsprop' is not one of"):
        api.TrainingSettings(optimizer="rmsprop")
    with pytest.raises(UsageError, match="inputs per sample"):
        api.train(api.make_spec("3-1"), "xor", output=tmp_path / "m.py")
    assert list(tmp_path.iterdir()) == []


def test_api_functions_take_paths_as_plain_strings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = api.make_spec("2-1")
    assert api.write_module(api.generate(spec), "net.py")
    assert api.is_up_to_date(spec, "net.py")
    assert api.load_module("net.py").N_PARAMS == 3
    trained = api.train(spec, "and", api.TrainingSettings(lr=1.0, epochs=5), seed=0)
    trained.save("and.json")
    weights = load_weights("and.json")
    assert weights.params == tuple(trained.result.params)
    assert api.export_predictor(weights, "predictor.py")
    assert api.module_for_weights(weights, "and.json").N_PARAMS == 3
