"""The C loop form's training kernel: a chunk of samples through every layer at once.

`NAME_chunk` trains up to CHUNK samples together. Every layer's values are
stored neuron by neuron, a column of CHUNK numbers per neuron, one per
sample: `z1c[j * CHUNK + c]` is z of neuron j for sample c. Each dot product
then becomes, for every input in order, one multiply and one add over the
chunk's samples, a loop over c of constant length that compilers turn into
vector instructions, with each weight loaded once for all samples (per
sample, a 16-wide layer is too short to vectorize, and each weight is loaded
once per sample). Eight neurons go together in the dot products (then
four, then one, for the rest), sharing each load of an input column, and four
in the deltas. The arithmetic of each sample is unchanged: each of its dot products
summed from zero in input order and the bias added last, its deltas summed
in the order of the next layer's neurons, its gradient terms added to the sums
in sample order (the runtime's add_outer): the numbers of one sample at a
time, to the last bit (tested).

Columns past the chunk's `count` samples hold zeros (inputs and output
deltas), so that every value computed on them is finite; they are never read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sympy import Expr, Symbol
from sympy.printing.codeprinter import CodePrinter

from nnsym.pipeline.loops import GAP, LP, A, G, LoopProgram, Y, Z

ZJ = Symbol("zj", real=True)
AJ = Symbol("aj", real=True)
YJ = Symbol("yj", real=True)
GJ = Symbol("gj", real=True)
RENAME = {Z: ZJ, A: AJ, Y: YJ, G: GJ}
# Neurons whose sums share each load of a column, largest first: the dot
# products' and the deltas'. A sizing chosen by timing (gcc 12 keeps the sums
# on the stack, loaded and stored every second input): 8 was 10% to 20%
# faster than 4 at 784-128-10, and 6, 12 and 16 slower than 8.
FORWARD_NEURONS = (8, 4, 1)
BACKWARD_NEURONS = (4, 1)


@dataclass(frozen=True)
class ChunkCode:
    """The kernel's static arrays and body."""

    # (name, length expression) of each static array.
    arrays: tuple[tuple[str, str], ...]
    body: tuple[str, ...]


