"""The C99 target: strict compilation, sanitizers, and the Python module's numbers."""

from __future__ import annotations

import dataclasses
import math
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from nnsym.cli import main
from nnsym.pipeline.spec import make_spec
from nnsym.targets import source_for
from nnsym.targets.cengine import (
    BAD_OPTIONS,
    DIVERGED,
    OK,
    PORTABLE_FLAGS,
    CTrainer,
    compile_shared,
)
from tests.helpers import module_for
from tests.target_helpers import (
    MICROGRAD,
    STRICT,
    XOR,
    c_trainer,
    close,
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

pytestmark = pytest.mark.skipif(
    shutil.which("gcc") is None, reason="gcc is not installed"
)

MATRIX = tuple(matrix_specs() + extra_specs())
TRAJECTORY = (xor_spec(), micrograd_spec())
# A divergent run: a linear network with a learning rate far too large.
LINEAR = make_spec("2-1", activation="identity")
ALL = MATRIX + TRAJECTORY + (LINEAR,)
# float32 per-sample loss and gradient against float64: relative to max(1, |v|).
FLOAT32_TOLERANCE = 1e-5


def _points(spec, count, scale):
    rng = random.Random(f"{spec.name}-{scale}")
    module = module_for(spec)
    points = []
    for _ in range(count):
        params = [rng.uniform(-scale, scale) for _ in range(module.N_PARAMS)]
        x = [rng.uniform(-scale, scale) for _ in range(module.N_INPUTS)]
        if spec.loss == "ce":
            y = [0.0] * module.N_OUTPUTS
            y[rng.randrange(module.N_OUTPUTS)] = 1.0
        else:
            y = [float(rng.randrange(2)) for _ in range(module.N_OUTPUTS)]
        points.append((params, x, y))
    return points


@pytest.mark.parametrize("compiler", ["gcc", "clang"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_network_compiles_strictly(tmp_path: Path, compiler: str, dtype: str):
    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} is not installed")
    lines = []
    for spec in MATRIX:
        (tmp_path / f"{spec.name}.h").write_text(source_for(spec, "c", dtype))
        lines += [
            f"#define {spec.name.upper()}_IMPLEMENTATION",
            f'#include "{spec.name}.h"',
        ]
        # A second inclusion, as from another header, must be harmless.
        lines.append(f'#include "{spec.name}.h"')
    # The runtime's own macros end with the implementation: only NAME_ ones stay.
    for macro in ("NNSYM_RT", "NNSYM_REAL", "NNSYM_MATH", "NNSYM_MASK64"):
        lines += [f"#ifdef {macro}", f"#error {macro} is still defined", "#endif"]
    (tmp_path / "all.c").write_text("\n".join(lines) + "\n")
    subprocess.run(
        [
            compiler,
            *STRICT,
            "-c",
            "-o",
            str(tmp_path / "all.o"),
            str(tmp_path / "all.c"),
        ],
        check=True,
    )


@pytest.mark.parametrize("spec", MATRIX, ids=lambda s: s.name)
def test_loss_and_grad_equal_the_python_module(spec):
    trainer = c_trainer(spec, ALL)
    module = module_for(spec)
    # Ordinary values, and values where a naive formula overflows.
    for params, x, y in _points(spec, 5, 1.0) + _points(spec, 3, 30.0):
        expected_loss, expected_grad = module.loss_and_grad(params, x, y)
        loss, grad = trainer.loss_and_grad(params, x, y)
        assert math.isfinite(loss) and all(math.isfinite(g) for g in grad)
        assert close(loss, expected_loss, 1e-12), (loss, expected_loss)
        for got, want in zip(grad, expected_grad):
            assert close(got, want, 1e-12), (grad, expected_grad)
        outputs = trainer.forward(params, x)
        for got, want in zip(outputs, module.forward(params, x)):
            assert close(got, want, 1e-12)
    # Far in the tails (|z| in the thousands): finite wherever the Python
    # module is, as both evaluate the table's overflow-free forms.
    for params, x, y in _points(spec, 3, 300.0):
        expected_loss, expected_grad = module.loss_and_grad(params, x, y)
        loss, grad = trainer.loss_and_grad(params, x, y)
        assert math.isfinite(loss) == math.isfinite(expected_loss)
        for got, want in zip(grad, expected_grad):
            assert math.isfinite(got) == math.isfinite(want)


@pytest.mark.parametrize("spec", MATRIX, ids=lambda s: s.name)
def test_float32_within_its_documented_tolerance(spec):
    trainer = c_trainer(spec, MATRIX, "float32")
    module = module_for(spec)
    for params, x, y in _points(spec, 5, 1.0):
        # The float64 reference at the float32-rounded inputs.
        params, x = [_f32(v) for v in params], [_f32(v) for v in x]
        expected_loss, expected_grad = module.loss_and_grad(params, x, y)
        loss, grad = trainer.loss_and_grad(params, x, y)
        assert close(loss, expected_loss, FLOAT32_TOLERANCE)
        for got, want in zip(grad, expected_grad, strict=True):
            assert close(got, want, FLOAT32_TOLERANCE), (grad, expected_grad)


def _f32(value: float) -> float:
    import struct

    return struct.unpack("f", struct.pack("f", value))[0]


TRAIN_OPTIONS = [
    {"optimizer": "sgd", "reduction": "sum", "lr": 0.5},
    {"optimizer": "sgd", "reduction": "mean", "lr": 1.0},
    {"optimizer": "momentum", "reduction": "sum", "lr": 0.05},
    {"optimizer": "adam", "reduction": "mean", "lr": 0.01},
]


@pytest.mark.parametrize("spec", TRAJECTORY, ids=lambda s: s.name)
@pytest.mark.parametrize("options", TRAIN_OPTIONS, ids=lambda o: o["optimizer"])
def test_2000_epoch_trajectories_equal_the_python_trainer(spec, options):
    xs, ys = XOR if spec.arch[0] == 2 else MICROGRAD
    module = module_for(spec)
    start = module.init_params(0)
    params, history = module.train(xs, ys, epochs=2000, params=start, **options)
    code, c_params, c_history = c_trainer(spec, ALL).train(
        xs, ys, epochs=2000, params=start, **options
    )
    assert code == OK and len(c_history) == len(history) == 2000
    for got, want in zip(c_history, history):
        assert close(got, want, 1e-10)
    for got, want in zip(c_params, params):
        assert close(got, want, 1e-10)
    # Training did something: the objective fell.
    assert history[-1] < history[0]


def test_mini_batches_follow_the_splitmix64_order():
    spec = micrograd_spec()
    xs, ys = MICROGRAD
    module = module_for(spec)
    params = module.init_params(1)
    epochs, size, lr = 300, 3, 0.05
    expected = []
    # The reference: the Python module's gradients, in the documented order.
    for order in shuffled_orders(7, len(xs), epochs):
        objective = 0.0
        for start in range(0, len(xs), size):
            batch = order[start : start + size]
            sums = [0.0] * len(params)
            for s in batch:
                loss, grad = module.loss_and_grad(params, xs[s], ys[s])
                objective += loss
                sums = [a + g for a, g in zip(sums, grad)]
            params = [p - lr * g for p, g in zip(params, sums)]
        expected.append(objective)
    code, c_params, history = c_trainer(spec, ALL).train(
        xs,
        ys,
        epochs=epochs,
        params=module.init_params(1),
        seed=7,
        batch_size=size,
        lr=lr,
    )
    assert code == OK
    for got, want in zip(history, expected):
        assert close(got, want, 1e-10)
    for got, want in zip(c_params, params):
        assert close(got, want, 1e-10)


def test_init_params_is_splitmix64():
    spec = micrograd_spec()
    params = c_trainer(spec, ALL).init_params(42)
    draws = splitmix64(42, len(params))
    assert params == [2.0 * ((d >> 11) / 2.0**53) - 1.0 for d in draws]
    # The published first output of splitmix64 from state 0.
    assert splitmix64(0, 1) == [0xE220A8397B1DCDAF]


def test_divergence_is_an_error_code_with_the_last_finite_parameters():
    xs = [[1e3, -2e3], [3e3, 1e3]]
    ys = [[1.0], [0.0]]
    code, params, history = c_trainer(LINEAR, ALL).train(
        xs, ys, lr=10.0, epochs=1000, params=[0.1, 0.2, 0.3]
    )
    assert code == DIVERGED
    assert not math.isfinite(history[-1])
    assert all(math.isfinite(v) for v in history[:-1] + params)
    module = module_for(LINEAR)
    with pytest.raises(module.DivergenceError) as raised:
        module.train(xs, ys, lr=10.0, epochs=1000, params=[0.1, 0.2, 0.3])
    assert raised.value.epoch == len(history) - 1
    assert raised.value.params == params


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_bad_options_are_refused_before_training(dtype: str):
    spec = MATRIX[0]
    trainer = c_trainer(spec, MATRIX, dtype)
    xs = [[0.5] * spec.arch[0]]
    ys = [[1.0] * spec.arch[-1]]
    start = trainer.init_params(0)
    bad = [{"lr": lr} for lr in (0.0, -1.0, math.inf, math.nan)]
    bad.append({"lr": 0.1, "epochs": -1})
    if dtype == "float32":
        # Finite as a double, infinite as the float the trainer uses.
        bad.append({"lr": 1e300})
    for options in bad:
        code, params, history = trainer.train(
            xs, ys, **{"epochs": 5, **options}, params=start
        )
        assert (code, params, history) == (BAD_OPTIONS, start, []), options
    code, _, history = trainer.train(xs, ys, lr=0.1, epochs=5, params=start)
    assert code == OK and len(history) == 5


def test_target_loss_stops_early():
    spec = xor_spec()
    module = module_for(spec)
    start = module.init_params(0)
    _, _, expected = (
        None,
        *module.train(*XOR, lr=1.0, epochs=2000, params=start, target_loss=0.05),
    )
    code, _, history = c_trainer(spec, ALL).train(
        *XOR, lr=1.0, epochs=2000, params=start, target_loss=0.05
    )
    assert code == OK and len(history) == len(expected) < 2000


SANITIZED_DRIVER = r"""
#include <stdio.h>
#define %(upper)s_IMPLEMENTATION
#include "%(name)s.h"

int main(void)
{
    static const %(name)s_real xs[] = {%(xs)s};
    static const %(name)s_real ys[] = {%(ys)s};
    %(name)s_real params[%(upper)s_N_PARAMS], history[300];
    size_t order[%(n)d];
    long run, i;
    int optimizer, code;
    %(name)s_options options;
    for (optimizer = 0; optimizer < 3; optimizer++) {
        %(name)s_default_options(&options);
        options.optimizer = optimizer;
        options.lr = 0.01;
        options.epochs = 300;
        options.batch_size = optimizer == 1 ? 7 : 0;
        options.seed = 5;
        %(name)s_init_params(params, 3);
        code = %(name)s_train(params, xs, ys, %(n)d, &options, order, history, &run);
        printf("%%d %%ld %%.17g\n", code, run, (double)history[run - 1]);
        for (i = 0; i < %(upper)s_N_PARAMS; i++) {
            printf("%%.17g\n", (double)params[i]);
        }
    }
    return 0;
}
"""
# The unrolled form; the loop form, whose training records samples in static
# chunks of 16 (37 samples: two whole chunks and a part); and float32.
SANITIZED = (
    (micrograd_spec(), "float64", "gcc"),
    (
        make_spec("3-4-4-1", activation="tanh", loss="mse", form="loops"),
        "float64",
        "gcc",
    ),
    (
        make_spec("3-4-4-1", activation="tanh", loss="mse", form="loops"),
        "float32",
        "clang",
    ),
)


@pytest.mark.parametrize(
    "spec,dtype,compiler", SANITIZED, ids=lambda v: getattr(v, "name", v)
)
def test_sanitized_build_runs_clean_and_agrees_with_ctypes(
    spec, dtype: str, compiler: str, tmp_path: Path
):
    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} is not installed")
    rng = random.Random(f"sanitized-{spec.name}")
    xs = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(37)]
    ys = [[rng.choice((-1.0, 1.0))] for _ in range(37)]
    source = source_for(spec, "c", dtype)
    (tmp_path / f"{spec.name}.h").write_text(source)
    (tmp_path / "driver.c").write_text(
        SANITIZED_DRIVER
        % {
            "name": spec.name,
            "upper": spec.name.upper(),
            "n": len(xs),
            "xs": ", ".join(repr(v) for x in xs for v in x),
            "ys": ", ".join(repr(v) for y in ys for v in y),
        }
    )
    program = tmp_path / "driver"
    subprocess.run(
        [
            compiler,
            *STRICT,
            "-g",
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
            "-o",
            str(program),
            str(tmp_path / "driver.c"),
            "-lm",
        ],
        check=True,
    )
    run = subprocess.run([str(program)], capture_output=True, text=True, check=True)
    assert run.stderr == ""
    values = run.stdout.split()
    assert len(values) == 3 * (spec.n_params + 3)
    (tmp_path / "lib").mkdir()
    library = compile_shared(source, spec.name, tmp_path / "lib")
    trainer = CTrainer(library, spec, dtype)
    for optimizer in range(3):
        block = values[
            optimizer * (spec.n_params + 3) : (optimizer + 1) * (spec.n_params + 3)
        ]
        code, params, history = trainer.train(
            xs,
            ys,
            lr=0.01,
            epochs=300,
            params=trainer.init_params(3),
            optimizer=("sgd", "momentum", "adam")[optimizer],
            batch_size=7 if optimizer == 1 else None,
            seed=5,
        )
        # float32 printed through double: the same numbers.
        assert int(block[0]) == code == OK and int(block[1]) == len(history) == 300
        assert float(block[2]) == history[-1]
        assert [float(v) for v in block[3:]] == params


