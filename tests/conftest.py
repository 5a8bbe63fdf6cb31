"""Fixtures shared by the tests: running the CLI and loading generated modules."""

from __future__ import annotations

import os
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


# CI sets this: a test that skips (a toolchain missing or too old) fails the run
# there, where everything the tests need is installed.
NO_SKIPS = "NNSYM_NO_SKIPS"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With NNSYM_NO_SKIPS set, a skipped test makes the run fail."""
    # Under pytest-xdist the controller sees every worker's results; a worker
    # (which has `workerinput`) leaves the verdict to it.
    if not os.environ.get(NO_SKIPS) or hasattr(session.config, "workerinput"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped and exitstatus == 0:
        reporter.write_line(
            f"{len(skipped)} tests skipped with {NO_SKIPS} set: see -rs for why",
            red=True,
        )
        session.exitstatus = 1


@pytest.fixture(autouse=True, scope="session")
def _c_cache(tmp_path_factory) -> object:
    """Compiled C trainers go to a folder of the test run's, not the user's cache."""
    key = "NNSYM_CACHE_DIR"
    before = os.environ.get(key)
    os.environ[key] = str(tmp_path_factory.mktemp("c-cache"))
    yield
    if before is None:
        del os.environ[key]
    else:
        os.environ[key] = before
