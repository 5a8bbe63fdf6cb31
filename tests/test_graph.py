"""nnsym graph: the DOT text's nodes and edges, values and gradients, big nets."""

from __future__ import annotations

import math
import re
import shutil
import sys

import pytest

from nnsym.cli import main
from nnsym.errors import NnsymError
from nnsym.explain.graph import build_graph, evaluate, layer_graph, render
from nnsym.explain.point import parse_at
from nnsym.pipeline.model import build_network
from nnsym.pipeline.spec import make_spec

pytest.importorskip("graphviz")

NODE = re.compile(r'^\t(\w+) \[label="(.*?)"(?: shape=record)?\]$', re.M)
EDGE = re.compile(r"^\t(\w+) -> (\w+)$", re.M)


def parse_dot(text):
    """{name: label} and the set of edges, read from DOT text."""
    labels = dict(NODE.findall(text))
    return labels, set(EDGE.findall(text))


def values_by_label(text):
    # "{ label | data 0.1234 | grad 0.5678 }" -> label -> (data, grad)
    result = {}
    for label in parse_dot(text)[0].values():
        fields = [f.strip() for f in label.strip("{} ").split("|")]
        if len(fields) == 3:
            result[fields[0]] = (
                float(fields[1].split()[1]),
                float(fields[2].split()[1]),
            )
    return result


def test_2_1_graph_has_the_hand_drawn_nodes_and_edges():
    network = build_network(make_spec("2-1"))
    labels, edges = parse_dot(render(build_graph(network), ".dot"))
    records = {
        name: label.strip("{} ")
        for name, label in labels.items()
        if not name.endswith("_op")
    }
    ops = {
        name[: -len("_op")]: label
        for name, label in labels.items()
        if name.endswith("_op")
    }
    assert set(records.values()) == {
        "b1_0",
        "w1_0_0",
        "x0",
        "w1_0_0*x0",
        "w1_0_1",
        "x1",
        "w1_0_1*x1",
        "z1_0",
        "a1_0",
        "-1",
        "y0",
        "-y0",
        "a1_0 - y0",
        "L",
    }
    by_label = {label: name for name, label in records.items()}
    assert {records[n]: op for n, op in ops.items()} == {
        "w1_0_0*x0": "*",
        "w1_0_1*x1": "*",
        "z1_0": "+",
        "a1_0": "σ",
        "-y0": "*",
        "a1_0 - y0": "+",
        "L": "**2",
    }

    def inputs_of(label):
        return {records[a] for a, b in edges if b == by_label[label] + "_op"}

    assert inputs_of("z1_0") == {"b1_0", "w1_0_0*x0", "w1_0_1*x1"}
    assert inputs_of("w1_0_0*x0") == {"w1_0_0", "x0"}
    assert inputs_of("a1_0") == {"z1_0"}
    assert inputs_of("a1_0 - y0") == {"a1_0", "-y0"}
    assert inputs_of("L") == {"a1_0 - y0"}
    # Every op node feeds exactly its own value.
    for name in ops:
        assert (name + "_op", name) in edges


def test_values_and_gradients_at_a_point_are_hand_computed():
    spec = make_spec("2-1")
    network = build_network(spec)
    graph = build_graph(network)
    point = parse_at("params=0.5,-1,0.25,x=2,3,y=1", spec)
    evaluate(graph, network, point)
    shown = values_by_label(render(graph, ".dot"))
    z = 0.5 * 2 - 1 * 3 + 0.25
    a = 1 / (1 + math.exp(-z))
    dz = 2 * (a - 1) * a * (1 - a)
    assert shown["z1_0"][0] == pytest.approx(z, abs=1e-4)
    assert shown["L"] == (pytest.approx((a - 1) ** 2, abs=1e-4), 1.0)
    assert shown["w1_0_0"][1] == pytest.approx(dz * 2, abs=1e-4)
    assert shown["w1_0_1"][1] == pytest.approx(dz * 3, abs=1e-4)
    assert shown["b1_0"][1] == pytest.approx(dz, abs=1e-4)
    assert shown["x0"][1] == pytest.approx(dz * 0.5, abs=1e-4)


@pytest.mark.parametrize(
    "arch,options",
    [
        ("2-2-1", {}),
        ("3-4-4-1", {"activation": "tanh"}),
        ("3-3", {"loss": "ce"}),
        ("2-2-1", {"activation": "relu", "loss": "bce"}),
        ("2-2-2", {"activation": "identity", "loss": "mse"}),
        ("2-2-2", {"activation": "leaky_relu", "output_activation": "identity"}),
    ],
)
def test_graph_gradients_match_finite_differences(arch, options):
    from nnsym.explain.fdcheck import central_difference
    from nnsym.targets.python import load_generated

    spec = make_spec(arch, **options)
    network = build_network(spec)
    graph = build_graph(network)
    point = parse_at("seed=4", spec)
    evaluate(graph, network, point)
    module = load_generated(spec)
    by_expr = {node.expr: node for node in graph.nodes}

    def loss(params):
        return module.loss(list(params), point.x, point.y)

    assert len({node.key for node in graph.nodes}) == len(graph.nodes)
    for i, param in enumerate(network.params):
        numeric = central_difference(loss, point.params, i, 1e-5)
        assert by_expr[param].grad == pytest.approx(numeric, abs=1e-7)
    assert graph.nodes[graph.root].value == pytest.approx(loss(point.params))


