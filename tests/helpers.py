"""Shared helpers for the tests: generate a module once per spec and import it,
run the CLI. tests/conftest.py offers the ones tests take as fixtures."""

from __future__ import annotations

import functools
import importlib.util
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from nnsym import api
from nnsym.cli import main
from nnsym.pipeline.spec import Spec, make_spec

_CACHE_DIR = Path(tempfile.mkdtemp(prefix="nnsym-tests-"))
REPO = Path(__file__).resolve().parent.parent


@functools.cache
def module_for(spec: Spec) -> ModuleType:
    """Generate `spec`'s module into a temporary folder and import it."""
    path = _CACHE_DIR / f"{spec.name}.py"
    path.write_text(api.generate(spec).source, encoding="utf-8")
    name = f"nnsym_test_{spec.name}"
    loader_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[name] = module
    loader_spec.loader.exec_module(module)
    return module


def load_module(path: str | Path) -> ModuleType:
    """Import a generated module or predictor from its file."""
    return api.load_module(path)


def run_cli_in_process(args: list[object], capsys) -> tuple[int, str, str]:
    """`nnsym ARGS...` in this process: (exit status, stdout, stderr)."""
    try:
        code = main([str(arg) for arg in args])
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def run_cli_process(
    args: list[object], cwd: str | Path, **options: object
) -> subprocess.CompletedProcess:
    """`python -m nnsym ARGS...` in a child process that imports this checkout."""
    path = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path))
    return subprocess.run(
        [sys.executable, "-m", "nnsym", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        **options,
    )


def run_python(path: str | Path, *args: str) -> subprocess.CompletedProcess:
    """`python PATH ARGS...`: a generated file run as a script."""
    return subprocess.run(
        [sys.executable, str(path), *args], capture_output=True, text=True
    )


def module(arch: str, **options: str) -> ModuleType:
    """The generated module of `make_spec(arch, **options)`."""
    return module_for(make_spec(arch, **options))


def central_difference(mod: ModuleType, params: list, x: list, y: list, h: float):
    """dL/dparams by central finite differences of mod.loss only."""
    grads = []
    for i in range(len(params)):
        up = list(params)
        down = list(params)
        up[i] += h
        down[i] -= h
        grads.append((mod.loss(up, x, y) - mod.loss(down, x, y)) / (2 * h))
    return grads


def close(a: float, b: float, rel: float) -> bool:
    """Relative agreement, with an absolute floor for values near zero."""
    return abs(a - b) <= rel * max(1e-2, abs(a), abs(b))


def default_sigint() -> None:
    """Popen's preexec_fn: Ctrl-C as a terminal delivers it, whoever started us.

    A shell starts a background job with SIGINT ignored, children inherit that,
    and Python then installs no KeyboardInterrupt handler: a test of Ctrl-C run
    under `cmd &` would see the signal ignored, as nnsym rightly does there.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
