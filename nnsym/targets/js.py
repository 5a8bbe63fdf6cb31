"""The JavaScript target: one dependency-free ES module (Node 18+, browsers).

The loop form trains two samples at a time (`pair_body`): each weight loaded
once for both samples' dot products, and each gradient sum loaded and stored
once for both; V8 compiles no vector instructions, so sharing loads is what
pays there (64-64-10 on 300 points: 1700 us an epoch with C's chunks of 16,
1510 with pairs; moons 2-16-16-1: about 100 and 98).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace

from sympy import Expr
from sympy.printing.codeprinter import CodePrinter

from nnsym.pipeline.build import differentiate
from nnsym.pipeline.cse import Program, eliminate_common_subexpressions
from nnsym.pipeline.emit import emit
from nnsym.pipeline.loops import LoopProgram, build_loop_program
from nnsym.pipeline.spec import Spec, param_names
from nnsym.targets.common import identity, print_statements, runtime_text
from nnsym.targets.js_jacobian import loop_jacobian_lines, unrolled_jacobian_lines
from nnsym.targets.loops import Bodies, Syntax, loop_bodies, offsets
from nnsym.targets.printers import JsPrinter
from nnsym.targets.registry import Baked, Rendered, Request

TEMPLATE = "js/trainer.mjs.jinja"
LOOPS_TEMPLATE = "js/trainer_loops.mjs.jinja"
# The runtime file's own exports, for its tests, follow this line.
END_OF_INCLUDED = "// -- end of the included part"
# Where each array's sample starts: x and y are read at an offset in train().
OFFSETS = {"params": "", "x": "xo + ", "y": "yo + "}
# The four sums of a pair's dot products: two neurons of each sample.
PAIR_SUMS = ("first0", "first1", "second0", "second1")
# A pair's inputs, when there are at most this many, are read once into named
# constants and the loops over them written out, instead of being read again
# for every neuron and every gradient (moons 2-16-16-1: 97 to 91 us an epoch).
HOISTED_INPUTS = 4


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
    # train()'s body for two samples at once, and the second sample's buffers.
    pair_lines: tuple[str, ...] = ()
    pair_arrays: tuple[tuple[str, int], ...] = ()
    pair_aliases: tuple[tuple[str, str], ...] = ()


def _two_spaces(lines: tuple[str, ...]) -> tuple[str, ...]:
    # The loops are printed with four-space steps; JavaScript here uses two.
    return tuple(
        "  " * ((len(line) - len(line.lstrip(" "))) // 4) + line.lstrip(" ")
        for line in lines
    )


def _hoisted(bodies: Bodies) -> bool:
    """Whether a pair's inputs are named constants (see HOISTED_INPUTS)."""
    return bodies.widths[0] <= HOISTED_INPUTS


def _pair_source(bodies: Bodies, layer: int, i: str) -> str:
    """Input i of layer `layer` + 1 for one sample of a pair."""
    if layer == 0 and _hoisted(bodies):
        return f"input{i}{bodies.suffix}"
    return bodies.source(layer, i)


