"""jacobian, optimizer="lbfgs" and optimizer="lm" of the generated Python module.

jacobian is checked against central differences of forward and against
torch.func.jacrev of an independent PyTorch float64 model; lbfgs against
torch.optim.LBFGS(line_search_fn="strong_wolfe") itself; lm against a dense
float64 solve of the same damped system and against its definition.
"""

from __future__ import annotations

import math
import random

import pytest

from nnsym.runtime import second_order
from tests.helpers import REPO, module, run_cli_process

torch = pytest.importorskip("torch")

# (arch, options, form): every loss, both forms, deep and wide enough to matter.
NETWORKS = [
    ("2-2-1", {}, "unrolled"),
    ("2-3-1", {"loss": "bce"}, "loops"),
    ("3-4-3", {"loss": "ce", "activation": "tanh"}, "unrolled"),
    ("3-4-3", {"loss": "ce", "activation": "tanh"}, "loops"),
    ("2-3-3-2", {"loss": "mse", "activation": "tanh"}, "loops"),
    (
        "2-3-2",
        {"loss": "mse", "activation": "relu", "output_activation": "identity"},
        "unrolled",
    ),
    ("1-5-1", {"activation": "tanh", "output_activation": "identity"}, "loops"),
    ("2-3-2", {"output_activation": "softmax"}, "unrolled"),
]
# Activations PyTorch has no name for in _torch_forward: central differences only.
CUSTOM = [
    ("2-3-1", {"activation": "cube=x**3/3", "loss": "bce"}, "unrolled"),
    ("2-3-1", {"activation": "cube=x**3/3", "loss": "bce"}, "loops"),
    ("2-3-2", {"activation": "gelu", "output_activation": "elu"}, "unrolled"),
    ("2-3-2", {"activation": "gelu", "output_activation": "elu"}, "loops"),
]
IDS = [f"{a}-{o.get('loss', 'sse')}-{f}" for a, o, f in NETWORKS]


def _module(arch, options, form):
    return module(arch, form=form, **options)


def _data(m, count=12, seed=5):
    rng = random.Random(seed)
    xs = [[rng.uniform(-2, 2) for _ in range(m.N_INPUTS)] for _ in range(count)]
    ys = []
    for i in range(count):
        if m.LOSS == "ce" or (m.N_OUTPUTS > 1 and m.ACTIVATIONS[-1] == "softmax"):
            ys.append([float(k == i % m.N_OUTPUTS) for k in range(m.N_OUTPUTS)])
        elif m.LOSS == "bce":
            ys.append([float((i * 7 + k) % 3 == 0) for k in range(m.N_OUTPUTS)])
        else:
            ys.append([math.sin(sum(xs[i]) + k) for k in range(m.N_OUTPUTS)])
    return xs, ys


def _torch_forward(m, flat, x, logits=False):
    # An independent PyTorch model of the module's network, from ARCH and
    # ACTIVATIONS, the parameters in PARAM_NAMES order (row-major W, then b).
    funcs = {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "identity": lambda v: v,
        "softmax": lambda v: torch.softmax(v, dim=-1),
    }
    a = x
    start = 0
    for layer, (n_in, n_out) in enumerate(zip(m.ARCH, m.ARCH[1:])):
        block = flat[start : start + n_out * (n_in + 1)].reshape(n_out, n_in + 1)
        start += n_out * (n_in + 1)
        z = block[:, :n_in] @ a + block[:, n_in]
        if logits and layer == len(m.ARCH) - 2:
            return z
        a = funcs[m.ACTIVATIONS[layer]](z)
    return a


def _torch_loss(m, flat, xs, ys, reduction):
    total = 0
    for x, y in zip(xs, ys):
        z = _torch_forward(m, flat, x, logits=True)
        a = _torch_forward(m, flat, x)
        if m.LOSS == "sse":
            term = ((a - y) ** 2).sum()
        elif m.LOSS == "mse":
            term = ((a - y) ** 2).mean()
        elif m.LOSS == "bce":
            term = torch.nn.functional.binary_cross_entropy_with_logits(
                z, y, reduction="sum"
            )
        else:
            term = -(y * torch.log_softmax(z, dim=-1)).sum()
        total = total + term
    return total / len(xs) if reduction == "mean" else total


def _central_differences(m, params, x, logits):
    h = 1e-6
    jac = m.jacobian(params, x, logits=logits)
    assert len(jac) == m.N_OUTPUTS and all(len(r) == m.N_PARAMS for r in jac)
    for i in range(m.N_PARAMS):
        up, down = list(params), list(params)
        up[i] += h
        down[i] -= h
        for k, (u, d) in enumerate(zip(m.forward(up, x), m.forward(down, x))):
            assert jac[k][i] == pytest.approx((u - d) / (2 * h), abs=1e-7)


