"""train()'s nesterov, lr_schedule, clip_grad_norm, weight_decay and early stopping.

Against PyTorch float64 running its own optimizers, schedulers and
clip_grad_norm_ on an independent torch model of the network (the one of
tests/test_second_order.py), with the module's mini-batch order replayed from
random.Random(seed); early stopping against reruns of train() itself.
"""

from __future__ import annotations

import random

import pytest

from tests.test_second_order import NETWORKS, _data, _module, _torch_loss

torch = pytest.importorskip("torch")

# Unrolled and loop forms, sse, bce and ce.
CASES = [NETWORKS[0], NETWORKS[1], NETWORKS[3]]
IDS = [f"{a}-{o.get('loss', 'sse')}-{f}" for a, o, f in CASES]


def _torch_train(m, xs, ys, start, epochs, settings, validation=None):
    # The module's first-order train() written with torch's own parts: the
    # objective per batch (+ weight_decay / 2 * |w|^2), clip_grad_norm_, the
    # optimizer, then the scheduler stepped once per epoch on the epoch's
    # objective (or the validation loss). Returns the parameters and the
    # learning rate of every epoch.
    settings = dict(settings)
    reduction = settings.pop("reduction", "sum")
    batch_size = settings.pop("batch_size", None)
    decay = settings.pop("weight_decay", 0.0)
    clip = settings.pop("clip_grad_norm", None)
    schedule = settings.pop("lr_schedule", None)
    lr = settings.pop("lr")
    flat = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    name = settings.pop("optimizer")
    if name == "adam":
        optimizer = torch.optim.Adam([flat], lr=lr)
    else:
        momentum = settings.pop("momentum", 0.9) if name == "momentum" else 0.0
        nesterov = settings.pop("nesterov", False)
        optimizer = torch.optim.SGD([flat], lr=lr, momentum=momentum, nesterov=nesterov)
    gamma = settings.pop("lr_gamma", 0.1)
    lr_min = settings.pop("lr_min", 0.0)
    if schedule == "step":
        scheduler = torch.optim.lr_scheduler.StepLR(
            optimizer, settings.pop("lr_step_size"), gamma
        )
    elif schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, epochs, lr_min
        )
    elif schedule == "plateau":
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer,
            factor=gamma,
            patience=settings.pop("lr_patience", 10),
            min_lr=lr_min,
        )
    assert not settings, settings
    mask = torch.tensor([n.startswith("w") for n in m.PARAM_NAMES])
    data = [
        (torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64))
        for x, y in zip(xs, ys)
    ]
    order = list(range(len(data)))
    shuffler = random.Random(7)
    size = batch_size or len(data)
    rates = []
    for _ in range(epochs):
        if batch_size is not None:
            shuffler.shuffle(order)
        rates.append(optimizer.param_groups[0]["lr"])
        penalty = 0.5 * decay * (flat[mask] ** 2).sum().item()
        objective = 0.0
        for first in range(0, len(data), size):
            batch = [data[i] for i in order[first : first + size]]
            bx, by = [x for x, _ in batch], [y for _, y in batch]
            optimizer.zero_grad()
            summed = _torch_loss(m, flat, bx, by, "sum")
            objective += summed.item()
            loss = summed / len(batch) if reduction == "mean" else summed
            loss = loss + 0.5 * decay * (flat[mask] ** 2).sum()
            loss.backward()
            if clip is not None:
                torch.nn.utils.clip_grad_norm_([flat], clip)
            optimizer.step()
        if reduction == "mean":
            objective /= len(data)
        if schedule == "plateau":
            if validation is None:
                metric = objective + penalty
            else:
                vx, vy = (
                    [torch.tensor(v, dtype=torch.float64) for v in part]
                    for part in validation
                )
                with torch.no_grad():
                    metric = _torch_loss(m, flat, vx, vy, reduction).item()
            scheduler.step(metric)
        elif schedule is not None:
            scheduler.step()
    return flat.detach().tolist(), rates


