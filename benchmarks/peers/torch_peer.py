"""PyTorch on the CPU: float64 or float32, the whole batch as one tensor, one thread."""

from __future__ import annotations

import warnings


def available() -> bool:
    """True if PyTorch can be imported."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import torch  # noqa: F401
    except ImportError:
        return False
    return True


class Trainer:
    """Layers as plain tensors (W, b) built from a flat parameter list."""

    def __init__(self, arch, activations, xs, ys, mean=False, dtype="float64"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import torch
        torch.set_num_threads(1)
        self.torch = torch
        self.arch = tuple(arch)
        self.activations = [
            {"sigmoid": torch.sigmoid, "tanh": torch.tanh}[name] for name in activations
        ]
        self.dtype = getattr(torch, dtype)
        self.x = torch.tensor(xs, dtype=self.dtype)
        self.y = torch.tensor(ys, dtype=self.dtype)
        self.mean = mean

    def train(self, params, lr, epochs):
        """Full-batch gradient descent; returns (params, losses)."""
        torch = self.torch
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
        for _ in range(epochs):
            a = self.x
            for (weight, bias), activation in zip(
                zip(tensors[::2], tensors[1::2]), self.activations
            ):
                a = activation(torch.addmm(bias, a, weight.t()))
            squared = (a - self.y).pow(2)
            loss = squared.sum() / len(self.x) if self.mean else squared.sum()
            loss.backward()
            history.append(loss.item())
            with torch.no_grad():
                for tensor in tensors:
                    tensor -= lr * tensor.grad
                    tensor.grad = None
        flat = []
        for weight, bias in zip(tensors[::2], tensors[1::2]):
            for row, b in zip(weight.tolist(), bias.tolist()):
                flat += row + [b]
        return flat, history
