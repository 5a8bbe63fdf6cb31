"""`train --engine c` end to end: the report from C, the cache of compiled trainers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sympy

from nnsym.errors import NnsymError, UsageError
from nnsym.models.data import load_data
from nnsym.models.training import Trained, objective
from nnsym.pipeline.loops import build_loop_program
from nnsym.pipeline.spec import make_spec
from nnsym.targets import ccache, cengine, cmodule, source_for
from nnsym.targets.cengine import load_trainer
from nnsym.targets.cmodule import CEngine, c_engine, start_c_engine
from tests.helpers import module_for

pytestmark = pytest.mark.skipif(
    shutil.which("gcc") is None, reason="gcc is not installed"
)
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def cache(tmp_path: Path, monkeypatch) -> Path:
    """A cache folder of this test's own."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(ccache.CACHE_ENV, str(folder))
    return folder


class _NoPython:
    """A module whose numbers must not be asked for: the report comes from C."""

    def __init__(self, module) -> None:
        self.module = module

    def __getattr__(self, name: str):
        if name in ("loss", "forward", "predict", "accuracy", "loss_and_grad"):
            raise AssertionError(f"the Python module's {name} was called")
        return getattr(self.module, name)


def test_report_losses_and_accuracy_come_from_the_c_trainer(cache: Path):
    spec = make_spec("4-5-3", loss="ce", form="loops")
    module = module_for(spec)
    plan_data = load_data("iris", spec)
    engine = CEngine(_NoPython(module), load_trainer(spec, source_for(spec, "c")))
    params = module.init_params(1)
    xs, ys = list(plan_data.xs), list(plan_data.ys)
    # C's numbers, the Python module's to rounding (an independent derivation
    # is tested in test_target_c; here: the report asks C, and C agrees).
    c_losses = engine.losses(params, xs, ys)
    py_losses = [module.loss(params, x, y) for x, y in zip(xs, ys)]
    assert len(c_losses) == len(xs)
    assert all(
        abs(a - b) <= 1e-12 * max(1, abs(b)) for a, b in zip(c_losses, py_losses)
    )
    assert engine.accuracy(params, xs, ys) == module.accuracy(params, xs, ys)
    assert engine.predict(params, xs[0]) == pytest.approx(
        module.predict(params, xs[0]), rel=1e-13
    )
    for reduction in ("sum", "mean"):
        assert objective(engine, params, plan_data, reduction) == pytest.approx(
            objective(module, params, plan_data, reduction), rel=1e-12
        )


def test_a_whole_run_reports_without_the_python_module(cache: Path):
    from nnsym import api

    spec = make_spec("4-3-3", loss="ce", form="loops")
    module = module_for(spec)
    plan = api.plan_training(spec, "iris", api.TrainingSettings(epochs=5), seed=0)
    engine = CEngine(_NoPython(module), load_trainer(spec, source_for(spec, "c")))
    trained = Trained.from_run(plan, engine, api.run_training(engine, plan))
    text = trained.report()
    assert "final loss:" in text and "accuracy:" in text
    python = Trained.from_run(plan, module, api.run_training(module, plan))
    assert trained.final_loss == pytest.approx(python.final_loss, rel=1e-10)


def test_the_loop_program_never_builds_sympy_max(monkeypatch):
    # SymPy's Max compares every pair of its arguments: 1.4 s for ce over 10
    # outputs, and the loop program never evaluates it.
    def refuse(*args, **kwargs):
        raise AssertionError("Max was built")

    monkeypatch.setattr(sympy, "Max", refuse)
    program = build_loop_program(make_spec("3-4-10", loss="ce", form="loops"))
    assert program.layers[-1].softmax


