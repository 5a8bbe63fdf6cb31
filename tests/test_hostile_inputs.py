"""Hostile input of every kind: malformed architectures, names, numbers, point
strings, CSV and weights files, and paths that are directories, FIFOs, devices,
dangling symbolic links, read-only or on a full disk; plus signals.

Every case asserts the exit status, exactly one line on stderr that is short
enough to read, no traceback and no internal error, and that no file changed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nnsym.cli import main
from nnsym.errors import MAX_MESSAGE
from tests.helpers import default_sigint

# The longest error line: the message, its prefix and argparse's "(see ...)".
LONGEST_LINE = MAX_MESSAGE + 100
BIG = 10_000
DIGITS = "1" * 5000


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """Run `nnsym ARGS` in this process; argparse's exits count as statuses."""
    try:
        code = main([str(arg) for arg in args])
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(root: Path) -> dict[str, object]:
    """Every entry under `root`: its kind, and a regular file's bytes."""
    entries: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        mode = path.lstat().st_mode
        if stat.S_ISREG(mode):
            entries[str(path)] = path.read_bytes()
        elif stat.S_ISLNK(mode):
            entries[str(path)] = ("link", os.readlink(path))
        else:
            entries[str(path)] = stat.S_IFMT(mode)
    return entries


def assert_refused(code: int, err: str, status: int, *fragments: str) -> None:
    """One readable line on stderr, the status, no traceback, no internal error."""
    assert code == status, err
    assert err.endswith("\n") and err.count("\n") == 1, err[:2000]
    assert len(err) <= LONGEST_LINE, (len(err), err[:300])
    assert "Traceback" not in err and "internal error" not in err, err
    assert err.startswith("nnsym"), err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


