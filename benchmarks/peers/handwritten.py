"""Hand-written pure Python trainers: the floor nnsym's generated code aims at.

`train_xor` is 2-2-1 sigmoid/sse written out line by line, as fast as CPython
runs it: locals only, no calls but tanh, and each value computed once.
`train_loops` is the loop-based trainer one writes by hand for any layer sizes.
Both use full-batch gradient descent and return (params, losses) with
losses[i] the objective before epoch i's update, as nnsym's train() does.
"""

from __future__ import annotations

import math


def train_xor(xs, ys, params, lr, epochs):
    """2-2-1, sigmoid everywhere, sum of squared errors, straight-line code."""
    tanh = math.tanh
    data = [(float(x0), float(x1), float(y)) for (x0, x1), (y,) in zip(xs, ys)]
    w00, w01, b0, w10, w11, b1, v0, v1, c = params
    history = []
    append = history.append
    for _ in range(epochs):
        gw00 = gw01 = gb0 = gw10 = gw11 = gb1 = gv0 = gv1 = gc = loss = 0.0
        for x0, x1, y in data:
            # sigmoid(z) = 0.5 * tanh(0.5 * z) + 0.5, the cheapest exact form here.
            h0 = 0.5 * tanh(0.5 * (w00 * x0 + w01 * x1 + b0)) + 0.5
            h1 = 0.5 * tanh(0.5 * (w10 * x0 + w11 * x1 + b1)) + 0.5
            o = 0.5 * tanh(0.5 * (v0 * h0 + v1 * h1 + c)) + 0.5
            e = o - y
            loss += e * e
            d = 2.0 * e * o * (1.0 - o)
            gv0 += d * h0
            gv1 += d * h1
            gc += d
            d0 = d * v0 * h0 * (1.0 - h0)
            d1 = d * v1 * h1 * (1.0 - h1)
            gw00 += d0 * x0
            gw01 += d0 * x1
            gb0 += d0
            gw10 += d1 * x0
            gw11 += d1 * x1
            gb1 += d1
        append(loss)
        w00 -= lr * gw00
        w01 -= lr * gw01
        b0 -= lr * gb0
        w10 -= lr * gw10
        w11 -= lr * gw11
        b1 -= lr * gb1
        v0 -= lr * gv0
        v1 -= lr * gv1
        c -= lr * gc
    return [w00, w01, b0, w10, w11, b1, v0, v1, c], history


def _sigmoid(z):
    return 0.5 * math.tanh(0.5 * z) + 0.5


def train_loops(arch, activations, xs, ys, params, lr, epochs, mean=False):
    """Any layer sizes, sigmoid or tanh per layer, squared error; loops over lists."""
    functions = {"sigmoid": _sigmoid, "tanh": math.tanh}
    # The derivative from the activation's value: s(1 - s) and 1 - t * t.
    slopes = {"sigmoid": lambda a: a * (1.0 - a), "tanh": lambda a: 1.0 - a * a}
    acts = [functions[name] for name in activations]
    derivs = [slopes[name] for name in activations]
    shapes = list(zip(arch, arch[1:]))
    # Per layer: a list of rows, each row the neuron's weights followed by its bias.
    layers = []
    k = 0
    for n_in, n_out in shapes:
        layers.append(
            [
                list(params[k + j * (n_in + 1) : k + (j + 1) * (n_in + 1)])
                for j in range(n_out)
            ]
        )
        k += n_out * (n_in + 1)
    scale = 1.0 / len(xs) if mean else 1.0
    history = []
    for _ in range(epochs):
        grads = [[[0.0] * len(row) for row in layer] for layer in layers]
        total = 0.0
        for x, y in zip(xs, ys):
            activations_ = [list(x)]
            for layer, act in zip(layers, acts):
                inputs = activations_[-1]
                activations_.append(
                    [
                        act(sum(w * v for w, v in zip(row, inputs)) + row[-1])
                        for row in layer
                    ]
                )
            out = activations_[-1]
            errors = [o - t for o, t in zip(out, y)]
            total += sum(e * e for e in errors)
            upstream = [2.0 * e for e in errors]
            for index in range(len(layers) - 1, -1, -1):
                a_out = activations_[index + 1]
                a_in = activations_[index]
                deriv = derivs[index]
                deltas = [u * deriv(a) for u, a in zip(upstream, a_out)]
                layer_grads = grads[index]
                for row_grads, delta in zip(layer_grads, deltas):
                    for i, v in enumerate(a_in):
                        row_grads[i] += delta * v
                    row_grads[-1] += delta
                if index:
                    rows = layers[index]
                    upstream = [
                        sum(row[i] * delta for row, delta in zip(rows, deltas))
                        for i in range(len(a_in))
                    ]
        history.append(total * scale)
        step = lr * scale
        for layer, layer_grads in zip(layers, grads):
            for row, row_grads in zip(layer, layer_grads):
                for i, g in enumerate(row_grads):
                    row[i] -= step * g
    flat = [p for layer in layers for row in layer for p in row]
    return flat, history