def test_a_compiled_trainer_is_reused_from_the_cache(cache: Path, monkeypatch):
    spec = make_spec("2-3-1", form="loops")
    source = source_for(spec, "c")
    first = load_trainer(spec, source)
    (library,) = cache.glob("*.so")
    assert library.name.startswith(spec.name + "-")
    assert not [p for p in cache.iterdir() if p.name.startswith(".build-")]

    def refuse(*args, **kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(cengine, "compile_shared", refuse)
    second = load_trainer(spec, source)
    assert second.forward(second.init_params(3), [0.5, -1]) == first.forward(
        first.init_params(3), [0.5, -1]
    )
    # Another source (another learning problem) is another library.
    monkeypatch.undo()
    monkeypatch.setenv(ccache.CACHE_ENV, str(cache))
    load_trainer(spec, source.replace("Loop form", "Loop form "))
    assert len(list(cache.glob("*.so"))) == 2


def test_a_trainer_asked_for_by_its_network_is_not_generated_again(
    cache: Path, monkeypatch
):
    spec = make_spec("2-3-1", form="loops")
    written = []

    def write() -> str:
        written.append(spec.name)
        return source_for(spec, "c")

    first = load_trainer(spec, write)
    second = load_trainer(spec, write)
    assert written == [spec.name]
    assert second.init_params(1) == first.init_params(1)
    # Another network, or any change to nnsym's own files, is generated anew.
    other = make_spec("2-4-1", form="loops")
    load_trainer(other, lambda: written.append(0) or source_for(other, "c"))
    monkeypatch.setattr(cengine, "generator_fingerprint", lambda: "edited")
    load_trainer(spec, write)
    assert written == [spec.name, 0, spec.name]


def test_the_generator_fingerprint_covers_the_templates():
    # Computed from the files, the same every time, and without SymPy or Jinja.
    assert ccache.generator_fingerprint() == ccache.generator_fingerprint()
    assert len(ccache.generator_fingerprint()) == 64


def test_the_cache_key_covers_source_compiler_and_flags():
    compiler = shutil.which("gcc")
    assert compiler is not None
    key = ccache.cache_key("int x;", compiler, ("-O2",))
    assert key == ccache.cache_key("int x;", compiler, ("-O2",))
    assert key != ccache.cache_key("int y;", compiler, ("-O2",))
    assert key != ccache.cache_key("int x;", compiler, ("-O3",))
    clang = shutil.which("clang")
    if clang is not None:
        assert key != ccache.cache_key("int x;", clang, ("-O2",))


def test_the_cache_folder_follows_xdg_and_the_override(monkeypatch, tmp_path: Path):
    monkeypatch.delenv(ccache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert ccache.cache_dir() == tmp_path / "xdg" / "nnsym" / "c"
    # The XDG specification: a relative value is ignored.
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")
    assert ccache.cache_dir() == Path.home() / ".cache" / "nnsym" / "c"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert ccache.cache_dir() == Path.home() / ".cache" / "nnsym" / "c"
    monkeypatch.setenv(ccache.CACHE_ENV, str(tmp_path / "mine"))
    assert ccache.cache_dir() == tmp_path / "mine"


def test_an_unwritable_cache_compiles_in_a_temporary_folder(
    tmp_path: Path, monkeypatch
):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(ccache.CACHE_ENV, str(blocker / "cache"))
    spec = make_spec("2-2-1")
    trainer = load_trainer(spec, source_for(spec, "c"))
    assert len(trainer.init_params(0)) == spec.n_params
    assert blocker.read_text() == "not a folder"


# Two processes load the same trainer at once, from an empty cache.
RACE = """
import sys
from nnsym.pipeline.spec import make_spec
from nnsym.targets import source_for
from nnsym.targets.cengine import load_trainer
spec = make_spec("3-7-2", loss="ce", form="loops")
trainer = load_trainer(spec, source_for(spec, "c"))
print(trainer.forward(trainer.init_params(5), [1, 2, 3]))
"""


def test_two_runs_at_once_share_the_cache_safely(cache: Path):
    env = {**os.environ, "PYTHONPATH": str(REPO), ccache.CACHE_ENV: str(cache)}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", RACE],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [child.communicate() for child in children]
    assert all(child.returncode == 0 for child in children), results
    outputs = {out for out, _ in results}
    assert len(outputs) == 1 and json.loads(outputs.pop())
    assert len(list(cache.glob("*.so"))) == 1
    assert not [p for p in cache.iterdir() if p.name.startswith(".build-")]


def test_train_engine_c_reports_the_python_engines_numbers(cache: Path, tmp_path):
    common = ["train", "--arch", "4-3-3", "--loss", "ce", "--data", "iris"]
    common += ["--epochs", "20", "--seed", "0", "-o", str(tmp_path / "m.py")]
    reports = {}
    for engine in ("python", "c"):
        out = subprocess.run(
            [sys.executable, "-m", "nnsym", *common, "--engine", engine],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        reports[engine] = [
            line for line in out.splitlines() if line.startswith(("final", "accuracy"))
        ]
    assert len(reports["c"]) == 2 and reports["c"] == reports["python"]
    assert list(cache.glob("*.so"))


def test_c_engine_builds_through_the_cache(cache: Path):
    spec = make_spec("2-2-1")
    engine = c_engine(spec, module_for(spec))
    assert isinstance(engine, CEngine)
    assert len(list(cache.glob("*.so"))) == 1


def test_a_first_order_run_builds_without_lm_and_lbfgs(cache: Path):
    spec = make_spec("2-3-1", form="loops")
    module = module_for(spec)
    xs, ys = [[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [1], [1], [0]]
    lean = c_engine(spec, module, start_c_engine(spec, "adam"))
    full = c_engine(spec, module)
    assert not lean.trainer.second_order and full.trainer.second_order
    # Another library (NAME_SECOND_ORDER 0), training as the full one does.
    assert len(list(cache.glob("*.so"))) == 2
    options = dict(optimizer="adam", lr=0.05, epochs=30, seed=2)
    assert lean.train(xs, ys, **options) == full.train(xs, ys, **options)
    with pytest.raises(ValueError, match="first-order optimizers only"):
        lean.train(xs, ys, optimizer="lm", epochs=3, seed=2)
    assert full.train(xs, ys, optimizer="lm", epochs=3, seed=2)[1]
    # Nor has it NAME_jacobian (NAME_JACOBIAN 0): the full one has.
    assert not hasattr(lean.trainer.library, f"{spec.name}_jacobian")
    with pytest.raises(UsageError, match="without NAME_jacobian"):
        lean.trainer.jacobian(module.init_params(0), [0, 1])
    assert len(full.trainer.jacobian(module.init_params(0), [0, 1])) == 1


def test_the_compiler_runs_while_the_caller_goes_on(cache: Path, monkeypatch):
    spec = make_spec("2-2-1")
    release = threading.Event()
    compile_shared = cengine.compile_shared

    def held(*args, **kwargs):
        assert release.wait(60)
        return compile_shared(*args, **kwargs)

    monkeypatch.setattr(cengine, "compile_shared", held)
    pending = start_c_engine(spec, "sgd")  # returns before the compiler ran
    assert not list(cache.glob("*.so"))
    release.set()
    trainer = pending.result()
    assert trainer.forward(trainer.init_params(0), [1, 0])
    assert len(list(cache.glob("*.so"))) == 1


def test_a_compile_error_is_raised_in_the_callers_thread(cache: Path):
    spec = make_spec("2-2-1")
    pending = cengine.start_trainer(spec, "this is not C\n")
    with pytest.raises(NnsymError, match="compiling the generated C failed"):
        pending.result()
    assert not [p for p in cache.iterdir() if p.name.startswith(".build-")]


def test_evaluate_reuses_a_data_sets_rows_only_while_nothing_changed(cache: Path):
    # The report asks for losses, then accuracy, on the same rows: the second
    # is served from the first; other parameters or rows are computed anew.
    spec = make_spec("2-3-2", output_activation="softmax", loss="ce")
    trainer = load_trainer(spec, source_for(spec, "c"))
    module = module_for(spec)
    xs = ((0.0, 1.0), (1.0, 0.5), (-2.0, 3.0))
    ys = ((1.0, 0.0), (0.0, 1.0), (0.0, 1.0))
    first, second = module.init_params(0), module.init_params(1)

    def want(params, rows):
        outs = [module.forward(params, list(x)) for x in rows]
        return [pytest.approx(out, rel=1e-12) for out in outs]

    losses, outputs = trainer.evaluate(first, xs, ys)
    wanted = [module.loss(first, list(x), list(y)) for x, y in zip(xs, ys)]
    assert losses == pytest.approx(wanted, rel=1e-12)
    assert outputs == want(first, xs)
    assert trainer.evaluate(first, xs)[1] == outputs
    again = trainer.evaluate(second, xs)[1]
    assert again == want(second, xs) and again != outputs
    # Lists can change between calls: never served from a copy.
    rows = [list(x) for x in xs]
    assert trainer.evaluate(first, rows, [list(y) for y in ys])[1] == outputs
    rows[0][0] = 5.0
    assert trainer.evaluate(first, rows)[1] == want(first, rows)


def test_a_known_first_order_run_starts_its_compiler_before_reading_the_data(
    cache: Path, tmp_path: Path, monkeypatch, capsys
):
    # 4-30-3 (243 parameters): the rule can only choose adam, so the build
    # begins before the CSV is read, and that build is the one trained with.
    from nnsym import api
    from nnsym.cli import main

    events: list[str] = []
    start, plan = cmodule.start_c_engine, api.plan_training

    def started(spec, optimizer=None):
        events.append(f"start {optimizer}")
        return start(spec, optimizer)

    def planned(*args, **kwargs):
        events.append("plan")
        return plan(*args, **kwargs)

    monkeypatch.setattr(cmodule, "start_c_engine", started)
    monkeypatch.setattr(api, "plan_training", planned)
    out = tmp_path / "m.py"
    common = ["train", "--arch", "4-30-3", "--loss", "ce", "--data", "iris"]
    common += ["--engine", "c", "--seed", "0", "-o", str(out), "--quiet"]
    assert main([*common, "--form", "loops"]) == 0
    assert events == ["start adam", "plan"]
    # Left to the rule's form, or too small to know the optimizer: after.
    events.clear()
    assert main([*common, "--force"]) == 0
    assert events == ["plan", "start adam"]
    events.clear()
    small = ["train", "--arch", "2-3-1", "--data", "xor", "--engine", "c"]
    small += ["--form", "loops", "-o", str(tmp_path / "s.py")]
    assert main([*small, "--quiet"]) == 0
    assert events == ["plan", "start lm"]
    capsys.readouterr()
