"""Using a generated module: where it goes, whether it is up to date, importing it.

`nnsym.targets.python.generate` runs the stages end to end (with the formulas
of `nnsym.explain` in the docstring, which is why it lives above both).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from nnsym.errors import NnsymError
from nnsym.pipeline.header import first_line
from nnsym.pipeline.spec import Spec
from nnsym.pipeline.write import (
    Existing,
    check_writable_target,
    inspect_existing,
)

if TYPE_CHECKING:
    from nnsym.pipeline.gradients import Gradients

# SymPy is imported inside differentiate: using an up-to-date module in
# generated/ (is_up_to_date, load_module) must not pay for it.

GENERATED_DIR = Path("generated")

Progress = Callable[[str], None]


def differentiate(spec: Spec) -> Gradients:
    """Build `spec`'s network and backpropagate symbolically."""
    from nnsym.pipeline.gradients import backpropagate
    from nnsym.pipeline.model import build_network

    return backpropagate(build_network(spec))


def default_output(spec: Spec) -> Path:
    """Where `nnsym generate` writes a module by default: generated/<name>.py."""
    return GENERATED_DIR / f"{spec.name}.py"


def check_target(path: str | Path, force: bool = False) -> None:
    """Raise unless a generated module may be written at `path`."""
    path = Path(path)
    check_writable_target(path, force=force)


def is_up_to_date(spec: Spec, path: str | Path) -> bool:
    """True if `path` holds an unedited module generated for exactly `spec`."""
    path = Path(path)
    if inspect_existing(path) is not Existing.GENERATED:
        return False
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    return first == first_line(spec.command_line())


def load_module(path: str | Path) -> ModuleType:
    """Import a generated module from its file, without touching sys.path."""
    path = Path(path)
    name = f"nnsym_generated_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise NnsymError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    # No __pycache__ beside the module: nnsym leaves only the files it was asked
    # to write.
    dont_write_bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        spec.loader.exec_module(module)
    except (OSError, SyntaxError) as error:
        del sys.modules[name]
        raise NnsymError(f"cannot import {path}: {error}") from error
    finally:
        sys.dont_write_bytecode = dont_write_bytecode
    return module
