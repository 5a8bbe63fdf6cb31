"""Every target through one path: a request in, its record's render, a file out.

`source_for(spec, target)` renders `spec` for any registered target (Python,
MicroPython, C, JavaScript, or one added with `registry.register`); the
records in `nnsym.targets.registry` say what each target is.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from nnsym.errors import UsageError, echo
from nnsym.pipeline.spec import Spec
from nnsym.pipeline.write import check_writable_target, write_generated
from nnsym.targets import registry
from nnsym.targets.registry import Baked, Rendered, Request

__all__ = [
    "Baked",
    "Rendered",
    "Request",
    "check_suffix",
    "check_target_options",
    "default_path",
    "origin_for",
    "registry",
    "render_target",
    "source_for",
    "write_target",
]


def check_suffix(path: Path, target: str) -> None:
    """Refuse a file name whose suffix is another language's than `target` writes."""
    record = registry.get(target)
    suffix = path.suffix.lower()
    language = registry.language_of(suffix)
    if language is not None and suffix not in record.suffixes:
        wanted = " or ".join(record.suffixes)
        raise UsageError(
            f"{echo(str(path))} is named as a {language} file, but "
            f"--target {target} writes {record.language}: "
            f"name it with {wanted}"
        )


def check_target_options(target: str, dtype: str) -> None:
    """Refuse a target or a dtype that does not exist, or a dtype the target lacks."""
    registry.check_options(target, dtype)


def origin_for(spec: Spec, target: str, dtype: str = "float64") -> str:
    """The command line that regenerates `spec`'s file for `target`."""
    origin = spec.command_line()
    if target != registry.DEFAULT:
        origin += f" --target {target}"
    if dtype != "float64":
        origin += f" --dtype {dtype}"
    return origin


def render_target(request: Request, target: str) -> Rendered:
    """Render `request` for `target`: the file, and the formulas it prints."""
    record = registry.check_options(target, request.dtype)
    if request.spec.form not in record.forms:
        raise UsageError(
            f"--target {target} has no {request.spec.form} form; "
            f"use --form {' or '.join(record.forms)}"
        )
    if request.baked is not None and record.export_file is None:
        raise UsageError(f"--target {target} has no export with trained weights")
    if not request.origin:
        origin = origin_for(request.spec, target, request.dtype)
        request = replace(request, origin=origin)
    return record.render_request(request)


def source_for(
    spec: Spec,
    target: str,
    dtype: str = "float64",
    baked: Baked | None = None,
    origin: str | None = None,
) -> str:
    """The generated file for `spec` in `target`'s language, header included.

    `baked`: trained parameters to build in, for nnsym export.
    """
    return render_target(Request(spec, dtype, origin or "", baked), target).source


def default_path(spec: Spec, target: str) -> Path:
    """Where `nnsym generate --target T` writes by default: generated/<file>."""
    return Path("generated") / registry.get(target).default_path_name(spec)


def write_target(
    spec: Spec, target: str, dtype: str, path: Path, force: bool = False
) -> bool:
    """Generate `spec` for `target` and write it atomically; False if unchanged."""
    check_suffix(path, target)
    check_writable_target(path, force=force)
    return write_generated(path, source_for(spec, target, dtype), force=force)