def _pair_inputs(first: Bodies, second: Bodies) -> list[str]:
    """The pair's inputs read once, when they are hoisted."""
    if not _hoisted(first):
        return []
    s = first.syntax
    return [
        s.const(_pair_source(bodies, 0, str(i)), bodies.source(0, str(i)))
        for bodies in (first, second)
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


def _pair_dot_products(first: Bodies, second: Bodies, n: int) -> list[str]:
    """z_j of layer n for two samples, two neurons of both at a time."""
    s = first.syntax
    width, count = first.widths[n - 1] + 1, first.widths[n]
    whole = count - count % 2

    def both(i: str) -> list[str]:
        return [
            s.const("input", _pair_source(first, n - 1, i)),
            s.const("other", _pair_source(second, n - 1, i)),
            s.const("w0", f"params[{_plus('base', i)}]"),
            s.const("w1", f"params[{_plus(f'base + {width}', i)}]"),
            "first0 += w0 * input;",
            "first1 += w1 * input;",
            "second0 += w0 * other;",
            "second1 += w1 * other;",
        ]

    def one(i: str) -> list[str]:
        return [
            first.syntax.const("w0", f"params[{_plus('base', i)}]"),
            f"first0 += w0 * {_pair_source(first, n - 1, i)};",
            f"second0 += w0 * {_pair_source(second, n - 1, i)};",
        ]

    lines = []
    if whole:
        lines += [
            f"// z{n}: 2 neurons of both samples at a time, each summed in input order",
            s.steps("j", "0", str(whole), 2),
            "    " + s.index("base", f"{s.offset(n)} + j * {width}"),
        ]
        lines += ["    " + s.var(t, s.zero) for t in PAIR_SUMS]
        lines += ["    " + b for b in _over_inputs(first, n - 1, both)]
        lines += [
            f"    {first.z(n)}[j] = first0 + params[base + {width - 1}];",
            f"    {first.z(n)}[j + 1] = first1 + params[base + {2 * width - 1}];",
            f"    {second.z(n)}[j] = second0 + params[base + {width - 1}];",
            f"    {second.z(n)}[j + 1] = second1 + params[base + {2 * width - 1}];",
            "}",
        ]
    if whole < count:
        lines += [
            s.steps("j", str(whole), s.size(n), 1),
            "    " + s.index("base", f"{s.offset(n)} + j * {width}"),
            "    " + s.var("first0", s.zero),
            "    " + s.var("second0", s.zero),
        ]
        lines += ["    " + b for b in _over_inputs(first, n - 1, one)]
        lines += [
            f"    {first.z(n)}[j] = first0 + params[base + {width - 1}];",
            f"    {second.z(n)}[j] = second0 + params[base + {width - 1}];",
            "}",
        ]
    return lines


def _pair_hidden_deltas(
    first: Bodies, second: Bodies, k: int, hidden: Expr
) -> list[str]:
    """delta_i of layer k for two samples, two neurons of both at a time."""
    s = first.syntax
    width, count = first.widths[k] + 1, first.widths[k]
    whole = count - count % 2
    lines = []

    def finish(sums: dict[Bodies, tuple[str, ...]], i: str) -> list[str]:
        # A block of its own per neuron and sample: the single-sample names.
        out = []
        for bodies, names in sums.items():
            for m, g in enumerate(names):
                at = f"{i} + {m}" if len(names) > 1 else i
                out += ["    {", "        " + s.const("gj", g)]
                out += ["        " + b for b in bodies.bind(hidden, k, at)]
                out += [f"        {bodies.d(k)}[{at}] = {bodies.show(hidden)};"]
                out += ["    }"]
        return out

    row = f"{s.offset(k + 1)} + j * {width} + i"
    if whole:
        lines += [
            f"// d{k}: 2 neurons of both samples at a time, each summed in order of j",
            s.steps("i", "0", str(whole), 2),
        ]
        lines += ["    " + s.var(t, s.zero) for t in PAIR_SUMS]
        lines += [
            "    " + s.loop("j", s.size(k + 1)),
            "        " + s.index("row", row),
            "        " + s.const("w0", "params[row]"),
            "        " + s.const("w1", "params[row + 1]"),
            "        " + s.const("dj", f"{first.d(k + 1)}[j]"),
            "        " + s.const("other", f"{second.d(k + 1)}[j]"),
            "        first0 += w0 * dj;",
            "        first1 += w1 * dj;",
            "        second0 += w0 * other;",
            "        second1 += w1 * other;",
            "    }",
        ]
        lines += finish({first: PAIR_SUMS[:2], second: PAIR_SUMS[2:]}, "i")
        lines += ["}"]
    if whole < count:
        lines += [
            s.steps("i", str(whole), s.size(k), 1),
            "    " + s.var("first0", s.zero),
            "    " + s.var("second0", s.zero),
            "    " + s.loop("j", s.size(k + 1)),
            "        " + s.const("w0", f"params[{row}]"),
            f"        first0 += w0 * {first.d(k + 1)}[j];",
            f"        second0 += w0 * {second.d(k + 1)}[j];",
            "    }",
        ]
        lines += finish({first: ("first0",), second: ("second0",)}, "i")
        lines += ["}"]
    return lines


@dataclass(frozen=True)
class PairBody:
    """Training's body for two samples at once (see pair_body)."""

    lines: tuple[str, ...]
    # The second sample's arrays and aliases, as LoopBodies' all_arrays.
    arrays: tuple[tuple[str, int], ...]
    aliases: tuple[tuple[str, str], ...]


def _pair_gradients(first: Bodies, second: Bodies) -> list[str]:
    """Add both samples' gradients: each sum gets the first's term, then the other's."""
    s = first.syntax
    lines = []
    for layer in first.program.layers:
        k, width = layer.index, first.widths[layer.index - 1] + 1

        def term(i: str, k: int = k) -> list[str]:
            at = f"grad[{_plus('base', i)}]"
            input_ = _pair_source(first, k - 1, i)
            return [
                f"{at} = ({at} + dj * {input_}) + other * "
                f"{_pair_source(second, k - 1, i)};"
            ]

        lines += [
            s.loop("j", s.size(k)),
            "    " + s.index("base", f"{s.offset(k)} + j * {width}"),
            "    " + s.const("dj", f"{first.d(k)}[j]"),
            "    " + s.const("other", f"{second.d(k)}[j]"),
        ]
        lines += ["    " + b for b in _over_inputs(first, k - 1, term)]
        lines += [
            f"    grad[base + {width - 1}] = (grad[base + {width - 1}] + dj) + other;",
            "}",
        ]
    return lines


def pair_body(
    program: LoopProgram, printer: CodePrinter, syntax: Syntax, second: Syntax
) -> PairBody:
    """Two samples' forward pass, losses, deltas and recorded gradients, at once.

    `syntax` reads the first sample, `second` the other; the other's arrays end
    in "B". Each dot product (the forward pass's and the backward pass's dL/da)
    is computed for two neurons of both samples at a time: every weight loaded
    once for the two, and four independent sums. Every neuron's additions are
    the single-sample ones, in the same order; the losses go to losses[0] and
    losses[1]; each gradient sum in grad gets the first sample's term, then the
    other's, in one load and store. So two samples at a time give the numbers
    of one at a time, to the last bit (tested).
    """
    first = Bodies(program, printer, syntax)
    other = Bodies(program, printer, second, suffix="B")
    *hidden, last = program.layers
    lines = _pair_inputs(first, other)
    for layer in hidden:
        lines += _pair_dot_products(first, other, layer.index)
        lines += first.activation(layer) + other.activation(layer)
    lines += _pair_dot_products(first, other, last.index)
    for m, bodies in enumerate((first, other)):
        block = bodies.activation(last) + bodies.loss() + bodies.output_deltas()
        lines += ["{"] + ["    " + line for line in block]
        lines += [f"    losses[{m}] = sample_loss;", "}"]
    for layer in reversed(hidden):
        assert layer.delta_expr is not None
        lines += _pair_hidden_deltas(first, other, layer.index, layer.delta_expr)
    lines += _pair_gradients(first, other)
    arrays, aliases = other.arrays(deltas=True)
    return PairBody(tuple(lines), tuple(arrays), tuple(aliases))


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
        logsumexp=lambda array, count: f"_logsumexp(...{array})",
        layer_call=printer.layer_call,
    )
    program = build_loop_program(spec, evaluated=False)
    bodies = loop_bodies(program, printer, syntax)
    # The second sample of a pair: its own offsets into x and y.
    second = replace(
        syntax, input=lambda i: f"x[xoB + {i}]", target=lambda j: f"y[yoB + {j}]"
    )
    pair = pair_body(program, printer, syntax, second)
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
        pair_lines=_two_spaces(pair.lines),
        pair_arrays=tuple((name, spec.arch[k]) for name, k in pair.arrays),
        pair_aliases=pair.aliases,
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