def test_compile_errors_are_one_line(tmp_path: Path):
    from nnsym.errors import NnsymError

    with pytest.raises(NnsymError, match="compiling the generated C failed"):
        compile_shared("this is not C", "broken", tmp_path)


@pytest.mark.parametrize("compiler", ["gcc", "clang"])
@pytest.mark.parametrize("form", ["unrolled", "loops"])
def test_fast_flags_give_the_portable_builds_numbers_to_the_bit(
    tmp_path: Path, compiler: str, form: str
):
    # train --engine c builds with -O3 -march=native -ffp-contract=off: faster,
    # and no multiply-add fused (clang would fuse them otherwise).
    path = shutil.which(compiler)
    if path is None:
        pytest.skip(f"{compiler} is not installed")
    spec = make_spec(
        "2-6-5-2", activation="tanh", output_activation="sigmoid", loss="mse"
    )
    spec = dataclasses.replace(spec, form=form, name=f"{spec.name}_{form}")
    source = source_for(spec, "c")
    rng = random.Random(form)
    xs = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(23)]
    ys = [[float(x[0] * x[1] > 0), float(x[0] > x[1])] for x in xs]
    runs = []
    for folder, flags in (("fast", None), ("portable", PORTABLE_FLAGS)):
        (tmp_path / folder).mkdir()
        library = compile_shared(source, spec.name, tmp_path / folder, path, flags)
        trainer = CTrainer(library, spec)
        runs.append(
            trainer.train(
                xs,
                ys,
                lr=0.05,
                epochs=300,
                params=trainer.init_params(1),
                optimizer="adam",
                batch_size=5,
                seed=2,
            )
        )
    fast, portable = runs
    assert fast[0] == portable[0] == OK
    assert fast[1] == portable[1] and fast[2] == portable[2]


