"""train()'s options and the optimizers beyond plain SGD, as PyTorch defines them."""

import math

# The first of each is train()'s default. lbfgs and lm run on the full batch and
# take no learning rate (lbfgs's lr is PyTorch's, 1 by default).
OPTIMIZERS = ("sgd", "momentum", "adam", "lbfgs", "lm")
FULL_BATCH_OPTIMIZERS = ("lbfgs", "lm")
REDUCTIONS = ("sum", "mean")


def _check_training(optimizer, reduction, epochs, lr, batch_size):
    # train()'s options, refused before any work with one line naming the option.
    if optimizer not in OPTIMIZERS:
        raise ValueError(
            "optimizer must be one of %s, got %r" % (", ".join(OPTIMIZERS), optimizer)
        )
    if reduction not in REDUCTIONS:
        raise ValueError(
            "reduction must be one of %s, got %r" % (", ".join(REDUCTIONS), reduction)
        )
    if not (isinstance(epochs, int) and epochs >= 0):
        raise ValueError("epochs must be a whole number >= 0, got %r" % (epochs,))
    if lr is None and optimizer not in FULL_BATCH_OPTIMIZERS:
        raise ValueError(
            "optimizer %r needs a learning rate (lr=...); lbfgs and lm need none"
            % (optimizer,)
        )
    if lr is not None and optimizer == "lm":
        raise ValueError("optimizer 'lm' takes no learning rate; leave lr out")
    if lr is not None and not (
        isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0
    ):
        raise ValueError("lr must be a positive finite number, got %r" % (lr,))
    if batch_size is not None and not (isinstance(batch_size, int) and batch_size >= 1):
        raise ValueError(
            "batch_size must be a whole number >= 1, got %r" % (batch_size,)
        )


def _optimizer_step(
    optimizer, params, grads, state, lr, momentum, betas, eps, nesterov
):
    # One update from a batch's gradient, as PyTorch defines each optimizer:
    # plain SGD, SGD with momentum (no dampening; nesterov: the step is
    # g + momentum * velocity), Adam. `state` carries the velocities or
    # moments from one call to the next.
    if optimizer == "sgd":
        return [p - lr * g for p, g in zip(params, grads)]
    if optimizer == "momentum":
        velocity = state.setdefault("velocity", [0.0] * len(params))
        for i, g in enumerate(grads):
            velocity[i] = momentum * velocity[i] + g
            params[i] -= lr * (g + momentum * velocity[i] if nesterov else velocity[i])
        return params
    beta1, beta2 = betas
    m = state.setdefault("m", [0.0] * len(params))
    v = state.setdefault("v", [0.0] * len(params))
    state["t"] = t = state.get("t", 0) + 1
    correction1 = 1.0 - beta1**t
    correction2 = 1.0 - beta2**t
    for i, g in enumerate(grads):
        m[i] = beta1 * m[i] + (1.0 - beta1) * g
        v[i] = beta2 * v[i] + (1.0 - beta2) * g * g
        params[i] -= lr * (m[i] / correction1) / (math.sqrt(v[i] / correction2) + eps)
    return params


def _check_decay(weight_decay):
    if not (
        isinstance(weight_decay, (int, float))
        and math.isfinite(weight_decay)
        and weight_decay >= 0
    ):
        raise ValueError(
            "weight_decay must be a finite number >= 0, got %r" % (weight_decay,)
        )
