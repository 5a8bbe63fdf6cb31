"""Targets other than CPython: the same derivation as a C99 or JavaScript trainer.

`source_for(spec, target)` runs the pipeline up to the cse'd program and prints
it for the target; a target is a printer (`printers`), a template
(`templates/<target>/`) and a small runtime (`nnsym/runtime/<target>/`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from nnsym.errors import UsageError, echo
from nnsym.pipeline.build import differentiate
from nnsym.pipeline.cse import eliminate_common_subexpressions
from nnsym.pipeline.spec import DTYPES, TARGETS, Spec
from nnsym.pipeline.write import check_writable_target, write_generated
from nnsym.targets.common import Baked

if TYPE_CHECKING:
    from nnsym.models.weights import Weights

EXTENSIONS = {"python": ".py", "c": ".h", "js": ".mjs", "micropython": ".py"}
# The suffixes a target's file may have, and the language each suffix says,
# so that a C header is not written to model.py, nor Python to model.mjs.
SUFFIXES = {
    "python": (".py",),
    "micropython": (".py",),
    "c": (".h", ".c"),
    "js": (".mjs", ".js"),
}
LANGUAGES = {
    ".py": "Python",
    ".h": "C",
    ".c": "C",
    ".mjs": "JavaScript",
    ".js": "JavaScript",
}


def check_suffix(path: Path, target: str) -> None:
    """Refuse a file name whose suffix is another language's than `target` writes."""
    suffix = path.suffix.lower()
    if suffix in LANGUAGES and suffix not in SUFFIXES[target]:
        wanted = " or ".join(SUFFIXES[target])
        raise UsageError(
            f"{echo(str(path))} is named as a {LANGUAGES[suffix]} file, but "
            f"--target {target} writes {LANGUAGES[SUFFIXES[target][0]]}: "
            f"name it with {wanted}"
        )


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
    # The loop form prints the per-layer program itself; the unrolled the cse'd one.
    loops = spec.form == "loops"
    program = None if loops else eliminate_common_subexpressions(differentiate(spec))
    if target == "c":
        from nnsym.targets.c import render_c

        return render_c(spec, program, origin, dtype, baked)
    if target == "js":
        from nnsym.targets.js import render_js

        return render_js(spec, program, origin, baked)
    raise UsageError("--target python is written by nnsym generate itself")


def default_path(spec: Spec, target: str) -> Path:
    """Where `nnsym generate --target T` writes by default: generated/<name><ext>."""
    suffix = "_micropython" if target == "micropython" else ""
    return Path("generated") / f"{spec.name}{suffix}{EXTENSIONS[target]}"


def write_target(
    spec: Spec, target: str, dtype: str, path: Path, force: bool = False
) -> bool:
    """Generate `spec` for `target` and write it atomically; False if unchanged."""
    check_suffix(path, target)
    check_writable_target(path, force=force)
    return write_generated(path, source_for(spec, target, dtype), force=force)


def export_source(weights: Weights, target: str, dtype: str = "float64") -> str:
    """A C or JavaScript trainer with `weights`' parameters baked in, and predict."""
    from nnsym.models.weights import to_json

    if target not in ("c", "js"):
        raise UsageError("nnsym export --target is python, c or js")
    check_target_options(target, dtype)
    model_hash = hashlib.sha256(to_json(weights).encode("utf-8")).hexdigest()
    origin = f"nnsym export --target {target}"
    if dtype != "float64":
        origin += f" --dtype {dtype}"
    baked = Baked(tuple(weights.params), f"weights sha256 {model_hash[:16]}")
    return source_for(
        weights.spec,
        target,
        dtype,
        baked=baked,
        origin=f"{origin} (weights sha256 {model_hash})",
    )
