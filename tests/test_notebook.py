"""nnsym's objects in a Jupyter notebook: a small notebook executed by nbclient.

The formulas show as MathML (and LaTeX), the graph as SVG, the playground as
an iframe of its page (srcdoc); `pip install 'nnsym[notebook]'` brings what runs
this test (nbclient, nbformat, ipykernel).
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parent.parent
CELLS = [
    "from nnsym import api\nspec = api.make_spec('2-2-1')",
    "api.generate(spec)",
    "api.derive(api.differentiate(spec))",
    "api.derive_layers(spec)",
    "api.graph_for(api.build_network(api.make_spec('2-1')))[0]",
    "api.build_playground(spec, 'xor')",
]


def test_a_notebook_shows_formulas_graph_and_playground(tmp_path, monkeypatch):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    # The kernel imports this checkout, as the tests' other child processes do.
    path = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(path))
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    outputs = [cell.outputs for cell in notebook.cells]
    assert outputs[0] == []

    def data(cell: int) -> dict:
        (output,) = outputs[cell]
        assert output["output_type"] == "execute_result"
        return output["data"]

    generated = data(1)
    assert "<math" in generated["text/html"] and "δ" in generated["text/html"]
    assert generated["text/latex"].startswith("$$\\begin{aligned}")
    derivation = data(2)
    assert derivation["text/html"].count("<math") == 19
    layers = data(3)
    assert "&#x2211;" in layers["text/html"]  # a sum over an index
    assert data(4)["image/svg+xml"].lstrip().startswith("<?xml")
    playground = data(5)["text/html"]
    assert playground.startswith("<iframe") and 'sandbox="allow-scripts' in playground
    page = html.unescape(playground.split('srcdoc="', 1)[1])
    assert page.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in page