# PyTorch's last bits differ from machine to machine (it picks its kernels by
# the CPU's instruction set): with the same code and PyTorch 2.13, these runs
# agreed to 1e-12 on one machine and to 1.7e-12 on another (3-4-3 ce, loop
# form, plateau, the largest).
def _agree(ours, theirs, tolerance=5e-12):
    assert len(ours) == len(theirs)
    assert max(abs(a - b) for a, b in zip(ours, theirs)) < tolerance


SETTINGS = {
    "nesterov": {"optimizer": "momentum", "lr": 0.05, "nesterov": True},
    "nesterov-mean-batches": {
        "optimizer": "momentum",
        "lr": 0.3,
        "momentum": 0.7,
        "nesterov": True,
        "reduction": "mean",
        "batch_size": 5,
    },
    "step": {
        "optimizer": "sgd",
        "lr": 0.1,
        "lr_schedule": "step",
        "lr_step_size": 7,
        "lr_gamma": 0.5,
    },
    "cosine": {"optimizer": "adam", "lr": 0.05, "lr_schedule": "cosine"},
    "cosine-floor": {
        "optimizer": "momentum",
        "lr": 0.05,
        "lr_schedule": "cosine",
        "lr_min": 0.01,
    },
    "plateau": {
        "optimizer": "sgd",
        "lr": 3.0,
        "lr_schedule": "plateau",
        "lr_patience": 1,
        "lr_gamma": 0.5,
    },
    "clip": {"optimizer": "sgd", "lr": 0.1, "clip_grad_norm": 0.5},
    "clip-batches-decay": {
        "optimizer": "momentum",
        "lr": 0.1,
        "clip_grad_norm": 0.3,
        "batch_size": 4,
        "weight_decay": 0.05,
    },
    "decay-adam": {"optimizer": "adam", "lr": 0.03, "weight_decay": 0.1},
    "decay-nesterov-mean": {
        "optimizer": "momentum",
        "lr": 0.5,
        "nesterov": True,
        "weight_decay": 0.02,
        "reduction": "mean",
    },
}


@pytest.mark.parametrize("case", sorted(SETTINGS))
@pytest.mark.parametrize("arch, options, form", CASES, ids=IDS)
def test_first_order_options_match_pytorch(arch, options, form, case):
    m = _module(arch, options, form)
    xs, ys = _data(m)
    start = m.init_params(3)
    settings = SETTINGS[case]
    epochs = 30
    ours, history = m.train(xs, ys, epochs=epochs, params=start, seed=7, **settings)
    assert len(history) == epochs
    theirs, rates = _torch_train(m, xs, ys, start, epochs, settings)
    _agree(ours, theirs)
    if "lr_schedule" in settings:
        # The schedule did change the rate within the run.
        assert min(rates) < settings["lr"]
    if "clip_grad_norm" in settings:
        # Clipping changed the run: without it the parameters differ.
        unclipped = {k: v for k, v in settings.items() if k != "clip_grad_norm"}
        plain, _ = m.train(xs, ys, epochs=epochs, params=start, seed=7, **unclipped)
        assert max(abs(a - b) for a, b in zip(plain, ours)) > 1e-6


def test_plateau_watches_the_validation_loss_when_there_is_one():
    m = _module(*CASES[0])
    xs, ys = _data(m, count=16)
    val = _data(m, count=6, seed=11)
    start = m.init_params(3)
    settings = {
        "optimizer": "sgd",
        "lr": 3.0,
        "lr_schedule": "plateau",
        "lr_patience": 1,
        "lr_gamma": 0.5,
    }
    ours, _ = m.train(xs, ys, epochs=30, params=start, validation=val, **settings)
    # The module returns the best epoch's parameters: compare the run up to it.
    losses = []
    m.train(
        xs,
        ys,
        epochs=30,
        params=start,
        validation=val,
        validation_history=losses,
        **settings,
    )
    best = losses.index(min(losses))
    theirs, rates = _torch_train(m, xs, ys, start, best + 1, settings, val)
    _agree(ours, theirs)
    assert min(rates) < settings["lr"]
    watched_training, _ = m.train(xs, ys, epochs=best + 1, params=start, **settings)
    assert max(abs(a - b) for a, b in zip(watched_training, ours)) > 1e-9


