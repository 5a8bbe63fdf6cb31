"""The loop form in C and JavaScript: a `LoopProgram` printed as loops over neurons.

The same target-neutral description the Python loop form prints
(`nnsym.pipeline.loops`): each layer's activation, its derivative and the output
delta and loss over one generic neuron, derived symbolically and printed here
by the target's own printer (`printers.py`), inside loops over the layer's
neurons whose bounds are the architecture's. The arithmetic is the Python loop
module's, in the same order: each dot product is summed from zero in input
order and the bias added last, so the numbers are the same.

Dot products are computed `BLOCK` neurons at a time, each in its own sum: the
same additions in the same order per neuron, but `BLOCK` independent chains of
them for the processor to overlap, where one sum at a time waits on each
addition before the next (the moons trainer in C: 74 to 61 us an epoch).

Each target's own ways of training faster live in its module: C's chunks of
samples (`nnsym.targets.c`), JavaScript's groups (`nnsym.targets.js_group`); they
build on `Bodies`, whose methods print what every target prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sympy import Expr, Symbol
from sympy.printing.codeprinter import CodePrinter

from nnsym.pipeline.loops import GAP, A, G, LayerStatements, LoopProgram, Y, Z

# The generic neuron's symbols as the loop bodies name them (y is the targets).
ZJ = Symbol("zj", real=True)
AJ = Symbol("aj", real=True)
YJ = Symbol("yj", real=True)
GJ = Symbol("gj", real=True)
RENAME = {Z: ZJ, A: AJ, Y: YJ, G: GJ}
# Neurons whose dot products are summed side by side (see above).
BLOCK = 4


@dataclass(frozen=True)
class Syntax:
    """How a target spells what the loop bodies need."""

    # const declaration of a number, and a mutable one.
    const: Callable[[str, str], str]
    var: Callable[[str, str], str]
    # for (index = start; index < stop; index += step) {, index++ for a step of 1.
    steps: Callable[[str, str, str, int], str]
    # A constant array index.
    index: Callable[[str, str], str]
    # Layer k's width and the offset of its first parameter, as printed.
    size: Callable[[int], str]
    offset: Callable[[int], str]
    # The sample's input i and target j.
    input: Callable[[str], str]
    target: Callable[[str], str]
    zero: str
    # A softmax's top and lp over the first `count` entries of `array`
    # (nnsym.pipeline.loops): the expressions, the second after top is declared.
    softmax: Callable[[str, str], tuple[str, str]]
    # One statement applying an activation (in Z) to a whole layer,
    # (expr, z array, a array, count), where the runtime has one; else None.
    layer_call: Callable[[Expr, str, str, str], str | None] = lambda *_: None

    def loop(self, v: str, count: str) -> str:
        """for (v = 0; v < count; v++) {"""
        return self.steps(v, "0", count, 1)


@dataclass(frozen=True)
class LoopBodies:
    """The bodies of forward, loss_and_grad and the training accumulation."""

    forward: tuple[str, ...]
    # Forward, loss and deltas; then the gradient stored, or added to
    # (JavaScript's single samples).
    common: tuple[str, ...]
    store: tuple[str, ...]
    accumulate: tuple[str, ...]
    # Arrays each body uses: (name, layer) of z, a and d arrays, by body.
    forward_arrays: tuple[tuple[str, int], ...]
    all_arrays: tuple[tuple[str, int], ...]
    # Aliases: (name, array) where an identity activation makes a = z.
    aliases: tuple[tuple[str, str], ...]
    softmax: bool


class Bodies:
    """The loop bodies of one sample, printed in a target's syntax."""

    def __init__(
        self,
        program: LoopProgram,
        printer: CodePrinter,
        syntax: Syntax,
        suffix: str = "",
    ) -> None:
        self.program = program
        self.printer = printer
        self.syntax = syntax
        self.widths = program.spec.arch
        # Appended to every array's name: each sample of a group has its own.
        self.suffix = suffix

    def z(self, n: int) -> str:
        return f"z{n}{self.suffix}"

    def a(self, n: int) -> str:
        return f"a{n}{self.suffix}"

    def d(self, n: int) -> str:
        return f"d{n}{self.suffix}"

    def show(self, expr: Expr) -> str:
        return self.printer.doprint(expr.xreplace(RENAME))

    def bind(self, expr: Expr, layer: int, j: str) -> list[str]:
        """Declarations of the generic symbols `expr` uses, for neuron j of layer."""
        s = self.syntax
        sources = {
            Z: f"{self.z(layer)}[{j}]",
            A: f"{self.a(layer)}[{j}]",
            Y: s.target(j),
            GAP: f"top - {self.z(layer)}[{j}]",
        }
        return [
            s.const(RENAME.get(symbol, symbol).name, source)
            for symbol, source in sources.items()
            if symbol in expr.free_symbols
        ]

    def source(self, layer: int, i: str) -> str:
        return self.syntax.input(i) if layer == 0 else f"{self.a(layer)}[{i}]"

    def blocks(self, layer: int, v: str) -> tuple[int, list[str]]:
        """How many of layer's neurons go in whole blocks; the loop over the rest."""
        s, count = self.syntax, self.widths[layer]
        whole = count - count % BLOCK
        rest = [s.steps(v, str(whole), s.size(layer), 1)] if whole < count else []
        return whole, rest

    def dot_products(self, n: int) -> list[str]:
        """z_j = sum_i w_ji a_i + b_j for the neurons of layer n, BLOCK at a time."""
        s = self.syntax
        width = self.widths[n - 1] + 1
        whole, rest = self.blocks(n, "j")
        lines = []
        if whole:
            sums = [f"total{k}" for k in range(BLOCK)]
            lines += [
                f"// z{n}: {BLOCK} neurons at a time, each summed in input order",
                s.steps("j", "0", str(whole), BLOCK),
            ]
            lines += ["    " + s.index("base", f"{s.offset(n)} + j * {width}")]
            lines += ["    " + s.var(total, s.zero) for total in sums]
            lines += [
                "    " + s.loop("i", s.size(n - 1)),
                "        " + s.const("input", self.source(n - 1, "i")),
            ]
            lines += [
                f"        {total} += params[base + {k * width} + i] * input;"
                for k, total in enumerate(sums)
            ]
            lines += ["    }"]
            lines += [
                f"    {self.z(n)}[j + {k}] = {total} + "
                f"params[base + {k * width + width - 1}];"
                for k, total in enumerate(sums)
            ]
            lines += ["}"]
        if rest:
            lines += rest + [
                "    " + s.index("base", f"{s.offset(n)} + j * {width}"),
                "    " + s.var("total", s.zero),
                "    " + s.loop("i", s.size(n - 1)),
                f"        total += params[base + i] * {self.source(n - 1, 'i')};",
                "    }",
                f"    {self.z(n)}[j] = total + params[base + {width - 1}];",
                "}",
            ]
        return lines

    def forward(self) -> list[str]:
        lines = []
        for layer in self.program.layers:
            lines += self.dot_products(layer.index) + self.activation(layer)
        return lines

    def activation(self, layer: LayerStatements) -> list[str]:
        """a_j from z_j over layer's neurons (softmax: after its top and lp)."""
        s, n = self.syntax, layer.index
        lines = []
        if layer.softmax:
            top, lp = s.softmax(self.z(n), s.size(n))
            lines += [s.const("top", top), s.const("lp", lp)]
        call = s.layer_call(layer.activation_expr, self.z(n), self.a(n), s.size(n))
        if call is not None:
            lines.append(call)
        elif layer.activation_expr != Z:
            expr = layer.activation_expr
            lines += [s.loop("j", s.size(n))]
            lines += ["    " + b for b in self.bind(expr, n, "j")]
            lines += [f"    {self.a(n)}[j] = {self.show(expr)};", "}"]
        return lines

    def arrays(self, deltas: bool) -> tuple[list[tuple[str, int]], list]:
        arrays, aliases = [], []
        for layer in self.program.layers:
            n = layer.index
            arrays.append((self.z(n), n))
            if layer.activation_expr == Z:
                aliases.append((self.a(n), self.z(n)))
            else:
                arrays.append((self.a(n), n))
            if deltas:
                arrays.append((self.d(n), n))
        return arrays, aliases

    def loss(self) -> list[str]:
        s = self.syntax
        program = self.program
        n = program.layers[-1].index
        term = program.loss_term
        lines = [s.var("total", s.zero), s.loop("j", s.size(n))]
        lines += ["    " + b for b in self.bind(term, n, "j")]
        lines += [f"    total += {self.show(term)};", "}"]
        sample_loss = self.show(program.loss_scale * Symbol("total", real=True))
        return lines + [s.const("sample_loss", sample_loss)]

    def deltas(self) -> list[str]:
        lines = self.output_deltas()
        for layer in reversed(self.program.layers[:-1]):
            assert layer.delta_expr is not None
            lines += self.hidden_deltas(layer.index, layer.delta_expr)
        return lines

    def output_deltas(self) -> list[str]:
        s = self.syntax
        program = self.program
        n = program.layers[-1].index
        lines = []
        for reduction in program.output_reductions:
            name = reduction.symbol.name
            lines += [s.var(name, s.zero), s.loop("j", s.size(n))]
            lines += ["    " + b for b in self.bind(reduction.term, n, "j")]
            lines += [f"    {name} += {self.show(reduction.term)};", "}"]
        delta = program.output_delta
        lines += [s.loop("j", s.size(n))]
        lines += ["    " + b for b in self.bind(delta, n, "j")]
        lines += [f"    {self.d(n)}[j] = {self.show(delta)};", "}"]
        return lines

    def hidden_deltas(self, k: int, hidden: Expr) -> list[str]:
        """delta_i of layer k from dL/da_i = sum_j w_ji delta_j, BLOCK at a time."""
        s = self.syntax
        width = self.widths[k] + 1
        whole, rest = self.blocks(k, "i")
        lines = []
        if whole:
            sums = [f"g{m}" for m in range(BLOCK)]
            lines += [
                f"// d{k}: {BLOCK} neurons at a time, each summed in the order of j",
                s.steps("i", "0", str(whole), BLOCK),
            ]
            lines += ["    " + s.var(g, s.zero) for g in sums]
            lines += [
                "    " + s.loop("j", s.size(k + 1)),
                "        " + s.index("row", f"{s.offset(k + 1)} + j * {width} + i"),
                "        " + s.const("dj", f"{self.d(k + 1)}[j]"),
            ]
            lines += [
                f"        {g} += params[row + {m}] * dj;" for m, g in enumerate(sums)
            ]
            lines += ["    }"]
            for m, g in enumerate(sums):
                # A block of its own per neuron: the same names as the loop below.
                lines += ["    {", "        " + s.const("gj", g)]
                lines += ["        " + b for b in self.bind(hidden, k, f"i + {m}")]
                lines += [
                    f"        {self.d(k)}[i + {m}] = {self.show(hidden)};",
                    "    }",
                ]
            lines += ["}"]
        if rest:
            lines += rest + [
                "    " + s.var("gj", s.zero),
                "    " + s.loop("j", s.size(k + 1)),
                f"        gj += params[{s.offset(k + 1)} + j * {width} + i]"
                f" * {self.d(k + 1)}[j];",
                "    }",
            ]
            lines += ["    " + b for b in self.bind(hidden, k, "i")]
            lines += [f"    {self.d(k)}[i] = {self.show(hidden)};", "}"]
        return lines

    def gradients(self, assign: str, layers: tuple) -> list[str]:
        """Each weight's and bias's gradient (delta_j * input_i, delta_j), assigned."""
        s = self.syntax
        lines = []
        for layer in layers:
            k, width = layer.index, self.widths[layer.index - 1] + 1
            lines += [
                s.loop("j", s.size(k)),
                "    " + s.index("base", f"{s.offset(k)} + j * {width}"),
                "    " + s.const("dj", f"{self.d(k)}[j]"),
                "    " + s.loop("i", s.size(k - 1)),
                f"        grad[base + i] {assign} dj * {self.source(k - 1, 'i')};",
                "    }",
                f"    grad[base + {width - 1}] {assign} dj;",
                "}",
            ]
        return lines


def loop_bodies(
    program: LoopProgram, printer: CodePrinter, syntax: Syntax
) -> LoopBodies:
    """Print `program`'s loops with `printer` in `syntax`."""
    bodies = Bodies(program, printer, syntax)
    forward = bodies.forward()
    n = program.layers[-1].index
    out = [syntax.loop("j", syntax.size(n)), f"    out[j] = a{n}[j];", "}"]
    loss = forward + bodies.loss()
    forward_arrays, aliases = bodies.arrays(deltas=False)
    all_arrays, _ = bodies.arrays(deltas=True)
    return LoopBodies(
        forward=tuple(forward + out),
        common=tuple(loss + bodies.deltas()),
        store=tuple(bodies.gradients("=", program.layers)),
        accumulate=tuple(bodies.gradients("+=", program.layers)),
        forward_arrays=tuple(forward_arrays),
        all_arrays=tuple(all_arrays),
        aliases=tuple(aliases),
        softmax=any(layer.softmax for layer in program.layers),
    )


def offsets(arch: tuple[int, ...]) -> list[int]:
    """The index of each layer's first parameter (layer 1 first)."""
    result, start = [], 0
    for n_in, n_out in zip(arch, arch[1:]):
        result.append(start)
        start += n_out * (n_in + 1)
    return result


__all__ = [
    "BLOCK",
    "Bodies",
    "LoopBodies",
    "Syntax",
    "loop_bodies",
    "offsets",
]
