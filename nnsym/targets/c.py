"""The C99 target: one header-only trainer (`#define NAME_IMPLEMENTATION`).

In the loop form's training, NAME_chunk takes a chunk of `CHUNK` samples
through every layer at once (printed by `nnsym.targets.c_chunk`), each
sample's arithmetic unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import sympy

from nnsym.pipeline.build import differentiate
from nnsym.pipeline.cse import Program, eliminate_common_subexpressions
from nnsym.pipeline.emit import emit
from nnsym.pipeline.loops import build_loop_program
from nnsym.pipeline.spec import Spec, format_arch, param_names
from nnsym.runtime.second_order import LM_MAX_PARAMS
from nnsym.targets.c_chunk import chunk_code
from nnsym.targets.c_jacobian import loop_jacobian_lines, unrolled_jacobian_lines
from nnsym.targets.common import identity, print_statements, runtime_text
from nnsym.targets.loops import Syntax, loop_bodies, offsets
from nnsym.targets.printers import CPrinter
from nnsym.targets.registry import Baked, Rendered, Request

TEMPLATE = "c/trainer.h.jinja"
LOOPS_TEMPLATE = "c/trainer_loops.h.jinja"
DTYPES = {"float64": "double", "float32": "float"}
# Parameter names per line of the header comment.
NAMES_PER_LINE = 8
# Samples that train() takes through the network together (see above); the
# header's NAME_CHUNK default, 1 where int has 16 bits.
CHUNK = 16


@dataclass(frozen=True)
class CContext:
    """Everything the C template needs, already printed as C."""

    title: str
    prefix: str
    upper: str
    filename: str
    real: str
    math_macro: str
    n_params: int
    n_inputs: int
    n_outputs: int
    n_layers: int
    arch_text: str
    activations_text: str
    loss: str
    threshold: str
    param_lines: tuple[str, ...]
    runtime: str
    helpers: tuple[tuple[str, str], ...]
    forward_lines: tuple[str, ...]
    all_lines: tuple[str, ...]
    # NAME_jacobian_parts' body; the optimizers' runtime (NAME_SECOND_ORDER).
    jacobian_lines: tuple[str, ...]
    second_order: str
    # lm's curvature: 0 for sse and mse, 1 bce, 2 ce (nnsym_second_order.h).
    loss_code: int
    softmax: bool
    lm_max_params: int
    # The layers' widths as C list items, for the weight decay; and C text of
    # the loss's curvature constant, by which lm divides it.
    widths_list: str
    decay_curvature: str
    # (name, value) of each baked-in trained parameter, for nnsym export.
    trained: tuple[tuple[str, str], ...] = ()
    trained_from: str = ""


def c_context(spec: Spec, program: Program, dtype: str = "float64") -> CContext:
    """Print `program` as C for the template."""
    prefix = spec.name
    printer = CPrinter(prefix, dtype)
    # Printed first: print_statements gathers every helper the printer used.
    jacobian = unrolled_jacobian_lines(program.network, printer, prefix)
    statements = print_statements(
        program,
        printer,
        declare=lambda name, expr: f"const {prefix}_real {name} = {expr};",
        store=lambda array, index, expr: f"{array}[{index}] = {expr};",
    )
    return CContext(
        **c_context_fields(spec, dtype),
        runtime=runtime_for(printer, statements.runtime_helpers),
        helpers=statements.helpers,
        forward_lines=statements.forward,
        all_lines=statements.loss_and_grad,
        jacobian_lines=jacobian,
    )


def runtime_for(printer: CPrinter, used: Iterable[str]) -> str:
    """The runtime C a trainer includes: the fixed part, and the functions it calls."""
    runtime = [runtime_text("c/nnsym_runtime.h"), runtime_text("c/nnsym_jacobian.h")]
    for name, helper in printer.runtime_helpers.items():
        if helper in used:
            runtime.append(runtime_text(f"c/nnsym_{name}.h"))
    return "\n\n".join(runtime)


def c_context_fields(spec: Spec, dtype: str) -> dict:
    """The context fields that do not depend on the form."""
    prefix = spec.name
    real = DTYPES[dtype]
    names = param_names(spec.arch)
    lines = tuple(
        " ".join(names[i : i + NAMES_PER_LINE])
        for i in range(0, len(names), NAMES_PER_LINE)
    )
    return dict(
        title=spec.title,
        prefix=prefix,
        upper=prefix.upper(),
        filename=f"{spec.name}.h",
        real=real,
        math_macro="name" if dtype == "float64" else "name##f",
        n_params=spec.n_params,
        n_inputs=spec.arch[0],
        n_outputs=spec.arch[-1],
        n_layers=spec.n_layers,
        arch_text=format_arch(spec.arch),
        activations_text=", ".join(spec.activations),
        loss=spec.loss,
        threshold=repr(spec.classification_threshold),
        param_lines=lines,
        second_order=runtime_text("c/nnsym_second_order.h"),
        loss_code={"bce": 1, "ce": 2}.get(spec.loss, 0),
        softmax=spec.output_activation == "softmax",
        lm_max_params=LM_MAX_PARAMS,
        widths_list=", ".join(str(width) for width in spec.arch),
        # As the Python module's lm (second_order._train_full_batch).
        decay_curvature={"sse": "2.0", "mse": f"2.0 / {spec.arch[-1]}"}.get(
            spec.loss, "1.0"
        ),
    )


@dataclass(frozen=True)
class CLoopContext(CContext):
    """The loop form's context: the C context plus its loops and buffer sizes."""

    widths: tuple[int, ...] = ()
    offsets: tuple[int, ...] = ()
    forward_arrays: tuple[tuple[str, int], ...] = ()
    all_arrays: tuple[tuple[str, int], ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()
    common_lines: tuple[str, ...] = ()
    store_lines: tuple[str, ...] = ()
    chunk_arrays: tuple[tuple[str, str], ...] = ()
    chunk_lines: tuple[str, ...] = ()
    chunk: int = 0


def c_loop_context(spec: Spec, dtype: str = "float64") -> CLoopContext:
    """Print `spec`'s loop program as C loops for the loop template.

    forward, loss_and_grad and the chunk kernel take sigmoid from
    c/nnsym_sigmoid.h, which gcc vectorizes over a layer; lm's Jacobian
    (jacobian_parts) keeps the Python module's, whose last bits lm amplifies
    (docs/targets.md).
    """
    prefix, upper = spec.name, spec.name.upper()
    printer = CPrinter(prefix, dtype, runtime_sigmoid=True)
    # lm's Jacobian: the table's sigmoid, to the last bit the Python module's.
    exact = CPrinter(prefix, dtype)
    syntax = Syntax(
        const=lambda name, expr: f"const {prefix}_real {name} = {expr};",
        var=lambda name, expr: f"{prefix}_real {name} = {expr};",
        steps=lambda v, start, stop, step: (
            f"for (size_t {v} = {start}; {v} < {stop}; "
            + (f"{v}++) {{" if step == 1 else f"{v} += {step}) {{")
        ),
        index=lambda name, expr: f"const size_t {name} = {expr};",
        size=lambda k: f"{upper}_SIZE_{k}",
        offset=lambda k: f"{upper}_OFFSET_{k}",
        input=lambda i: f"x[{i}]",
        target=lambda j: f"y[{j}]",
        zero=printer.doprint(sympy.Float(0.0)),
        softmax=lambda array, count: (
            f"{prefix}_softmax_top({count}, {array}, 1)",
            f"{prefix}_softmax_lp({count}, {array}, 1, top)",
        ),
    )
    program = build_loop_program(spec)
    bodies = loop_bodies(program, printer, syntax)
    jacobian = loop_jacobian_lines(program, exact, syntax, prefix)
    chunked = chunk_code(program, printer, prefix)
    # Each table helper once: the first-order code's, then any that only the
    # Jacobian calls (after the helpers they call, in its own order).
    helpers = printer.helper_definitions()
    defined = {name for name, _ in helpers}
    helpers += [h for h in exact.helper_definitions() if h[0] not in defined]
    used = set(printer.helpers) | set(exact.helpers)
    # The softmax's top and lp are printed by the loops themselves.
    if bodies.softmax:
        used.add(printer.runtime_helpers["softmax"])
    base = c_context_fields(spec, dtype)
    # One line per layer, not per parameter: the file's size is the layers'.
    base["param_lines"] = tuple(
        f"layer {k}: {n_out} rows of w{k}_j_0 ... w{k}_j_{n_in - 1} b{k}_j "
        f"(j = 0 ... {n_out - 1}), from params[{offset}]"
        for k, (n_in, n_out, offset) in enumerate(
            zip(spec.arch, spec.arch[1:], offsets(spec.arch)), start=1
        )
    )
    return CLoopContext(
        **base,
        # NAME_chunk adds the gradient sums a chunk at a time with add_outer.
        runtime=runtime_for(printer, used) + "\n\n" + runtime_text("c/nnsym_outer.h"),
        helpers=tuple(helpers),
        forward_lines=bodies.forward,
        all_lines=(),
        jacobian_lines=jacobian,
        widths=tuple(spec.arch),
        offsets=tuple(offsets(spec.arch)),
        forward_arrays=bodies.forward_arrays,
        all_arrays=bodies.all_arrays,
        aliases=bodies.aliases,
        common_lines=bodies.common,
        store_lines=bodies.store,
        chunk_arrays=chunked.arrays,
        chunk_lines=chunked.body,
        chunk=CHUNK,
    )


def render_c(
    spec: Spec,
    program: Program | None,
    origin: str,
    dtype: str = "float64",
    baked: Baked | None = None,
) -> str:
    """The generated C trainer for `spec`: template, no formatter, `//` header.

    With `baked` (nnsym export), the trained parameters and NAME_predict too.
    """
    if program is None:
        context: CContext = c_loop_context(spec, dtype)
        template = LOOPS_TEMPLATE
    else:
        context, template = c_context(spec, program, dtype), TEMPLATE
    advice = "regenerate with the command above"
    if baked is not None:
        suffix = "F" if dtype == "float32" else ""
        values = tuple(repr(float(v)) + suffix for v in baked.params)
        context = replace(
            context,
            trained=tuple(zip(param_names(spec.arch), values)),
            trained_from=baked.source,
        )
        advice = baked.advice
    return emit(template, origin, advice, comment="//", formatter=identity, c=context)


def render(request: Request) -> Rendered:
    """The registry's render: the unrolled form prints the cse'd program, the
    loop form its per-layer one."""
    spec = request.spec
    program = None
    if spec.form != "loops":
        program = eliminate_common_subexpressions(differentiate(spec))
    return Rendered(
        render_c(spec, program, request.origin, request.dtype, request.baked)
    )
