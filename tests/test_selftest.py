"""`python module.py --selftest`: passes on generated files, fails on broken ones."""

from __future__ import annotations

import random
import re

import pytest

from nnsym import api
from nnsym.models.export import export_predictor
from nnsym.models.weights import Weights
from nnsym.pipeline.spec import make_spec
from tests.helpers import REPO, module_for, run_python

SPECS = [
    make_spec("2-1"),
    make_spec("2-2-1"),
    make_spec("3-4-4-1", activation="tanh"),
    make_spec("4-8-3", loss="ce"),
    make_spec("2-3-1", activation="relu", loss="bce"),
    make_spec("3-5-2", activation="leaky_relu", loss="mse"),
    make_spec("2-3-2", output_activation="softmax", loss="ce"),
    make_spec("6-12-1"),
]


@pytest.fixture
def module_file(tmp_path):
    """A copy of a spec's generated module in tmp_path."""

    def make(spec):
        path = tmp_path / f"{spec.name}.py"
        path.write_text(api.generate(spec).source, encoding="utf-8")
        return path

    return make


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_selftest_passes_on_generated_modules(spec):
    lines = []
    assert module_for(spec).selftest(write=lines.append)
    assert lines[-1] == "selftest passed"
    # A header and one row per point.
    assert len(lines) == 1 + 3 + 1


def test_large_module_checks_a_spread_of_parameters():
    module = module_for(make_spec("6-12-1"))
    assert module.N_PARAMS > len(module._CHECKED) >= 30
    assert module._CHECKED[0] == 0 and module._CHECKED[-1] == module.N_PARAMS - 1


@pytest.mark.parametrize("path", sorted((REPO / "generated").glob("*.py")), ids=str)
def test_committed_modules_pass_their_selftest_as_scripts(path):
    result = run_python(path, "--selftest")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("selftest passed")


def test_selftest_without_the_flag_prints_usage(module_file):
    result = run_python(module_file(make_spec("2-1")), "--help")
    assert result.returncode == 2 and "usage:" in result.stderr


def test_corrupt_reference_value_fails(module_file):
    path = module_file(make_spec("2-2-1"))
    text = path.read_text(encoding="utf-8")
    tail = text.index("_REFERENCE_POINTS = (")
    # The first gradient reference of the first point, changed in its 9th digit.
    match = re.compile(r"(-?0\.\d{8})(\d)").search(text, text.index("(\n", tail + 30))
    digit = str((int(match.group(2)) + 5) % 10)
    path.write_text(text[: match.start(2)] + digit + text[match.end(2) :])
    result = run_python(path, "--selftest")
    assert result.returncode == 1, result.stdout
    assert "FAILED" in result.stdout


@pytest.mark.parametrize(
    "spec, line, broken",
    [
        (make_spec("2-2-1"), "        delta1_0 * x1,\n", "        delta1_0 * x0,\n"),
        (
            make_spec("2-2-1"),
            "        a1_1 * delta2_0,\n",
            "        a1_0 * delta2_0,\n",
        ),
        (
            make_spec("3-4-4-1", activation="tanh"),
            "    delta3_0 = ",
            "    delta3_0 = 1.001 * ",
        ),
    ],
)
def test_corrupt_gradient_line_fails(module_file, spec, line, broken):
    path = module_file(spec)
    text = path.read_text(encoding="utf-8")
    start = text.index("def loss_and_grad(")
    assert line in text[start:]
    position = text.index(line, start)
    path.write_text(text[:position] + broken + text[position + len(line) :])
    result = run_python(path, "--selftest")
    assert result.returncode == 1, result.stdout
    assert "selftest FAILED" in result.stdout


# --- the exported predictor ------------------------------------------------------


def _export(tmp_path, spec):
    rng = random.Random(3)
    params = tuple(rng.uniform(-2, 2) for _ in range(spec.n_params))
    path = tmp_path / "predictor.py"
    export_predictor(Weights(spec, params, None, {}), path)
    return path


