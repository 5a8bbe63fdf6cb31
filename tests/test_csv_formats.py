"""CSV files as people have them: a line above the header, semicolons or tabs,
text labels, targets no output reaches, standard input and named pipes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading

import pytest

from nnsym.errors import UsageError
from nnsym.models import csv_table
from nnsym.models.data import CsvFormat, detect_delimiter, load_data, read_csv
from nnsym.pipeline.spec import make_spec
from tests.helpers import REPO, run_cli_in_process

LINEAR = make_spec("2-3-1", output_activation="identity")
XOR_NET = make_spec("2-2-1")
ROWS = ["0,0,0", "0,1,1", "1,0,1", "1,1,0"]


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(source, spec=XOR_NET, **options):
    with pytest.raises(UsageError) as caught:
        load_data(str(source), spec, **options)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- a line above the header ------------------------------------------------------


def test_a_line_above_the_header_is_named_with_skip_rows(tmp_path):
    # The layout of scikit-learn's breast cancer file: counts, then the header.
    text = "4,2,malignant,benign\nradius,texture,target\n" + "\n".join(ROWS) + "\n"
    path = write(tmp_path, text)
    message = refused(path)
    assert "line 2: 3 fields, but line 1 has 4" in message
    assert "skip it with --skip-rows 1" in message
    data = read_csv(path, XOR_NET, csv_format=CsvFormat(skip_rows=1))
    assert data.input_names == ("radius", "texture") and data.target_names == (
        "target",
    )
    assert data.xs == ((0, 0), (0, 1), (1, 0), (1, 1))


def test_skipped_lines_keep_the_line_numbers_of_the_file(tmp_path):
    path = write(tmp_path, "title\nnotes\na,b,y\n0,0,0\n0,x,1\n")
    message = refused(path, csv_format=CsvFormat(skip_rows=2))
    assert "line 5, column 2 (b): 'x' is not a number" in message
    empty = write(tmp_path, "one\ntwo\n", "short.csv")
    assert "empty after 2 skipped line(s)" in refused(
        empty, csv_format=CsvFormat(skip_rows=2)
    )


# --- delimiters -------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_the_delimiter_is_detected(tmp_path, delimiter):
    rows = [row.replace(",", delimiter) for row in ["a,b,y", *ROWS]]
    data = read_csv(write(tmp_path, "\n".join(rows) + "\n"), XOR_NET)
    assert data.input_names == ("a", "b")
    assert data.ys == ((0,), (1,), (1,), (0,))


def test_detection_prefers_commas_and_reads_quotes():
    assert detect_delimiter(["a,b;c,d", "1,2;3,4"]) == ","
    assert detect_delimiter(['"x,1";2;3', '"y,2";4;5']) == ";"
    # A title line above a semicolon table.
    assert detect_delimiter(["my data, 2024", "a;b;y", "1;2;3"]) == ";"
    # Nothing consistent: commas, and the error names the lines.
    assert detect_delimiter(["a;b", "1,2,3"]) == ","
    assert detect_delimiter(["one column", "1"]) == ","


def test_an_explicit_delimiter_wins(tmp_path):
    path = write(tmp_path, "a;b;y\n0;0;0\n0;1;1\n")
    data = read_csv(path, XOR_NET, csv_format=CsvFormat(delimiter=";"))
    assert data.input_names == ("a", "b")
    message = refused(path, csv_format=CsvFormat(delimiter=","))
    assert "0 input column(s) and 1 target column(s)" in message


def test_train_reads_a_semicolon_file_with_a_title_line(tmp_path, capsys):
    rows = ["scores (2024)", "a;b;y", *(row.replace(",", ";") for row in ROWS)]
    write(tmp_path, "\n".join(rows) + "\n")
    args = ["train", "--arch", "2-2-1", "--data", tmp_path / "data.csv"]
    args += ["--epochs", "5", "--seed", "0", "-o", tmp_path / "m.py"]
    code, out, err = run_cli_in_process([*args, "--skip-rows", "1"], capsys)
    assert code == 0, err
    assert "a  b  target" in out
    code, _, err = run_cli_in_process([*args, "--delimiter", "tab"], capsys)
    assert code == 2 and "skip it with --skip-rows 1" not in err


# --- targets the network cannot take as they are -----------------------------------


def test_text_labels_with_one_output_suggest_ce(tmp_path):
    path = write(tmp_path, "a,b,kind\n0,0,benign\n0,1,malignant\n1,1,benign\n")
    message = refused(path, make_spec("2-4-1"))
    assert "'benign' is not a number" in message
    assert "use --loss ce with one output per class, e.g. --arch 2-4-2 --loss ce" in (
        message
    )


def test_three_classes_without_ce_suggest_ce(tmp_path):
    path = write(tmp_path, "a,b,kind\n0,0,x\n0,1,y\n1,1,z\n")
    message = refused(path, make_spec("2-4-3"))
    assert "--arch 2-4-3 --loss ce" in message
    numbers = write(tmp_path, "a,b,kind\n0,0,0\n0,1,1\n1,1,2\n", "numbers.csv")
    message = refused(numbers, make_spec("2-4-1"))
    assert "line 4, column 3 (kind): the target 2 is outside" in message
    assert "a sigmoid output can reach (0 to 1)" in message
    assert "--arch 2-4-3 --loss ce" in message
    assert load_data(str(numbers), make_spec("2-4-3", loss="ce")).classes == (
        "0",
        "1",
        "2",
    )


@pytest.mark.parametrize(
    "activation, bad, good",
    [("sigmoid", 2, 1), ("tanh", -3, -1), ("relu", -0.5, 7), ("elu", -2, -0.5)],
)
def test_targets_an_output_cannot_reach_are_refused(tmp_path, activation, bad, good):
    spec = make_spec("2-2-1", output_activation=activation)
    path = write(tmp_path, f"a,b,y\n0,0,{good}\n0,1,{bad}\n")
    message = refused(path, spec)
    assert f"line 3, column 3 (y): the target {bad:g} is outside" in message
    assert f"a {activation} output can reach" in message
    assert "--output-activation identity" in message
    fine = write(tmp_path, f"a,b,y\n0,0,{good}\n0,1,{good}\n", "fine.csv")
    assert len(load_data(str(fine), spec)) == 2
    anything = make_spec("2-2-1", output_activation="identity")
    assert len(load_data(str(path), anything)) == 2


# --- numbers: fast, and every error still names its line and column -----------------


def test_numbers_read_row_at_a_time_keep_their_errors(tmp_path):
    big = write(tmp_path, "a,b,y\n1e308,1e308,0\n-1e308,-1e308,1\n", "big.csv")
    assert read_csv(big, LINEAR).xs == ((1e308, 1e308), (-1e308, -1e308))
    for field, expected in [
        ("nan", "'nan' is not a finite number"),
        ("-inf", "'-inf' is not a finite number"),
        ("", "missing value"),
        ("1.5.2", "'1.5.2' is not a number"),
    ]:
        path = write(tmp_path, f"a,b,y\n0,1,1\n1,{field},0\n")
        assert f"line 3, column 2 (b): {expected}" in refused(path, LINEAR)
    # Targets chosen from the middle: inputs on both sides of them.
    middle = write(tmp_path, "a,y,b\n1,0.5,2\n3,0.25,4\n", "middle.csv")
    data = read_csv(middle, LINEAR, target="y")
    assert data.xs == ((1, 2), (3, 4)) and data.ys == ((0.5,), (0.25,))


# --- standard input and named pipes ------------------------------------------------


def test_data_from_standard_input(tmp_path):
    csv_text = "a,b,y\n" + "\n".join(ROWS) + "\n"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    args = [sys.executable, "-m", "nnsym", "train", "--arch", "2-2-1", "--data", "-"]
    args += ["--epochs", "3", "--seed", "0", "-o", str(tmp_path / "m.py")]
    ran = subprocess.run(
        args, input=csv_text, capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert ran.returncode == 0, ran.stderr
    assert "a  b  target" in ran.stdout and "accuracy:" in ran.stdout


def test_a_named_pipe_with_a_writer_is_read(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    text = "a,b,y\n" + "\n".join(ROWS) + "\n"

    def writer():
        with open(fifo, "w", encoding="utf-8") as handle:
            handle.write(text)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        data = load_data(str(fifo), XOR_NET)
    finally:
        thread.join(5)
    assert data.ys == ((0,), (1,), (1,), (0,))


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_process_substitution_is_read(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,y\n" + "\n".join(ROWS) + "\n")
    command = (
        f"{sys.executable} -m nnsym train --arch 2-2-1 --data <(cat d.csv) "
        "--epochs 3 --seed 0 -o m.py -q"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    ran = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert ran.returncode == 0, ran.stderr


def test_a_named_pipe_with_no_writer_cannot_hang_a_run(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_table, "FIFO_TIMEOUT", 0.2)
    fifo = tmp_path / "silent.csv"
    os.mkfifo(fifo)
    message = refused(fifo)
    assert "named pipe (FIFO) that nothing wrote to in 0.2 s" in message


def test_quotes_and_carriage_returns_read_as_the_csv_module_reads_them(tmp_path):
    def table(data):
        return data.xs, data.ys, data.input_names, data.target_names

    plain = table(read_csv(write(tmp_path, "a,b,y\n0,1,1\n2,3,0\n"), LINEAR))
    for text in ['"a",b,y\n"0",1,1\n2,"3",0\n', "a,b,y\r\n0,1,1\r\n2,3,0\r\n"]:
        assert table(read_csv(write(tmp_path, text, "other.csv"), LINEAR)) == plain