@pytest.fixture
def hostile(tmp_path, monkeypatch, capsys) -> Path:
    """A folder of hostile files, and a good model (good.json) to compare with."""
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(
        ["train", "--data", "xor", "--epochs", "5", "--seed", "0", "-q"]
        + ["-o", "good.py", "--save", "good.json"],
        capsys,
    )
    assert code == 0, err
    good = json.loads((tmp_path / "good.json").read_text())

    def weights(**changes: object) -> str:
        document = json.loads(json.dumps(good))
        for key, value in changes.items():
            if key in ("arch", "name"):
                document["spec"][key] = value
            else:
                document[key] = value
        return json.dumps(document)

    files = {
        "deep.json": "[" * 100_000 + "]" * 100_000,
        "deep_object.json": '{"a":' * 100_000 + "1" + "}" * 100_000,
        "empty.json": "",
        "text.json": "not json at all",
        "nan.json": weights().replace(json.dumps(good["params"]["b1_0"]), "NaN", 1),
        "big_int.json": weights().replace(
            json.dumps(good["params"]["b1_0"]), DIGITS, 1
        ),
        "wide_arch.json": weights(arch=[2] * BIG),
        "huge_layer.json": weights(arch=[2, 10**12, 1]),
        "classes.json": weights(classes=[f"c{i}" for i in range(5000)]),
        "long_name.json": weights(name="x" * BIG),
        "bad_key.json": weights(params={**good["params"], "\n" * 5000: 1.0}),
        "wide.csv": ",".join(f"c{i}" for i in range(100_000))
        + "\n"
        + ",".join("1" for _ in range(100_000))
        + "\n",
        "classes.csv": "a,b,label\n" + "".join(f"{i},{i},k{i}\n" for i in range(5000)),
        "long_field.csv": "a,b,y\n" + "x" * BIG + ",1,1\n",
        "binary.csv": "\x00\x01\x02\n",
        "ragged.csv": "a,b,y\n1,2\n1,2,3,4\n",
        "notes.dot": "my notes\n",
        "notes.py": "print('mine')\n",
        "foreign.json": '{"mine": true}\n',
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    os.mkfifo(tmp_path / "fifo")
    os.mkfifo(tmp_path / "fifo.py")
    os.mkfifo(tmp_path / "fifo.json")
    (tmp_path / "folder.py").mkdir()
    (tmp_path / "dangling.py").symlink_to(tmp_path / "nowhere" / "x.py")
    (tmp_path / "to_notes.py").symlink_to(tmp_path / "notes.py")
    return tmp_path


# --- requests: architectures, names, numbers ----------------------------------

REQUESTS = [
    (["generate", "--arch", "2-" + DIGITS], "5000-digit"),
    (["generate", "--arch", "-".join(["2"] * BIG)], "10000 layers"),
    (["generate", "--arch", "2-" * BIG + "x"], "not a whole number"),
    (["generate", "--arch", "２-1"], "FULLWIDTH DIGIT TWO"),
    (["generate", "--arch", "2-1", "--name", "x" * BIG], "10000 characters"),
    (["generate", "--arch", "2-1", "--name", "\n" * BIG], "not a valid module"),
    (["generate", "--arch", "2-1", "--activation", "x" * BIG], "is not one of"),
    (["generate", "--arch", "2-1", "--max-params", DIGITS], "digits is too long"),
    (["generate", "--arch", "2-1", "--max-params", "x" * BIG], "not a whole number"),
    (["train", "--data", "xor", "--lr", "x" * BIG], "is not a number"),
    (["train", "--data", "xor", "--lr", "9" * BIG], "finite"),
    (["train", "--data", "xor", "--seed", DIGITS], "digits is too long"),
    (["train", "--data", "xor", "--epochs", DIGITS], "digits is too long"),
    (["train", "--data", "xor", "--batch-size", "0"], "at least 1"),
    (["train", "--data", "xor", "--target-loss", "nan"], "finite"),
    # Every loss is a sum of non-negative terms: a negative target is never met.
    (["train", "--data", "xor", "--target-loss", "-1"], ">= 0"),
    (["train", "--data", "x" * BIG], "file name too long"),
    (["train", "--data", "x" * 100], "neither a built-in"),
    (["train", "--data", "xor", "--optimizer", "x" * BIG], "invalid choice"),
    (["check", "--arch", "2-1", "--step", "x" * BIG], "invalid float"),
    (["check", "--arch", "2-1", "--at", "x" * BIG], "has no key"),
    (["check", "--arch", "2-1", "--at", "z" * BIG + "=1"], "unknown key"),
    (["check", "--arch", "2-1", "--at", "seed=" + DIGITS], "must be an integer"),
    (["check", "--arch", "2-1", "--at", "x=" + ",".join(["1"] * BIG)], "needs 2"),
    (["check", "--arch", "2-1", "--at", "x=" + "y" * BIG], "must be a number"),
    (["check", "--arch", "2-1", "--at", "params=nan,1,1"], "finite"),
    (["diff", "(" * BIG + "x" + ")" * BIG], "characters long"),
    (["diff", "x" * 400 + "+"], "cannot read"),
    (["predict", "--model", "good.json", ",".join(["1"] * BIG)], "10000 number"),
    (["predict", "--model", "good.json", "x" * BIG], "not a number"),
    (["predict", "--model", "good.json", "nan,1"], "not finite"),
    (["graph", "--arch", "2-1", "--name", "n"], "unrecognized arguments"),
    (["check", "--arch", "2-1", "--name", "n"], "unrecognized arguments"),
    (["formulas", "--arch", "2-1", "--name", "n"], "unrecognized arguments"),
    (["formulas", "--arch", "2-8-8-1", "--expanded"], "leave out --expanded"),
]


@pytest.mark.parametrize(("args", "fragment"), REQUESTS)
def test_bad_requests_are_one_short_line(hostile, capsys, args, fragment):
    before = snapshot(hostile)
    code, out, err = run_cli(args, capsys)
    if fragment == "unrecognized arguments":
        # An unknown option is shown under the command's usage.
        usage, _, err = err.rstrip("\n").rpartition("\n")
        assert usage.startswith(f"usage: nnsym {args[0]} ")
        err += "\n"
    assert_refused(code, err, 2, fragment)
    assert snapshot(hostile) == before


# --- input files: weights and CSV -----------------------------------------------

BAD_WEIGHTS = {
    "deep.json": "nested too deeply",
    "deep_object.json": "nested too deeply",
    "empty.json": "is empty",
    "text.json": "not valid JSON",
    "binary.json": "not UTF-8",
    "nan.json": "not a finite number",
    "big_int.json": "digits",
    "wide_arch.json": "10000 layers; the most nnsym builds is 64",
    "huge_layer.json": "bad spec",
    "classes.json": '"classes" must be null',
    "long_name.json": "not a valid module name",
    "bad_key.json": "unexpected",
    "fifo.json": "named pipe (FIFO)",
    "folder.py": "is a directory",
    "missing.json": "no such file",
    "dangling.py": "symbolic link to a missing file",
    "/dev/zero": "character device",
}


def uses_of(model: str) -> list[list[str]]:
    """Every command that reads a weights file, reading `model`."""
    return [
        ["predict", "--model", model, "1,0"],
        ["export", "--model", model, "-o", "out.py"],
        ["train", "--data", "xor", "--init", model, "-o", "net.py"],
        ["check", "--at", f"weights={model}"],
        ["graph", "--at", f"weights={model}"],
    ]


@pytest.mark.parametrize(("model", "fragment"), BAD_WEIGHTS.items())
def test_bad_weights_files_are_refused_by_every_command(
    hostile, capsys, model, fragment
):
    before = snapshot(hostile)
    for args in uses_of(model):
        code, _, err = run_cli(args, capsys)
        assert_refused(code, err, 2, fragment)
        assert snapshot(hostile) == before, args


BAD_CSV = {
    "wide.csv": ["--arch", "2-1", "--target", "missing"],
    "classes.csv": ["--arch", "2-3", "--loss", "ce"],
    "long_field.csv": ["--arch", "2-1"],
    "binary.csv": ["--arch", "2-1"],
    "ragged.csv": ["--arch", "2-1"],
    "fifo": ["--arch", "2-1"],
    "folder.py": ["--arch", "2-1"],
    "/dev/zero": ["--arch", "2-1"],
}


@pytest.mark.parametrize(("data", "options"), BAD_CSV.items())
def test_bad_csv_files_are_one_short_line(hostile, capsys, data, options):
    before = snapshot(hostile)
    code, _, err = run_cli(["train", "--data", data, *options, "-o", "n.py"], capsys)
    assert_refused(code, err, 2)
    assert snapshot(hostile) == before


@pytest.mark.parametrize("target", [DIGITS, "0", "4", "x" * BIG, "1,1"])
def test_bad_target_columns(hostile, capsys, target):
    (hostile / "small.csv").write_text("a,b,y\n1,2,1\n2,1,0\n")
    code, _, err = run_cli(
        ["train", "--data", "small.csv", "--arch", "2-1", "--target", target], capsys
    )
    assert_refused(code, err, 2, "--target")


# --- output paths ---------------------------------------------------------------

WRITERS = {
    "generate": ["generate", "--arch", "2-1", "-o"],
    "export": ["export", "--model", "good.json", "-o"],
    "train --save": ["train", "--data", "xor", "--epochs", "1", "--save"],
    "train -o": ["train", "--data", "xor", "--epochs", "1", "-o"],
    "train --plot": ["train", "--data", "xor", "--epochs", "1", "--plot"],
    "graph": ["graph", "--arch", "2-1", "-o"],
}

# target -> (exit status, what the message says); `{suffix}` is the writer's.
BAD_TARGETS = {
    "fifo{suffix}": (2, "named pipe (FIFO)"),
    "/dev/null": (2, "character device"),
    "/dev/full": (2, "character device"),
    "folder.py": (2, "is a directory"),
    "dangling.py": (2, "symbolic link to a missing file"),
    "foreign.json/x{suffix}": (2, "is a file, not a directory"),
    "n" * 300 + "{suffix}": (1, "file name too long"),
}


def suffix_of(writer: str) -> str:
    return {"train --save": ".json", "train --plot": ".png", "graph": ".dot"}.get(
        writer, ".py"
    )


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("target", BAD_TARGETS)
@pytest.mark.parametrize("force", [False, True])
def test_bad_output_targets_are_refused_before_any_work(
    hostile, capsys, writer, target, force
):
    if writer == "train --plot":
        pytest.importorskip("matplotlib")
    suffix = suffix_of(writer)
    path = target.format(suffix=suffix)
    if path.startswith("fifo") and not (hostile / path).exists():
        os.mkfifo(hostile / path)
    args = WRITERS[writer]
    before = snapshot(hostile)
    code, _, err = run_cli([*args, path, *(["--force"] if force else [])], capsys)
    status, fragment = BAD_TARGETS[target]
    assert_refused(code, err, status, fragment)
    # Nothing was written: not the target, nor a module in generated/.
    assert snapshot(hostile) == before
    assert os.path.exists("/dev/null") and stat.S_ISCHR(os.stat("/dev/null").st_mode)


FOREIGN = {
    "generate": ["generate", "--arch", "2-1", "-o", "notes.py"],
    "generate via link": ["generate", "--arch", "2-1", "-o", "to_notes.py"],
    "export": ["export", "--model", "good.json", "-o", "notes.py"],
    "train --save": [
        "train",
        "--data",
        "xor",
        "--epochs",
        "1",
        "--save",
        "foreign.json",
    ],
    "graph": ["graph", "--arch", "2-1", "-o", "notes.dot"],
}


@pytest.mark.parametrize("writer", FOREIGN)
def test_files_nnsym_did_not_write_are_kept_without_force(hostile, capsys, writer):
    before = snapshot(hostile)
    code, _, err = run_cli(FOREIGN[writer], capsys)
    assert_refused(code, err, 1, "--force")
    assert snapshot(hostile) == before


def test_graph_replaces_its_own_drawing_and_a_foreign_one_only_with_force(
    hostile, capsys
):
    args = ["graph", "--arch", "2-1", "-o", "g.dot"]
    assert run_cli(args, capsys)[0] == 0
    first = (hostile / "g.dot").read_text()
    assert first.startswith("// Generated by nnsym")
    assert run_cli([*args[:-1], "g.dot", "--at", "seed=1"], capsys)[0] == 0
    assert (hostile / "g.dot").read_text() != first
    assert (
        run_cli(["graph", "--arch", "2-1", "-o", "notes.dot", "--force"], capsys)[0]
        == 0
    )
    assert "digraph" in (hostile / "notes.dot").read_text()


def test_a_link_to_a_generated_file_is_written_through(hostile, capsys):
    assert run_cli(["generate", "--arch", "2-1", "-q", "-o", "real.py"], capsys)[0] == 0
    (hostile / "link.py").symlink_to(hostile / "real.py")
    assert (
        run_cli(["generate", "--arch", "2-2-1", "-q", "-o", "link.py"], capsys)[0] == 0
    )
    assert (hostile / "link.py").is_symlink()
    assert "--arch 2-2-1" in (hostile / "real.py").read_text().split("\n")[0]


# --- read-only folders and full disks, in a private mount namespace ------------

MOUNT = {
    "read-only": 'mount --bind -o ro "$1" "$1"',
    "full": 'mount -t tmpfs -o size=64k tmpfs "$1" && '
    '(head -c 1000000 /dev/zero > "$1/filler" 2>/dev/null; true)',
}


def in_namespace(kind: str, folder: Path, command: list[str]) -> list[str]:
    """`command` run where `folder` is read-only or a full tmpfs (root only)."""
    script = MOUNT[kind] + ' && shift && exec "$@"'
    return ["unshare", "-rm", "sh", "-c", script, "sh", str(folder), *command]


def namespace_works(kind: str, folder: Path) -> bool:
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        in_namespace(kind, folder, ["true"]), capture_output=True, check=False
    )
    return probe.returncode == 0


