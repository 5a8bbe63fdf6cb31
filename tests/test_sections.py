"""Generated code a reader can follow: forward() alone, and commented sections."""

from __future__ import annotations

import ast
import inspect
import textwrap

import pytest

from nnsym.pipeline.spec import make_spec
from tests.helpers import module_for

SPECS = [
    make_spec("2-2-1"),
    make_spec("3-4-4-1", activation="tanh"),
    make_spec("4-8-3", loss="ce"),
    make_spec("2-3-1", activation="relu", loss="bce"),
]


def function_tree(module, name):
    source = textwrap.dedent(inspect.getsource(getattr(module, name)))
    return ast.parse(source).body[0]


def assigned_names(function):
    return [
        target.id
        for node in ast.walk(function)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    ]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_forward_computes_the_forward_pass_and_nothing_for_the_backward(spec):
    module = module_for(spec)
    forward = function_tree(module, "forward")
    names = assigned_names(forward)
    layers = [n for n in spec.arch[1:]]
    expected = {
        f"{kind}{index}_{j}"
        for index, width in enumerate(layers, start=1)
        for j in range(width)
        for kind in ("z", "a")
    }
    temporaries = [n for n in names if n.startswith("tmp")]
    assert expected <= set(names)
    assert not any(n.startswith("delta") for n in names)
    # A temporary of forward() is shared within forward() itself.
    used = [
        node.id
        for node in ast.walk(forward)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    ]
    assert all(used.count(t) >= 2 for t in temporaries)


def test_xor_forward_has_no_temporaries():
    source = inspect.getsource(module_for(make_spec("2-2-1")).forward)
    assert "tmp" not in source


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_loss_and_grad_is_cut_into_sections_in_order(spec):
    source = inspect.getsource(module_for(spec).loss_and_grad)
    comments = [
        line.strip()[2:]
        for line in source.splitlines()
        if line.strip().startswith("# ")
    ]
    n_layers = len(spec.arch) - 1
    expected = [f"layer {i}:" for i in range(1, n_layers + 1)]
    expected += ["loss:"]
    expected += [f"backward, layer {i}:" for i in range(n_layers, 0, -1)]
    starts = [c for c in comments if c.split(":")[0] + ":" in expected]
    assert [c.split(":")[0] + ":" for c in starts] == expected
    assert comments[-1] == "the gradient, in PARAM_NAMES order"


def test_section_comment_names_the_layer_input_and_activation():
    source = inspect.getsource(
        module_for(make_spec("3-4-4-1", activation="tanh")).forward
    )
    assert "# layer 1: z = W·x + b, a = tanh(z)" in source
    assert "# layer 3: z = W·a2 + b, a = tanh(z)" in source


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_forward_gives_the_outputs_that_loss_and_grad_trains_on(spec):
    # The squared-error loss of forward()'s outputs, against loss_and_grad's:
    # both are the same forward pass.
    module = module_for(spec)
    params = module.init_params(3)
    x = [0.1 * (i + 1) for i in range(spec.arch[0])]
    outputs = module.forward(params, x)
    assert len(outputs) == spec.arch[-1]
    if spec.loss == "sse":
        y = [0.0] * spec.arch[-1]
        assert module.loss(params, x, y) == sum(o * o for o in outputs)
