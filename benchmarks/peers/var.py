"""The first tutorial's `Var` class, as written there (recursive backward).

Only the training harness around it is new: the network is built for any
layer sizes with the tutorial's sigmoid, 1 / (1 + e ** -x), and its loss is the
tutorial's sum of squared errors (divided by the sample count for "mean").
"""

from __future__ import annotations

import math


class Var:
    def __init__(
        self, value, requires_grad=False, prev_var1=None, prev_var2=None, prev_op=None
    ):
        self.value = value
        self.requires_grad = requires_grad
        if requires_grad:
            self.grad = 0

        self.prev_var1 = prev_var1
        self.prev_var2 = prev_var2
        self.prev_op = prev_op

    def __add__(self, other):
        if not isinstance(other, Var):
            other = Var(other)

        return Var(
            self.value + other.value, prev_var1=self, prev_var2=other, prev_op="add"
        )

    def __mul__(self, other):
        if not isinstance(other, Var):
            other = Var(other)

        return Var(
            self.value * other.value, prev_var1=self, prev_var2=other, prev_op="mul"
        )

    def __pow__(self, other):
        if not isinstance(other, Var):
            other = Var(other)

        return Var(
            self.value**other.value, prev_var1=self, prev_var2=other, prev_op="pow"
        )

    def __rpow__(self, other):
        if not isinstance(other, Var):
            other = Var(other)

        return Var(
            other.value**self.value, prev_var1=other, prev_var2=self, prev_op="pow"
        )

    def __radd__(self, other):
        # for operations like 2+x
        return self + other

    def __sub__(self, other):
        # for operations like x-2
        return self + (-other)

    def __rsub__(self, other):
        # for operations like 2-x
        return other + (-self)

    def __neg__(self):
        # for operations like -x
        return self * -1

    def __rmul__(self, other):
        # for operations like 2*x
        return self * other

    def __truediv__(self, other):
        # for operations like x/2
        return self * other**-1

    def __rtruediv__(self, other):
        # for operations like 2/x
        return other * self**-1

    def backward(self, current_grad=1):
        if self.prev_op == "add":
            self.prev_var1.backward(current_grad)
            self.prev_var2.backward(current_grad)
        elif self.prev_op == "mul":
            self.prev_var1.backward(current_grad * self.prev_var2.value)
            self.prev_var2.backward(current_grad * self.prev_var1.value)
        elif self.prev_op == "pow":
            self.prev_var1.backward(
                current_grad
                * self.prev_var2.value
                * self.prev_var1.value ** (self.prev_var2.value - 1)
            )
            self.prev_var2.backward(
                current_grad
                * self.prev_var1.value**self.prev_var2.value
                * math.log(self.prev_var1.value)
                if self.prev_var1.value > 0
                else 0
            )
        elif self.prev_op == "sigmoid":
            self.prev_var1.backward(
                current_grad
                * self.prev_var1.sigmoid().value
                * (1 - self.prev_var1.sigmoid().value)
            )
        elif self.prev_op is None:
            pass
        else:
            raise AssertionError("No such operation")

        if self.requires_grad:
            self.grad += current_grad


class NN:
    """The tutorial's NN class, for any layer sizes, parameters in nnsym's order."""

    def __init__(self, arch, params):
        self.arch = tuple(arch)
        self.parameters = [Var(p, requires_grad=True) for p in params]

    def sigmoid(self, x):
        return 1 / (1 + math.e ** (-x))

    def forward(self, inputs):
        values = list(inputs)
        k = 0
        for n_in, n_out in zip(self.arch, self.arch[1:]):
            outs = []
            for _ in range(n_out):
                weights = self.parameters[k : k + n_in]
                bias = self.parameters[k + n_in]
                k += n_in + 1
                # The tutorial's order: p * w0 + q * w1 + bias.
                out = values[0] * weights[0]
                for value, weight in zip(values[1:], weights[1:]):
                    out = out + value * weight
                outs.append(self.sigmoid(out + bias))
            values = outs
        return values

    def calculate_loss(self, xs, ys, mean=False):
        loss = 0
        for x, y in zip(xs, ys):
            prediction = self.forward(x)
            for p, real_value in zip(prediction, y):
                loss += (p - real_value) ** 2
        return loss * (1 / len(xs)) if mean else loss


def train(arch, xs, ys, params, lr, epochs, mean=False):
    """The tutorial's loop: loss, backward, p -= lr * grad; returns (params, losses)."""
    model = NN(arch, params)
    history = []
    for _ in range(epochs):
        loss = model.calculate_loss(xs, ys, mean)
        history.append(loss.value)
        loss.backward()

        for i in range(len(model.parameters)):
            model.parameters[i].value -= lr * model.parameters[i].grad
            model.parameters[i].grad = 0
    return [p.value for p in model.parameters], history
