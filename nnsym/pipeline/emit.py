"""Stage 6: a typed context, the Jinja template, then black; plus the file header."""

from __future__ import annotations

import ast
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import black
import jinja2

from nnsym.pipeline.cse import Assignment, Program
from nnsym.pipeline.header import first_line, make_header
from nnsym.pipeline.jacobian import Jacobian
from nnsym.pipeline.model import LOSS_SYMBOL
from nnsym.pipeline.printer import ModulePrinter
from nnsym.pipeline.reference import SelftestReference
from nnsym.pipeline.runtime_source import definitions, runtime
from nnsym.pipeline.sections import Section, forward_steps, sections
from nnsym.pipeline.spec import Spec

MODULE_TEMPLATE = "module.py.jinja"
BLACK_MODE = black.Mode(target_versions={black.TargetVersion.PY39}, line_length=88)
# Below this many lines, one black run is quicker than starting worker processes.
PARALLEL_MIN_LINES = 5000


@dataclass(frozen=True)
class GradLine:
    """One parameter's gradient in the generated code."""

    param: str
    accumulator: str
    expr: str


@dataclass(frozen=True)
class HelperDefinition:
    """A helper function of the generated file, printed from the table."""

    name: str
    doc: str
    body: str


@dataclass(frozen=True)
class ModuleContext:
    """Everything the module template needs, already printed as Python source."""

    title: str
    formulas: str
    arch: str
    activations: str
    loss: str
    param_names: tuple[str, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    unpack_params: str
    unpack_accumulators: str
    unpack_inputs: str
    unpack_targets: str
    forward_lines: tuple[str, ...]
    forward_sections: tuple[Section, ...]
    forward_math: str
    all_lines: tuple[str, ...]
    all_sections: tuple[Section, ...]
    all_math: str
    grads: tuple[GradLine, ...]
    helpers: tuple[str, ...]
    # Table helpers the whole module calls, and those the forward pass calls.
    helper_definitions: tuple[HelperDefinition, ...]
    forward_helper_definitions: tuple[HelperDefinition, ...]
    threshold: str
    straight_line_update: bool
    # The selftest's checked parameter indices and points, printed; None: no selftest.
    selftest_indices: str
    selftest_points: tuple[str, ...] | None
    # jacobian(): its hidden layers' dz_k/dz lines, its rows (one printed list
    # per output), the output activation's slopes (None: a softmax), and the
    # math functions they call. Empty when no Jacobian was derived.
    jacobian_lines: tuple[str, ...] = ()
    jacobian_rows: tuple[str, ...] = ()
    output_slopes: str | None = None
    jacobian_math: str = ""


def templates_dir() -> Path:
    """The folder holding the Jinja templates (in a checkout or in the wheel)."""
    package = Path(__file__).resolve().parent.parent  # the nnsym folder
    installed = package / "templates"  # where the wheel puts them
    if (installed / MODULE_TEMPLATE).is_file():
        return installed
    return package.parent / "templates"  # a source checkout


# Up to this many parameters, train() also has a plain-SGD update written out
# line by line: it saves a list and a loop per batch, which matters for small
# networks; for large ones the per-sample work dwarfs it, and the extra lines
# would slow generation.
STRAIGHT_LINE_UPDATE_MAX_PARAMS = 1000
# Tuples longer than this are written one name a line, as black would write
# them anyway at any indentation: black then has far less work to do.
EXPLODE_AFTER = 88 - 8


def _tuple_source(names: list[str] | tuple[str, ...]) -> str:
    return "(" + ", ".join(names) + ("," if len(names) == 1 else "") + ")"


def _unpack_target_source(names: list[str] | tuple[str, ...]) -> str:
    # The left side of `names = values`.
    if len(", ".join(names)) <= EXPLODE_AFTER:
        return _tuple_source(names)
    return "(\n" + "".join(f"{name},\n" for name in names) + ")"


def _math_binding(names: set[str]) -> str:
    # Local names are faster than module globals in the hot loop.
    if not names:
        return ""
    ordered = sorted(names)
    return "%s = %s" % (
        ", ".join(ordered),
        ", ".join(f"math.{name}" for name in ordered),
    )


def _selftest_sources(
    reference: SelftestReference | None,
) -> tuple[str, tuple[str, ...] | None]:
    if reference is None:
        return "()", None
    points = tuple(repr((p.seed, p.x, p.y, p.loss, p.grads)) for p in reference.points)
    return _tuple_source([str(i) for i in reference.indices]), points


def _jacobian_sources(
    printer: ModulePrinter, jacobian: Jacobian
) -> tuple[tuple[str, ...], tuple[str, ...], str | None, set[str]]:
    # The lines of jacobian(), printed; 0 and 1 as floats, as the rows hold floats.
    printer.math_names = set()

    def show(expr: object) -> str:
        if expr == 0 or expr == 1:
            return repr(float(expr))  # type: ignore[arg-type]
        return printer.doprint(expr)

    lines = tuple(f"{symbol.name} = {show(expr)}" for symbol, expr in jacobian.steps)
    rows = tuple("[" + ", ".join(show(e) for e in row) + "]" for row in jacobian.rows)
    slopes = None
    if jacobian.slopes is not None:
        slopes = "[" + ", ".join(show(e) for e in jacobian.slopes) + "]"
    return lines, rows, slopes, set(printer.math_names)


def build_context(
    spec: Spec,
    program: Program,
    formulas: str,
    title: str,
    selftest: SelftestReference | None = None,
    jacobian: Jacobian | None = None,
) -> ModuleContext:
    """Print every line of `program` and gather what the template needs."""
    network = program.network
    printer = ModulePrinter()
    # Per line: its source, the math functions and the helpers it calls.
    printed: dict[Assignment, tuple[str, frozenset[str], frozenset[str]]] = {}

    def print_step(step: Assignment) -> None:
        printer.math_names = set()
        printer.helpers = set()
        target = "sample_loss" if step.target == LOSS_SYMBOL else step.target.name
        code = printer.doprint(step.expr)
        printed[step] = (
            f"{target} = {code}",
            frozenset(printer.math_names),
            frozenset(printer.helpers),
        )

    for step in program.steps:
        print_step(step)
    forward = forward_steps(network)
    for step in forward:
        if step not in printed:
            print_step(step)
    grads = []
    grad_math: set[str] = set()
    grad_helpers: set[str] = set()
    for param, expr in program.grads:
        printer.math_names = set()
        printer.helpers = set()
        grads.append(GradLine(param.name, f"g_{param.name}", printer.doprint(expr)))
        grad_math |= printer.math_names
        grad_helpers |= printer.helpers

    def math_for(steps: tuple[Assignment, ...], extra: set[str]) -> str:
        names = set(extra).union(*(printed[s][1] for s in steps))
        return _math_binding(names)

    def helpers_for(steps: tuple[Assignment, ...], extra: set[str]) -> set[str]:
        return set(extra).union(*(printed[s][2] for s in steps))

    def definitions(helpers: set[str]) -> tuple[HelperDefinition, ...]:
        return tuple(
            HelperDefinition(name, printer.helper_entries[name].doc, body)
            for name, body in printer.helper_definitions(helpers)
        )

    all_steps = program.steps_for([LOSS_SYMBOL, *(expr for _, expr in program.grads)])
    code = {step: printed[step][0] for step in printed}
    all_helpers = helpers_for(all_steps, grad_helpers)
    forward_helpers = helpers_for(forward, set())
    param_names = tuple(p.name for p in network.params)
    selftest_indices, selftest_points = _selftest_sources(selftest)
    jacobian_parts: dict[str, object] = {}
    if jacobian is not None:
        lines, rows, slopes, names = _jacobian_sources(printer, jacobian)
        forward_names = set().union(*(printed[s][1] for s in forward))
        jacobian_parts = {
            "jacobian_lines": lines,
            "jacobian_rows": rows,
            "output_slopes": slopes,
            "jacobian_math": _math_binding(names | forward_names),
        }
    return ModuleContext(
        title=title,
        formulas=formulas.rstrip("\n"),
        arch=repr(spec.arch),
        activations=repr(spec.activations),
        loss=spec.loss,
        param_names=param_names,
        inputs=tuple(s.name for s in network.inputs),
        outputs=tuple(s.name for s in network.outputs),
        unpack_params=_unpack_target_source(param_names),
        unpack_accumulators=_unpack_target_source([g.accumulator for g in grads]),
        unpack_inputs=_tuple_source([s.name for s in network.inputs]),
        unpack_targets=_tuple_source([s.name for s in network.targets]),
        forward_lines=tuple(code[s] for s in forward),
        forward_sections=sections(network, forward, code),
        forward_math=math_for(forward, set()),
        all_lines=tuple(code[s] for s in all_steps),
        all_sections=sections(network, all_steps, code),
        all_math=math_for(all_steps, grad_math),
        grads=tuple(grads),
        helpers=tuple(sorted(all_helpers)),
        helper_definitions=definitions(all_helpers),
        forward_helper_definitions=definitions(forward_helpers),
        threshold=repr(spec.classification_threshold),
        straight_line_update=len(grads) <= STRAIGHT_LINE_UPDATE_MAX_PARAMS,
        selftest_indices=selftest_indices,
        selftest_points=selftest_points,
        **jacobian_parts,  # type: ignore[arg-type]
    )


def environment() -> jinja2.Environment:
    """The Jinja environment: strict about undefined names, no stray whitespace."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    # {{ runtime("_floats", ...) }}: nnsym.runtime's definitions, verbatim.
    env.globals["runtime"] = runtime
    return env


def emit(
    template: str,
    origin: str,
    advice: str,
    comment: str = "#",
    formatter: Callable[[str], str] | None = None,
    **context: object,
) -> str:
    """Every file nnsym writes: render the body, format it, then put the header on.

    `origin` is what made the file (shown in the header's first line), `advice`
    how to remake it; `formatter` defaults to black (Python targets).
    """
    source = environment().get_template(template).render(**context)
    body = (formatter or format_source)(source)
    return make_header(origin, body, advice, comment) + body


def render_module(spec: Spec, context: ModuleContext) -> str:
    """The generated module for `spec`: its template, black, and the header."""
    return emit(
        MODULE_TEMPLATE,
        spec.command_line(),
        "regenerate with the command above",
        m=context,
    )


def split_top_level(source: str) -> list[str]:
    """Cut `source` before each top-level def or class that follows a blank line.

    black gives such a definition exactly two blank lines before it and formats
    it independently of what precedes it, so formatting the pieces one by one and
    joining them with two blank lines gives the same text as formatting the whole.
    Definitions with decorators, or with a comment right above, stay attached.
    """
    lines = source.splitlines(keepends=True)
    starts = [
        node.lineno - 1
        for node in ast.parse(source).body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        and not node.decorator_list
        and node.lineno >= 2
        and not lines[node.lineno - 2].strip()
    ]
    bounds = [0, *starts, len(lines)]
    pieces = ["".join(lines[a:b]) for a, b in zip(bounds, bounds[1:])]
    return [piece for piece in pieces if piece.strip()]


def _black(source: str) -> str:
    return black.format_str(source, mode=BLACK_MODE)


def _formatted_already() -> frozenset[str]:
    # nnsym.runtime's definitions, which templates include verbatim: CI keeps
    # their files black-formatted in BLACK_MODE, so black leaves them as they are.
    return frozenset(text.strip() for text in definitions().values())


def format_source(source: str) -> str:
    """black's formatting of `source`; large modules are formatted in parallel.

    The result is byte for byte what one black run over the whole source gives
    (see `split_top_level`). Pieces that are nnsym.runtime definitions as
    written are black's output already and are not formatted again (two thirds
    of black's time on a loop module). black's time grows with the number of
    statements and is most of the time spent on a large network.
    """
    pieces = split_top_level(source)
    known = _formatted_already()
    formatted = {
        i: piece.rstrip() + "\n"
        for i, piece in enumerate(pieces)
        if piece.strip() in known
    }
    if not formatted and (len(pieces) < 2 or source.count("\n") < PARALLEL_MIN_LINES):
        return _black(source)
    rest = [i for i in range(len(pieces)) if i not in formatted]
    formatted.update(zip(rest, _black_all([pieces[i] for i in rest])))
    return "\n\n".join(formatted[i] for i in range(len(pieces)))


def _black_all(pieces: list[str]) -> list[str]:
    # black on each piece: in worker processes when there are many lines.
    workers = min(os.cpu_count() or 1, 4)
    lines = sum(piece.count("\n") for piece in pieces)
    if lines < PARALLEL_MIN_LINES or workers < 2 or len(pieces) < 2:
        return [_black(piece) for piece in pieces]
    # Largest first, so that no worker is left with a long piece at the end.
    order = sorted(range(len(pieces)), key=lambda i: -len(pieces[i]))
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:  # no fork on this platform: one process
        return [_black(piece) for piece in pieces]
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_worker_signals
    )
    try:
        done = dict(zip(order, pool.map(_black, [pieces[i] for i in order])))
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM) or failed: end the workers now rather
        # than wait for their pieces, so that none outlives nnsym and keeps its
        # caller's pipes open.
        _end_workers(pool)
        raise
    pool.shutdown()
    return [done[i] for i in range(len(pieces))]


def _worker_signals() -> None:
    # Workers leave Ctrl-C and SIGTERM to the parent, which ends them: they must
    # not run the parent's SIGTERM handler, nor print a traceback on Ctrl-C.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _end_workers(pool: ProcessPoolExecutor) -> None:
    # ProcessPoolExecutor has no public way to stop running workers before
    # Python 3.14 (terminate_workers); its process table is the only handle.
    workers = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    # SIGKILL: a worker only formats text, so it has nothing to clean up, and a
    # worker forked before its initializer ran would otherwise run the parent's
    # SIGTERM handler and print its traceback (or, blocked in C on a lock held
    # by another thread at fork, never run it at all).
    for process in workers:
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        process.join(timeout=5)
    # Let the pool's manager thread see its workers gone and close its pipe now:
    # if it were still closing it at exit, concurrent.futures' exit hook could
    # write to the closed pipe and print a traceback (CPython 3.11, seen under load).
    if manager is not None:
        manager.join(timeout=5)


def header_first_line(spec: Spec) -> str:
    """First line of the module generated for `spec`."""
    return first_line(spec.command_line())
