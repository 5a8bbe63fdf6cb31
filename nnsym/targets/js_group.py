"""The JavaScript loop form's training body: a group of samples at once.

train() hands the loop form's samples to `_groupAt` GROUP at a time. Each dot
product (the forward pass's and the backward pass's dL/da) is computed for
NEURONS neurons of every sample of the group at once, each in its own sum: every
weight is loaded once for the group, and GROUP * NEURONS independent sums are in
flight, where V8 compiles no vector instructions and each sum waits on its last
addition. Each gradient sum is loaded and stored once for the group and gets
its samples' terms in sample order. Moons 2-16-16-1, CPU time an epoch relative
to two samples of two neurons (the pairs this replaced), one Node process,
interleaved: 3 samples of 2 neurons 0.88, 4 of 2 0.94 (V8 keeps two of its
eight sums on the stack), 8 of 1 0.91, 5 of 2 0.91, 3 of 1 0.95; then, with
the runtime's tanh coefficients in an array, relative to 3 of 2: 6 of 1 0.95
(three runs: 0.92 to 0.96), 5 of 1 0.96, 7 of 1 0.96, 4 of 2 1.05, 8 of 1
1.04; 2-64-64-1: 6 of 1 0.94 of 3 of 2.

Every neuron's additions are the single-sample ones, in the same order, and each
gradient sum adds the samples' terms in order: a group gives the numbers of one
sample at a time, to the last bit (tests/test_target_js.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from sympy import Expr
from sympy.printing.codeprinter import CodePrinter

from nnsym.pipeline.loops import LoopProgram
from nnsym.targets.loops import Bodies, Syntax

# Samples per _groupAt call, and each sample's neurons per block of sums.
GROUP = 6
NEURONS = 1
# The samples' names: their arrays and offsets end in these (z1, z1B, ...).
SUFFIXES = ("", "B", "C", "D", "E", "F", "G", "H")
# A group's inputs, when there are at most this many, are read once into named
# constants and the loops over them written out, instead of being read again
# for every neuron and every gradient (moons 2-16-16-1: 97 to 91 us an epoch).
HOISTED_INPUTS = 4


@dataclass(frozen=True)
class GroupBody:
    """Training's body for GROUP samples at once (see group_body)."""

    lines: tuple[str, ...]
    # The arrays and aliases of every sample but the first, as
    # LoopBodies' all_arrays.
    arrays: tuple[tuple[str, int], ...]
    aliases: tuple[tuple[str, str], ...]
    # _groupAt's parameters after x and y: each sample's offsets into x and y.
    offsets: tuple[str, ...]


def _hoisted(bodies: Bodies) -> bool:
    """Whether the group's inputs are named constants (see HOISTED_INPUTS)."""
    return bodies.widths[0] <= HOISTED_INPUTS


def _source(bodies: Bodies, layer: int, i: str) -> str:
    """Input i of layer `layer` + 1 for one sample of the group."""
    if layer == 0 and _hoisted(bodies):
        return f"input{i}{bodies.suffix}"
    return bodies.source(layer, i)


def _inputs(group: list[Bodies]) -> list[str]:
    """The group's inputs read once, when they are hoisted."""
    first = group[0]
    if not _hoisted(first):
        return []
    s = first.syntax
    return [
        s.const(_source(bodies, 0, str(i)), bodies.source(0, str(i)))
        for bodies in group
        for i in range(first.widths[0])
    ]


def _over_inputs(
    first: Bodies, layer: int, body: Callable[[str], list[str]]
) -> list[str]:
    """body(i) in a loop over layer's inputs, or written out for hoisted inputs."""
    s = first.syntax
    if layer == 0 and _hoisted(first):
        lines = []
        for i in range(first.widths[0]):
            statements = body(str(i))
            # A block of its own per input, where the body names its values.
            if len(statements) > 1:
                statements = ["{"] + ["    " + b for b in statements] + ["}"]
            lines += statements
        return lines
    return [s.loop("i", s.size(layer))] + ["    " + b for b in body("i")] + ["}"]


def _plus(base: str, i: str) -> str:
    """base + i, without the + 0."""
    return base if i == "0" else f"{base} + {i}"


def _sum(neuron: int, bodies: Bodies) -> str:
    return f"sum{neuron}{bodies.suffix}"


def _blocks(count: int) -> list[tuple[str, str, int]]:
    """(start, stop, neurons per step) of the loops over a layer of `count`."""
    whole = count - count % NEURONS
    loops = [("0", str(whole), NEURONS)] if whole else []
    return loops + ([(str(whole), str(count), 1)] if whole < count else [])