def test_a_compiler_that_refuses_the_fast_flags_gets_the_portable_ones(
    tmp_path: Path,
):
    refusing = tmp_path / "old-cc"
    refusing.write_text(
        '#!/bin/sh\ncase "$*" in *-march=native*) echo "unknown option" >&2; '
        f'exit 1;; esac\nexec {shutil.which("gcc")} "$@"\n'
    )
    refusing.chmod(0o755)
    spec = xor_spec()
    library = compile_shared(source_for(spec, "c"), spec.name, tmp_path, str(refusing))
    trainer = CTrainer(library, spec)
    assert trainer.forward(trainer.init_params(0), [0, 1]) == c_trainer(
        spec, ALL
    ).forward(trainer.init_params(0), [0, 1])


def test_library_of_one_spec_loads(tmp_path: Path):
    spec = xor_spec()
    library = compile_shared(source_for(spec, "c"), spec.name, tmp_path)
    trainer = CTrainer(library, spec)
    assert trainer.forward(trainer.init_params(0), [0, 1]) == c_trainer(
        spec, ALL
    ).forward(trainer.init_params(0), [0, 1])


def test_train_engine_c_gives_the_python_parameters(tmp_path: Path, capsys):
    common = [
        "train",
        "--arch",
        "2-2-1",
        "--data",
        "xor",
        "--lr",
        "1",
        "--epochs",
        "2000",
        "--seed",
        "0",
        "-q",
        "-o",
        str(tmp_path / "m.py"),
    ]
    assert main([*common, "--save", str(tmp_path / "py.json")]) == 0
    assert main([*common, "--engine", "c", "--save", str(tmp_path / "c.json")]) == 0
    import json

    py = json.loads((tmp_path / "py.json").read_text())
    c = json.loads((tmp_path / "c.json").read_text())
    for name, value in (
        py["params"].items()
        if isinstance(py["params"], dict)
        else enumerate(py["params"])
    ):
        other = c["params"][name]
        assert close(other, value, 1e-10)


