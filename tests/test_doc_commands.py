"""Every `nnsym ...` command in a code block of README.md and docs/*.md runs and
exits 0, in order, one folder per file (so that `--save model.json` is there for
the `predict` after it), and where the text claims a result, the result is
checked: the XOR table, what iris and digits reach, and the lines shown after a
`$ nnsym ...` command (the choice the defaults print among them).

Inputs a command names are made first in each folder (model.json, new.csv,
iris.csv, breast_cancer.csv, mlp_2_2_1.json). A synopsis' optional [--parts]
are dropped. Skipped, with the reason: the commands that import files only
PyTorch, skops or joblib write (tests/test_interop.py makes and imports those).
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from nnsym.cli import main
from nnsym.models.data import DATASETS_DIR

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# Files made by other tools, imported by tests/test_interop.py.
SKIPPED = {
    "clf.skops": "a skops file, written by skops.io.dump (tests/test_interop.py)",
    "state.pt": "a PyTorch state_dict (tests/test_interop.py)",
    "model.pt": "a PyTorch state_dict (tests/test_interop.py)",
    "whole.pt": "a pickled PyTorch module (tests/test_interop.py)",
    "clf.joblib": "a joblib pickle of scikit-learn (tests/test_interop.py)",
}
# Needs extras: the command runs only where they are installed.
NEEDS = {"--target onnx": "onnx", "graph ": "graphviz", "--against torch": "torch"}


def documented_commands(path: Path) -> list[tuple[int, str]]:
    """(line number, command) of each `nnsym ...` line in a code block of `path`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found, fenced, index = [], False, 0
    while index < len(lines):
        line = lines[index]
        if line.lstrip().startswith("```"):
            fenced = not fenced
        else:
            text = line.strip().removeprefix("$ ")
            if (fenced or line.startswith("    ")) and text.startswith("nnsym "):
                number = index + 1
                while text.endswith("\\") and index + 1 < len(lines):
                    index += 1
                    text = text[:-1].rstrip() + " " + lines[index].strip()
                found.append((number, text))
        index += 1
    return found


def arguments(command: str) -> list[str]:
    """The command's arguments: comments and a synopsis' [optional parts] dropped."""
    command = re.sub(r"\s\[[^\]]*\]", "", command)
    return shlex.split(command, comments=True)[1:]


def fenced_after(path: Path, command: str) -> str:
    """The first ``` block after the line holding `command`."""
    text = path.read_text(encoding="utf-8")
    return text.split(command, 1)[1].split("```", 2)[1].strip("\n")


def inputs(folder: Path, capsys) -> None:
    """The files the documented commands name, made as a user would."""
    shutil.copy(DATASETS_DIR / "iris.csv", folder / "iris.csv")
    (folder / "new.csv").write_text("x1,x0\n0,1\n1,1\n", encoding="utf-8")
    for model in ("model.json", "mlp_2_2_1.json"):
        args = ["train", "--data", "xor", "--optimizer", "sgd", "--seed", "0"]
        assert main([*args, "-q", "-o", "m.py", "--save", model]) == 0
    lines = ["x%d" % i for i in range(30)]
    rows = [",".join([*lines, "label"])]
    datasets = pytest.importorskip("sklearn.datasets")
    bunch = datasets.load_breast_cancer()
    for row, label in zip(bunch.data, bunch.target):
        rows.append(",".join([*(repr(float(v)) for v in row), str(int(label))]))
    (folder / "breast_cancer.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    capsys.readouterr()


def untimed(text: str) -> str:
    return re.sub(r" in [\d.]+ s", " in (seconds) s", text)


def claims(path: Path, command: str, out: str, err: str) -> None:
    """The result the text around `command` claims, checked."""
    if "--data xor --optimizer sgd --lr 1 --epochs 2000 --seed 0" in command:
        # The same table and numbers; the seconds are this machine's.
        assert untimed(fenced_after(path, command)) in untimed(out)
    elif "--data iris --test-split 0.2 --seed 0" in command:
        assert "test accuracy: 100% (30 of 30)" in out
        assert "250 epochs in" in out
    elif "--data digits --test-split 0.2" in command:
        # README: "reaches 96.1% test accuracy (345 of 359)"; at least 95%.
        assert "test accuracy: 96.1% (345 of 359)" in out
    elif "--data iris.csv" in command:
        # "learns the three species (98.7%, 148 of the 150 flowers, ...)"
        assert "accuracy: 98.7% (148 of 150)" in out
    elif "breast_cancer.csv" in command:
        assert shown_output(path, command)[0].startswith("nnsym: optimizer: ")
    elif command.startswith("nnsym train"):
        assert "accuracy: 100%" in out, out
    # A `$ nnsym ...` block shows what it prints: every line but "...".
    printed = out.splitlines() + err.splitlines()
    for line in shown_output(path, command):
        assert line == "..." or line in printed, (line, out, err)


def shown_output(path: Path, command: str) -> list[str]:
    """The lines after `$ command` in its ``` block, up to the block's end."""
    text = path.read_text(encoding="utf-8")
    if f"$ {command}\n" not in text:
        return []
    return text.split(f"$ {command}\n", 1)[1].split("```", 1)[0].splitlines()


def commands() -> list:
    cases = []
    for path in DOCS:
        for number, command in documented_commands(path):
            # A model file only tests/test_interop.py can make: run there.
            if any(f" {name} " in f" {command} " for name in SKIPPED):
                continue
            cases.append(
                pytest.param(path, number, command, id=f"{path.name}:{number}")
            )
    return cases


def test_the_commands_are_found():
    found = [command for _, _, command in (case.values for case in commands())]
    assert len(found) >= 40
    assert any("--optimizer sgd --lr 1 --epochs 2000" in c for c in found)


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[Path, Path]:
    return {path: tmp_path_factory.mktemp(path.stem) for path in DOCS}


@pytest.mark.parametrize(("path", "number", "command"), commands())
def test_a_documented_command_does_what_its_text_says(
    path: Path, number: int, command: str, folders, monkeypatch, capsys
):
    for part, module in NEEDS.items():
        if part in command:
            pytest.importorskip(module)
    folder = folders[path]
    monkeypatch.chdir(folder)
    if not (folder / "model.json").exists():
        inputs(folder, capsys)
    args = arguments(command)
    if "--data iris.csv" in command:
        args += ["--seed", "0"]  # the text's figures are for seed 0
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 0, (command, err)
    claims(path, command, out, err)
