"""`nnsym export`: a standalone predictor that agrees with the generated module."""

from __future__ import annotations

import ast
import os
import random
import subprocess
import sys

import black
import pytest

from nnsym import api
from nnsym.cli import main
from nnsym.errors import NnsymError
from nnsym.models.export import export_predictor, predictor_source
from nnsym.models.weights import Weights, save_weights
from nnsym.pipeline.emit import BLACK_MODE
from nnsym.pipeline.spec import make_spec
from nnsym.pipeline.write import Existing, inspect_existing
from tests.helpers import REPO, load_module

SPECS = {
    "xor": make_spec("2-2-1"),
    "micrograd": make_spec("3-4-4-1", activation="tanh"),
    "softmax": make_spec("4-8-3", loss="ce"),
    "bce": make_spec("2-3-1", activation="relu", loss="bce"),
}


def weights_for(spec, seed=0, classes=None):
    rng = random.Random(seed)
    params = tuple(rng.uniform(-3, 3) for _ in range(spec.n_params))
    return Weights(spec, params, classes, {"lr": 0.5, "seed": seed})


@pytest.fixture(scope="module")
def modules(tmp_path_factory):
    folder = tmp_path_factory.mktemp("modules")
    loaded = {}
    for key, spec in SPECS.items():
        committed = REPO / "generated" / f"{spec.name}.py"
        if api.is_up_to_date(spec, committed):
            loaded[key] = load_module(committed)
        else:
            path = folder / f"{spec.name}.py"
            api.write_module(api.generate(spec), path)
            loaded[key] = load_module(path)
    return loaded


@pytest.mark.parametrize("key", sorted(SPECS))
def test_predictor_agrees_with_the_generated_module(tmp_path, modules, key):
    spec = SPECS[key]
    weights = weights_for(spec, classes=None)
    path = tmp_path / f"predict_{key}.py"
    assert export_predictor(weights, path)
    predictor = load_module(path)
    rng = random.Random(1)
    for _ in range(20):
        x = [rng.uniform(-4, 4) for _ in range(spec.arch[0])]
        assert predictor.predict(x) == modules[key].predict(list(weights.params), x)
    assert predictor.ARCH == spec.arch and predictor.LOSS == spec.loss


@pytest.mark.parametrize("key", sorted(SPECS))
def test_predictor_imports_only_the_standard_library(tmp_path, key):
    source = predictor_source(weights_for(SPECS[key]), tmp_path / "p.py")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    assert imported <= {"math", "sys"}


def test_predictor_runs_without_site_packages(tmp_path):
    path = tmp_path / "predictor.py"
    export_predictor(weights_for(SPECS["xor"]), path)
    result = subprocess.run(
        [sys.executable, "-I", "-S", str(path), "1,0", "0,0"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    predictor = load_module(path)
    expected = [repr(predictor.predict(x)[0]) for x in ((1, 0), (0, 0))]
    assert result.stdout.split() == expected
    bad = subprocess.run(
        [sys.executable, "-I", "-S", str(path), "1"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "expected 2 inputs" in bad.stderr


def test_predictor_is_black_formatted_and_marked_as_generated(tmp_path):
    path = tmp_path / "predictor.py"
    export_predictor(weights_for(SPECS["softmax"]), path)
    text = path.read_text()
    body = text.split("\n", 3)[3]
    assert black.format_str(body, mode=BLACK_MODE) == body
    assert inspect_existing(path) is Existing.GENERATED


def test_parameters_round_trip_exactly(tmp_path):
    weights = weights_for(SPECS["micrograd"], seed=3)
    path = tmp_path / "predictor.py"
    export_predictor(weights, path)
    assert load_module(path).PARAMS == weights.params


def test_export_is_deterministic_across_hash_seeds(tmp_path):
    weights = weights_for(SPECS["softmax"], classes=("a", "b", "c"))
    save_weights(tmp_path / "m.json", weights)
    outputs = []
    for hash_seed in ("0", "12345"):
        folder = tmp_path / f"seed{hash_seed}"
        folder.mkdir()
        subprocess.run(
            [sys.executable, "-m", "nnsym", "export", "--model", "../m.json", "-q"],
            cwd=folder,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO)},
        )
        outputs.append((folder / "predictor.py").read_bytes())
    assert outputs[0] == outputs[1]


def test_classes_are_data_not_code(tmp_path):
    hostile = ('"""; import os #', "a\nb", "x')\nprint('owned")
    weights = weights_for(SPECS["softmax"], classes=hostile)
    path = tmp_path / "predictor.py"
    export_predictor(weights, path)
    predictor = load_module(path)
    assert predictor.CLASSES == hostile
    x = [0.5, -1, 2, 0]
    outputs = predictor.predict(x)
    assert predictor.classify(x) == hostile[outputs.index(max(outputs))]
    assert "import os" not in path.read_text().replace('\'"""; import os #\'', "")


def test_hostile_training_metadata_stays_out_of_the_code(tmp_path):
    weights = Weights(
        SPECS["xor"],
        weights_for(SPECS["xor"]).params,
        None,
        {"optimizer": '"""\nimport os\n"""', "lr": "1; import os", "seed": 3},
    )
    source = predictor_source(weights, tmp_path / "p.py")
    assert "import os" not in source
    assert "seed 3" in source


def test_export_cli_refuses_a_foreign_file_and_bad_models(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    save_weights(tmp_path / "m.json", weights_for(SPECS["xor"]))
    (tmp_path / "predictor.py").write_text("# hand written\n")
    assert main(["export", "--model", "m.json"]) == 1
    assert "not generated by nnsym" in capsys.readouterr().err
    assert (tmp_path / "predictor.py").read_text() == "# hand written\n"
    assert main(["export", "--model", "m.json", "--force"]) == 0
    assert inspect_existing(tmp_path / "predictor.py") is Existing.GENERATED
    (tmp_path / "bad.json").write_text('{"format": "nnsym-weights"')
    assert main(["export", "--model", "bad.json", "-o", "other.py"]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert not (tmp_path / "other.py").exists()


def test_an_edited_predictor_is_not_overwritten(tmp_path):
    path = tmp_path / "predictor.py"
    export_predictor(weights_for(SPECS["xor"]), path)
    path.write_text(path.read_text() + "\n# my change\n")
    with pytest.raises(NnsymError, match="edited"):
        export_predictor(weights_for(SPECS["xor"], seed=1), path)
