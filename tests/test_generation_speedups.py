"""The shortcuts that make large modules quick to generate change nothing else."""

import black
import pytest
import sympy

from nnsym import api
from nnsym.pipeline import emit as render
from nnsym.pipeline.cse import eliminate_common_subexpressions
from nnsym.pipeline.gradients import backpropagate, delta_symbol
from nnsym.pipeline.model import build_network
from nnsym.pipeline.spec import make_spec


def unformatted_source(spec):
    network = build_network(spec)
    program = eliminate_common_subexpressions(backpropagate(network))
    context = render.build_context(spec, program, "Formulas.", "Title")
    return render.environment().get_template(render.MODULE_TEMPLATE).render(m=context)


SYNTHETIC = '''"""Doc."""
import math
X = 1
def a():
    return 1
# attached to b
def b():
    def inner():
        pass
    return inner

@staticmethod
def c():
    pass


class D:
    def e(self):
        return [1,
          2]
async def f():
    pass

def g(x=[1, 2,]): return x
Y = 2
'''


@pytest.mark.parametrize(
    "source",
    [
        SYNTHETIC,
        unformatted_source(make_spec("3-4-4-1", activation="tanh")),
        unformatted_source(make_spec("4-8-3", loss="ce")),
        unformatted_source(make_spec("2-9-7-2", activation="relu", loss="mse")),
    ],
    ids=["synthetic", "3-4-4-1", "4-8-3-ce", "2-9-7-2-relu"],
)
def test_parallel_formatting_is_byte_identical_to_one_black_run(source, monkeypatch):
    monkeypatch.setattr(render, "PARALLEL_MIN_LINES", 0)
    assert len(render.split_top_level(source)) >= 3
    whole = black.format_str(source, mode=render.BLACK_MODE)
    assert render.format_source(source) == whole


@pytest.mark.parametrize(
    "spec",
    [make_spec("3-4-4-1", activation="tanh"), make_spec("2-12-1", loss="bce")],
    ids=lambda spec: spec.name,
)
def test_presplit_unpacks_give_what_black_gives(spec, monkeypatch):
    presplit = api.generate(spec).source
    monkeypatch.setattr(render, "EXPLODE_AFTER", 10**9)
    assert presplit == api.generate(spec).source


def load(spec, tmp_path, name):
    path = tmp_path / f"{name}.py"
    api.write_module(api.generate(spec), path)
    return api.load_module(path)


def test_train_without_the_straight_line_update_takes_the_same_steps(
    tmp_path, monkeypatch
):
    spec = make_spec("2-3-1")
    straight = load(spec, tmp_path, "straight")
    monkeypatch.setattr(render, "STRAIGHT_LINE_UPDATE_MAX_PARAMS", 0)
    generic = load(spec, tmp_path, "generic")
    assert "- epoch_lr * g_" in (tmp_path / "straight.py").read_text()
    assert "- epoch_lr * g_" not in (tmp_path / "generic.py").read_text()
    xs = [(0, 0), (0, 1), (1, 0), (1, 1)]
    ys = [0, 1, 1, 0]
    a = straight.train(xs, ys, lr=1, epochs=50, seed=2)
    b = generic.train(xs, ys, lr=1, epochs=50, seed=2)
    assert a == b


def test_loss_is_the_squared_error_of_forward(tmp_path):
    module = load(make_spec("2-3-2"), tmp_path, "sse")
    params = module.init_params(4)
    x, y = (0.3, -1.2), (0.25, 0.75)
    expected = sum((o - t) ** 2 for o, t in zip(module.forward(params, x), y))
    assert module.loss(params, x, y) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "arch, options",
    [
        ("2-3-3-2", {"activation": "relu"}),
        ("2-3-2", {"activation": "leaky_relu", "loss": "mse"}),
        ("2-3-2", {"activation": "identity"}),
        ("3-4-1", {"loss": "bce"}),
        ("3-4-3", {"activation": "tanh", "loss": "ce"}),
        ("2-3-3-1", {"activation": "sigmoid"}),
    ],
)
def test_local_derivatives_equal_differentiating_every_neuron(arch, options):
    # Reference: sympy.diff of each neuron's own expressions, one by one.
    network = build_network(make_spec(arch, **options))
    gradients = backpropagate(network)
    deltas = dict(gradients.deltas)
    layers = network.layers
    for layer, above in zip(layers[:-1], layers[1:]):
        for i, (z, a, a_expr) in enumerate(zip(layer.z, layer.a, layer.a_exprs)):
            dloss_da = sum(
                sympy.diff(above.z_exprs[k], a) * delta_symbol(above, k)
                for k in range(len(above.z))
            )
            da_dz = sympy.diff(a_expr, z).xreplace({a_expr: a})
            assert sympy.expand(deltas[delta_symbol(layer, i)] - dloss_da * da_dz) == 0
    for param, grad in gradients.grads:
        layer = next(layer for layer in layers if param in layer.params)
        j = (
            next(j for j, row in enumerate(layer.weights) if param in row)
            if (param not in layer.biases)
            else layer.biases.index(param)
        )
        reference = sympy.diff(layer.z_exprs[j], param) * delta_symbol(layer, j)
        assert sympy.expand(grad - reference) == 0


@pytest.mark.parametrize("arch", ["2-1", "3-4-4-2", "4-8-3"])
def test_param_names_are_the_network_parameters_in_order(arch, tmp_path):
    spec = make_spec(arch)
    module = load(spec, tmp_path, "names")
    expected = tuple(p.name for p in build_network(spec).params)
    assert module.PARAM_NAMES == expected
    assert module.N_PARAMS == spec.n_params


def rendered_bodies(spec, monkeypatch):
    """The unformatted body of spec's Python module, as emit() renders it."""
    bodies = []
    monkeypatch.setattr(
        render, "format_source", lambda text: bodies.append(text) or text
    )
    api.generate(spec)
    monkeypatch.undo()
    return bodies


@pytest.mark.parametrize(
    "spec",
    [
        make_spec("30-16-2", output_activation="softmax", loss="ce", form="loops"),
        make_spec("2-3-1", activation="tanh", loss="mse", form="loops"),
        make_spec("2-2-1"),
    ],
    ids=["30-16-2-loops", "2-3-1-loops", "2-2-1"],
)
def test_runtime_pieces_left_unformatted_give_what_black_gives(spec, monkeypatch):
    (body,) = rendered_bodies(spec, monkeypatch)
    formatted = []
    original = render._black
    monkeypatch.setattr(
        render, "_black", lambda text: formatted.append(text) or original(text)
    )
    fast = render.format_source(body)
    pieces = render.split_top_level(body)
    if spec.form == "loops":  # the loop modules carry runtime definitions
        assert sum(map(len, formatted)) < 0.6 * len(body), "runtime pieces formatted"
    assert len(pieces) >= 2
    assert fast == black.format_str(body, mode=render.BLACK_MODE)


def test_every_runtime_definition_is_black_formatted_on_its_own():
    # What format_source relies on to leave them as they are.
    from nnsym.pipeline.runtime_source import definitions

    for name, text in definitions().items():
        assert render._black(text).strip() == text.strip(), name
