"""Weights files: exact round trip, atomic writes, and one clear line for bad files."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnsym import api
from nnsym.errors import NnsymError, UsageError
from nnsym.models.weights import (
    Weights,
    check_module,
    load_weights,
    save_weights,
    to_json,
)
from nnsym.pipeline.model import build_network
from nnsym.pipeline.spec import make_spec, param_names

SPEC = make_spec("2-2-1")


def sample_weights(seed=0, spec=SPEC, classes=None):
    rng = random.Random(seed)
    params = tuple(rng.uniform(-5, 5) for _ in range(spec.n_params))
    return Weights(spec, params, classes, {"data": "xor", "lr": 1.0})


def refused(path):
    with pytest.raises(UsageError) as caught:
        load_weights(path)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    return message


@pytest.mark.parametrize("arch", ["2-1", "2-2-1", "3-4-4-1", "4-8-3"])
def test_param_names_are_the_networks(arch):
    spec = make_spec(arch)
    assert param_names(spec.arch) == tuple(p.name for p in build_network(spec).params)


def test_round_trip_is_exact(tmp_path):
    path = tmp_path / "model.json"
    weights = sample_weights(classes=None)
    save_weights(path, weights)
    loaded = load_weights(path)
    assert loaded == weights
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_round_trip_with_classes(tmp_path):
    spec = make_spec("2-3-2", loss="ce")
    weights = sample_weights(spec=spec, classes=("no", 'quote "q"'))
    path = tmp_path / "model.json"
    save_weights(path, weights)
    assert load_weights(path) == weights


def test_file_holds_the_spec_beside_named_parameters(tmp_path):
    path = tmp_path / "model.json"
    save_weights(path, sample_weights())
    document = json.loads(path.read_text())
    assert document["format"] == "nnsym-weights"
    assert document["spec"] == {
        "arch": [2, 2, 1],
        "activation": "sigmoid",
        "output_activation": "sigmoid",
        "loss": "sse",
        "name": "mlp_2_2_1",
    }
    assert list(document["params"]) == list(param_names((2, 2, 1)))


def test_non_finite_parameters_are_not_saved(tmp_path):
    path = tmp_path / "model.json"
    bad = Weights(SPEC, (float("nan"),) + (0.0,) * 8)
    with pytest.raises(NnsymError, match="not all finite"):
        save_weights(path, bad)
    assert not path.exists()


def test_a_foreign_file_is_not_overwritten_without_force(tmp_path):
    path = tmp_path / "notes.json"
    path.write_text('{"mine": true}')
    with pytest.raises(NnsymError, match="not an nnsym weights file"):
        save_weights(path, sample_weights())
    assert path.read_text() == '{"mine": true}'
    save_weights(path, sample_weights(), force=True)
    assert load_weights(path) == sample_weights()


def test_a_weights_file_is_replaced(tmp_path):
    path = tmp_path / "model.json"
    save_weights(path, sample_weights(0))
    save_weights(path, sample_weights(1))
    assert load_weights(path) == sample_weights(1)


def test_every_truncation_is_refused(tmp_path):
    text = to_json(sample_weights())
    path = tmp_path / "model.json"
    for cut in range(0, len(text) - 2):
        path.write_text(text[:cut])
        refused(path)


def test_not_json(tmp_path):
    path = tmp_path / "model.json"
    path.write_text("w1_0_0 = 1.5\n")
    assert "not valid JSON" in refused(path)
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    assert "not UTF-8" in refused(path)


def test_other_json_is_not_a_weights_file(tmp_path):
    path = tmp_path / "model.json"
    for document in ([1, 2], {"params": {}}, "text", None):
        path.write_text(json.dumps(document))
        assert "not an nnsym weights file" in refused(path)


def edited(tmp_path, change):
    document = json.loads(to_json(sample_weights()))
    change(document)
    path = tmp_path / "model.json"
    path.write_text(json.dumps(document))
    return path


def test_wrong_shape(tmp_path):
    def drop(d):
        del d["params"]["b2_0"]

    assert "holds 8 parameters, but a 2-2-1 network has 9" in refused(
        edited(tmp_path, drop)
    )

    def extra(d):
        d["params"]["w3_0_0"] = 1.0

    assert "unexpected w3_0_0" in refused(edited(tmp_path, extra))

    def odd_name(d):
        d["params"]["w3\n0"] = 1.0

    assert "unexpected 'w3\\n0'" in refused(edited(tmp_path, odd_name))

    def listed(d):
        d["params"] = list(d["params"].values())

    assert '"params" must be an object' in refused(edited(tmp_path, listed))

    def text(d):
        d["params"]["w1_0_0"] = "1.5"

    assert "w1_0_0 is '1.5', not a number" in refused(edited(tmp_path, text))

    def boolean(d):
        d["params"]["w1_0_0"] = True

    assert "not a number" in refused(edited(tmp_path, boolean))

    def nested(d):
        d["params"]["w1_0_0"] = [1.0]

    assert "not a number" in refused(edited(tmp_path, nested))


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_or_infinite_parameters(tmp_path, constant):
    path = tmp_path / "model.json"
    text = to_json(sample_weights())
    first_value = text.split('"w1_0_0": ')[1].split(",")[0]
    path.write_text(text.replace(first_value, constant, 1))
    assert constant in refused(path)


def test_huge_number_that_overflows_to_infinity(tmp_path):
    def huge(d):
        d["params"]["w1_0_0"] = 1e400

    path = tmp_path / "model.json"
    text = to_json(sample_weights())
    first_value = text.split('"w1_0_0": ')[1].split(",")[0]
    path.write_text(text.replace(first_value, "1e400", 1))
    assert "not finite" in refused(path)


def test_wrong_architecture(tmp_path):
    def smaller(d):
        d["spec"]["arch"] = [2, 1]
        d["spec"]["name"] = "mlp_2_1"

    message = refused(edited(tmp_path, smaller))
    assert "a 2-1 network has 3" in message and "does not match" in message

    def bad_arch(d):
        d["spec"]["arch"] = [2, 0, 1]

    assert "bad spec" in refused(edited(tmp_path, bad_arch))

    def bad_loss(d):
        d["spec"]["loss"] = "hinge"

    assert "bad spec" in refused(edited(tmp_path, bad_loss))

    def injected_name(d):
        d["spec"]["name"] = "x; import os"

    assert "not a valid module name" in refused(edited(tmp_path, injected_name))


def test_an_enormous_architecture_is_refused_without_listing_its_names(tmp_path):
    # 10 billion parameter names would not fit in memory; the count is enough.
    def enormous(d):
        d["spec"]["arch"] = [2, 100_000, 100_000, 1]

    message = refused(edited(tmp_path, enormous))
    assert "has 10000500001" in message and "does not match" in message


def test_wrong_classes(tmp_path):
    def classes(d):
        d["classes"] = ["a", "b", "c"]

    # One sigmoid output holds two labels: (negative, positive).
    assert '"classes" must be null or a list of 2 labels' in refused(
        edited(tmp_path, classes)
    )


def test_missing_file_and_directory(tmp_path):
    assert "no such file" in refused(tmp_path / "none.json")
    assert "is a directory" in refused(tmp_path)


def test_newer_format_version(tmp_path):
    def newer(d):
        d["version"] = 2

    assert "version 2" in refused(edited(tmp_path, newer))


def test_check_module_rejects_another_network(tmp_path):
    spec = make_spec("2-1")
    path = tmp_path / f"{spec.name}.py"
    api.write_module(api.generate(spec), path)
    module = api.load_module(path)
    check_module(sample_weights(spec=spec), module, tmp_path / "m.json")
    with pytest.raises(NnsymError, match="holds a 2-2-1 .* but the module is 2-1"):
        check_module(sample_weights(), module, tmp_path / "m.json")


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    key=st.sampled_from(["spec", "params", "classes", "training", "version", "arch"]),
    value=JSON_VALUES,
)
def test_any_edit_loads_or_is_one_usage_error(tmp_path_factory, key, value):
    document = json.loads(to_json(sample_weights()))
    if key == "arch":
        document["spec"]["arch"] = value
    else:
        document[key] = value
    path = tmp_path_factory.mktemp("fuzz") / "model.json"
    path.write_text(json.dumps(document))
    try:
        weights = load_weights(path)
    except UsageError as error:
        assert str(path) in str(error) and "\n" not in str(error)
        return
    assert len(weights.params) == weights.spec.n_params
