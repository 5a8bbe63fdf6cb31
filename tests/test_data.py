"""Built-in data sets and CSV loading: good files load, bad ones name file and line."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnsym.errors import EXIT_USAGE, UsageError
from nnsym.models.data import builtin_names, load_data, read_csv
from nnsym.pipeline.spec import make_spec

XOR_NET = make_spec("2-2-1")
# Any number is a target a linear output can reach.
LINEAR = make_spec("2-2-1", output_activation="identity")
CLASSIFIER = make_spec("2-4-3", loss="ce")


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(path, spec=XOR_NET, **options):
    with pytest.raises(UsageError) as caught:
        read_csv(path, spec, **options)
    message = str(caught.value)
    assert caught.value.exit_code == EXIT_USAGE
    assert str(path) in message
    assert "\n" not in message
    return message


# --- built-in sets -------------------------------------------------------------


def test_builtin_gates_are_the_truth_tables():
    expected = {
        "and": [0, 0, 0, 1],
        "or": [0, 1, 1, 1],
        "nand": [1, 1, 1, 0],
        "xor": [0, 1, 1, 0],
    }
    for name, targets in expected.items():
        data = load_data(name, XOR_NET)
        assert data.xs == ((0, 0), (0, 1), (1, 0), (1, 1))
        assert [y for (y,) in data.ys] == targets
        for (a, b), (y,) in zip(data.xs, data.ys):
            truth = {"and": a and b, "or": a or b, "nand": not (a and b)}.get(
                name, a != b
            )
            assert y == float(bool(truth))


def test_micrograd_samples_are_the_tutorials():
    data = load_data("micrograd", make_spec("3-4-4-1", activation="tanh"))
    assert data.xs == ((2, 3, -1), (3, -1, 0.5), (0.5, 1, 1), (1, 1, -1))
    assert data.ys == ((1,), (-1,), (-1,), (1,))
    assert "micrograd" in builtin_names()


def test_builtin_set_with_the_wrong_number_of_inputs_is_refused():
    with pytest.raises(UsageError, match="has 3 inputs per sample.*takes 2"):
        load_data("micrograd", XOR_NET)


def test_builtin_set_is_one_hot_encoded_for_ce():
    data = load_data("xor", make_spec("2-4-2", loss="ce"))
    assert data.classes == ("0", "1")
    assert data.ys == ((1, 0), (0, 1), (0, 1), (1, 0))


def test_unknown_data_set_names_the_choices():
    with pytest.raises(UsageError, match="neither a built-in data set.*xor"):
        load_data("nosuchset", XOR_NET)


# --- good CSV files -------------------------------------------------------------


def test_csv_with_header_and_default_last_target(tmp_path):
    path = write(tmp_path, "a,b,label\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    data = load_data(str(path), XOR_NET)
    assert data.input_names == ("a", "b")
    assert data.target_names == ("label",)
    assert data.xs[1] == (0.0, 1.0)
    assert data.ys == ((0.0,), (1.0,), (1.0,), (0.0,))


def test_csv_without_header_and_blank_lines_and_bom(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"\xef\xbb\xbf0.5,-1e-3,1\r\n\r\n2, 3 ,0\r\n")
    data = read_csv(path, XOR_NET)
    assert data.xs == ((0.5, -0.001), (2.0, 3.0))
    assert data.ys == ((1.0,), (0.0,))


def test_target_chosen_by_name_or_number(tmp_path):
    path = write(tmp_path, "y,a,b\n1,2,3\n0,4,5\n")
    by_name = read_csv(path, XOR_NET, target="y")
    by_number = read_csv(path, XOR_NET, target="1")
    assert by_name == by_number
    assert by_name.xs == ((2, 3), (4, 5))
    assert by_name.ys == ((1,), (0,))


def test_two_target_columns(tmp_path):
    path = write(tmp_path, "a,b,s,t\n1,2,3,4\n")
    data = read_csv(path, make_spec("2-2", output_activation="identity"), target="s,t")
    assert data.ys == ((3, 4),)


def test_forced_header_and_no_header(tmp_path):
    path = write(tmp_path, "1,2,3\n4,5,6\n")
    assert len(read_csv(path, LINEAR)) == 2
    headed = read_csv(path, LINEAR, header=True)
    assert headed.input_names == ("1", "2") and len(headed) == 1
    text = write(tmp_path, "a,b,c\n1,2,3\n", "text.csv")
    message = refused(text, header=False)
    assert "line 1" in message and "'a' is not a number" in message


def test_class_labels_are_one_hot_encoded_for_ce(tmp_path):
    path = write(
        tmp_path, "x,y,species\n0,1,cat\n1,0,dog\n1,1,emu\n0,0,cat\n", "zoo.csv"
    )
    data = read_csv(path, CLASSIFIER)
    assert data.classes == ("cat", "dog", "emu")
    assert data.ys == ((1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 0, 0))


def test_numeric_class_labels_sort_as_numbers(tmp_path):
    path = write(tmp_path, "1,1,10\n1,1,9\n1,1,2\n")
    data = read_csv(path, CLASSIFIER)
    assert data.classes == ("2", "9", "10")


def test_class_order_does_not_depend_on_the_hash_seed(tmp_path):
    # Labels that read as the same number (1, 1.0) or as NaN do not order by
    # value alone; the order must still be the same in every process.
    path = write(tmp_path, "".join(f"0,0,{c}\n" for c in ("nan", "1.0", "1", "-1")))
    script = (
        "import sys; from pathlib import Path; from nnsym.models.data import read_csv; "
        "from nnsym.pipeline.spec import make_spec; "
        "print(read_csv(Path(sys.argv[1]), make_spec('2-4', loss='ce')).classes)"
    )
    orders = {
        subprocess.run(
            [sys.executable, "-c", script, str(path)],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(8)
    }
    assert orders == {"('-1', '1', '1.0', 'nan')\n"}


def test_one_hot_columns_given_directly_for_ce(tmp_path):
    path = write(tmp_path, "0,1,1,0,0\n1,0,0,0,1\n")
    data = read_csv(path, CLASSIFIER)
    assert data.classes is None
    assert data.ys == ((1, 0, 0), (0, 0, 1))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(*[st.floats(allow_nan=False, allow_infinity=False)] * 3),
        min_size=1,
        max_size=8,
    )
)
def test_any_numeric_table_round_trips(tmp_path_factory, rows):
    buffer = io.StringIO()
    csv.writer(buffer).writerows([repr(v) for v in row] for row in rows)
    path = tmp_path_factory.mktemp("csv") / "round.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    data = read_csv(path, LINEAR, header=False)
    assert data.xs == tuple(row[:2] for row in rows)
    assert data.ys == tuple(row[2:] for row in rows)


# --- malformed files: one line naming file and line ------------------------------


def test_missing_value(tmp_path):
    path = write(tmp_path, "a,b,y\n0,0,0\n0,,1\n")
    assert "line 3, column 2 (b): missing value" in refused(path)


def test_text_in_a_numeric_column(tmp_path):
    path = write(tmp_path, "a,b,y\n0,0,0\n0,1,1\n1,zero,1\n")
    assert "line 4, column 2 (b): 'zero' is not a number" in refused(path)


def test_non_finite_number(tmp_path):
    path = write(tmp_path, "0,0,0\n0,nan,1\n")
    assert "line 2, column 2" in refused(path)


def test_a_file_without_header_names_each_column_once(tmp_path):
    path = write(tmp_path, "1,0,1\n1,,0\n")
    assert refused(path).endswith("line 2, column 2: missing value")


def test_ragged_rows(tmp_path):
    path = write(tmp_path, "a,b,y\n0,0,0\n0,1\n")
    assert "line 3: 2 fields, but line 1 has 3" in refused(path)


def test_ragged_row_after_blank_lines_names_its_own_line(tmp_path):
    path = write(tmp_path, "0,0,0\n\n\n0,1,1,5\n")
    assert "line 4: 4 fields" in refused(path)


def test_quoted_multiline_field_keeps_line_numbers(tmp_path):
    path = write(tmp_path, 'a,b,y\n0,"1\n",1\n1,x,1\n')
    message = refused(path)
    assert "line 4, column 2 (b): 'x' is not a number" in message


def test_empty_file(tmp_path):
    assert "line 1: the file is empty" in refused(write(tmp_path, ""))
    assert "the file is empty" in refused(write(tmp_path, "\n \n", "blank.csv"))


def test_header_only(tmp_path):
    assert "line 1: the file has a header but no data rows" in refused(
        write(tmp_path, "a,b,y\n")
    )


def test_missing_target_column(tmp_path):
    path = write(tmp_path, "a,b,y\n0,0,0\n")
    message = refused(path, target="label")
    assert "line 1" in message and "'label' is not in the header (a, b, y)" in message
    assert "column 7 does not exist" in refused(path, target="7")


def test_single_class_for_ce(tmp_path):
    path = write(tmp_path, "a,b,kind\n0,0,cat\n0,1,cat\n")
    message = refused(path, CLASSIFIER)
    assert "lines 2-3" in message and "one class 'cat'" in message


def test_class_count_not_matching_outputs(tmp_path):
    path = write(tmp_path, "a,b,kind\n0,0,cat\n0,1,dog\n")
    assert "2 classes (cat, dog), but the network has 3 outputs" in refused(
        path, CLASSIFIER
    )


def test_input_count_not_matching_the_architecture(tmp_path):
    path = write(tmp_path, "a,b,c,y\n0,0,0,1\n")
    message = refused(path)
    assert "line 1: 3 input column(s)" in message and "takes 2 input(s)" in message


def test_not_utf8(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"0,1,\xff\n")
    assert "not a UTF-8 text file" in refused(path)


def test_directory_and_missing_file(tmp_path):
    with pytest.raises(UsageError, match="is a directory"):
        load_data(str(tmp_path), XOR_NET)
    with pytest.raises(UsageError, match="nor an existing file"):
        load_data(str(tmp_path / "nope.csv"), XOR_NET)


# --- whatever the file holds: a Dataset or one UsageError, nothing else -----------

CSV_ALPHABET = st.sampled_from(list("0123456789.,-+eE\n\r \"'abxnaif\t;") + ["\x00"])


@settings(max_examples=200, deadline=None)
@given(
    content=st.one_of(st.text(CSV_ALPHABET, max_size=60), st.text(max_size=40)),
    spec=st.sampled_from([XOR_NET, CLASSIFIER, make_spec("1-1")]),
    header=st.sampled_from([None, True, False]),
)
def test_any_text_loads_or_is_one_usage_error(tmp_path_factory, content, spec, header):
    path = tmp_path_factory.mktemp("fuzz") / "data.csv"
    path.write_text(content, encoding="utf-8", errors="surrogatepass")
    try:
        data = read_csv(path, spec, header=header)
    except UsageError as error:
        assert str(path) in str(error) and "\n" not in str(error)
        return
    assert len(data) >= 1
    assert all(len(x) == spec.arch[0] for x in data.xs)
    assert all(len(y) == spec.arch[-1] for y in data.ys)


def test_a_first_line_with_text_and_numbers_suggests_header(tmp_path):
    path = write(tmp_path, "x,y,2024\n0,1,1\n")
    assert "'x' is not a number; if line 1 is a header, pass --header" in refused(path)
    assert read_csv(path, XOR_NET, header=True).input_names == ("x", "y")


@pytest.mark.parametrize(
    ("header", "option"), [(True, "--header"), (False, "--no-header")]
)
def test_header_options_are_refused_for_built_in_data(header, option):
    with pytest.raises(UsageError, match=f"^{option} is for CSV files"):
        load_data("xor", XOR_NET, header=header)
