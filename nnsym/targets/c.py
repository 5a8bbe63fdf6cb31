"""The C99 target: one header-only trainer (`#define NAME_IMPLEMENTATION`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from nnsym.pipeline.cse import Program
from nnsym.pipeline.emit import emit
from nnsym.pipeline.spec import Spec, format_arch, param_names
from nnsym.targets.common import Baked, identity, print_statements, runtime_text
from nnsym.targets.printers import CPrinter

TEMPLATE = "c/trainer.h.jinja"
DTYPES = {"float64": "double", "float32": "float"}
# Parameter names per line of the header comment.
NAMES_PER_LINE = 8


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
    # (name, value) of each baked-in trained parameter, for nnsym export.
    trained: tuple[tuple[str, str], ...] = ()
    trained_from: str = ""


def c_context(spec: Spec, program: Program, dtype: str = "float64") -> CContext:
    """Print `program` as C for the template."""
    prefix = spec.name
    real = DTYPES[dtype]
    printer = CPrinter(prefix, dtype)
    statements = print_statements(
        program,
        printer,
        declare=lambda name, expr: f"const {prefix}_real {name} = {expr};",
        store=lambda array, index, expr: f"{array}[{index}] = {expr};",
    )
    runtime = [runtime_text("c/nnsym_runtime.h")]
    if f"{prefix}_logsumexp" in statements.runtime_helpers:
        runtime.append(runtime_text("c/nnsym_logsumexp.h"))
    names = param_names(spec.arch)
    lines = tuple(
        " ".join(names[i : i + NAMES_PER_LINE])
        for i in range(0, len(names), NAMES_PER_LINE)
    )
    return CContext(
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
        runtime="\n\n".join(runtime),
        helpers=statements.helpers,
        forward_lines=statements.forward,
        all_lines=statements.loss_and_grad,
    )


def render_c(
    spec: Spec,
    program: Program,
    origin: str,
    dtype: str = "float64",
    baked: Baked | None = None,
) -> str:
    """The generated C trainer for `spec`: template, no formatter, `//` header.

    With `baked` (nnsym export), the trained parameters and NAME_predict too.
    """
    context = c_context(spec, program, dtype)
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
    return emit(TEMPLATE, origin, advice, comment="//", formatter=identity, c=context)