@pytest.mark.parametrize("spec", SPECS[:5], ids=lambda s: s.name)
def test_predictor_selftest_passes(tmp_path, spec):
    result = run_python(_export(tmp_path, spec), "--selftest")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("selftest passed")


def test_predictor_with_a_corrupt_parameter_fails_its_selftest(tmp_path):
    path = _export(tmp_path, make_spec("2-2-1"))
    text = path.read_text(encoding="utf-8")
    match = re.search(r"\n    (-?\d\.\d+),  # w2_0_1\n", text)
    value = float(match.group(1))
    path.write_text(text.replace(match.group(1), repr(value * (1 + 1e-6)), 1))
    result = run_python(path, "--selftest")
    assert result.returncode == 1 and "selftest FAILED" in result.stdout


def test_a_module_from_the_command_line_checks_itself(
    tmp_path, run_cli_process, load_module
):
    result = run_cli_process(["generate", "--arch", "3-2-2", "--loss", "ce"], tmp_path)
    assert result.returncode == 0, result.stderr
    path = tmp_path / "generated" / "mlp_3_2_2_softmax_ce.py"
    assert run_python(path, "--selftest").returncode == 0
    lines = []
    assert load_module(path).selftest(write=lines.append)
    assert lines[-1] == "selftest passed"


# --- the loop form -----------------------------------------------------------------

LOOP_SPECS = [
    make_spec("2-3-1", form="loops"),
    make_spec("3-4-3", loss="ce", form="loops"),
    make_spec(
        "2-3-2", activation="gelu", output_activation="softmax", loss="ce", form="loops"
    ),
    make_spec("3-4-1", activation="cube=x**3/3", loss="mse", form="loops"),
]


@pytest.mark.parametrize("spec", LOOP_SPECS, ids=lambda s: s.name)
def test_loop_form_selftest_passes_with_reference_values(spec):
    module = module_for(spec)
    lines = []
    assert module.selftest(write=lines.append)
    assert lines[-1] == "selftest passed"
    assert len(lines) == 1 + 3 + 1
    # The same points and reference values as the unrolled form's.
    unrolled = module_for(make_spec(spec.option("arch"), **_unrolled_options(spec)))
    assert module._CHECKED == unrolled._CHECKED
    assert module._REFERENCE_POINTS == unrolled._REFERENCE_POINTS


def _unrolled_options(spec):
    return {
        key: spec.option(key) for key in ("activation", "output_activation", "loss")
    }


def _break_loop_gradient(path):
    text = path.read_text(encoding="utf-8")
    start = text.index("def loss_and_grad(")
    line = "        grads.append(d)\n"
    position = text.index(line, start)
    broken = "        grads.append(1.001 * d)\n"
    path.write_text(text[:position] + broken + text[position + len(line) :])


@pytest.mark.parametrize("spec", LOOP_SPECS[1:], ids=lambda s: s.name)
def test_loop_form_with_a_corrupt_gradient_line_fails(module_file, spec):
    path = module_file(spec)
    assert run_python(path, "--selftest").returncode == 0
    _break_loop_gradient(path)
    result = run_python(path, "--selftest")
    assert result.returncode == 1, result.stdout
    assert "selftest FAILED" in result.stdout


def test_large_loop_form_checks_central_differences_only(tmp_path, monkeypatch):
    from nnsym.targets import python as build

    monkeypatch.setattr(build, "LOOPS_REFERENCE_MAX_PARAMS", 10)
    path = tmp_path / "large.py"
    path.write_text(api.generate(LOOP_SPECS[1]).source, encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    assert "central differences only" in text[text.index("def selftest(") :]
    result = run_python(path, "--selftest")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "central differences only" in result.stdout
    assert result.stdout.strip().endswith("selftest passed")
    _break_loop_gradient(path)
    result = run_python(path, "--selftest")
    assert result.returncode == 1 and "selftest FAILED" in result.stdout