def test_train_engine_c_refuses_a_history_larger_than_memory(tmp_path: Path, capsys):
    # The C trainer's loss history is one array of --epochs numbers, made
    # before training: 10**13 epochs would need 80 TB.
    args = ["train", "--arch", "2-2-1", "--data", "xor", "--engine", "c"]
    args += ["--epochs", str(10**13), "-o", str(tmp_path / "m.py")]
    status = main(args)
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and "8e+04 GB for the loss history" in err


def test_train_engine_c_without_a_compiler_is_one_line(
    tmp_path: Path, monkeypatch, capsys
):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CC", raising=False)
    status = main(
        [
            "train",
            "--arch",
            "2-2-1",
            "--data",
            "xor",
            "--engine",
            "c",
            "-o",
            str(tmp_path / "m.py"),
        ]
    )
    err = capsys.readouterr().err
    assert status == 1
    assert err.count("\n") == 1 and "needs a C compiler" in err


def test_generate_target_c_writes_a_recognised_file(tmp_path: Path, capsys):
    path = tmp_path / "net.h"
    args = ["generate", "--arch", "2-2-1", "--target", "c", "-o", str(path)]
    assert main(args) == 0
    assert main(args) == 0
    assert "unchanged" in capsys.readouterr().err
    assert path.read_text().startswith("// Generated by nnsym")


def test_export_target_c_predicts_as_the_python_predictor(tmp_path: Path):
    model = tmp_path / "w.json"
    assert (
        main(
            [
                "train",
                "--arch",
                "2-2-1",
                "--data",
                "xor",
                "--seed",
                "0",
                "-q",
                "-o",
                str(tmp_path / "m.py"),
                "--save",
                str(model),
            ]
        )
        == 0
    )
    assert (
        main(["export", "--model", str(model), "-o", str(tmp_path / "p.py"), "-q"]) == 0
    )
    assert (
        main(
            [
                "export",
                "--model",
                str(model),
                "--target",
                "c",
                "-o",
                str(tmp_path / "p.h"),
                "-q",
            ]
        )
        == 0
    )
    (tmp_path / "main.c").write_text(
        '#include <stdio.h>\n#define MLP_2_2_1_IMPLEMENTATION\n#include "p.h"\n'
        "int main(void) { double x[2] = {0, 1}, out[1];\n"
        '  mlp_2_2_1_predict(x, out); printf("%.17g\\n", out[0]); return 0; }\n'
    )
    subprocess.run(
        ["gcc", *STRICT, "-o", str(tmp_path / "main"), str(tmp_path / "main.c"), "-lm"],
        check=True,
    )
    out = subprocess.run(
        [str(tmp_path / "main")], capture_output=True, text=True, check=True
    )
    import importlib.util

    loader = importlib.util.spec_from_file_location("p_export_test", tmp_path / "p.py")
    predictor = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(predictor)
    assert close(float(out.stdout), predictor.predict([0, 1])[0], 1e-12)