def test_big_network_is_drawn_per_layer(tmp_path, capsys):
    out = tmp_path / "big.dot"
    assert main(["graph", "--arch", "20-20-20-3", "--loss", "ce", "-o", str(out)]) == 0
    assert "per layer" in capsys.readouterr().err
    labels, edges = parse_dot(out.read_text(encoding="utf-8"))
    records = {
        label.strip("{} ") for name, label in labels.items() if not name.endswith("_op")
    }
    assert {
        "x (20)",
        "W1 (20x20)",
        "b3 (3)",
        "z3 (3)",
        "a3 (3)",
        "y (3)",
        "L",
    } <= records
    assert len(records) == 2 + 4 * 3 + 1


def test_per_layer_edges():
    labels, edges = parse_dot(
        render(layer_graph(build_network(make_spec("2-2-1"))), ".dot")
    )
    name = {
        label.strip("{} "): n for n, label in labels.items() if not n.endswith("_op")
    }
    assert (name["W1 (2x2)"], name["z1 (2)"] + "_op") in edges
    assert (name["a1 (2)"], name["z2 (1)"] + "_op") in edges
    assert (name["a2 (1)"], name["L"] + "_op") in edges


def test_cli_dot_to_stdout_and_bad_suffix(capsys, tmp_path):
    assert main(["graph", "--arch", "2-1", "--at", "seed=0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("digraph") and "grad 1 " in out
    assert main(["graph", "--arch", "2-1", "-o", str(tmp_path / "g.pdf")]) == 2


def test_missing_graphviz_package_says_how_to_install(monkeypatch):
    graph = build_graph(build_network(make_spec("2-1")))
    with_package = render(graph, ".dot")
    monkeypatch.setitem(sys.modules, "graphviz", None)
    # DOT text needs nothing, and is the same text the graphviz package writes.
    assert render(graph, ".dot") == with_package
    with pytest.raises(NnsymError, match=r"nnsym\[graph\]"):
        render(graph, ".svg")


def test_svg_and_png_need_the_dot_program(tmp_path, capsys):
    svg, png = tmp_path / "g.svg", tmp_path / "g.png"
    if shutil.which("dot") is None:
        assert main(["graph", "--arch", "2-1", "-o", str(svg)]) == 1
        assert "Graphviz's 'dot' program" in capsys.readouterr().err
        assert not svg.exists()
        return
    assert main(["graph", "--arch", "2-1", "--at", "seed=0", "-o", str(svg)]) == 0
    assert "<svg" in svg.read_text(encoding="utf-8")
    assert main(["graph", "--arch", "2-1", "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_dot_program_is_one_clear_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # no 'dot' anywhere on it
    out = tmp_path / "g.svg"
    assert main(["graph", "--arch", "2-1", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Graphviz's 'dot' program" in err
    assert not out.exists()


def test_values_too_big_to_compute_are_one_usage_error(capsys):
    # (a - y)**2 of y = 1e308 overflows a float.
    assert main(["graph", "--arch", "2-1", "--at", "y=1e308"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--at" in err and "internal error" not in err


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
@pytest.mark.parametrize("suffix", [".svg", ".png", ".dot"])
def test_drawing_twice_replaces_nnsyms_own_file_and_nothing_else(
    suffix, tmp_path, capsys
):
    out = tmp_path / f"g{suffix}"
    for arch in ("2-1", "2-1", "2-2-1"):  # the same drawing, then another
        assert main(["graph", "--arch", arch, "-o", str(out)]) == 0
        assert "not generated by nnsym" not in capsys.readouterr().err
    drawn = out.read_bytes()
    if suffix == ".svg":
        import xml.dom.minidom

        xml.dom.minidom.parseString(drawn)  # the mark keeps it well-formed
        assert b"<!-- Generated by nnsym " in drawn
    elif suffix == ".png":
        from nnsym.explain.drawing import _unmarked

        digest, unmarked = _unmarked(drawn)
        assert unmarked.startswith(b"\x89PNG") and len(unmarked) < len(drawn)
    # Edited since, or never nnsym's: refused without --force, replaced with it.
    out.write_bytes(drawn + b"\n")
    assert main(["graph", "--arch", "2-1", "-o", str(out)]) == 1
    assert "has been edited since" in capsys.readouterr().err
    other = tmp_path / f"mine{suffix}"
    other.write_bytes(drawn.replace(b"nnsym", b"other"))
    assert main(["graph", "--arch", "2-1", "-o", str(other)]) == 1
    assert "not generated by nnsym" in capsys.readouterr().err
    assert main(["graph", "--arch", "2-1", "-o", str(other), "--force"]) == 0
    assert main(["graph", "--arch", "2-1", "-o", str(other)]) == 0


def test_a_marked_png_is_a_valid_png():
    import struct
    import zlib

    from nnsym.explain.drawing import mark_drawing

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0\0"))
        + chunk(b"IEND", b"")
    )
    marked = mark_drawing(png, ".png")
    position, chunks = 8, []
    while position < len(marked):  # every chunk's CRC is right
        (length,) = struct.unpack(">I", marked[position : position + 4])
        body = marked[position + 4 : position + 8 + length]
        (crc,) = struct.unpack(
            ">I", marked[position + 8 + length : position + 12 + length]
        )
        assert zlib.crc32(body) == crc
        chunks.append(body[:4])
        position += 12 + length
    assert chunks == [b"IHDR", b"tEXt", b"IDAT", b"IEND"]


def test_labels_keep_significant_digits():
    # Rounded to 4 decimals, small gradients read -0.0000; 4 significant
    # digits keep them.
    from nnsym.explain.graph import significant

    assert significant(-1.234567e-7) == "-1.235e-07"
    assert significant(-0.0) == "0"
    assert significant(0.5) == "0.5"
    assert significant(1234.5678) == "1235"