@pytest.mark.parametrize(
    "arch, options, form",
    CUSTOM,
    ids=[f"{a}-{o['activation']}-{f}" for a, o, f in CUSTOM],
)
def test_jacobian_of_user_and_table_activations(arch, options, form):
    m = _module(arch, options, form)
    _central_differences(m, m.init_params(6), [0.4, -0.9], logits=False)


@pytest.mark.parametrize("arch, options, form", NETWORKS, ids=IDS)
def test_jacobian_matches_central_differences_and_jacrev(arch, options, form):
    m = _module(arch, options, form)
    params = m.init_params(4)
    x = [0.3, -0.8, 1.1][: m.N_INPUTS]
    jac = m.jacobian(params, x)
    assert len(jac) == m.N_OUTPUTS and all(len(r) == m.N_PARAMS for r in jac)
    h = 1e-6
    for i in range(m.N_PARAMS):
        up, down = list(params), list(params)
        up[i] += h
        down[i] -= h
        for k, (u, d) in enumerate(zip(m.forward(up, x), m.forward(down, x))):
            assert jac[k][i] == pytest.approx((u - d) / (2 * h), abs=1e-7)
    flat = torch.tensor(params, dtype=torch.float64)
    tx = torch.tensor(x, dtype=torch.float64)
    for logits in (False, True):
        ours = m.jacobian(params, x, logits=logits)
        theirs = torch.func.jacrev(
            lambda p, logits=logits: _torch_forward(m, p, tx, logits)
        )(flat)
        for k in range(m.N_OUTPUTS):
            for i in range(m.N_PARAMS):
                assert ours[k][i] == pytest.approx(float(theirs[k, i]), abs=1e-12)


def _torch_lbfgs(m, start, xs, ys, max_iter, reduction):
    flat = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    txs = [torch.tensor(x, dtype=torch.float64) for x in xs]
    tys = [torch.tensor(y, dtype=torch.float64) for y in ys]
    optimizer = torch.optim.LBFGS(
        [flat], max_iter=max_iter, line_search_fn="strong_wolfe"
    )

    def closure():
        optimizer.zero_grad()
        loss = _torch_loss(m, flat, txs, tys, reduction)
        loss.backward()
        return loss

    optimizer.step(closure)
    return flat.detach().tolist()


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("arch, options, form", NETWORKS, ids=IDS)
def test_lbfgs_is_torch_lbfgs_with_strong_wolfe(arch, options, form, reduction):
    m = _module(arch, options, form)
    xs, ys = _data(m)
    start = m.init_params(1)
    ours, history = m.train(
        xs, ys, optimizer="lbfgs", epochs=20, params=start, reduction=reduction
    )
    theirs = _torch_lbfgs(m, start, xs, ys, 20, reduction)
    assert 1 <= len(history) <= 20
    assert max(abs(a - b) for a, b in zip(ours, theirs)) < 1e-8


