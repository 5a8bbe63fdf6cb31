"""The benchmark's code paths, on tiny sizes: it runs, and its peers agree.

No timing is asserted; `python -m benchmarks` is how the numbers are measured.
"""

import json

import pytest

from benchmarks import run
from benchmarks.data import moons
from benchmarks.naive import fixed_point, naive_gradients
from benchmarks.peers import handwritten, micrograd_peer, var
from nnsym import api
from nnsym.pipeline.model import build_network
from nnsym.pipeline.spec import make_spec


def test_quick_run_writes_json_and_every_peer_agrees(tmp_path, capsys):
    output = tmp_path / "result.json"
    status = run.main(["--quick", "--output", str(output)])
    printed = capsys.readouterr().out
    assert status == 0
    report = json.loads(output.read_text())
    assert report["training"], "no training rows"
    # float32 peers agree to their own precision ("same loss to 1e-3 (float32)").
    assert all(row["check"].startswith("same") for row in report["training"])
    assert {row["case"].split(",")[0] for row in report["training"]} >= {
        "XOR 2-2-1",
        "moons 2-3-3-1",
    }
    assert report["generation"][0]["arch"] == "2-2-1"
    assert report["naive"]["nnsym sigmoid"]["same_gradient"]
    assert report["naive"]["plain SymPy sigmoid"]["same_gradient"]
    assert "| XOR 2-2-1 | hand-written straight-line |" in printed
    # The loop form's parts: both forms and the hand-written loops agree.
    assert report["loops"] and report["scale"]["module_lines"] > 0
    assert 0 <= report["digits"]["cpython_test_accuracy"] <= 1
    assert report["threshold"][0]["arch"] == "2-2-2-1"


def test_moons_is_two_labelled_half_moons_and_reproducible():
    xs, ys = moons(20, seed=3)
    assert (xs, ys) == moons(20, seed=3)
    assert xs != moons(20, seed=4)[0]
    assert [y for (y,) in ys] == [0.0] * 10 + [1.0] * 10
    # Without noise the outer moon is the upper half of the unit circle.
    clean, _ = moons(20, noise=0.0)
    assert all(abs(x0 * x0 + x1 * x1 - 1.0) < 1e-12 for x0, x1 in clean[:10])


@pytest.mark.parametrize(
    "arch, activation, output_activation",
    [("2-3-1", "sigmoid", "sigmoid"), ("2-3-2-1", "tanh", "sigmoid")],
)
def test_peers_take_the_same_first_step_as_finite_differences(
    arch, activation, output_activation, tmp_path
):
    # An independent reference: the first gradient step from central differences
    # of the summed loss, computed with the generated module's forward pass only.
    spec = make_spec(arch, activation=activation, output_activation=output_activation)
    path = tmp_path / f"{spec.name}.py"
    api.write_module(api.generate(spec), path)
    module = api.load_module(path)
    xs, ys = moons(6, seed=1)
    start = module.init_params(5)

    def total_loss(params):
        return sum((module.forward(params, x)[0] - y[0]) ** 2 for x, y in zip(xs, ys))

    step = 1e-6
    expected = []
    for i, p in enumerate(start):
        up, down = list(start), list(start)
        up[i], down[i] = p + step, p - step
        expected.append(p - 0.5 * (total_loss(up) - total_loss(down)) / (2 * step))
    acts = spec.activations
    results = {
        "loops": handwritten.train_loops(spec.arch, acts, xs, ys, start, 0.5, 1),
        "micrograd": micrograd_peer.train(spec.arch, acts, xs, ys, start, 0.5, 1),
    }
    if set(acts) == {"sigmoid"}:
        results["var"] = var.train(spec.arch, xs, ys, start, 0.5, 1)
    for name, (params, history) in results.items():
        assert history[0] == pytest.approx(total_loss(start), rel=1e-12), name
        assert params == pytest.approx(expected, abs=1e-7), name


def test_naive_method_matches_finite_differences():
    network = build_network(make_spec("2-2-1"))
    temps, reduced = naive_gradients(network, plain=True)
    values = fixed_point(network)

    def inline(expr):
        for temp, definition in reversed(temps):
            expr = expr.xreplace({temp: definition})
        return expr

    loss_expr = inline(reduced[0])
    for param, grad_expr in zip(network.params, reduced[1:]):
        grad = float(inline(grad_expr).subs(values))
        step = 1e-6
        up = {**values, param: values[param] + step}
        down = {**values, param: values[param] - step}
        numeric = float(loss_expr.subs(up) - loss_expr.subs(down)) / (2 * step)
        assert grad == pytest.approx(numeric, abs=1e-7)


