"""The playground page's Python side and its trainer and formulas under Node.

The browser tests are in tests/test_playground_browser.py.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from nnsym import api
from nnsym.cli import main
from nnsym.pipeline.spec import make_spec
from nnsym.playground.page import RUNTIME_DIR, build_playground, core_script
from tests.target_helpers import JS_TESTS
from tests.target_helpers import node as find_node

NODE = find_node()
needs_node = pytest.mark.skipif(NODE is None, reason="Node.js 18+ is not installed")

SPECS = [
    make_spec("2-2-1"),
    make_spec("2-4-3", loss="ce"),
    make_spec("2-3-1", activation="relu", output_activation="identity", loss="mse"),
    make_spec("2-3-1", activation="cube=x**3/3", loss="bce"),
    make_spec("3-4-1", activation="tanh"),
    # Per layer (above 100 parameters): the formulas in index notation.
    make_spec("2-16-16-1", activation="tanh"),
    make_spec("2-40-3", activation="swish", loss="ce"),
    # The loop form's module (what --form auto writes from 1,000 parameters).
    make_spec("2-16-16-1", activation="tanh", form="loops"),
]


@needs_node
@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_trainer_and_formulas_match_the_module(spec, tmp_path):
    """train() in one call = the page's trainer in pieces; formulas = lossAndGrad."""
    module = tmp_path / "model.mjs"
    module.write_text(api.source_for(spec, "js"), encoding="utf-8")
    core = tmp_path / "core.js"
    core.write_text(core_script(spec), encoding="utf-8")
    run = subprocess.run(
        [NODE, str(JS_TESTS / "playground_core.mjs"), str(module), str(core)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    expected_mode = "layers" if api.uses_layers_by_default(spec) else "scalar"
    assert result["mode"] == expected_mode
    assert [case["kernel"] for case in result["training"]] == [True, False] * 3
    assert result["refused"] == [
        f"the playground trains with sgd, momentum or adam, not {name}"
        for name in ("lbfgs", "lm")
    ]
    for case in result["training"]:
        assert case["epochs"] == 15
        assert case["params"] <= 1e-12, case
        assert case["history"] <= 1e-12, case
    # A second derivation: the un-cse'd formulas against the trainer's code.
    assert result["formulas"] <= 1e-10
    assert result["loss"] <= 1e-10
    assert result["forward"] <= 1e-12
    assert result["numbers"] == 0


def test_page_is_self_contained_and_small(tmp_path):
    """One file, under 1.5 MB, a CSP allowing no network, nothing to fetch."""
    for spec in (make_spec("2-2-1"), make_spec("2-16-16-1", activation="tanh")):
        page = build_playground(spec).html
        assert len(page.encode("utf-8")) < 1.5e6
        csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
        assert csp is not None
        policy = csp.group(1).replace("&#39;", "'")
        assert policy.startswith("default-src 'none';")
        assert "connect-src" not in policy and "unsafe" not in policy
        # Nothing that loads: no src or href attribute, no url(), no import.
        assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page)
        assert "url(" not in page and "@import" not in page
        assert "<math" in page


def test_data_is_json_text_never_markup(tmp_path):
    """A label or column name with markup is JSON inside the page, '<' escaped."""
    csv = tmp_path / "evil.csv"
    csv.write_text(
        "x0,<img src=x onerror=alert(1)>,label\n"
        "0,0,<script>window.pwned=1</script>\n1,1,ok\n0,1,ok\n1,0,<script>window.pwned=1</script>\n",
        encoding="utf-8",
    )
    spec = make_spec("2-3-2", loss="ce")
    page = build_playground(spec, str(csv)).html
    assert "<script>window.pwned" not in page
    assert "<img src=x" not in page
    data = re.search(
        r'<script type="application/json" id="nnsym-data">(.*?)</script>', page, re.S
    )
    record = json.loads(data.group(1))
    assert record["inputNames"][1] == "<img src=x onerror=alert(1)>"
    assert "<script>window.pwned=1</script>" in record["classes"]


def test_cli_writes_the_page_and_refuses_foreign_files(tmp_path, capsys):
    """`nnsym playground -o` writes; a file it did not write is kept without --force."""
    out = tmp_path / "page.html"
    assert main(["playground", "--data", "xor", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main(["playground", "--data", "xor", "-o", str(out)]) == 0
    foreign = tmp_path / "notes.html"
    foreign.write_text("<p>mine</p>", encoding="utf-8")
    assert main(["playground", "-o", str(foreign)]) == 2
    assert foreign.read_text(encoding="utf-8") == "<p>mine</p>"
    assert "not a page nnsym playground wrote" in capsys.readouterr().err
    assert main(["playground", "--arch", "4-3-1", "-o", str(tmp_path / "x.html")]) == 2
    assert "--data" in capsys.readouterr().err


@needs_node
def test_page_sources_parse():
    """Every page script is valid JavaScript (node --check)."""
    for path in sorted(RUNTIME_DIR.glob("*.js")):
        run = subprocess.run(
            [NODE, "--check", str(path)], capture_output=True, text=True, check=False
        )
        assert run.returncode == 0, (path.name, run.stderr)
