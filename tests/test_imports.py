"""Imports flow one way: no cycle among nnsym's and the benchmarks' modules
(function-level imports included), every package imports only the layers
below it, no module is longer than one sitting's read, and loading weights or
predicting with an up-to-date module imports neither SymPy, Jinja nor black."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from nnsym.explain import limits
from nnsym.pipeline import expression

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "nnsym"
HEAVY = ("sympy", "jinja2", "black")
# nnsym's packages from the top down (docs/design.md, "Package layout"): a module
# imports only modules of its own layer or of the layers below it.
LAYERS = (
    ("nnsym.__main__", "nnsym.cli", "nnsym.commands", "nnsym.examples"),
    # The playground page is made through the API, as a command would.
    ("nnsym.playground",),
    ("nnsym.api",),
    ("nnsym.interop",),
    ("nnsym.models",),
    ("nnsym.targets",),
    ("nnsym.explain",),
    ("nnsym.pipeline",),
    ("nnsym.runtime", "nnsym.datasets"),
    ("nnsym.primitives", "nnsym.errors", "nnsym"),
)
# About what one can read in one sitting.
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(*folders: Path) -> dict[str, Path]:
    return {
        module_name(path): path
        for folder in folders or (PACKAGE,)
        for path in sorted(folder.rglob("*.py"))
    }


def layer_of(name: str) -> int:
    """The index in LAYERS of the package `name` belongs to (the longest match)."""
    best, index = "", None
    for i, packages in enumerate(LAYERS):
        for package in packages:
            inside = name == package or name.startswith(package + ".")
            if inside and len(package) > len(best):
                best, index = package, i
    assert index is not None, f"{name} is in no layer: add its package to LAYERS"
    return index


def imported_by(path: Path, known: dict[str, Path]) -> set[str]:
    """The nnsym modules `path` imports anywhere in it, functions included."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from nnsym.pipeline import build` imports the module build.
            submodules = [f"{base}.{alias.name}" for alias in node.names]
            targets = [t for t in submodules if t in known] or [base]
        else:
            continue
        found.update(t for t in targets if t in known and t != name)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as a list of modules, or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for child in sorted(graph[node]):
            if state.get(child) == "open":
                return stack[stack.index(child) :] + [child]
            if child not in state:
                cycle = visit(child)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_no_import_cycle_among_nnsym_modules():
    known = modules()
    graph = {name: imported_by(path, known) for name, path in known.items()}
    # The test can fail: the graph is not empty, and a cycle is found when made.
    assert graph["nnsym.commands.train"] >= {"nnsym.api", "nnsym.commands.options"}
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle(graph) is None


def test_no_import_cycle_among_the_benchmarks_and_nnsym():
    known = modules(PACKAGE, REPO / "benchmarks")
    graph = {name: imported_by(path, known) for name, path in known.items()}
    assert graph["benchmarks.layers"] >= {"benchmarks.common"}
    assert find_cycle(graph) is None


def test_every_package_imports_only_its_layer_and_below():
    known = modules()
    upward = sorted(
        f"{name} imports {target}"
        for name, path in known.items()
        for target in imported_by(path, known)
        if layer_of(target) < layer_of(name)
    )
    assert upward == []
    # The rule can fail: the pipeline is below the explain tools, which are
    # below the targets.
    assert layer_of("nnsym.pipeline.build") > layer_of("nnsym.explain.formulas")
    assert layer_of("nnsym.explain.fdcheck") > layer_of("nnsym.targets.python")


def test_nothing_in_the_pipeline_imports_the_explain_tools():
    known = modules()
    for name, path in known.items():
        if name.startswith("nnsym.pipeline"):
            explain = {t for t in imported_by(path, known) if "explain" in t}
            assert explain == set(), name


def test_no_module_of_nnsym_is_longer_than_one_sitting():
    lengths = {
        name: path.read_text(encoding="utf-8").count("\n")
        for name, path in modules().items()
    }
    assert max(lengths.values()) > 100  # the count is of real files
    too_long = {name: count for name, count in lengths.items() if count > MAX_LINES}
    assert too_long == {}


def test_a_function_level_import_counts():
    known = modules()
    # nnsym.targets.python imports SymPy's stages only inside generate().
    assert "nnsym.pipeline.cse" in imported_by(known["nnsym.targets.python"], known)


def test_commands_use_the_api_and_the_option_helpers():
    known = modules()
    allowed = {
        "nnsym.api",
        "nnsym.errors",
        "nnsym.commands.options",
        "nnsym.explain.limits",
        "nnsym.explain.fdcheck",  # check's default step and tolerances
    }
    for name, path in known.items():
        if name.startswith("nnsym.commands.") and name != "nnsym.commands.options":
            assert imported_by(path, known) <= allowed, name


def test_the_light_names_match_the_modules_that_use_them():
    assert limits.FUNCTION_NAMES == tuple(expression.FUNCTIONS)


def loaded_after(code: str, cwd: Path) -> list[str]:
    """Which of SymPy, Jinja and black a fresh interpreter has loaded after `code`."""
    script = (
        f"{code}\nimport sys\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    child = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    return json.loads(child.stdout.strip().splitlines()[-1].replace("'", '"'))


def test_load_weights_and_predict_import_no_sympy_jinja_or_black(tmp_path):
    train = (
        "from nnsym.cli import main\n"
        "assert main(['train', '--data', 'xor', '--epochs', '5', '--seed', '0', "
        "'-q', '--save', 'm.json']) == 0"
    )
    # Training generates the module into generated/: SymPy and black are used.
    assert loaded_after(train, tmp_path) == sorted(HEAVY)
    load = "from nnsym.api import load_weights\nload_weights('m.json')"
    assert loaded_after(load, tmp_path) == []
    predict = (
        "from nnsym.cli import main\n"
        "assert main(['predict', '--model', 'm.json', '1,0', '0,1']) == 0"
    )
    assert loaded_after(predict, tmp_path) == []
    # predict computes from the weights: no module is needed, none is made.
    (tmp_path / "generated" / "mlp_2_2_1.py").unlink()
    assert loaded_after(predict, tmp_path) == []
    assert list((tmp_path / "generated").iterdir()) == []


def test_predict_with_the_module_elsewhere_and_a_custom_activation(tmp_path):
    # The newcomer's case: the module written elsewhere, a user-defined
    # activation, and a network far too large to generate unrolled.
    train = (
        "from nnsym.cli import main\n"
        "assert main(['train', '--data', 'xor', '--epochs', '5', '--seed', '0', "
        "'--activation', 'cube=x**3/30 + sigmoid(x)', '--lr', '0.1', '-q', "
        "'-o', 'other.py', '--save', 'm.json']) == 0"
    )
    assert loaded_after(train, tmp_path) == sorted(HEAVY)
    from nnsym.models.weights import Weights, save_weights
    from nnsym.pipeline.spec import make_spec

    spec = make_spec("784-128-10", loss="ce", form="loops")
    params = tuple((i % 7 - 3) / 100 for i in range(spec.n_params))
    save_weights(tmp_path / "big.json", Weights(spec, params))
    pixels = ",".join(["0.5"] * 784)
    for model, sample in [("m.json", "1,0"), ("big.json", pixels)]:
        predict = (
            "from nnsym.cli import main\n"
            f"assert main(['predict', '--model', {model!r}, {sample!r}]) == 0"
        )
        assert loaded_after(predict, tmp_path) == [], model
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "big.json",
        "m.json",
        "other.py",
    ]


def test_every_api_name_resolves():
    from nnsym import api

    for name in api.__all__:
        assert getattr(api, name) is not None, name
    assert set(api.__all__) <= set(dir(api))
