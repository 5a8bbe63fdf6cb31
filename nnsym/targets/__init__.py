"""Targets other than CPython: the same derivation as a C99 or JavaScript trainer.

`source_for(spec, target)` runs the pipeline up to the cse'd program and prints
it for the target; a target is a printer (`printers`), a template
(`templates/<target>/`) and a small runtime (`nnsym/runtime/<target>/`).
"""

from __future__ import annotations

from nnsym.errors import UsageError
from nnsym.pipeline.build import differentiate
from nnsym.pipeline.cse import eliminate_common_subexpressions
from nnsym.pipeline.spec import Spec
from nnsym.targets.common import Baked

TARGETS = ("python", "c", "js", "micropython")
DTYPES = ("float64", "float32")
EXTENSIONS = {"python": ".py", "c": ".h", "js": ".mjs", "micropython": ".py"}


def check_target_options(target: str, dtype: str) -> None:
    """Refuse a target or a dtype that does not exist, or a dtype the target lacks."""
    if target not in TARGETS:
        raise UsageError(f"--target must be one of: {', '.join(TARGETS)}")
    if dtype not in DTYPES:
        raise UsageError(f"--dtype must be one of: {', '.join(DTYPES)}")
    if dtype != "float64" and target != "c":
        raise UsageError("--dtype float32 is for --target c only")


def origin_for(spec: Spec, target: str, dtype: str = "float64") -> str:
    """The command line that regenerates `spec`'s file for `target`."""
    origin = spec.command_line()
    if target != "python":
        origin += f" --target {target}"
    if dtype != "float64":
        origin += f" --dtype {dtype}"
    return origin


def source_for(
    spec: Spec,
    target: str,
    dtype: str = "float64",
    baked: Baked | None = None,
    origin: str | None = None,
) -> str:
    """The generated file for `spec` in `target`'s language, header included.

    `baked` (C and JavaScript): trained parameters to build in, for nnsym export.
    """
    check_target_options(target, dtype)
    origin = origin_for(spec, target, dtype) if origin is None else origin
    if target == "micropython":
        from nnsym.targets.micropython import micropython_source

        return micropython_source(spec, origin)
    program = eliminate_common_subexpressions(differentiate(spec))
    if target == "c":
        from nnsym.targets.c import render_c

        return render_c(spec, program, origin, dtype, baked)
    if target == "js":
        from nnsym.targets.js import render_js

        return render_js(spec, program, origin, baked)
    raise UsageError("--target python is written by nnsym generate itself")
