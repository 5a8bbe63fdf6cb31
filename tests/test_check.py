"""nnsym check: finite differences, the step table, PyTorch, and --at."""

from __future__ import annotations

import sys
from dataclasses import replace
from types import SimpleNamespace

import pytest

from nnsym.cli import main
from nnsym.errors import NnsymError, UsageError
from nnsym.explain.fdcheck import (
    STEP_TABLE,
    central_difference,
    format_report,
    forward_difference,
    torch_loss_and_grad,
)
from nnsym.explain.point import parse_at
from nnsym.explain.sampling import rounding_floor
from nnsym.pipeline.spec import make_spec
from nnsym.targets.python import check_gradients
from tests.helpers import run_cli_in_process as run_cli


def test_difference_formulas_on_a_parabola():
    def f(p):
        return p[0] ** 2

    # (3.1^2 - 9) / 0.1 = 6.1; the central difference of a parabola is exact.
    assert forward_difference(f, [3.0], 0, 0.1) == pytest.approx(6.1)
    assert central_difference(f, [3.0], 0, 0.1) == pytest.approx(6.0)


@pytest.fixture(scope="module")
def report_2_2_1():
    spec = make_spec("2-2-1")
    return check_gradients(spec, parse_at("seed=3,x=1,0.5,y=1", spec))


def test_symbolic_gradient_agrees_with_central_differences(report_2_2_1):
    report = report_2_2_1
    assert [p.name for p in report.params][:3] == ["w1_0_0", "w1_0_1", "b1_0"]
    assert len(report.params) == 9
    assert report.agrees
    for p in report.params:
        assert p.central_error < 1e-8
        assert p.forward_error < 1e-4


def test_step_table_shows_both_sides_of_the_trade_off(report_2_2_1):
    errors = {row.step: row for row in report_2_2_1.table}
    assert [row.step for row in report_2_2_1.table] == list(STEP_TABLE)
    assert STEP_TABLE[0] == 1.0 and STEP_TABLE[-1] == pytest.approx(1e-12)
    # Too big: truncation error; too small: rounding error.
    assert errors[1.0].forward_error > 100 * errors[1e-6].forward_error
    assert errors[1e-12].forward_error > 100 * errors[1e-6].forward_error
    assert errors[1e-12].central_error > 100 * errors[1e-5].central_error
    # Central differences beat forward ones at the tutorial's step.
    assert errors[1e-4].central_error < errors[1e-4].forward_error / 100


def test_check_can_fail_on_a_wrong_gradient():
    spec = make_spec("2-1")

    def loss(params, x, y):
        return sum(p * p for p in params)

    wrong = SimpleNamespace(
        PARAM_NAMES=("w1_0_0", "w1_0_1", "b1_0"),
        loss=loss,
        # The true gradient is 2p; this one is p.
        loss_and_grad=lambda params, x, y: (loss(params, x, y), list(params)),
    )
    report = check_gradients(spec, parse_at(None, spec), module=wrong)
    assert not report.agrees


@pytest.mark.parametrize(
    "arch,options",
    [
        ("2-1", {}),
        ("3-4-4-1", {"activation": "tanh"}),
        ("3-3", {"loss": "ce"}),
        ("2-3-1", {"activation": "relu", "loss": "bce"}),
        (
            "2-2-2",
            {
                "activation": "leaky_relu",
                "output_activation": "identity",
                "loss": "mse",
            },
        ),
    ],
)
def test_every_loss_and_activation_passes(arch, options):
    spec = make_spec(arch, **options)
    assert check_gradients(spec, parse_at("seed=5", spec)).agrees


def test_cli_check_prints_every_parameter_and_the_table(capsys):
    assert main(["check", "--arch", "2-1", "--at", "seed=0,x=1,1,y=1"]) == 0
    out = capsys.readouterr().out
    for name in ("w1_0_0", "w1_0_1", "b1_0"):
        assert f"\n  {name} " in out
    assert "  1e+00 " in out and "  1e-12 " in out
    assert "OK: central differences agree" in out


def test_at_parsing():
    spec = make_spec("2-2-1")
    point = parse_at("seed=1,x=1,0,y=1", spec)
    assert point.x == (1.0, 0.0) and point.y == (1.0,) and point.seed == 1
    assert len(point.params) == 9
    given = parse_at("params=1,2,3,4,5,6,7,8,9,x=0,0,y=0", spec)
    assert given.params == tuple(float(v) for v in range(1, 10)) and given.seed is None
    default = parse_at(None, spec)
    assert all(v != 0 for v in default.x) and len(set(default.x)) == 2
    for bad in (
        "x=1",
        "z=1",
        "seed=1.5",
        "1,2",
        "x=1,a,y=1",
        "seed=1,params=1",
        "x=1,2,x=1,2",
        "y=nan",
        "seed=--5",
        "seed=\u00b2",
        "seed=" + "9" * 5000,
    ):
        with pytest.raises(UsageError):
            parse_at(bad, spec)
    assert parse_at("seed=-5", spec).seed == -5