def test_epoch_flops_counts_each_product_of_each_layer():
    from benchmarks.speed import epoch_flops

    # 2-2-1 on 4 samples, by hand: layer 1 forward 2*4 + 2, gradient 2*4 + 2;
    # layer 2 forward 2*2 + 1, dL/da 2*2, gradient 2*2 + 1: 34 a sample; one
    # sgd step over 9 parameters, 18.
    assert epoch_flops((2, 2, 1), 4, None) == 4 * 34 + 18
    # Batches of 3 over 4 samples: two steps.
    assert epoch_flops((2, 2, 1), 4, 3) == 4 * 34 + 2 * 18


def test_the_speed_part_agrees_with_pytorch_on_tiny_cases(tmp_path):
    pytest.importorskip("torch")
    from benchmarks.speed import speed_case, speed_table

    rows, agree = speed_case(tmp_path, 1, quick=True)
    assert agree and {row["case"] for row in rows} >= {"moons 2-3-3-1"}
    table = speed_table(rows)
    assert "| moons 2-3-3-1 | float64 |" in table and "GFLOP/s" in table
    assert all(row["float64"]["gflops"] > 0 for row in rows)


def test_playground_part_prints_frames_epochs_and_goals(tmp_path, capsys):
    """`--only playground`: the page in headless Chromium; figures and goals printed."""
    output = tmp_path / "result.json"
    assert run.main(["--quick", "--only", "playground", "--output", str(output)]) == 0
    printed = capsys.readouterr().out
    report = json.loads(output.read_text())
    cases = report["playground"]
    assert [case["case"].split(",")[0] for case in cases] == [
        "an empty page (the browser's own frame rate)",
        "XOR 2-2-1",
        "moons 2-16-16-1",
        "moons 2-16-16-1",
    ]
    assert all(case["errors"] == [] for case in cases)
    assert all(case["frames_per_second"] > 0 for case in cases)
    assert all(case["epochs_per_second"] > 0 for case in cases[1:])
    assert "goal: XOR 2-2-1 at 60 frames/s with 10 epochs a frame" in printed
    assert "goal: moons 2-16-16-1, 200 points at 30 frames/s" in printed


def test_the_javascript_peak_kernel_computes_the_chains_it_counts():
    # Its chains' sums against the same multiplies and adds in Python (neither
    # fuses them), from the repetitions the kernel reports it ran.
    import shutil

    from benchmarks.targets import js_peak

    node = shutil.which("node")
    if node is None:
        pytest.skip("no node")
    report = js_peak(node, 2, 2000)
    assert report["flopsPerSecond"] > 0 and str(report["lanes"]) in report["totals"]
    for lanes, result in report["totals"].items():
        chains = [float(k) for k in range(int(lanes))]
        for _ in range(result["repetitions"]):
            chains = [value * 0.999999 + 1e-6 for value in chains]
        total = 0.0
        for value in chains:
            total += value
        assert result["total"] == total, lanes
        assert 2 * int(lanes) * result["repetitions"] == pytest.approx(2000, rel=0.1)


def test_the_javascript_limit_is_c_s_rate_over_javascript_s_peak():
    from benchmarks.common import Row
    from benchmarks.targets import Peaks, js_limit_lines

    case = "targets: moons 2-16-16-1, 200 points (ratio to C)"
    # 9e6 FLOPs an epoch in 1 ms: 9 GFLOP/s; JavaScript's, 2.25.
    c_row = Row(case, "nnsym C loops (gcc -O2, ctypes)", [1.0], 1000, flops=9_000_000)
    js_row = Row(case, "nnsym JavaScript (loops, Node)", [4.0], 1000, flops=9_000_000)
    other = Row("targets: xor 2-2-1", "nnsym C loops (gcc -O2)", [1.0], 10, flops=9)
    lines = js_limit_lines([c_row, js_row, other], Peaks(60e9, 120e9, 12e9))
    assert lines == [
        "JavaScript peak: 12.0 GFLOP/s float64 (C's, peak.c: 60.0); "
        "C's peak over JavaScript's: 5.00x",
        "lowest JavaScript loops / nnsym C loops (gcc -O2, ctypes) its peak allows: "
        "0.75x (C 9.00 GFLOP/s / JavaScript peak 12.0)",
        "nnsym JavaScript (loops, Node): 2.25 GFLOP/s, 18.8% of JavaScript's peak",
    ]
    assert js_limit_lines([c_row], Peaks(60e9, 120e9, None)) == []
