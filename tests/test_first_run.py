"""What a new user runs into: realistic data with the defaults, rounding, the
exported predictor's command line, optional packages, leftovers, and docs that
say what the commands print."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nnsym.cli import main
from nnsym.models.training import percent
from nnsym.pipeline.spec import MAX_NAME_LENGTH, check_name, make_spec

REPO = Path(__file__).resolve().parent.parent


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main([str(arg) for arg in args])
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def in_tmp(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def realistic_csv(path: Path, rows: int = 1000) -> Path:
    """Two features and a 0/1 label, as a user's own data would be."""
    rng = random.Random(1)
    lines = ["a,b,label"]
    for _ in range(rows):
        a, b = rng.uniform(-3, 3), rng.uniform(-3, 3)
        lines.append(f"{a:.3f},{b:.3f},{int(a + b > 0)}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("part", "whole", "shown"),
    [
        (999, 1000, "99.9%"),
        (9999, 10000, "99.99%"),
        (1000, 1000, "100%"),
        (1, 1000, "0.1%"),
        (0, 1000, "0%"),
        # One rule for the training and the test accuracy: one decimal.
        (3, 4, "75.0%"),
        (2, 3, "66.7%"),
        (1425, 1438, "99.1%"),
        (345, 359, "96.1%"),
    ],
)
def test_a_percentage_never_rounds_to_all_or_none(part, whole, shown):
    assert percent(part, whole) == shown


def test_sum_reduction_on_a_thousand_rows_says_what_went_wrong(in_tmp, capsys):
    data = realistic_csv(in_tmp / "data.csv")
    base = ["train", "--arch", "2-4-1", "--data", data, "--seed", "0"]
    code, out, err = run_cli([*base, "--epochs", "50"], capsys)
    assert code == 0, err
    notes = [line for line in err.splitlines() if line.startswith("nnsym: note:")]
    assert len(notes) == 1, err
    assert "effective learning rate of 1000" in notes[0]
    assert "--reduction mean" in notes[0] and "smaller --lr" in notes[0]
    # The advice works: the suggested learning rate trains, and says nothing.
    code, out, err = run_cli([*base, "--epochs", "300", "--lr", "0.001"], capsys)
    assert code == 0 and "note:" not in err
    accuracy = re.search(r"accuracy: ([\d.]+)%", out)
    assert accuracy and float(accuracy.group(1)) > 80, out


def test_no_note_on_a_small_data_set(in_tmp, capsys):
    code, _, err = run_cli(["train", "--data", "xor", "--seed", "0"], capsys)
    assert code == 0 and "note:" not in err


def test_deep_networks_get_a_default_name_that_works():
    arch = "-".join(["2"] * 60)
    names = {
        make_spec(arch, max_params=10**6).name,
        make_spec(arch, loss="bce", max_params=10**6).name,
        make_spec(arch + "-2", max_params=10**6).name,
    }
    assert len(names) == 3
    for name in names:
        check_name(name)
        assert len(name) <= MAX_NAME_LENGTH and name.startswith("mlp_2_2_2")


def test_train_leaves_no_pycache(in_tmp, capsys):
    assert run_cli(["train", "--data", "xor", "--epochs", "5", "-q"], capsys)[0] == 0
    assert [p.name for p in (in_tmp / "generated").iterdir()] == ["mlp_2_2_1.py"]


def test_missing_optional_packages_are_status_1_everywhere(in_tmp, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setitem(sys.modules, "graphviz", None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    for args, hint in [
        (["check", "--arch", "2-1", "--against", "torch"], "nnsym[torch]"),
        (["graph", "--arch", "2-1", "-o", "g.svg"], "nnsym[graph]"),
        (["train", "--data", "xor", "--plot", "loss.png"], "nnsym[plot]"),
    ]:
        code, _, err = run_cli(args, capsys)
        assert code == 1 and err.count("\n") == 1 and hint in err, (args, err)
    # DOT text needs no package at all.
    code, _, err = run_cli(["graph", "--arch", "2-1", "-o", "g.dot"], capsys)
    assert code == 0, err
    assert "digraph nnsym {" in (in_tmp / "g.dot").read_text()


def test_a_tolerance_float64_cannot_meet_is_named_as_the_cause(capsys):
    code, _, err = run_cli(["check", "--arch", "2-2-1", "--tolerance", "1e-20"], capsys)
    assert code == 1
    assert "bug in nnsym" not in err
    assert "--tolerance 1e-20 is tighter than finite differences" in err


def test_the_exported_predictor_has_help_and_prints_class_labels(in_tmp, capsys):
    rows = ["x1,x2,kind"] + [f"{i % 3},{(i * 7) % 5},{'abc'[i % 3]}" for i in range(30)]
    (in_tmp / "kinds.csv").write_text("\n".join(rows) + "\n")
    train = ["train", "--arch", "2-4-3", "--loss", "ce", "--data", "kinds.csv"]
    code, _, err = run_cli(
        [*train, "--epochs", "200", "--seed", "0", "-q"]
        + ["--save", "m.json", "--reduction", "mean"],
        capsys,
    )
    assert code == 0, err
    assert run_cli(["export", "--model", "m.json", "-o", "p.py", "-q"], capsys)[0] == 0
    code, expected, err = run_cli(["predict", "--model", "m.json", "2,0"], capsys)
    assert code == 0 and re.search(r"\((a|b|c)\)$", expected.strip()), expected

    def predictor(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "p.py", *args], capture_output=True, text=True
        )

    helped = predictor("--help")
    assert helped.returncode == 0 and helped.stdout.startswith("usage:")
    assert predictor("-h").stdout == helped.stdout
    ran = predictor("2,0")
    # The same numbers to rounding: the predictor is the unrolled module's
    # arithmetic, nnsym predict the loop form's (nnsym/models/inference.py).
    assert ran.returncode == 0 and ran.stdout.split("  ")[1] == expected.split("  ")[1]
    got, want = (line.split("  ")[0].split(", ") for line in (ran.stdout, expected))
    assert all(
        abs(float(a) - float(b)) <= 1e-12 * max(1.0, abs(float(b)))
        for a, b in zip(got, want, strict=True)
    )
    # A sample that starts with '-' after --, as nnsym predict takes it.
    assert predictor("--", "-1,0").returncode == 0
    assert predictor().returncode == 2


def test_the_documented_check_table_is_what_check_prints(capsys):
    docs = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    block = docs.split("`nnsym check --arch 2-2-1` (a test keeps", 1)[1]
    table = block.split("```", 2)[1].strip("\n")
    code, out, _ = run_cli(["check", "--arch", "2-2-1"], capsys)
    assert code == 0
    assert table in out, table


def test_no_readme_link_points_outside_the_repository():
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#]+)\)", text):
            if "://" in target:
                continue
            resolved = (path.parent / target).resolve()
            assert resolved.is_relative_to(REPO), (path.name, target)
            assert resolved.exists() or (REPO / target).exists(), (path.name, target)