def test_lbfgs_takes_torch_options():
    m = _module("2-2-1", {}, "unrolled")
    xs, ys = [[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [1], [1], [0]]
    start = m.init_params(3)
    ours, _ = m.train(
        xs, ys, optimizer="lbfgs", epochs=15, params=start, lr=0.5, history_size=3
    )
    flat = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    txs = [torch.tensor(x, dtype=torch.float64) for x in xs]
    tys = [torch.tensor(y, dtype=torch.float64) for y in ys]
    opt = torch.optim.LBFGS(
        [flat], lr=0.5, max_iter=15, history_size=3, line_search_fn="strong_wolfe"
    )

    def closure():
        opt.zero_grad()
        loss = _torch_loss(m, flat, txs, tys, "sum")
        loss.backward()
        return loss

    opt.step(closure)
    assert max(abs(a - b) for a, b in zip(ours, flat.detach().tolist())) < 1e-8


def _dense_lm_step(m, params, xs, ys, mu):
    # One damped Gauss-Newton step written from the definition with torch:
    # (J^T H J + mu I) step = -J^T r, J by jacrev, H the loss's curvature in
    # the outputs (sse/mse: I; bce: p(1-p); ce: diag(p) - p p^T).
    flat = torch.tensor(params, dtype=torch.float64)
    n = len(params)
    matrix = torch.zeros(n, n, dtype=torch.float64)
    gradient = torch.zeros(n, dtype=torch.float64)
    for x, y in zip(xs, ys):
        tx, ty = torch.tensor(x, dtype=torch.float64), torch.tensor(
            y, dtype=torch.float64
        )
        logits = m.LOSS in ("bce", "ce")
        jac = torch.func.jacrev(
            lambda p, tx=tx, logits=logits: _torch_forward(m, p, tx, logits)
        )(flat)
        p = _torch_forward(m, flat, tx)
        if m.LOSS == "bce":
            h = torch.diag(p * (1 - p))
        elif m.LOSS == "ce":
            h = torch.diag(p) - torch.outer(p, p)
        else:
            h = torch.eye(len(y), dtype=torch.float64)
        matrix += jac.T @ h @ jac
        gradient += jac.T @ (p - ty)
    step = torch.linalg.solve(
        matrix + mu * torch.eye(n, dtype=torch.float64), -gradient
    )
    return (flat + step).tolist()


@pytest.mark.parametrize("arch, options, form", NETWORKS, ids=IDS)
def test_lm_first_step_is_the_damped_gauss_newton_step(arch, options, form):
    m = _module(arch, options, form)
    xs, ys = _data(m)
    start = m.init_params(2)
    # mu large enough that the first trial lowers the objective: one step at mu.
    mu = 10.0
    ours, history = m.train(xs, ys, optimizer="lm", epochs=1, params=start, mu=mu)
    assert len(history) == 1
    theirs = _dense_lm_step(m, start, xs, ys, mu)
    if ours == start:
        pytest.fail("the first lm step was refused at mu=10")
    assert max(abs(a - b) for a, b in zip(ours, theirs)) < 1e-9


@pytest.mark.parametrize("arch, options, form", NETWORKS, ids=IDS)
def test_lm_lowers_the_objective_every_epoch(arch, options, form):
    m = _module(arch, options, form)
    xs, ys = _data(m)
    params, history = m.train(xs, ys, optimizer="lm", epochs=30, seed=0)
    assert all(b < a for a, b in zip(history, history[1:]))
    final = sum(m.loss(params, x, y) for x, y in zip(xs, ys))
    assert final < history[0]


def test_lm_learns_xor_without_a_learning_rate():
    m = _module("2-2-1", {}, "unrolled")
    xs, ys = [[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [1], [1], [0]]
    learned = 0
    for seed in range(20):
        params, history = m.train(
            xs, ys, optimizer="lm", epochs=100, seed=seed, target_loss=4e-3
        )
        learned += history[-1] <= 4e-3
    assert learned >= 12


def test_lm_and_lbfgs_refuse_what_they_cannot_do():
    m = _module("2-2-1", {}, "unrolled")
    xs, ys = [[0, 0], [1, 1]], [[0], [1]]
    with pytest.raises(ValueError, match="takes no learning rate"):
        m.train(xs, ys, optimizer="lm", epochs=3, lr=0.1)
    with pytest.raises(ValueError, match="full batch"):
        m.train(xs, ys, optimizer="lbfgs", epochs=3, batch_size=1)
    with pytest.raises(ValueError, match="needs a learning rate"):
        m.train(xs, ys, optimizer="sgd", epochs=3)
    wide = module("80-16-1", form="loops")
    assert wide.N_PARAMS > wide.LM_MAX_PARAMS
    with pytest.raises(ValueError, match=r"at most 1000 parameters.*lbfgs"):
        wide.train([[0.0] * 80], [[1.0]], optimizer="lm", epochs=1)


def test_lm_survives_a_singular_system_and_stops():
    # Every sample the same: J^T J has rank 1; the zero targets are reached, mu
    # grows past mu_max and lm stops without an error.
    m = _module("2-2-1", {"output_activation": "identity"}, "unrolled")
    xs, ys = [[0.0, 0.0]] * 4, [[0.0]] * 4
    params, history = m.train(xs, ys, optimizer="lm", epochs=200, seed=1)
    assert len(history) < 200
    assert all(math.isfinite(p) for p in params)


def test_lm_and_lbfgs_raise_divergence_on_a_non_finite_start():
    m = _module(
        "2-2-1", {"activation": "relu", "output_activation": "identity"}, "unrolled"
    )
    for optimizer in ("lm", "lbfgs"):
        with pytest.raises(m.DivergenceError):
            m.train(
                [[1e300, 1e300]],
                [[0.0]],
                optimizer=optimizer,
                epochs=5,
                params=[1e10] * 9,
            )


def test_cholesky_solve_against_a_dense_solve_and_refuses_indefinite():
    rng = random.Random(0)
    n = 7
    a = [[rng.uniform(-1, 1) for _ in range(n)] for _ in range(n)]
    spd = [
        [sum(a[k][i] * a[k][j] for k in range(n)) for j in range(i + 1)]
        for i in range(n)
    ]
    rhs = [rng.uniform(-1, 1) for _ in range(n)]
    full = torch.tensor(
        [[spd[max(i, j)][min(i, j)] for j in range(n)] for i in range(n)],
        dtype=torch.float64,
    )
    expected = torch.linalg.solve(
        full + 0.5 * torch.eye(n, dtype=torch.float64),
        torch.tensor(rhs, dtype=torch.float64),
    )
    ours = second_order._cholesky_solve(spd, rhs, 0.5)
    assert max(abs(a - b) for a, b in zip(ours, expected.tolist())) < 1e-12
    assert second_order._cholesky_solve([[-1.0], [0.0, 1.0]], [1.0, 1.0], 0.0) is None
    assert second_order._cholesky_solve([[math.nan]], [1.0], 1.0) is None


README_LM = (
    "nnsym train --arch 2-2-1 --data xor --optimizer lm --target-loss 4e-3 --seed 0"
)


def test_the_readme_lm_command_learns_xor_in_10_epochs(tmp_path):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"`{README_LM}`\nlearns XOR in 10 epochs" in readme
    ran = run_cli_process(README_LM.split()[1:], cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "accuracy: 100% (4 of 4)" in ran.stdout
    assert "10 epochs in" in ran.stdout and "stopped early at target loss" in ran.stdout


def test_cli_refuses_lr_for_lm_and_a_validation_split_on_the_c_engine(tmp_path):
    ran = run_cli_process(
        ["train", "--arch", "2-2-1", "--data", "xor", "--optimizer", "lm", "--lr", "1"],
        cwd=tmp_path,
    )
    assert ran.returncode == 2 and "takes no learning rate" in ran.stderr
    assert ran.stderr.count("\n") == 1
    # The C trainer has lbfgs, lm and weight decay, but no validation set.
    ran = run_cli_process(
        [
            *("train", "--data", "xor", "--optimizer", "adam", "--lr", "0.01"),
            *("--engine", "c", "--validation-split", "0.25"),
        ],
        cwd=tmp_path,
    )
    assert ran.returncode == 2 and "run in the Python module" in ran.stderr
    assert not list(tmp_path.iterdir())


def _weights_mask(m):
    return torch.tensor([name.startswith("w") for name in m.PARAM_NAMES])


@pytest.mark.parametrize("arch, options, form", NETWORKS[:4], ids=IDS[:4])
def test_weight_decay_is_l2_on_the_weights_as_in_torch(arch, options, form):
    # lbfgs on loss + wd/2 * sum of squared weights, against torch.optim.LBFGS
    # on the same objective written in torch; sgd against torch.optim.SGD with
    # weight_decay on the weights only (a parameter group of its own).
    m = _module(arch, options, form)
    xs, ys = _data(m)
    start = m.init_params(1)
    decay = 0.05
    mask = _weights_mask(m)
    txs = [torch.tensor(x, dtype=torch.float64) for x in xs]
    tys = [torch.tensor(y, dtype=torch.float64) for y in ys]
    ours, history = m.train(
        xs, ys, optimizer="lbfgs", epochs=20, params=start, weight_decay=decay
    )
    flat = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([flat], max_iter=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = _torch_loss(m, flat, txs, tys, "sum")
        loss = loss + 0.5 * decay * (flat[mask] ** 2).sum()
        loss.backward()
        return loss

    first = closure().item()
    opt.step(closure)
    assert history[0] == pytest.approx(first, rel=1e-12)
    assert max(abs(a - b) for a, b in zip(ours, flat.detach().tolist())) < 1e-8
    ours, _ = m.train(xs, ys, lr=0.01, epochs=5, params=start, weight_decay=decay)
    flat = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    for _ in range(5):
        loss = _torch_loss(m, flat, txs, tys, "sum")
        (grad,) = torch.autograd.grad(loss, flat)
        with torch.no_grad():
            flat -= 0.01 * (grad + decay * flat * mask)
    assert max(abs(a - b) for a, b in zip(ours, flat.detach().tolist())) < 1e-12


def test_lm_with_weight_decay_lowers_its_objective_and_refuses_bad_decay():
    m = _module("3-4-3", {"loss": "ce", "activation": "tanh"}, "loops")
    xs, ys = _data(m)
    _, history = m.train(xs, ys, optimizer="lm", epochs=20, seed=0, weight_decay=0.1)
    assert all(b < a for a, b in zip(history, history[1:]))
    with pytest.raises(ValueError, match="weight_decay must be a finite number"):
        m.train(xs, ys, optimizer="lm", epochs=2, weight_decay=-1.0)