def test_cli_bad_at_is_usage_error(capsys):
    assert main(["check", "--arch", "2-1", "--at", "x=1"]) == 2
    assert "needs 2 value(s)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "value"),
    [("--step", "0"), ("--step", "inf"), ("--step", "nan"), ("--tolerance", "nan")]
    + [("--tolerance", "-1")],
)
def test_cli_bad_step_or_tolerance_is_usage_error(capsys, option, value):
    assert main(["check", "--arch", "2-1", option, value]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{option} {value}:" in err


def test_against_torch_without_torch_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    spec = make_spec("2-1")
    with pytest.raises(NnsymError, match=r"nnsym\[torch\]"):
        torch_loss_and_grad(spec, parse_at(None, spec))


@pytest.mark.parametrize(
    "arch,options",
    [
        ("2-2-1", {}),
        ("3-4-4-1", {"activation": "tanh"}),
        ("4-3", {"loss": "ce"}),
        # Seed 5: at seed 2 both relu neurons are dead (see the test below).
        ("2-2-1", {"activation": "relu", "loss": "bce", "seed": 5}),
        ("2-2-2", {"activation": "leaky_relu", "loss": "mse"}),
    ],
)
def test_against_torch_autograd(arch, options):
    pytest.importorskip("torch")
    seed = options.pop("seed", 2)
    spec = make_spec(arch, **options)
    report = check_gradients(spec, parse_at(f"seed={seed}", spec), against_torch=True)
    assert report.worst_torch_error is not None
    assert report.worst_torch_error < 1e-12
    assert report.agrees


def test_at_weights_file(tmp_path):
    from nnsym.models.weights import Weights, save_weights
    from nnsym.models.weights import parse_at as parse_at_reading_files

    spec = make_spec("2-2-1")
    saved = tuple(0.1 * (k - 4) for k in range(9))
    path = tmp_path / "xor.json"
    save_weights(path, Weights(spec, saved))
    point = parse_at_reading_files(f"weights={path},x=1,0,y=1", spec)
    assert point.params == saved and point.seed is None
    assert f"from {path}" in point.describe()
    assert check_gradients(spec, point).agrees
    with pytest.raises(UsageError, match="--arch 2-2-1"):
        parse_at_reading_files(f"weights={path}", make_spec("2-3-1"))
    with pytest.raises(UsageError, match="one of seed, params or weights"):
        parse_at_reading_files(f"weights={path},seed=1", spec)
    with pytest.raises(UsageError):
        parse_at_reading_files(f"weights={tmp_path / 'missing.json'}", spec)
    # The explain tools read no files themselves: the caller passes the reader.
    with pytest.raises(UsageError, match="nnsym.api.parse_at"):
        parse_at(f"weights={path}", spec)


@pytest.mark.parametrize(
    ("loss", "at"), [("sse", "y=1e200"), ("bce", "x=1e308,1e308,y=1e308")]
)
def test_a_point_where_the_loss_overflows_is_a_usage_error(capsys, loss, at):
    assert main(["check", "--arch", "2-1", "--loss", loss, "--at", at]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--at" in err and "bug in nnsym" not in err


@pytest.mark.parametrize("step", ["10", "1e-14"])
def test_a_step_too_big_or_too_small_is_blamed_not_the_gradients(capsys, step):
    assert main(["check", "--arch", "2-1", "--step", step]) == 1
    captured = capsys.readouterr()
    err = captured.err
    assert err.count("\n") == 1 and f"--step {step}" in err
    assert "bug in nnsym" not in err and "use one near" in err
    # The report's own verdict says they differ, not that they agree.
    verdict = captured.out.strip().splitlines()[-1]
    assert verdict.startswith("MISMATCH: central differences differ by up to ")


def test_a_mismatch_at_every_step_still_blames_nnsym(capsys, monkeypatch):
    real_check = check_gradients

    def wrong_by_one(*args, **kwargs):
        # A symbolic gradient off by 1 cannot agree at any step.
        report = real_check(*args, **kwargs)
        params = tuple(replace(p, symbolic=p.symbolic + 1) for p in report.params)
        table = tuple(
            replace(row, central_error=row.central_error + 1) for row in report.table
        )
        return replace(report, params=params, table=table)

    monkeypatch.setattr("nnsym.api.check_gradients", wrong_by_one)
    assert main(["check", "--arch", "2-1"]) == 1
    assert "bug in nnsym" in capsys.readouterr().err


def test_zero_against_zero_is_not_checked(capsys):
    # At seed 2 both hidden relu neurons of this 2-2-1 net are dead: layer 1's
    # gradients and their differences are all exactly 0, which checks nothing.
    args = ["check", "--arch=2-2-1", "--activation=relu", "--loss=bce", "--at=seed=2"]
    code, out, err = run_cli(args, capsys)
    assert code == 1
    assert out.count("zero to rounding: not checked") == 8
    assert "8 of the 9 gradients are zero to rounding" in out
    assert "NOT CHECKED: every gradient checked in layer(s) 1 " in out
    assert "OK" not in out and "not checked" in err
    # One dead neuron of two (seed 0): the live one checks layer 1, and the
    # dead one's rows are marked, not counted.
    code, out, _ = run_cli([*args[:-1], "--at=seed=0"], capsys)
    assert code == 0 and "OK: " in out
    assert "4 of the 9 gradients are zero to rounding" in out


def test_wide_inputs_give_gradients_well_above_rounding_and_a_short_line(capsys):
    # The default inputs used to halve: x783 was 2e-236 on 784 inputs, and 93 of
    # the 100 sampled gradients were 0 on both sides, reported OK (784-16-10; two
    # hidden neurons and three classes show the same in a tenth of the time).
    spec = make_spec("784-2-3", loss="ce")
    point = parse_at(None, spec)
    assert min(abs(x) for x in point.x) > 1e-3
    report = check_gradients(spec, point)
    assert report.n_unchecked == 0 and not report.unchecked_layers
    assert report.agrees
    layer_1 = [p.symbolic for p in report.params if p.name.startswith("w1_")]
    assert min(abs(g) for g in layer_1) > 1e3 * rounding_floor(report.loss, 1e-4)
    line = format_report(report).splitlines()[1]
    assert len(line) < 300 and "784 values" in line