class _Chunk:
    def __init__(self, program: LoopProgram, printer: CodePrinter, prefix: str):
        self.program = program
        self.printer = printer
        self.real = f"{prefix}_real"
        self.prefix = prefix
        self.upper = prefix.upper()
        self.widths = program.spec.arch
        self.chunk = f"{self.upper}_CHUNK"

    def size(self, k: int) -> str:
        return f"{self.upper}_SIZE_{k}"

    def offset(self, k: int) -> str:
        return f"{self.upper}_OFFSET_{k}"

    def show(self, expr: Expr) -> str:
        return self.printer.doprint(expr.xreplace(RENAME))

    def column(self, name: str, neuron: str) -> str:
        return f"{name}[({neuron}) * {self.chunk} + c]"

    def a(self, n: int) -> str:
        if n == 0:
            return "x0c"
        return f"z{n}c" if self.program.layers[n - 1].activation_expr == Z else f"a{n}c"

    def bind(self, expr: Expr, layer: int, neuron: str) -> list[str]:
        """The generic symbols `expr` uses, for `neuron` of `layer` and sample c."""
        sources = {
            Z: self.column(f"z{layer}c", neuron),
            A: self.column(self.a(layer), neuron),
            Y: f"y[{neuron}]",
            GAP: f"tops[c] - {self.column(f'z{layer}c', neuron)}",
            LP: "lps[c]",
        }
        return [
            f"const {self.real} {RENAME.get(symbol, symbol).name} = {source};"
            for symbol, source in sources.items()
            if symbol in expr.free_symbols
        ]

    def arrays(self) -> list[tuple[str, str]]:
        found = [("x0c", f"{self.size(0)} * {self.chunk}")]
        for layer in self.program.layers:
            n = layer.index
            found.append((f"z{n}c", f"{self.size(n)} * {self.chunk}"))
            if layer.activation_expr != Z:
                found.append((f"a{n}c", f"{self.size(n)} * {self.chunk}"))
            found.append((f"d{n}c", f"{self.size(n)} * {self.chunk}"))
            found.append((f"rows{n}", f"{self.chunk} * {self.size(n - 1)}"))
        if any(layer.softmax for layer in self.program.layers):
            found += [("tops", self.chunk), ("lps", self.chunk)]
        return found

    def gather(self) -> list[str]:
        return [
            "// The chunk's inputs as rows (the gradients), copied from the",
            "// samples' rows, then as columns (the dot products), zero past count:",
            "// input by input, so that each column is written once, in order (2% to",
            "// 3% less time an epoch at 784-128-10 than sample by sample, whose",
            "// writes, a column apart, each touched another cache line).",
            "for (size_t c = 0; c < count; c++) {",
            f"    const {self.real} *x = xs + samples[c] * {self.upper}_N_INPUTS;",
            f"    for (size_t i = 0; i < {self.size(0)}; i++) {{",
            f"        rows1[c * {self.size(0)} + i] = x[i];",
            "    }",
            "}",
            f"for (size_t i = 0; i < {self.size(0)}; i++) {{",
            f"    for (size_t c = 0; c < {self.chunk}; c++) {{",
            f"        x0c[i * {self.chunk} + c] = "
            f"c < count ? rows1[c * {self.size(0)} + i] : 0;",
            "    }",
            "}",
        ]

    def sums(self, names: list[str]) -> list[str]:
        lines = [f"{self.real} {name}[{self.chunk}];" for name in names]
        lines += [f"for (size_t c = 0; c < {self.chunk}; c++) {{"]
        lines += [f"    {name}[c] = 0;" for name in names]
        return lines + ["}"]

    def dot_products(self, n: int) -> list[str]:
        """z of layer n for every sample, FORWARD_NEURONS neurons at a time."""
        width = self.widths[n - 1] + 1
        source, z = self.a(n - 1), f"z{n}c"

        def block(step: int, start: str, stop: str) -> list[str]:
            names = [f"sum{k}" for k in range(step)]
            out = [
                (
                    f"for (size_t j = {start}; j < {stop}; j += {step}) {{"
                    if step > 1
                    else f"for (size_t j = {start}; j < {stop}; j++) {{"
                ),
                f"    const {self.real} *w = params + {self.offset(n)} + j * {width};",
            ]
            out += ["    " + line for line in self.sums(names)]
            out += [
                f"    for (size_t i = 0; i < {self.size(n - 1)}; i++) {{",
                f"        const {self.real} *input = {source} + i * {self.chunk};",
            ]
            out += [
                f"        const {self.real} w{k} = w[{k * width} + i];"
                for k in range(step)
            ]
            out += [f"        for (size_t c = 0; c < {self.chunk}; c++) {{"]
            out += [f"            sum{k}[c] += w{k} * input[c];" for k in range(step)]
            out += ["        }", "    }"]
            out += [f"    for (size_t c = 0; c < {self.chunk}; c++) {{"]
            out += [
                f"        {self.column(z, f'j + {k}')} = sum{k}[c] + "
                f"w[{k * width + width - 1}];"
                for k in range(step)
            ]
            out += ["    }", "}"]
            return out

        return _blocks(
            self.widths[n],
            FORWARD_NEURONS,
            block,
            f"z{n}: {{}} neurons at a time for the whole chunk, each summed in "
            "input order",
            self.size(n),
        )

    def activation(self, n: int) -> list[str]:
        layer = self.program.layers[n - 1]
        expr = layer.activation_expr
        lines = []
        if layer.softmax:
            lines += [
                f"for (size_t c = 0; c < {self.chunk}; c++) {{",
                f"    tops[c] = {self.prefix}_softmax_top({self.size(n)}, "
                f"z{n}c + c, {self.chunk});",
                f"    lps[c] = {self.prefix}_softmax_lp({self.size(n)}, "
                f"z{n}c + c, {self.chunk}, tops[c]);",
                "}",
            ]
        if expr == Z:
            return lines
        if layer.softmax:
            lines += [
                f"for (size_t j = 0; j < {self.size(n)}; j++) {{",
                f"    for (size_t c = 0; c < {self.chunk}; c++) {{",
            ]
            lines += ["        " + b for b in self.bind(expr, n, "j")]
            lines += [f"        {self.column(f'a{n}c', 'j')} = {self.show(expr)};"]
            return lines + ["    }", "}"]
        # Every neuron and sample in one flat loop.
        return lines + [
            f"for (size_t k = 0; k < {self.size(n)} * {self.chunk}; k++) {{",
            f"    const {self.real} zj = z{n}c[k];",
            f"    a{n}c[k] = {self.show(expr)};",
            "}",
        ]

    def output(self) -> list[str]:
        """Each sample's loss, its output deltas; zero deltas past count."""
        program = self.program
        n = program.layers[-1].index
        term = program.loss_term
        lines = [
            "for (size_t c = 0; c < count; c++) {",
            f"    const {self.real} *y = ys + samples[c] * {self.upper}_N_OUTPUTS;",
            f"    {self.real} total = 0;",
            f"    for (size_t j = 0; j < {self.size(n)}; j++) {{",
        ]
        lines += ["        " + b for b in self.bind(term, n, "j")]
        lines += [f"        total += {self.show(term)};", "    }"]
        scaled = self.show(program.loss_scale * Symbol("total", real=True))
        lines += [f"    losses[c] = {scaled};"]
        for reduction in program.output_reductions:
            name = reduction.symbol.name
            lines += [
                f"    {self.real} {name} = 0;",
                f"    for (size_t j = 0; j < {self.size(n)}; j++) {{",
            ]
            lines += ["        " + b for b in self.bind(reduction.term, n, "j")]
            lines += [f"        {name} += {self.show(reduction.term)};", "    }"]
        delta = program.output_delta
        lines += [f"    for (size_t j = 0; j < {self.size(n)}; j++) {{"]
        lines += ["        " + b for b in self.bind(delta, n, "j")]
        lines += [f"        {self.column(f'd{n}c', 'j')} = {self.show(delta)};"]
        lines += ["    }", "}"]
        lines += [
            f"for (size_t c = count; c < {self.chunk}; c++) {{",
            f"    for (size_t j = 0; j < {self.size(n)}; j++) {{",
            f"        {self.column(f'd{n}c', 'j')} = 0;",
            "    }",
            "}",
        ]
        return lines

    def hidden_deltas(self, k: int, hidden: Expr) -> list[str]:
        """delta of layer k for every sample, BACKWARD_NEURONS neurons at a time."""
        width = self.widths[k] + 1

        def block(step: int, start: str, stop: str) -> list[str]:
            names = [f"sum{m}" for m in range(step)]
            out = [
                (
                    f"for (size_t i = {start}; i < {stop}; i += {step}) {{"
                    if step > 1
                    else f"for (size_t i = {start}; i < {stop}; i++) {{"
                )
            ]
            out += ["    " + line for line in self.sums(names)]
            out += [
                f"    for (size_t j = 0; j < {self.size(k + 1)}; j++) {{",
                f"        const {self.real} *w = params + {self.offset(k + 1)} + "
                f"j * {width} + i;",
                f"        const {self.real} *dj = d{k + 1}c + j * {self.chunk};",
            ]
            out += [f"        const {self.real} w{m} = w[{m}];" for m in range(step)]
            out += [f"        for (size_t c = 0; c < {self.chunk}; c++) {{"]
            out += [f"            sum{m}[c] += w{m} * dj[c];" for m in range(step)]
            out += ["        }", "    }"]
            out += [f"    for (size_t c = 0; c < {self.chunk}; c++) {{"]
            for m in range(step):
                at = f"i + {m}"
                out += ["        {", f"            const {self.real} gj = sum{m}[c];"]
                out += ["            " + b for b in self.bind(hidden, k, at)]
                out += [
                    f"            {self.column(f'd{k}c', at)} = {self.show(hidden)};",
                    "        }",
                ]
            return out + ["    }", "}"]

        return _blocks(
            self.widths[k],
            BACKWARD_NEURONS,
            block,
            f"d{k}: {{}} neurons at a time for the whole chunk, each summed in the "
            "order of j",
            self.size(k),
        )

    def rows(self, k: int) -> list[str]:
        """Layer k's outputs as rows: the inputs of layer k + 1's gradients."""
        return [
            "for (size_t c = 0; c < count; c++) {",
            f"    for (size_t i = 0; i < {self.size(k)}; i++) {{",
            f"        rows{k + 1}[c * {self.size(k)} + i] = "
            f"{self.a(k)}[i * {self.chunk} + c];",
            "    }",
            "}",
        ]

    def gradients(self) -> list[str]:
        return [
            f"{self.prefix}_add_outer(sums + {self.offset(n)}, rows{n}, "
            f"{self.size(n - 1)}, d{n}c, {self.size(n)}, {self.chunk}, count);"
            for n in range(1, len(self.widths))
        ]

    def body(self) -> list[str]:
        *hidden, last = self.program.layers
        lines = self.gather()
        for layer in self.program.layers:
            lines += self.dot_products(layer.index) + self.activation(layer.index)
        lines += self.output()
        for layer in reversed(hidden):
            assert layer.delta_expr is not None
            lines += self.hidden_deltas(layer.index, layer.delta_expr)
        for layer in hidden:
            lines += self.rows(layer.index)
        return lines + self.gradients()


def _blocks(
    count: int,
    steps: tuple[int, ...],
    block: Callable[[int, str, str], list[str]],
    comment: str,
    size: str,
) -> list[str]:
    """block(step, start, stop) for a layer of `count` neurons, largest steps first."""
    lines, start = [], 0
    for step in steps:
        stop = count - (count - start) % step
        if stop <= start:
            continue
        if step > 1:
            lines.append("// " + comment.format(step))
        last = stop == count and step == 1
        lines += block(step, str(start), size if last else str(stop))
        start = stop
    return lines


def chunk_code(program: LoopProgram, printer: CodePrinter, prefix: str) -> ChunkCode:
    """NAME_chunk's static arrays and body for `program`, printed by `printer`."""
    chunk = _Chunk(program, printer, prefix)
    return ChunkCode(tuple(chunk.arrays()), tuple(chunk.body()))
