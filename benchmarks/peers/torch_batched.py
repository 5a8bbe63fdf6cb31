"""PyTorch on the CPU, one thread: any nnsym loss, full batch or mini-batches.

Mini-batches take the C trainer's order (Fisher-Yates driven by splitmix64 from
the seed, reshuffled every epoch, docs/targets.md), so that both train the
same steps and their losses can be compared.
"""

from __future__ import annotations

import warnings

MASK = (1 << 64) - 1


def shuffled_orders(seed: int, n: int, epochs: int) -> list[list[int]]:
    """The C trainer's mini-batch order in each of `epochs` epochs."""
    state = seed & MASK
    order = list(range(n))
    orders = []
    for _ in range(epochs):
        for i in range(n, 1, -1):
            state = (state + 0x9E3779B97F4A7C15) & MASK
            z = state
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            j = (z ^ (z >> 31)) % i
            order[i - 1], order[j] = order[j], order[i - 1]
        orders.append(list(order))
    return orders


class Trainer:
    """sgd on plain tensors (W, b) built from nnsym's flat parameter list."""

    def __init__(
        self,
        arch,
        activations,
        loss,
        xs,
        ys,
        *,
        mean=True,
        dtype="float64",
        batch_size=None,
        seed=0,
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import torch
        torch.set_num_threads(1)
        self.torch = torch
        self.arch = tuple(arch)
        functions = {
            "sigmoid": torch.sigmoid,
            "tanh": torch.tanh,
            "softmax": lambda z: torch.softmax(z, dim=1),
        }
        self.activations = [functions[name] for name in activations]
        self.loss = loss
        self.dtype = getattr(torch, dtype)
        self.x = torch.tensor(xs, dtype=self.dtype)
        self.y = torch.tensor(ys, dtype=self.dtype)
        self.mean = mean
        self.batch_size = batch_size
        self.seed = seed
        self._batches: list = []

    def prepare(self, epochs: int) -> None:
        """Make the mini-batches' index tensors of `epochs` epochs (not timed)."""
        torch = self.torch
        n = len(self.x)
        size = self.batch_size or n
        if size >= n:
            self._batches = [[None]] * epochs
            return
        self._batches = [
            [torch.tensor(order[start : start + size]) for start in range(0, n, size)]
            for order in shuffled_orders(self.seed, n, epochs)
        ]

    def _objective(self, z, a, y):
        torch = self.torch
        if self.loss == "ce":
            return -(y * torch.log_softmax(z, dim=1)).sum()
        squared = (a - y).pow(2).sum()
        return squared / y.shape[1] if self.loss == "mse" else squared

    def train(self, params, lr, epochs):
        """sgd for `epochs` epochs; returns (params, per-epoch objectives)."""
        torch = self.torch
        if len(self._batches) < epochs:
            self.prepare(epochs)
        batches = self._batches
        tensors = []
        k = 0
        for n_in, n_out in zip(self.arch, self.arch[1:]):
            block = torch.tensor(
                params[k : k + n_out * (n_in + 1)], dtype=self.dtype
            ).reshape(n_out, n_in + 1)
            k += n_out * (n_in + 1)
            tensors.append(block[:, :n_in].clone().requires_grad_())
            tensors.append(block[:, n_in].clone().requires_grad_())
        history = []
        for epoch in range(epochs):
            total = 0.0
            for index in batches[epoch]:
                x = self.x if index is None else self.x[index]
                y = self.y if index is None else self.y[index]
                a = z = x
                for (weight, bias), activation in zip(
                    zip(tensors[::2], tensors[1::2]), self.activations
                ):
                    z = torch.addmm(bias, a, weight.t())
                    a = activation(z)
                loss = self._objective(z, a, y)
                total += loss.item()
                if self.mean:
                    loss = loss / len(x)
                loss.backward()
                with torch.no_grad():
                    for tensor in tensors:
                        tensor -= lr * tensor.grad
                        tensor.grad = None
            history.append(total / len(self.x) if self.mean else total)
        flat = []
        for weight, bias in zip(tensors[::2], tensors[1::2]):
            for row, b in zip(weight.tolist(), bias.tolist()):
                flat += row + [b]
        return flat, history