def _dot_products(group: list[Bodies], n: int) -> list[str]:
    """z_j of layer n for the group, NEURONS neurons of every sample at a time."""
    first = group[0]
    s = first.syntax
    width = first.widths[n - 1] + 1
    lines = [f"// z{n}: the group's samples side by side, each summed in input order"]
    for start, stop, step in _blocks(first.widths[n]):

        def terms(i: str, step: int = step) -> list[str]:
            out = []
            if not (n == 1 and _hoisted(first)):
                out += [
                    s.const(f"input{b.suffix}", _source(b, n - 1, i)) for b in group
                ]
            out += [
                s.const(f"w{m}", f"params[{_plus(_plus('base', str(m * width)), i)}]")
                for m in range(step)
            ]
            for b in group:
                value = (
                    _source(b, 0, i)
                    if n == 1 and _hoisted(first)
                    else f"input{b.suffix}"
                )
                out += [f"{_sum(m, b)} += w{m} * {value};" for m in range(step)]
            return out

        lines += [
            s.steps("j", start, stop, step),
            "    " + s.index("base", f"{s.offset(n)} + j * {width}"),
        ]
        lines += [
            "    " + s.var(_sum(m, b), s.zero) for b in group for m in range(step)
        ]
        lines += ["    " + t for t in _over_inputs(first, n - 1, terms)]
        for b in group:
            lines += [
                f"    {b.z(n)}[{_plus('j', str(m))}] = {_sum(m, b)}"
                f" + params[base + {m * width + width - 1}];"
                for m in range(step)
            ]
        lines += ["}"]
    return lines


def _hidden_deltas(group: list[Bodies], k: int, hidden: Expr) -> list[str]:
    """delta_i of layer k for the group, NEURONS neurons of every sample at a time."""
    first = group[0]
    s = first.syntax
    width = first.widths[k] + 1
    lines = [f"// d{k}: the group's samples side by side, each summed in order of j"]
    for start, stop, step in _blocks(first.widths[k]):
        lines += [s.steps("i", start, stop, step)]
        lines += [
            "    " + s.var(_sum(m, b), s.zero) for b in group for m in range(step)
        ]
        lines += [
            "    " + s.loop("j", s.size(k + 1)),
            "        " + s.index("row", f"{s.offset(k + 1)} + j * {width} + i"),
        ]
        lines += [
            "        " + s.const(f"w{m}", f"params[{_plus('row', str(m))}]")
            for m in range(step)
        ]
        for b in group:
            lines += ["        " + s.const(f"d{b.suffix}", f"{b.d(k + 1)}[j]")]
            lines += [
                f"        {_sum(m, b)} += w{m} * d{b.suffix};" for m in range(step)
            ]
        lines += ["    }"]
        for b in group:
            for m in range(step):
                # A block of its own per neuron and sample: the single-sample names.
                at = _plus("i", str(m))
                lines += ["    {", "        " + s.const("gj", _sum(m, b))]
                lines += ["        " + line for line in b.bind(hidden, k, at)]
                lines += [f"        {b.d(k)}[{at}] = {b.show(hidden)};", "    }"]
        lines += ["}"]
    return lines


def _gradients(group: list[Bodies]) -> list[str]:
    """Add the group's gradients: each sum gets its samples' terms in order."""
    first = group[0]
    s = first.syntax
    lines = []
    for layer in first.program.layers:
        k, width = layer.index, first.widths[layer.index - 1] + 1

        def term(i: str, k: int = k) -> list[str]:
            at = f"grad[{_plus('base', i)}]"
            total = at
            for b in group:
                total = f"({total} + d{b.suffix} * {_source(b, k - 1, i)})"
            return [f"{at} = {total[1:-1]};"]

        lines += [
            s.loop("j", s.size(k)),
            "    " + s.index("base", f"{s.offset(k)} + j * {width}"),
        ]
        lines += ["    " + s.const(f"d{b.suffix}", f"{b.d(k)}[j]") for b in group]
        lines += ["    " + t for t in _over_inputs(first, k - 1, term)]
        bias = f"grad[base + {width - 1}]"
        for b in group:
            bias = f"({bias} + d{b.suffix})"
        lines += [f"    grad[base + {width - 1}] = {bias[1:-1]};", "}"]
    return lines


def group_body(program: LoopProgram, printer: CodePrinter, syntax: Syntax) -> GroupBody:
    """GROUP samples' forward passes, losses, deltas and summed gradients, at once.

    `syntax` reads the first sample at x[xo...], y[yo...]; sample m's arrays
    and offsets end in SUFFIXES[m] (z1B, xoB). The losses go to losses[m]; each
    gradient sum in grad gets the first sample's term, then the next's, in one
    load and store.
    """
    group = []
    for suffix in SUFFIXES[:GROUP]:
        reads = replace(
            syntax,
            input=lambda i, o=f"xo{suffix}": f"x[{o} + {i}]",
            target=lambda j, o=f"yo{suffix}": f"y[{o} + {j}]",
        )
        group.append(Bodies(program, printer, reads, suffix=suffix))
    *hidden, last = program.layers
    lines = _inputs(group)
    for layer in hidden:
        lines += _dot_products(group, layer.index)
        for bodies in group:
            lines += bodies.activation(layer)
    lines += _dot_products(group, last.index)
    for m, bodies in enumerate(group):
        block = bodies.activation(last) + bodies.loss() + bodies.output_deltas()
        lines += ["{"] + ["    " + line for line in block]
        lines += [f"    losses[{m}] = sample_loss;", "}"]
    for layer in reversed(hidden):
        assert layer.delta_expr is not None
        lines += _hidden_deltas(group, layer.index, layer.delta_expr)
    lines += _gradients(group)
    arrays, aliases = [], []
    for bodies in group[1:]:
        more, same = bodies.arrays(deltas=True)
        arrays += more
        aliases += same
    offsets = tuple(f"{v}{b.suffix}" for b in group for v in ("xo", "yo"))
    return GroupBody(tuple(lines), tuple(arrays), tuple(aliases), offsets)


__all__ = ["GROUP", "GroupBody", "NEURONS", "group_body"]