# --- validation and early stopping -----------------------------------------------


@pytest.mark.parametrize("arch, options, form", CASES, ids=IDS)
@pytest.mark.parametrize("batch_size", [None, 3])
def test_early_stopping_restores_the_best_epochs_parameters(
    arch, options, form, batch_size
):
    m = _module(arch, options, form)
    xs, ys = _data(m, count=12)
    val = _data(m, count=8, seed=11)
    common = {"optimizer": "adam", "lr": 0.2, "seed": 4, "batch_size": batch_size}
    losses = []
    params, history = m.train(
        xs,
        ys,
        epochs=300,
        validation=val,
        patience=5,
        validation_history=losses,
        **common,
    )
    best = losses.index(min(losses))
    # Stopped after 5 epochs in a row without a lower validation loss.
    assert len(history) == len(losses) == best + 6 < 300
    assert all(loss >= losses[best] for loss in losses[best + 1 :])
    # The parameters are those of a run of best + 1 epochs, exactly.
    rerun, rerun_history = m.train(xs, ys, epochs=best + 1, **common)
    assert params == rerun
    assert history[: best + 1] == rerun_history
    # The validation loss is the loss over the validation set at them.
    val_loss = sum(m.loss(params, x, y) for x, y in zip(*val))
    assert losses[best] == pytest.approx(val_loss, rel=1e-12)
    # Without patience it runs every epoch, and still returns the best.
    all_losses = []
    kept, full = m.train(
        xs,
        ys,
        epochs=best + 20,
        validation=val,
        validation_history=all_losses,
        **common,
    )
    assert len(full) == best + 20 and all_losses[: best + 6] == losses
    best_of_all = all_losses.index(min(all_losses))
    assert kept == m.train(xs, ys, epochs=best_of_all + 1, **common)[0]


def test_validation_loss_is_reduced_as_the_objective_without_the_l2_term():
    m = _module(*CASES[2])
    xs, ys = _data(m)
    val = _data(m, count=5, seed=9)
    losses = []
    params, _ = m.train(
        xs,
        ys,
        lr=0.1,
        epochs=1,
        seed=1,
        reduction="mean",
        weight_decay=0.5,
        validation=val,
        validation_history=losses,
    )
    expected = sum(m.loss(params, x, y) for x, y in zip(*val)) / 5
    assert losses == [pytest.approx(expected, rel=1e-12)]


@pytest.mark.parametrize(
    "options, message",
    [
        ({"nesterov": True}, "nesterov=True needs optimizer='momentum'"),
        (
            {"nesterov": True, "optimizer": "momentum", "momentum": 0.0},
            "nesterov=True needs optimizer='momentum' and momentum > 0",
        ),
        ({"lr_schedule": "linear"}, "lr_schedule must be None or one of step, cos"),
        ({"lr_schedule": "step"}, "lr_schedule='step' needs lr_step_size"),
        ({"lr_schedule": "plateau", "lr_gamma": 1.0}, "lr_gamma must be a number in"),
        ({"lr_schedule": "cosine", "lr_min": -1.0}, "lr_min must be a finite number"),
        ({"lr_patience": 0}, "lr_patience must be a whole number >= 1"),
        ({"clip_grad_norm": 0.0}, "clip_grad_norm must be a finite number > 0"),
        ({"patience": 3}, "patience needs a validation set"),
        ({"validation": [1, 2, 3]}, "validation must be a pair"),
        ({"validation": ([], [])}, "the data set is empty"),
        ({"optimizer": "lm", "lr": None, "clip_grad_norm": 1.0}, "clip_grad_norm is"),
        (
            {"optimizer": "lbfgs", "validation": ([[0, 0]], [0])},
            "validation is for sgd, momentum and adam, not optimizer 'lbfgs'",
        ),
    ],
)
def test_bad_options_are_refused_with_one_line(options, message):
    m = _module(*CASES[0])
    xs, ys = _data(m)
    options = {"lr": 0.1, **options}
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(")):
        m.train(xs, ys, epochs=2, **options)
