"""micrograd 0.1.0 from PyPI, with exp added as one op in micrograd's own style.

micrograd's `Value` has +, *, ** and relu but no exp; `exp` below is written as
micrograd writes its ops (a forward value and a `_backward` closure), and sigmoid
and tanh are built from it. The neurons are micrograd's `Module`s with a choice
of activation; parameters are laid out in nnsym's order (weights, then bias).
"""

from __future__ import annotations

import math

from micrograd.engine import Value
from micrograd.nn import Module


def exp(x):
    out = Value(math.exp(x.data), (x,), "exp")

    def _backward():
        x.grad += out.data * out.grad

    out._backward = _backward

    return out


def sigmoid(x):
    return 1 / (1 + exp(-x))


def tanh(x):
    e = exp(2 * x)
    return (e - 1) / (e + 1)


ACTIVATIONS = {"sigmoid": sigmoid, "tanh": tanh}


class Neuron(Module):
    def __init__(self, weights, bias, activation):
        self.w = [Value(w) for w in weights]
        self.b = Value(bias)
        self.activation = ACTIVATIONS[activation]

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return self.activation(act)

    def parameters(self):
        return self.w + [self.b]


class Layer(Module):
    def __init__(self, neurons):
        self.neurons = neurons

    def __call__(self, x):
        return [n(x) for n in self.neurons]

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class MLP(Module):
    def __init__(self, arch, activations, params):
        params = list(params)
        self.layers = []
        k = 0
        for n_in, n_out, activation in zip(arch, arch[1:], activations):
            neurons = []
            for _ in range(n_out):
                neurons.append(
                    Neuron(params[k : k + n_in], params[k + n_in], activation)
                )
                k += n_in + 1
            self.layers.append(Layer(neurons))

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


def train(arch, activations, xs, ys, params, lr, epochs, mean=False):
    """Full-batch gradient descent on the squared error; returns (params, losses)."""
    model = MLP(arch, activations, params)
    history = []
    for _ in range(epochs):
        loss = sum(
            (
                (out - target) ** 2
                for x, y in zip(xs, ys)
                for out, target in zip(model(x), y)
            ),
            Value(0.0),
        )
        if mean:
            loss = loss * (1.0 / len(xs))
        history.append(loss.data)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
    return [p.data for p in model.parameters()], history
