"""The JavaScript target under `node --test`, against the Python module's numbers."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import subprocess
from pathlib import Path

import pytest

from nnsym.cli import main
from nnsym.pipeline.spec import make_spec
from nnsym.targets import source_for
from tests.helpers import module_for
from tests.target_helpers import (
    JS_TESTS,
    MICROGRAD,
    XOR,
    extra_specs,
    loop_specs,
    matrix_specs,
    micrograd_spec,
    relu_case,
    shuffled_orders,
    splitmix64,
    summed_sgd,
    tanh_points,
    xor_spec,
)
from tests.target_helpers import node as find_node

NODE = find_node()
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js 18+ is not installed")

OPTIONS = [
    {"optimizer": "sgd", "reduction": "sum", "lr": 0.5},
    {"optimizer": "momentum", "reduction": "mean", "lr": 0.5},
    {"optimizer": "adam", "reduction": "sum", "lr": 0.01},
]
# weight_decay, nesterov and clip_grad_norm, as the JavaScript train() names them.
EXTRA_OPTIONS = [
    {"optimizer": "sgd", "lr": 0.5, "weight_decay": 0.01, "clip_grad_norm": 0.2},
    {"optimizer": "momentum", "reduction": "mean", "lr": 0.1, "nesterov": True},
    {"optimizer": "adam", "lr": 0.01, "weight_decay": 0.05, "clip_grad_norm": 1.0},
]
_JS_NAMES = {"weight_decay": "weightDecay", "clip_grad_norm": "clipGradNorm"}


def _points(spec, module):
    rng = random.Random(spec.name)
    points = []
    for scale in (1.0, 1.0, 1.0, 30.0):
        params = [rng.uniform(-scale, scale) for _ in range(module.N_PARAMS)]
        x = [rng.uniform(-scale, scale) for _ in range(module.N_INPUTS)]
        y = [0.0] * module.N_OUTPUTS
        y[rng.randrange(module.N_OUTPUTS)] = 1.0
        loss, grad = module.loss_and_grad(params, x, y)
        out = module.forward(params, x)
        # Where |z| is large, 1 - tanh(z)**2 and its kin cancel: one ulp of
        # difference between the runtime's _tanh and the C library's tanh grows to
        # about 1e-11 there, in the Python module's formula as much as in this
        # one. Ordinary points are held to 1e-12.
        tolerance = 1e-12 if scale == 1.0 else 1e-9
        points.append(
            {
                "params": params,
                "x": x,
                "y": y,
                "loss": loss,
                "grad": grad,
                "out": out,
                "tolerance": tolerance,
            }
        )
    return points


def _trajectory(module, xs, ys, options, epochs=2000):
    start = module.init_params(0)
    params, history = module.train(xs, ys, epochs=epochs, params=start, **options)
    return {
        "xs": xs,
        "ys": ys,
        "options": {
            "epochs": epochs,
            **{_JS_NAMES.get(k, k): v for k, v in options.items()},
        },
        "start": start,
        "params": params,
        "history": history,
    }


def _minibatch_trajectory(module, xs, ys, seed=7, epochs=300, size=3, lr=0.05):
    # The reference: the Python module's gradients in the splitmix64 order.
    params = module.init_params(1)
    start = list(params)
    history = []
    for order in shuffled_orders(seed, len(xs), epochs):
        objective = 0.0
        for first in range(0, len(xs), size):
            sums = [0.0] * len(params)
            for s in order[first : first + size]:
                loss, grad = module.loss_and_grad(params, xs[s], ys[s])
                objective += loss
                sums = [a + g for a, g in zip(sums, grad)]
            params = [p - lr * g for p, g in zip(params, sums)]
        history.append(objective)
    return {
        "xs": xs,
        "ys": ys,
        "options": {"epochs": epochs, "lr": lr, "seed": seed, "batchSize": size},
        "start": start,
        "params": params,
        "history": history,
    }


def _init_params(seed, count):
    return [2.0 * ((d >> 11) / 2.0**53) - 1.0 for d in splitmix64(seed, count)]


def _case(spec, folder: Path, trajectories=(), diverges=None, module=None):
    # module: the reference Python module (default: spec's own).
    module = module_for(spec) if module is None else module
    path = folder / f"{spec.name}.mjs"
    path.write_text(source_for(spec, "js"), encoding="utf-8")
    return {
        "name": spec.name,
        "module": str(path),
        "n_params": spec.n_params,
        "seed": 11,
        "init_params": _init_params(11, spec.n_params),
        "points": _points(spec, module),
        "trajectories": list(trajectories),
        "diverges": diverges,
    }


def _run_node(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [NODE, "--test", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_runtime_unit_tests_pass():
    run = _run_node(str(JS_TESTS / "runtime.test.mjs"))
    assert run.returncode == 0, run.stdout + run.stderr


TANH_SCRIPT = """
import { readFileSync } from "node:fs";
import { _tanh, _tanhLayer } from "%s";
const points = JSON.parse(readFileSync(process.argv[2], "utf8"));
const specials = [Infinity, -Infinity, NaN, -0, 1e6, -1e6].map(_tanh);
// The layer function over all points in place, then a 5 past its count.
const layer = Float64Array.from([...points, 5]);
_tanhLayer(layer, layer, points.length);
process.stdout.write(JSON.stringify({
  values: points.map(_tanh),
  layer: Array.from(layer),
  specials: specials.map(String),
  negativeZero: Object.is(_tanh(-0), -0),
}));
"""


def test_runtime_tanh_is_within_two_units_in_the_last_place(tmp_path: Path):
    import mpmath

    runtime = JS_TESTS.parent.parent / "nnsym" / "runtime" / "js" / "runtime.js"
    script = tmp_path / "tanh.mjs"
    script.write_text(TANH_SCRIPT % runtime.as_uri())
    points = tanh_points()
    data = tmp_path / "points.json"
    data.write_text(json.dumps(points))
    run = subprocess.run(
        [NODE, str(script), str(data)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    mpmath.mp.dps = 50
    worst = 0.0
    for x, got in zip(points, result["values"], strict=True):
        exact = mpmath.tanh(mpmath.mpf(x))
        assert math.copysign(1.0, got) == math.copysign(1.0, x)
        error = abs(mpmath.mpf(got) - exact) / math.ulp(float(exact))
        worst = max(worst, float(error))
        assert error <= 2, (x, got, float(exact))
    assert result["specials"] == ["1", "-1", "NaN", "0", "1", "-1"]
    assert result["negativeZero"]
    # A whole layer at once (the loop form's tanh layers) gives the same bits,
    # and touches nothing past its count.
    assert result["layer"] == [*result["values"], 5]
    # Not trivially exact: the approximation is visible at the last place.
    assert worst > 0.0


def test_generated_modules_equal_the_python_module(tmp_path: Path):
    cases = [_case(spec, tmp_path) for spec in matrix_specs() + extra_specs()]
    xor, micrograd = xor_spec(), micrograd_spec()
    cases.append(
        _case(
            xor,
            tmp_path,
            [_trajectory(module_for(xor), *XOR, o) for o in OPTIONS + EXTRA_OPTIONS],
        )
    )
    module = module_for(micrograd)
    cases.append(
        _case(
            micrograd,
            tmp_path,
            [_trajectory(module, *MICROGRAD, o) for o in OPTIONS + EXTRA_OPTIONS]
            + [_minibatch_trajectory(module, *MICROGRAD)],
        )
    )
    linear = make_spec("2-1", activation="identity")
    xs, ys = [[1e3, -2e3], [3e3, 1e3]], [[1.0], [0.0]]
    with pytest.raises(module_for(linear).DivergenceError) as raised:
        module_for(linear).train(xs, ys, lr=10.0, epochs=1000, params=[0.1, 0.2, 0.3])
    cases.append(
        _case(
            linear,
            tmp_path,
            diverges={
                "xs": xs,
                "ys": ys,
                "options": {"lr": 10.0, "epochs": 1000},
                "start": [0.1, 0.2, 0.3],
                "epoch": raised.value.epoch,
            },
        )
    )
    (tmp_path / "cases.json").write_text(json.dumps(cases), encoding="utf-8")
    run = _run_node(
        str(JS_TESTS / "target.test.mjs"),
        env={"NNSYM_JS_CASES": str(tmp_path / "cases.json")},
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert f"# pass {len(cases)}" in run.stdout


def test_export_target_js_predicts_as_the_python_predictor(tmp_path: Path):
    model = tmp_path / "w.json"
    train = ["train", "--arch", "2-2-1", "--data", "xor", "--seed", "0", "-q"]
    assert main([*train, "-o", str(tmp_path / "m.py"), "--save", str(model)]) == 0
    assert main(["export", "--model", str(model), "-o", str(tmp_path / "p.py")]) == 0
    js = tmp_path / "p.mjs"
    assert main(["export", "--model", str(model), "--target", "js", "-o", str(js)]) == 0
    script = (
        f"import('{js.as_uri()}').then(m => "
        "console.log(JSON.stringify(m.predict([0, 1]))))"
    )
    run = subprocess.run(
        [NODE, "-e", script], capture_output=True, text=True, check=True
    )
    import importlib.util

    loader = importlib.util.spec_from_file_location("p_js_export", tmp_path / "p.py")
    predictor = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(predictor)
    assert abs(json.loads(run.stdout)[0] - predictor.predict([0, 1])[0]) < 1e-12


TRAIN_SCRIPT = """
import { readFileSync } from "node:fs";
const c = JSON.parse(readFileSync(process.argv[2], "utf8"));
const m = await import(c.module);
const { params, history } = m.train(c.xs, c.ys, c.options);
process.stdout.write(JSON.stringify({ params, history }));
"""


@pytest.mark.parametrize("batch_size", [None, 20])
def test_loop_form_training_takes_groups_of_samples_in_sample_order(
    tmp_path: Path, batch_size
):
    # train() takes six samples at a time (_groupAt) and the rest of a batch
    # one at a time: 37 samples make 6 groups and a single, batches of 20 and
    # 17 make 3 groups and 2 singles, and 2 groups and 5 singles.
    # Each gradient sum gets its samples' terms in sample order: with relu,
    # every parameter and loss is the Python loop module's, added up sample by
    # sample, to the last bit.
    spec, module, xs, ys, start = relu_case(f"pairs-{batch_size}")
    epochs, lr = 20, 0.01
    params, expected = summed_sgd(module, xs, ys, start, lr, epochs, batch_size, 5)
    path = tmp_path / f"{spec.name}.mjs"
    path.write_text(source_for(spec, "js"), encoding="utf-8")
    assert "_groupAt(x, y, sample0 * N_INPUTS" in path.read_text()
    options = {"lr": lr, "epochs": epochs, "params": start, "seed": 5}
    if batch_size:
        options["batchSize"] = batch_size
    case = tmp_path / "case.json"
    case.write_text(
        json.dumps({"module": path.as_uri(), "xs": xs, "ys": ys, "options": options})
    )
    script = tmp_path / "train.mjs"
    script.write_text(TRAIN_SCRIPT)
    run = subprocess.run(
        [NODE, str(script), str(case)], capture_output=True, text=True, check=True
    )
    result = json.loads(run.stdout)
    assert result["history"] == expected
    assert result["params"] == params


GROUPS_SCRIPT = """
import { readFileSync } from "node:fs";
import assert from "node:assert/strict";
const cases = JSON.parse(readFileSync(process.argv[2], "utf8"));
for (const c of cases) {
  const m = await import(c.module);
  for (const count of [6, 7, 8, 9, 10, 11]) {
    const xs = c.xs.slice(0, count), ys = c.ys.slice(0, count);
    // One sample at a time through lossAndGrad, summed in sample order, sgd.
    let params = Array.from(c.start);
    const history = [];
    for (let epoch = 0; epoch < 3; epoch++) {
      const sums = new Array(params.length).fill(0);
      let objective = 0;
      xs.forEach((x, s) => {
        const [loss, grad] = m.lossAndGrad(params, x, ys[s]);
        objective += loss;
        grad.forEach((g, i) => { sums[i] += g; });
      });
      params = params.map((p, i) => p - 0.001 * sums[i]);
      history.push(objective);
    }
    const trained = m.train(xs, ys, { lr: 0.001, epochs: 3, params: c.start });
    assert.deepEqual(trained.history, history, `${c.module} ${count}`);
    assert.deepEqual(trained.params, params, `${c.module} ${count}`);
  }
}
process.stdout.write("ok");
"""


def test_groups_of_samples_give_one_at_a_time_numbers_for_every_loop_spec(
    tmp_path: Path,
):
    # _groupAt is printed for each activation, loss, softmax and width: its
    # training equals, to the last bit, the module's own single-sample
    # lossAndGrad summed in order, with 6 to 11 samples (a group of six and
    # every rest).
    cases = []
    for spec in loop_specs():
        path = tmp_path / f"{spec.name}.mjs"
        path.write_text(source_for(spec, "js"), encoding="utf-8")
        rng = random.Random(spec.name)
        n_in, n_out = spec.arch[0], spec.arch[-1]
        xs = [[rng.uniform(-2, 2) for _ in range(n_in)] for _ in range(11)]
        ys = []
        for _ in range(11):
            y = [0.0] * n_out
            y[rng.randrange(n_out)] = 1.0
            ys.append(y)
        start = [rng.uniform(-1, 1) for _ in range(spec.n_params)]
        cases.append({"module": path.as_uri(), "xs": xs, "ys": ys, "start": start})
    data = tmp_path / "cases.json"
    data.write_text(json.dumps(cases))
    script = tmp_path / "groups.mjs"
    script.write_text(GROUPS_SCRIPT)
    run = subprocess.run(
        [NODE, str(script), str(data)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0 and run.stdout == "ok", run.stderr[-3000:]


def _unrolled_module(spec):
    # The reference of a loop-form file: the unrolled Python module of its network.
    return module_for(dataclasses.replace(spec, form="unrolled", name=spec.name + "_u"))


def test_loop_form_modules_equal_the_python_module(tmp_path: Path):
    cases = [
        _case(spec, tmp_path, module=_unrolled_module(spec)) for spec in loop_specs()
    ]
    xor = make_spec("2-2-1", form="loops")
    module = _unrolled_module(xor)
    trajectories = [_trajectory(module, *XOR, o) for o in OPTIONS + EXTRA_OPTIONS]
    cases.append(_case(xor, tmp_path, trajectories, module=module))
    micrograd = make_spec("3-4-4-1", activation="tanh", loss="mse", form="loops")
    module = _unrolled_module(micrograd)
    trajectories = [_trajectory(module, *MICROGRAD, o) for o in OPTIONS + EXTRA_OPTIONS]
    trajectories.append(_minibatch_trajectory(module, *MICROGRAD))
    cases.append(_case(micrograd, tmp_path, trajectories, module=module))
    linear = make_spec("2-1", activation="identity", form="loops")
    xs, ys = [[1e3, -2e3], [3e3, 1e3]], [[1.0], [0.0]]
    module = _unrolled_module(linear)
    with pytest.raises(module.DivergenceError) as raised:
        module.train(xs, ys, lr=10.0, epochs=1000, params=[0.1, 0.2, 0.3])
    diverges = {
        "xs": xs,
        "ys": ys,
        "options": {"lr": 10.0, "epochs": 1000},
        "start": [0.1, 0.2, 0.3],
        "epoch": raised.value.epoch,
    }
    cases.append(_case(linear, tmp_path, diverges=diverges, module=module))
    for case in cases:
        assert "Loop form" in Path(case["module"]).read_text(encoding="utf-8")
    (tmp_path / "cases.json").write_text(json.dumps(cases), encoding="utf-8")
    run = _run_node(
        str(JS_TESTS / "target.test.mjs"),
        env={"NNSYM_JS_CASES": str(tmp_path / "cases.json")},
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert f"# pass {len(cases)}" in run.stdout


def test_loop_form_param_names_and_size(tmp_path: Path):
    from nnsym.pipeline.spec import param_names

    spec = make_spec("3-4-2", loss="ce", form="loops")
    path = tmp_path / "m.mjs"
    path.write_text(source_for(spec, "js"), encoding="utf-8")
    script = (
        f"import('{path.as_uri()}').then(m => "
        "console.log(JSON.stringify(m.PARAM_NAMES)))"
    )
    run = subprocess.run([NODE, "-e", script], capture_output=True, text=True)
    assert json.loads(run.stdout) == list(param_names(spec.arch))
    # The file grows with the layers, not the parameters: 101,770 of them in
    # 60 kB, 24 kB of which is the runtime's (the same in every module) and
    # 10 kB train()'s six samples at a time (_groupAt).
    big = make_spec("784-128-10", loss="ce", form="loops")
    assert len(source_for(big, "js")) < 62000


def test_loop_form_applies_tanh_a_layer_at_a_time():
    # One _tanhLayer call per tanh layer and sample, not a loop calling _tanh:
    # V8 inlines only so much into one function (see runtime.js).
    spec = make_spec("2-3-5-1", activation="tanh", form="loops")
    source = source_for(spec, "js")
    for call in ("_tanhLayer(z1, a1, 3);", "_tanhLayer(z2B, a2B, 5);"):
        assert call in source
    assert "= _tanh(" not in source


def test_extra_training_options_refuse_bad_values(tmp_path: Path):
    path = tmp_path / "xor.mjs"
    path.write_text(source_for(xor_spec(), "js"), encoding="utf-8")
    script = (
        f"import {{ train }} from {json.dumps(path.as_uri())};\n"
        "const data = [[[0, 0], [0, 1]], [[0], [1]]];\n"
        "for (const options of [\n"
        "  { weightDecay: -1 }, { nesterov: true }, { clipGradNorm: 0 },\n"
        '  { optimizer: "lm", lr: null, weightDecay: 0.1 },\n'
        "]) {\n"
        "  try {\n"
        "    train(...data, { lr: 0.1, epochs: 1, ...options });\n"
        '    console.log("accepted");\n'
        "  } catch (error) {\n"
        "    console.log(`${error.name}: ${error.message}`);\n"
        "  }\n"
        "}\n"
    )
    run = subprocess.run(
        [NODE, "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "RangeError: weightDecay must be a finite number >= 0",
        "RangeError: nesterov needs optimizer momentum and momentum > 0",
        "RangeError: clipGradNorm must be a finite number > 0",
        "RangeError: weightDecay and clipGradNorm are for sgd, momentum and adam",
    ]