RUNTIME_DRIVER = r"""
#include <stdio.h>
#include "nnsym_defaults.h"
#include "nnsym_runtime.h"
#include "nnsym_logsumexp.h"

int main(void)
{
    nnsym_rng rng;
    size_t order[10], i;
    const double big[3] = {1000.0, 1000.0, -1000.0};
    double params[2] = {1.0, 1.0}, grads[2] = {2.0, -3.0}, m[2] = {0, 0}, v[2] = {0, 0};
    nnsym_rng_seed(&rng, 0);
    printf("%llu\n", nnsym_rng_next(&rng));
    printf("%llu\n", nnsym_rng_next(&rng));
    for (i = 0; i < 10; i++) {
        order[i] = i;
    }
    nnsym_shuffle(order, 10, &rng);
    for (i = 0; i < 10; i++) {
        printf("%lu\n", (unsigned long)order[i]);
    }
    printf("%.17g\n", nnsym_logsumexp(3, big));
    nnsym_adam_step(params, grads, m, v, 2, 1, 0.1, 0.9, 0.999, 1e-8);
    printf("%.17g\n%.17g\n", params[0], params[1]);
    nnsym_sgd_step(params, grads, 2, 0.5);
    nnsym_momentum_step(params, grads, m, 2, 0.5, 0.9, 0);
    printf("%.17g\n", params[0]);
    nnsym_rng_seed(&rng, 42);
    printf("%.17g\n", nnsym_rng_uniform(&rng));
    {
        /* 2-2-1: rows (w, w, b), (w, w, b), then (w, w, b). */
        const size_t widths[3] = {2, 2, 1};
        double p9[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, g9[9] = {0};
        double packed[45] = {0}, g2[2] = {3.0, 4.0}, v2[2] = {1.0, 0.0};
        double p2[2] = {0.0, 0.0};
        printf("%.17g\n", nnsym_penalty(p9, widths, 2, 0.5));
        nnsym_add_decay(g9, p9, widths, 2, 0.5, packed);
        for (i = 0; i < 9; i++) {
            printf("%.17g %.17g\n", g9[i], packed[i * (i + 1) / 2 + i]);
        }
        nnsym_clip_grad_norm(g2, 2, 1.0);
        printf("%.17g %.17g\n", g2[0], g2[1]);
        nnsym_momentum_step(p2, grads, v2, 2, 0.5, 0.9, 1);
        printf("%.17g %.17g\n", p2[0], p2[1]);
    }
    {
        /* The mean's division and sgd's step in one pass. */
        double p3[2] = {1.0, -2.0}, s3[2] = {0.3, 0.7};
        nnsym_mean_sgd_step(p3, s3, 2, 0.1, 3.0);
        printf("%.17g %.17g\n", p3[0], p3[1]);
    }
    return 0;
}
"""


def test_c_runtime_compiles_alone_and_works(tmp_path: Path):
    runtime = Path(__file__).resolve().parent.parent / "nnsym" / "runtime" / "c"
    (tmp_path / "driver.c").write_text(RUNTIME_DRIVER)
    program = tmp_path / "driver"
    subprocess.run(
        [
            "gcc",
            *STRICT,
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
            "-I",
            str(runtime),
            "-o",
            str(program),
            str(tmp_path / "driver.c"),
            "-lm",
        ],
        check=True,
    )
    out = subprocess.run(
        [str(program)], capture_output=True, text=True, check=True
    ).stdout.split()
    # The published first outputs of splitmix64 from state 0.
    assert int(out[0]) == 0xE220A8397B1DCDAF == splitmix64(0, 1)[0]
    assert int(out[1]) == 0x6E789E6AA1B965F4
    order = [int(v) for v in out[2:12]]
    assert sorted(order) == list(range(10))
    assert order == shuffled_orders_from(0, 2, 10)
    assert float(out[12]) == 1000.0 + math.log(2.0)
    # Adam's first step moves by lr against the sign of the gradient.
    assert abs(float(out[13]) - 0.9) < 1e-8 and abs(float(out[14]) - 1.1) < 1e-8
    # sgd: 0.9 - 0.5 * 2; momentum: velocity 0.9 * m[0] + 2, m[0] = 0.2 after adam.
    velocity = 0.9 * 0.2 + 2.0
    assert close(float(out[15]), float(out[13]) - 0.5 * 2.0 - 0.5 * velocity, 1e-12)
    assert float(out[16]) == 2.0 * ((splitmix64(42, 1)[0] >> 11) / 2.0**53) - 1.0
    # Weight decay: weight_decay / 2 times the squared weights (not the biases,
    # params 2, 5 and 8): 0.25 * (1 + 4 + 16 + 25 + 49 + 64).
    assert float(out[17]) == 0.25 * 159
    decayed = [float(v) for v in out[18:36]]
    for i in range(9):
        own = 0.0 if i in (2, 5, 8) else 0.5
        assert decayed[2 * i] == own * (i + 1) and decayed[2 * i + 1] == own
    # clip_grad_norm_: norm 5, scaled by 1 / (5 + 1e-6).
    coefficient = 1.0 / (5.0 + 1e-6)
    assert [float(v) for v in out[36:38]] == [3.0 * coefficient, 4.0 * coefficient]
    # Nesterov: v = 0.9 v + g, step g + 0.9 v (PyTorch's definition).
    velocity = [0.9 * 1.0 + 2.0, 0.9 * 0.0 - 3.0]
    nesterov = [-0.5 * (g + 0.9 * v) for g, v in zip([2.0, -3.0], velocity)]
    assert [float(v) for v in out[38:40]] == nesterov
    # mean_sgd_step: params - lr * (sums / count), the same operations in Python.
    assert [float(v) for v in out[40:42]] == [
        1.0 - 0.1 * (0.3 / 3.0),
        -2.0 - 0.1 * (0.7 / 3.0),
    ]


