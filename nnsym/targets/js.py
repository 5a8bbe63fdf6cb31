"""The JavaScript target: one dependency-free ES module (Node 18+, browsers).

The loop form trains a group of samples at a time (`nnsym.targets.js_group`):
each weight loaded once for the group's dot products, and each gradient sum
loaded and stored once for the group; V8 compiles no vector instructions, so
sharing loads and keeping several sums in flight is what pays there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from nnsym.pipeline.build import differentiate
from nnsym.pipeline.cse import Program, eliminate_common_subexpressions
from nnsym.pipeline.emit import emit
from nnsym.pipeline.loops import build_loop_program
from nnsym.pipeline.spec import Spec, param_names
from nnsym.targets.common import identity, print_statements, runtime_text
from nnsym.targets.js_group import group_body
from nnsym.targets.js_jacobian import loop_jacobian_lines, unrolled_jacobian_lines
from nnsym.targets.loops import Syntax, loop_bodies, offsets
from nnsym.targets.printers import JsPrinter
from nnsym.targets.registry import Baked, Rendered, Request

TEMPLATE = "js/trainer.mjs.jinja"
LOOPS_TEMPLATE = "js/trainer_loops.mjs.jinja"
# The runtime file's own exports, for its tests, follow this line.
END_OF_INCLUDED = "// -- end of the included part"
# Where each array's sample starts: x and y are read at an offset in train().
OFFSETS = {"params": "", "x": "xo + ", "y": "yo + "}


@dataclass(frozen=True)
class JsContext:
    """Everything the JavaScript template needs, already printed as JavaScript."""

    title: str
    arch: str
    activations: str
    loss: str
    param_names: str
    n_params: int
    n_inputs: int
    n_outputs: int
    threshold: str
    runtime: str
    helpers: tuple[tuple[str, str], ...]
    forward_lines: tuple[str, ...]
    all_lines: tuple[str, ...]
    # (name, value) of each baked-in trained parameter, for nnsym export.
    trained: tuple[tuple[str, str], ...] = ()
    trained_from: str = ""
    # The body of _jacobianAt (nnsym/targets/js_jacobian.py).
    jacobian_lines: tuple[str, ...] = ()


def js_runtime() -> str:
    """What every generated module includes of runtime.js and second_order.js."""
    texts = [runtime_text(f"js/{name}") for name in ("runtime.js", "second_order.js")]
    return "\n\n".join(t[: t.index(END_OF_INCLUDED)].rstrip("\n") for t in texts)


def js_context(spec: Spec, program: Program) -> JsContext:
    """Print `program` as JavaScript for the template."""
    printer = JsPrinter()
    # Before the statements, which list the helpers the printer has printed.
    jacobian = unrolled_jacobian_lines(program.network, printer)
    statements = print_statements(
        program,
        printer,
        declare=lambda name, expr: f"const {name} = {expr};",
        store=lambda array, index, expr: f"{array}[{index}] = {expr};",
        read=lambda array, index: f"{array}[{OFFSETS[array]}{index}]",
    )
    return JsContext(
        **js_context_fields(spec),
        helpers=statements.helpers,
        forward_lines=statements.forward,
        all_lines=statements.loss_and_grad,
        jacobian_lines=jacobian,
    )


def js_context_fields(spec: Spec) -> dict:
    """The context fields that do not depend on the form."""
    return dict(
        title=spec.title,
        arch=json.dumps(list(spec.arch)),
        activations=json.dumps(list(spec.activations)),
        loss=spec.loss,
        param_names=json.dumps(list(param_names(spec.arch))),
        n_params=spec.n_params,
        n_inputs=spec.arch[0],
        n_outputs=spec.arch[-1],
        threshold=repr(spec.classification_threshold),
        runtime=js_runtime(),
    )


@dataclass(frozen=True)
class JsLoopContext(JsContext):
    """The loop form's context: the JavaScript context plus its loops and buffers."""

    arrays: tuple[tuple[str, int], ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()
    common_lines: tuple[str, ...] = ()
    store_lines: tuple[str, ...] = ()
    accumulate_lines: tuple[str, ...] = ()
    # train()'s body for a group of samples at once (nnsym/targets/js_group.py),
    # the buffers of all but its first sample and its offsets into x and y.
    group_size: int = 0
    group_lines: tuple[str, ...] = ()
    group_arrays: tuple[tuple[str, int], ...] = ()
    group_aliases: tuple[tuple[str, str], ...] = ()
    group_offsets: tuple[str, ...] = ()


def _two_spaces(lines: tuple[str, ...]) -> tuple[str, ...]:
    # The loops are printed with four-space steps; JavaScript here uses two.
    return tuple(
        "  " * ((len(line) - len(line.lstrip(" "))) // 4) + line.lstrip(" ")
        for line in lines
    )


def js_loop_context(spec: Spec) -> JsLoopContext:
    """Print `spec`'s loop program as JavaScript loops for the loop template."""
    starts = offsets(spec.arch)
    printer = JsPrinter()
    syntax = Syntax(
        const=lambda name, expr: f"const {name} = {expr};",
        var=lambda name, expr: f"let {name} = {expr};",
        steps=lambda v, start, stop, step: (
            f"for (let {v} = {start}; {v} < {stop}; "
            + (f"{v}++) {{" if step == 1 else f"{v} += {step}) {{")
        ),
        index=lambda name, expr: f"const {name} = {expr};",
        size=lambda k: str(spec.arch[k]),
        offset=lambda k: str(starts[k - 1]),
        input=lambda i: f"x[xo + {i}]",
        target=lambda j: f"y[yo + {j}]",
        zero="0",
        softmax=lambda array, count: (
            f"Math.max(...{array})",
            f"_log1pRest({array}, top)",
        ),
        layer_call=printer.layer_call,
    )
    program = build_loop_program(spec)
    bodies = loop_bodies(program, printer, syntax)
    group = group_body(program, printer, syntax)
    jacobian = _two_spaces(loop_jacobian_lines(program, printer, syntax))
    base = js_context_fields(spec)
    # Computed from ARCH, not listed: the file's size is the layers', not the
    # parameters'. The same names in the same order (tested).
    base["param_names"] = (
        "ARCH.slice(1).flatMap((n, k) => Array.from({ length: n }, (_, j) => [\n"
        "  ...Array.from({ length: ARCH[k] }, (_, i) => `w${k + 1}_${j}_${i}`),\n"
        "  `b${k + 1}_${j}`,\n"
        "]).flat())"
    )
    return JsLoopContext(
        **base,
        helpers=tuple(printer.helper_definitions()),
        forward_lines=_two_spaces(bodies.forward),
        all_lines=(),
        arrays=tuple((name, spec.arch[k]) for name, k in bodies.all_arrays),
        aliases=bodies.aliases,
        common_lines=_two_spaces(bodies.common),
        store_lines=_two_spaces(bodies.store),
        accumulate_lines=_two_spaces(bodies.accumulate),
        group_size=len(group.offsets) // 2,
        group_lines=_two_spaces(group.lines),
        group_arrays=tuple((name, spec.arch[k]) for name, k in group.arrays),
        group_aliases=group.aliases,
        group_offsets=group.offsets,
        jacobian_lines=jacobian,
    )


def render_js(
    spec: Spec, program: Program | None, origin: str, baked: Baked | None = None
) -> str:
    """The generated ES module for `spec`: template, no formatter, `//` header.

    With `baked` (nnsym export), TRAINED_PARAMS and predict(x) use them.
    """
    if program is None:
        context: JsContext = js_loop_context(spec)
        template = LOOPS_TEMPLATE
    else:
        context, template = js_context(spec, program), TEMPLATE
    advice = "regenerate with the command above"
    if baked is not None:
        values = tuple(repr(float(v)) for v in baked.params)
        context = replace(
            context,
            trained=tuple(zip(param_names(spec.arch), values)),
            trained_from=baked.source,
        )
        advice = baked.advice
    return emit(template, origin, advice, comment="//", formatter=identity, j=context)


def render(request: Request) -> Rendered:
    """The registry's render: the unrolled form prints the cse'd program, the
    loop form its per-layer one."""
    spec = request.spec
    program = None
    if spec.form != "loops":
        program = eliminate_common_subexpressions(differentiate(spec))
    return Rendered(render_js(spec, program, request.origin, request.baked))
