"""The training report: which rows are right, and when targets count as classes."""

from __future__ import annotations

import pytest

from nnsym.models.data import Dataset
from nnsym.models.training import format_report, is_classification, predictions_table
from nnsym.pipeline.spec import make_spec
from tests.helpers import module_for

XOR_XS = ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))


def dataset(ys, xs=XOR_XS, classes=None):
    names = ("y",) if len(ys[0]) == 1 else tuple(f"y{i}" for i in range(len(ys[0])))
    return Dataset("test", tuple(xs), tuple(ys), ("x0", "x1"), names, classes)


def marks(table: str) -> list[str]:
    """The last column of each row below the header."""
    return [line.split()[-1] for line in table.splitlines()[1:]]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_each_row_says_ok_exactly_when_its_prediction_is_right(seed):
    spec = make_spec("2-2-1")
    module = module_for(spec)
    params = module.init_params(seed)  # untrained: some rows right, some wrong
    data = dataset(((0.0,), (1.0,), (1.0,), (0.0,)))
    expected = [
        "ok" if (module.forward(params, x)[0] >= 0.5) == (y[0] >= 0.5) else "WRONG"
        for x, y in zip(data.xs, data.ys)
    ]
    assert marks(predictions_table(module, params, spec, data)) == expected


def test_an_untrained_network_gets_some_rows_wrong():
    # At least one of these seeds predicts a sample wrong: a table that says "ok"
    # on every row cannot pass the test above for all of them.
    spec = make_spec("2-2-1")
    module = module_for(spec)
    data = dataset(((0.0,), (1.0,), (1.0,), (0.0,)))
    tables = [
        predictions_table(module, module.init_params(seed), spec, data)
        for seed in range(4)
    ]
    assert any("WRONG" in marks(table) for table in tables)


def test_rows_of_one_hot_classes_say_wrong_for_the_wrong_argmax():
    spec = make_spec("2-3", loss="ce")
    module = module_for(spec)
    ys = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), (1.0, 0.0, 0.0))
    data = dataset(ys, classes=("a", "b", "c"))
    params = [0.0] * module.N_PARAMS
    params[-1] = 5.0  # the bias of class c: every sample is predicted c
    rows = predictions_table(module, params, spec, data).splitlines()[1:]
    assert [row.split()[-1] for row in rows] == ["WRONG", "WRONG", "ok", "WRONG"]
    assert all(row.split()[-3] == "c" for row in rows)
    report = format_report(module, params, spec, data, 1.0)
    assert "accuracy: 25.0% (1 of 4)" in report


@pytest.mark.parametrize(
    "arch, options, ys, classes",
    [
        # One output: two values either side of the threshold (0.5, tanh: 0).
        ("2-1", {}, ((0.0,), (1.0,), (1.0,), (0.0,)), True),
        ("2-1", {}, ((0.2,), (0.9,), (0.9,), (0.2,)), True),
        ("2-1", {}, ((2.0,), (3.0,), (3.0,), (2.0,)), False),
        ("2-1", {}, ((0.0,), (0.1,), (0.1,), (0.0,)), False),
        ("2-1", {}, ((0.0,), (0.5,), (1.0,), (0.0,)), False),
        ("2-1", {"activation": "tanh"}, ((-1.0,), (1.0,), (1.0,), (-1.0,)), True),
        ("2-1", {"activation": "tanh"}, ((0.0,), (1.0,), (1.0,), (0.0,)), False),
        # Several outputs: one-hot rows, however many distinct ones.
        ("2-3", {"loss": "sse"}, ((1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 0, 0)), True),
        ("2-2", {"loss": "sse"}, ((1, 0), (0, 1), (0, 1), (1, 0)), True),
        (
            "2-2",
            {"loss": "sse"},
            ((0.2, 0.8), (0.7, 0.3), (0.7, 0.3), (0.2, 0.8)),
            False,
        ),
        ("2-2", {"loss": "sse"}, ((1, 1), (0, 0), (0, 0), (1, 1)), False),
    ],
)
def test_classification_is_more_than_two_distinct_target_values(
    arch, options, ys, classes
):
    spec = make_spec(arch, **options)
    ys = tuple(tuple(float(v) for v in y) for y in ys)
    assert is_classification(spec, dataset(ys)) is classes


def test_regression_targets_get_no_marks_and_no_accuracy():
    spec = make_spec("2-1")
    module = module_for(spec)
    data = dataset(((2.0,), (3.0,), (3.0,), (2.0,)))
    params = module.init_params(0)
    report = format_report(module, params, spec, data, 1.0)
    assert "accuracy" not in report
    assert "ok" not in marks(report) and "WRONG" not in report