NNSYM = [sys.executable, "-m", "nnsym"]


@pytest.mark.parametrize("kind", ["read-only", "full"])
@pytest.mark.parametrize(
    "writer",
    [
        ["generate", "--arch", "2-8-1", "-q", "-o", "{folder}/m.py"],
        ["export", "--model", "{good}", "-o", "{folder}/p.py"],
        ["train", "--data", "xor", "--epochs", "1", "-q", "-o", "{outside}/t.py"]
        + ["--save", "{folder}/m.json"],
        ["graph", "--arch", "2-2-1", "-o", "{folder}/g.dot"],
    ],
)
def test_read_only_folders_and_full_disks(hostile, kind, writer):
    folder = hostile / "mounted"
    folder.mkdir()
    if not namespace_works(kind, folder):
        pytest.skip(f"cannot make a {kind} mount here (needs unshare and Linux)")
    args = [
        arg.format(folder=folder, good=hostile / "good.json", outside=hostile)
        for arg in writer
    ]
    child = subprocess.run(
        in_namespace(kind, folder, [*NNSYM, *args]),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    reason = "not writable" if kind == "read-only" else "no space left on device"
    assert_refused(child.returncode, child.stderr, 1, reason)
    # The mount was private to the child: the folder here is untouched.
    assert list(folder.iterdir()) == []


# --- signals --------------------------------------------------------------------


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_sigterm_during_a_large_generate_ends_the_workers_and_cleans_up(tmp_path):
    # 2-64-64-1 unrolled is formatted by black in worker processes; SIGTERM
    # arrives while they run. capture_output with a timeout: surviving workers
    # would hold the pipes open and the communicate() below would time out.
    target = tmp_path / "big.py"
    child = subprocess.Popen(
        [
            *NNSYM,
            "generate",
            "--arch",
            "2-64-64-1",
            "--form",
            "unrolled",
            "-q",
            "-o",
            str(target),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    workers: list[int] = []
    deadline = time.monotonic() + 240
    while not workers and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
        workers = children_of(child.pid)
    if not workers:
        child.kill()
        child.communicate()
        pytest.skip("no worker processes were started (one core?)")
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=60)
    assert_refused(child.returncode, err, 143, "terminated")
    assert out == ""
    time.sleep(0.2)
    assert [pid for pid in workers if Path(f"/proc/{pid}").exists()] == []
    assert list(tmp_path.iterdir()) == []


DROPPED_SIGTERM = """
import os, signal, sys
from pathlib import Path
import nnsym.commands.diff as command
from nnsym import api
from nnsym.cli import main


class Finalized:
    def __del__(self):
        # The handler's Terminated is raised inside __del__, where Python can
        # only print it and drop it: as in an at-fork hook of black's workers.
        os.kill(os.getpid(), signal.SIGTERM)


def run(args):
    Finalized()
    api.write_atomic(Path(sys.argv[1]), "written after SIGTERM")
    return 0


command.run = run
sys.exit(main(["diff", "x"]))
"""


def test_a_dropped_sigterm_still_stops_the_write_in_one_line(tmp_path):
    # Seen in CI once: SIGTERM landed in an at-fork hook, and the run printed
    # Python's "Exception ignored" traceback. Now: one line, 143, no file.
    script = tmp_path / "dropped.py"
    script.write_text(DROPPED_SIGTERM)
    target = tmp_path / "out.txt"
    result = subprocess.run(
        [sys.executable, str(script), str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    assert_refused(result.returncode, result.stderr, 143, "terminated")
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dropped.py"]


def test_runs_inside_runs_give_back_the_unraisable_hook(monkeypatch, capsys):
    # The outermost run installs nnsym's hook and gives the caller's back; a run
    # inside it leaves both alone, and other dropped exceptions still reach the
    # caller's hook.
    import nnsym.commands.diff as command

    seen: list[type] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(type(u.exc_value)))
    callers_hook = sys.unraisablehook
    real_run = command.run
    depth = []

    class Finalized:
        def __del__(self):
            raise ValueError("dropped by Python, shown by the caller's hook")

    def run(args):
        depth.append(args)
        if len(depth) == 1:
            assert main(["diff", "x"]) == 0
            assert sys.unraisablehook is not callers_hook
            Finalized()
        return real_run(args)

    monkeypatch.setattr(command, "run", run)
    assert main(["diff", "x**2"]) == 0
    assert sys.unraisablehook is callers_hook
    assert seen == [ValueError]
    assert "2*x" in capsys.readouterr().out


def test_sigterm_in_the_write_window_leaves_no_temporary_file(tmp_path):
    # The child stops inside write_atomic, with its temporary file half written.
    script = (
        "import os, sys, time\n"
        "import nnsym.pipeline.write as write\n"
        "from nnsym.cli import main\n"
        "real = os.fsync\n"
        "class Slow:\n"
        "    def __getattr__(self, name):\n"
        "        return getattr(os, name)\n"
        "    @staticmethod\n"
        "    def fsync(fd):\n"
        "        real(fd)\n"
        "        print('in the window', flush=True)\n"
        "        time.sleep(600)\n"
        "write.os = Slow()\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, "generate", "--arch", "2-1", "-q"]
        + ["-o", str(tmp_path / "m.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    assert child.stdout.readline() == "in the window\n"
    assert list(tmp_path.glob(".m.py.*.tmp"))
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=60)
    assert_refused(child.returncode, err, 143, "terminated")
    assert list(tmp_path.iterdir()) == []


def test_sigint_is_130_and_one_line(tmp_path):
    child = subprocess.Popen(
        [*NNSYM, "train", "--data", "xor", "--epochs", "100000000", "-q"]
        + ["-o", str(tmp_path / "m.py"), "--save", str(tmp_path / "m.json")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    deadline = time.monotonic() + 120
    while not (tmp_path / "m.py").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert_refused(child.returncode, err, 130, "interrupted", "m.json not written")
    assert not (tmp_path / "m.json").exists()


def test_a_huge_foreign_file_is_judged_by_its_first_bytes(tmp_path):
    # An 8 GB sparse file (no disk used): reading it whole to look for a header
    # would exhaust the child's 2 GB address space; its first bytes say enough.
    huge = tmp_path / "huge.py"
    with open(huge, "wb") as handle:
        handle.truncate(8 * 2**30)
    limited = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))\n"
        "from nnsym.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    for args in (
        ["generate", "--arch", "2-1", "-o", str(huge)],
        ["train", "--data", "xor", "--epochs", "1", "--save", str(huge)],
        ["graph", "--arch", "2-1", "-o", str(tmp_path / "huge.dot")],
    ):
        if args[0] == "graph":
            os.link(huge, tmp_path / "huge.dot")
        child = subprocess.run(
            [sys.executable, "-c", limited, *args],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            cwd=tmp_path,
        )
        assert_refused(child.returncode, child.stderr, 1, "--force")
    assert huge.stat().st_size == 8 * 2**30
