"""Adding a target is one record: a toy target (tests/toy_target.py, the forward
pass only) registered at run time generates through the public API and the
command line like the built-in ones, and computes the Python module's outputs.

This is what keeps docs/design.md's "How to add a target" true.
"""

from __future__ import annotations

import random
import shutil
import subprocess

import pytest

from nnsym import api
from nnsym.errors import UsageError
from nnsym.pipeline.spec import make_spec
from nnsym.targets import registry
from tests.helpers import REPO, module_for
from tests.toy_target import TOY

SPECS = [
    make_spec("2-2-1"),
    make_spec("3-4-2", activation="gelu", output_activation="elu", loss="mse"),
    make_spec("2-3-3", activation="cube=x**3/3", loss="ce"),
]


@pytest.fixture
def toy():
    registry.register(TOY)
    try:
        yield TOY
    finally:
        registry.unregister(TOY.name)


def run_toy(source: str) -> dict:
    namespace: dict = {}
    exec(compile(source, "toy.py", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_the_toy_target_computes_the_python_modules_forward_pass(toy, spec):
    source = api.source_for(spec, "toy")
    assert "--target toy" in source.splitlines()[0]
    forward = run_toy(source)["forward"]
    module = module_for(spec)
    rng = random.Random(7)
    for _ in range(5):
        params = [rng.uniform(-1, 1) for _ in range(spec.n_params)]
        x = [rng.uniform(-2, 2) for _ in range(spec.arch[0])]
        assert forward(params, x) == pytest.approx(
            module.forward(params, x), rel=1e-12, abs=1e-12
        )


def test_the_command_line_offers_and_writes_the_toy_target(
    toy, run_cli, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    spec = SPECS[0]
    output = tmp_path / "net.py"
    status, _, err = run_cli(
        ["generate", "--arch", "2-2-1", "--target", "toy", "-o", output]
    )
    assert status == 0, err
    assert output.read_text(encoding="utf-8") == api.source_for(spec, "toy")
    # Its default file is its record's, under generated/.
    assert api.default_path(spec, "toy").name == "mlp_2_2_1_forward.py"
    status, out, _ = run_cli(["generate", "--help"])
    words = " ".join(out.split())
    assert "toy (the forward pass only)" in words
    assert "{python,c,js,micropython,toy}" in words
    # What the record does not have, the command refuses: another form, a
    # number type, another language's suffix, an export.
    for args in (
        ["--form", "loops"],
        ["--dtype", "float32"],
        ["-o", tmp_path / "net.h"],
    ):
        status, _, err = run_cli(["generate", "--target", "toy", "-q", *args])
        assert status == 2 and err.count("\n") == 1, err
    assert (
        "toy has no loops form"
        in run_cli(["generate", "--target", "toy", "--form", "loops"])[2]
    )
    status, _, err = run_cli(["export", "--model", "m.json", "--target", "toy"])
    assert status == 2 and "invalid choice: 'toy'" in err


def test_without_the_record_there_is_no_toy_target(run_cli):
    assert "toy" not in registry.names()
    status, _, err = run_cli(["generate", "--target", "toy"])
    assert status == 2 and "invalid choice: 'toy'" in err
    with pytest.raises(UsageError, match="--target must be one of"):
        api.source_for(SPECS[0], "toy")


@pytest.mark.parametrize("name", registry.names())
def test_each_records_runner_accepts_its_file(name, tmp_path):
    """The records say how the tests compile or run each target's files."""
    record = registry.get(name)
    spec = make_spec("2-2-1")
    path = tmp_path / record.default_path_name(spec)
    path.write_text(api.source_for(spec, name), encoding="utf-8")
    ran = 0
    for runner in record.runners:
        tool = shutil.which(runner.tool)
        if tool is None or (runner.requires and not (REPO / runner.requires).exists()):
            continue
        command = [
            part.format(tool=tool, file=path, upper=spec.name.upper(), repo=REPO)
            for part in runner.command
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
        ran += 1
    if ran == 0:
        pytest.skip(f"none of {name}'s tools is installed")
