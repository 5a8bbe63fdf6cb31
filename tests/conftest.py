"""Fixtures shared by the tests: running the CLI and loading generated modules."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from tests import helpers


@pytest.fixture
def run_cli(capsys) -> Callable[..., tuple[int, str, str]]:
    """`nnsym ARGS...` in this process: (exit status, stdout, stderr)."""

    def run(args: list[object]) -> tuple[int, str, str]:
        return helpers.run_cli_in_process(args, capsys)

    return run


@pytest.fixture
def run_cli_process() -> Callable[..., subprocess.CompletedProcess]:
    """`python -m nnsym ARGS...` in a child process, run in the folder `cwd`."""
    return helpers.run_cli_process


@pytest.fixture
def load_module() -> Callable[[Path], ModuleType]:
    """Import a generated module or predictor from its file."""
    return helpers.load_module
