"""`nnsym train --engine c` stops on Ctrl-C and SIGTERM as the Python engine does.

The C trainer runs a chunk of epochs per call (NAME_train_epochs), and Python's
signal handlers run between the calls. Each run here is far longer than the
test waits for (ten million epochs), so only a stop can end it in time.
"""

from __future__ import annotations

import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import REPO, default_sigint

pytestmark = pytest.mark.skipif(
    shutil.which("gcc") is None, reason="gcc is not installed"
)

# Longer than the wait below by far: only a stop ends it in time.
WAIT = 60.0


def _train_until_signalled(tmp_path: Path, engine: str, signum: int):
    """Start `nnsym train` on a terminal, signal it once its progress shows."""
    save = tmp_path / f"{engine}.json"
    args = [sys.executable, "-m", "nnsym", "train", "--arch", "2-16-16-1"]
    args += ["--form", "loops", "--data", "xor", "--epochs", "10000000"]
    args += ["--engine", engine, "-o", str(tmp_path / f"{engine}.py")]
    args += ["--save", str(save)]
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        args,
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
        preexec_fn=default_sigint,
    )
    os.close(follower)
    seen, signalled = b"", False
    deadline = time.monotonic() + WAIT
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:  # the terminal closed: the process ended
                    break
                if not chunk:
                    break
                seen += chunk
            # The progress line shows epochs: training is under way.
            if not signalled and b" epochs/s" in seen:
                process.send_signal(signum)
                signalled = True
            if process.poll() is not None and not ready:
                break
        status = process.wait(timeout=max(deadline - time.monotonic(), 1.0))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
    assert signalled, seen
    return status, seen.decode(), process.stdout.read().decode(), save


@pytest.mark.parametrize(
    "signum,status,word",
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
    ids=["ctrl-c", "sigterm"],
)
def test_engine_c_stops_mid_run_like_the_python_engine(
    tmp_path: Path, signum: int, status: int, word: str
):
    results = {}
    for engine in ("c", "python"):
        code, err, out, save = _train_until_signalled(tmp_path, engine, signum)
        # The last line (after the progress bar's carriage returns) says it.
        last = err.replace("\r\n", "\n").split("\r")[-1].strip().splitlines()
        results[engine] = (code, last[-1], out, save.exists())
    c, python = results["c"], results["python"]
    assert c[0] == python[0] == status
    assert c[1].startswith(f"nnsym: training {word} after ")
    assert c[1].endswith(f"; nothing was saved ({tmp_path / 'c.json'} not written)")
    # The same words as the Python engine's, but for the epoch and the file.
    assert c[1].split(" after ")[0] == python[1].split(" after ")[0]
    assert c[2] == python[2] == ""
    assert not c[3] and not python[3]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "c.py",
        "python.py",
    ], "a file was left behind"