def shuffled_orders_from(seed: int, skip: int, n: int) -> list[int]:
    """One Fisher-Yates shuffle of range(n) after `skip` draws of splitmix64(seed)."""
    draws = iter(splitmix64(seed, skip + n)[skip:])
    order = list(range(n))
    for i in range(n, 1, -1):
        j = next(draws) % i
        order[i - 1], order[j] = order[j], order[i - 1]
    return order


def test_train_engine_c_mini_batches_take_the_splitmix64_order(tmp_path: Path, capsys):
    import json

    # Said once, unless -q: the Python trainer's mini-batch order is another.
    note = ["train", "--arch", "2-2-1", "--data", "xor", "--epochs", "1"]
    note += ["--batch-size", "2", "--engine", "c", "-o", str(tmp_path / "n.py")]
    assert main(note) == 0
    assert capsys.readouterr().err.count("splitmix64 order") == 1
    model = tmp_path / "c.json"
    assert (
        main(
            [
                "train",
                "--arch",
                "2-2-1",
                "--data",
                "xor",
                "--lr",
                "0.5",
                "--epochs",
                "200",
                "--seed",
                "3",
                "--batch-size",
                "3",
                "-q",
                "--engine",
                "c",
                "-o",
                str(tmp_path / "m.py"),
                "--save",
                str(model),
            ]
        )
        == 0
    )
    assert "splitmix64" not in capsys.readouterr().err
    module = module_for(xor_spec())
    params = module.init_params(3)
    xs, ys = XOR
    for order in shuffled_orders(3, len(xs), 200):
        for first in range(0, len(xs), 3):
            sums = [0.0] * len(params)
            for s in order[first : first + 3]:
                _, grad = module.loss_and_grad(params, xs[s], ys[s])
                sums = [a + g for a, g in zip(sums, grad)]
            params = [p - 0.5 * g for p, g in zip(params, sums)]
    saved = json.loads(model.read_text())["params"]
    values = list(saved.values()) if isinstance(saved, dict) else saved
    assert all(close(a, b, 1e-10) for a, b in zip(values, params, strict=True))


# The loop form (--form loops): the same contract, from the per-layer program.
LOOPS = tuple(loop_specs())
LOOP_TRAJECTORY = (
    make_spec("2-2-1", form="loops"),
    make_spec("3-4-4-1", activation="tanh", loss="mse", form="loops"),
)
ALL_LOOPS = LOOPS + LOOP_TRAJECTORY + (make_spec("2-1", "identity", form="loops"),)


def _unrolled_module(spec):
    # The reference: the unrolled Python module of the same network.
    return module_for(dataclasses.replace(spec, form="unrolled", name=spec.name + "_u"))


def test_the_loop_form_is_loops():
    source = source_for(make_spec("784-128-10", loss="ce", form="loops"), "c")
    assert "#define MLP_784_128_10_SOFTMAX_CE_LOOPS_SIZE_1 128" in source
    assert "for (size_t j = 0; j < MLP_784_128_10_SOFTMAX_CE_LOOPS_SIZE_1" in source
    # No allocation: every buffer's size is a macro of the architecture; the
    # file's size is the layers' (about 46 kB with the chunk kernel, 91 kB with
    # the Jacobian, lm and lbfgs, 103 kB with weight decay, Nesterov, clipping
    # and the blocked gradient sums, 114 kB with the vectorizable sigmoid), not
    # the 101,770 parameters'.
    assert "malloc(" not in source and len(source) < 120000


