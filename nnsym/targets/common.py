"""What the C and JavaScript targets share: printing a Program's steps as statements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sympy

from nnsym.pipeline.cse import Program
from nnsym.pipeline.model import LOSS_SYMBOL

RUNTIME_DIR = Path(__file__).resolve().parent.parent / "runtime"


def runtime_text(relative: str) -> str:
    """A runtime file's text, to be included verbatim in a generated file."""
    return (RUNTIME_DIR / relative).read_text(encoding="utf-8").rstrip("\n")


def identity(source: str) -> str:
    """The formatter of targets printed ready to read: leaves the text as it is."""
    return source


@dataclass(frozen=True)
class Statements:
    """The bodies of forward and loss_and_grad, as lines of the target language."""

    forward: tuple[str, ...]
    loss_and_grad: tuple[str, ...]
    helpers: tuple[tuple[str, str], ...]
    runtime_helpers: frozenset[str]


def print_statements(
    program: Program,
    printer: sympy.printing.codeprinter.CodePrinter,
    declare: Callable[[str, str], str],
    store: Callable[[str, int, str], str],
    read: Callable[[str, int], str] = lambda array, index: f"{array}[{index}]",
) -> Statements:
    """Print `program` with `printer`; the target spells declarations and stores.

    `declare(name, expr)` is a local constant; `store(array, index, expr)` an
    element of an output array (`out`, `grad`); `read(array, index)` an element
    of `params`, `x` or `y`, read only for the values a body uses.
    """
    network = program.network
    sources = {
        **{p: ("params", i) for i, p in enumerate(network.params)},
        **{s: ("x", i) for i, s in enumerate(network.inputs)},
        **{s: ("y", i) for i, s in enumerate(network.targets)},
    }
    # Constants such as sqrt(2/pi) (from gelu's derivative) become one float
    # literal: C99 has no M_PI, and nothing is left to compute at run time.
    printed = {
        step: printer.doprint(printer.fold_constants(step.expr))
        for step in program.steps
    }
    grads = [printer.doprint(printer.fold_constants(e)) for _, e in program.grads]

    def body(wanted: list[sympy.Expr], tail: list[str]) -> tuple[str, ...]:
        steps = program.steps_for(wanted)
        used: set[sympy.Symbol] = set()
        for step in steps:
            used |= step.expr.free_symbols
        for expr in wanted:
            used |= expr.free_symbols
        reads = [
            declare(symbol.name, read(*sources[symbol]))
            for symbol in sources
            if symbol in used
        ]
        lines = [
            declare(
                "sample_loss" if step.target == LOSS_SYMBOL else step.target.name,
                printed[step],
            )
            for step in steps
        ]
        return tuple(reads + lines + tail)

    outputs = list(network.outputs)
    forward = body(outputs, [store("out", k, s.name) for k, s in enumerate(outputs)])
    grad_exprs = [expr for _, expr in program.grads]
    everything = body(
        [LOSS_SYMBOL, *grad_exprs],
        [store("grad", i, g) for i, g in enumerate(grads)],
    )
    # The helpers' bodies first: they may call runtime functions too.
    helpers = tuple(printer.helper_definitions())
    runtime = frozenset(printer.helpers) - set(printer.helper_entries)
    return Statements(forward, everything, helpers, runtime)