@pytest.mark.parametrize("compiler", ["gcc", "clang"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_loop_form_compiles_strictly(tmp_path: Path, compiler: str, dtype: str):
    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} is not installed")
    lines = []
    for spec in ALL_LOOPS:
        (tmp_path / f"{spec.name}.h").write_text(source_for(spec, "c", dtype))
        lines += [
            f"#define {spec.name.upper()}_IMPLEMENTATION",
            f'#include "{spec.name}.h"',
            f'#include "{spec.name}.h"',
        ]
    (tmp_path / "all.c").write_text("\n".join(lines) + "\n")
    subprocess.run(
        [
            compiler,
            *STRICT,
            "-c",
            "-o",
            str(tmp_path / "all.o"),
            str(tmp_path / "all.c"),
        ],
        check=True,
    )


@pytest.mark.parametrize("spec", LOOPS, ids=lambda s: s.name)
def test_loop_form_equals_the_python_module(spec):
    trainer = c_trainer(spec, ALL_LOOPS)
    module = _unrolled_module(spec)
    for params, x, y in _points(spec, 5, 1.0) + _points(spec, 3, 30.0):
        expected_loss, expected_grad = module.loss_and_grad(params, x, y)
        loss, grad = trainer.loss_and_grad(params, x, y)
        assert close(loss, expected_loss, 1e-12), (loss, expected_loss)
        for got, want in zip(grad, expected_grad):
            assert close(got, want, 1e-12), (grad, expected_grad)
        for got, want in zip(trainer.forward(params, x), module.forward(params, x)):
            assert close(got, want, 1e-12)
    for params, x, y in _points(spec, 3, 300.0):
        expected_loss, expected_grad = module.loss_and_grad(params, x, y)
        loss, grad = trainer.loss_and_grad(params, x, y)
        assert math.isfinite(loss) == math.isfinite(expected_loss)
        for got, want in zip(grad, expected_grad):
            assert math.isfinite(got) == math.isfinite(want)


@pytest.mark.parametrize("spec", LOOPS, ids=lambda s: s.name)
def test_loop_form_float32_within_its_tolerance(spec):
    trainer = c_trainer(spec, LOOPS, "float32")
    module = _unrolled_module(spec)
    for params, x, y in _points(spec, 5, 1.0):
        params, x = [_f32(v) for v in params], [_f32(v) for v in x]
        expected_loss, expected_grad = module.loss_and_grad(params, x, y)
        loss, grad = trainer.loss_and_grad(params, x, y)
        assert close(loss, expected_loss, FLOAT32_TOLERANCE)
        for got, want in zip(grad, expected_grad, strict=True):
            assert close(got, want, FLOAT32_TOLERANCE), (grad, expected_grad)


@pytest.mark.parametrize("spec", LOOP_TRAJECTORY, ids=lambda s: s.name)
@pytest.mark.parametrize("options", TRAIN_OPTIONS, ids=lambda o: o["optimizer"])
def test_loop_form_2000_epoch_trajectories(spec, options):
    xs, ys = XOR if spec.arch[0] == 2 else MICROGRAD
    module = _unrolled_module(spec)
    start = module.init_params(0)
    params, history = module.train(xs, ys, epochs=2000, params=start, **options)
    code, c_params, c_history = c_trainer(spec, ALL_LOOPS).train(
        xs, ys, epochs=2000, params=start, **options
    )
    assert code == OK and len(c_history) == len(history) == 2000
    for got, want in zip(c_history, history):
        assert close(got, want, 1e-10)
    for got, want in zip(c_params, params):
        assert close(got, want, 1e-10)
    assert history[-1] < history[0]


def test_loop_form_mini_batches_and_divergence():
    spec = LOOP_TRAJECTORY[1]
    xs, ys = MICROGRAD
    module = _unrolled_module(spec)
    start = module.init_params(1)
    options = {"epochs": 300, "seed": 7, "batch_size": 3, "lr": 0.05}
    expected = []
    params = list(start)
    for order in shuffled_orders(7, len(xs), 300):
        objective = 0.0
        for first in range(0, len(xs), 3):
            sums = [0.0] * len(params)
            for s in order[first : first + 3]:
                loss, grad = module.loss_and_grad(params, xs[s], ys[s])
                objective += loss
                sums = [a + g for a, g in zip(sums, grad)]
            params = [p - 0.05 * g for p, g in zip(params, sums)]
        expected.append(objective)
    trainer = c_trainer(spec, ALL_LOOPS)
    code, c_params, history = trainer.train(xs, ys, params=start, **options)
    assert code == OK
    for got, want in zip(history, expected):
        assert close(got, want, 1e-10)
    for got, want in zip(c_params, params):
        assert close(got, want, 1e-10)
    # A linear network with a learning rate far too large: the same divergence.
    linear = make_spec("2-1", activation="identity", form="loops")
    xs, ys = [[1e3, -2e3], [3e3, 1e3]], [[1.0], [0.0]]
    code, params, history = c_trainer(linear, ALL_LOOPS).train(
        xs, ys, lr=10.0, epochs=1000, params=[0.1, 0.2, 0.3]
    )
    assert code == DIVERGED and not math.isfinite(history[-1])
    with pytest.raises(module_for(LINEAR).DivergenceError) as raised:
        module_for(LINEAR).train(xs, ys, lr=10.0, epochs=1000, params=[0.1, 0.2, 0.3])
    assert raised.value.epoch == len(history) - 1
    assert all(close(a, b, 1e-12) for a, b in zip(raised.value.params, params))


TANH_UNITS = {
    # One file per precision: the header's defaults are the double version.
    "float64": (
        '#include "nnsym_defaults.h"\n#include "nnsym_tanh.h"\n'
        "double tanh64(double x) { return nnsym_tanh(x); }\n"
        "int overflow_raised_at(double x)\n"
        "{ volatile double t; feclearexcept(FE_ALL_EXCEPT); t = nnsym_tanh(x);\n"
        "  (void)t; return fetestexcept(FE_OVERFLOW) != 0; }\n"
    ),
    "float32": (
        "#define NNSYM_RT(name) f32_##name\n#define NNSYM_REAL float\n"
        '#define NNSYM_MATH(name) name##f\n#include "nnsym_tanh.h"\n'
        "float tanh32(float x) { return f32_tanh(x); }\n"
        "int overflow_raised_at(float x)\n"
        "{ volatile float t; feclearexcept(FE_ALL_EXCEPT); t = f32_tanh(x);\n"
        "  (void)t; return fetestexcept(FE_OVERFLOW) != 0; }\n"
    ),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_runtime_tanh_is_within_two_units_in_the_last_place(tmp_path: Path, dtype):
    import ctypes
    import struct

    import mpmath

    runtime = Path(__file__).resolve().parent.parent / "nnsym" / "runtime" / "c"
    unit = tmp_path / "tanh.c"
    unit.write_text("#include <fenv.h>\n" + TANH_UNITS[dtype])
    library = tmp_path / "libtanh.so"
    subprocess.run(
        ["gcc", *STRICT, "-O2", "-shared", "-fPIC", "-I", str(runtime)]
        + ["-o", str(library), str(unit), "-lm"],
        check=True,
    )
    lib = ctypes.CDLL(str(library))
    single = dtype == "float32"
    function = lib.tanh32 if single else lib.tanh64
    real = ctypes.c_float if single else ctypes.c_double
    function.restype, function.argtypes = real, [real]
    lib.overflow_raised_at.restype = ctypes.c_int
    lib.overflow_raised_at.argtypes = [real]

    def rounded(value: float) -> float:
        return struct.unpack("f", struct.pack("f", value))[0] if single else value

    def ulp(value: float) -> float:
        if not single:
            return math.ulp(value)
        exponent = math.frexp(value)[1] if value else -125
        return 2.0 ** (max(exponent, -125) - 24)

    mpmath.mp.dps = 50
    worst = 0.0
    for point in tanh_points():
        x = rounded(point)
        if single and (x == 0.0) != (point == 0.0):
            continue  # below float's range: no float input to test
        exact = mpmath.tanh(mpmath.mpf(x))
        got = function(x)
        assert math.copysign(1.0, got) == math.copysign(1.0, x)
        error = abs(mpmath.mpf(got) - exact) / ulp(rounded(float(exact)))
        worst = max(worst, float(error))
        assert error <= 2, (x, got, float(exact))
    # Exactly +-1 once saturated, without overflowing exp() on the way.
    assert function(1e6) == 1.0 and function(-1e6) == -1.0
    assert function(400.0) == 1.0 and lib.overflow_raised_at(400.0) == 0
    assert lib.overflow_raised_at(1e30) == 0
    assert function(math.inf) == 1.0 and function(-math.inf) == -1.0
    assert math.isnan(function(math.nan))
    assert math.copysign(1.0, function(-0.0)) == -1.0
    # Not trivially exact: the approximation is visible at the last place.
    assert worst > 0.0


@pytest.mark.parametrize("activation", ["relu", "identity"])
def test_loop_form_sums_in_the_python_loop_modules_order(activation):
    # Four neurons at a time, each summed as before: with no library function
    # in the way (relu, identity), every number is the Python loop module's,
    # to the last bit. 3-6-5-2: a block of four and a rest in both layers.
    spec = make_spec("3-6-5-2", activation=activation, loss="sse", form="loops")
    module = module_for(spec)
    trainer = c_trainer(spec, (spec,))
    rng = random.Random(activation)
    for _ in range(20):
        params = [rng.uniform(-1, 1) for _ in range(module.N_PARAMS)]
        x = [rng.uniform(-1, 1) for _ in range(3)]
        y = [rng.uniform(0, 1) for _ in range(2)]
        loss, grad = trainer.loss_and_grad(params, x, y)
        expected_loss, expected_grad = module.loss_and_grad(params, x, y)
        assert loss == expected_loss and list(grad) == list(expected_grad)
        assert trainer.forward(params, x) == list(module.forward(params, x))


@pytest.mark.parametrize("batch_size", [None, 20])
def test_loop_form_training_adds_chunks_of_samples_in_sample_order(batch_size):
    # train() adds the gradient sums 16 samples at a time (NAME_add_outer): 37
    # samples make whole chunks and a part, and batches of 20 end mid-chunk.
    # Each weight's additions stay in sample order: with relu, every parameter
    # and loss is the Python loop module's, added up sample by sample, to the
    # last bit.
    spec, module, xs, ys, start = relu_case(f"chunks-{batch_size}")
    epochs, lr = 20, 0.01
    params, expected = summed_sgd(module, xs, ys, start, lr, epochs, batch_size, 5)
    code, c_params, history = c_trainer(spec, (spec,)).train(
        xs, ys, lr=lr, epochs=epochs, params=start, seed=5, batch_size=batch_size
    )
    assert code == OK
    assert list(history) == expected
    assert list(c_params) == params
