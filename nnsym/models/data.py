"""Training data: the tutorials' built-in sets and CSV files, fitted to a network.

Every problem with a file is a `UsageError` naming the file and the line, so that
the user can open the file and fix it.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import os
import random
import select
import stat
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nnsym.errors import UsageError
from nnsym.pipeline.spec import Spec, echo, echo_list, format_arch
from nnsym.pipeline.write import check_regular_or_missing
from nnsym.primitives import PRIMITIVES

Row = tuple[float, ...]

# name -> (what it is, inputs, one target per sample)
BUILTIN: dict[str, tuple[str, tuple[Row, ...], tuple[float, ...]]] = {
    "and": ("AND gate", ((0, 0), (0, 1), (1, 0), (1, 1)), (0, 0, 0, 1)),
    "or": ("OR gate", ((0, 0), (0, 1), (1, 0), (1, 1)), (0, 1, 1, 1)),
    "nand": ("NAND gate", ((0, 0), (0, 1), (1, 0), (1, 1)), (1, 1, 1, 0)),
    "xor": ("XOR gate", ((0, 0), (0, 1), (1, 0), (1, 1)), (0, 1, 1, 0)),
    "micrograd": (
        "the micrograd tutorial's four samples",
        ((2, 3, -1), (3, -1, 0.5), (0.5, 1, 1), (1, 1, -1)),
        (1, -1, -1, 1),
    ),
}


# Public data sets shipped in nnsym/datasets (source and licence in its README):
# name -> (what it is, file, scale of the inputs).
PACKAGED: dict[str, tuple[str, str, float]] = {
    "iris": ("Fisher's iris flowers (UCI, CC BY 4.0)", "iris.csv", 1.0),
    # Pixels are counts from 0 to 16; scaled to [0, 1].
    "digits": (
        "8x8 handwritten digits (UCI optdigits, CC BY 4.0)",
        "digits.csv.gz",
        16.0,
    ),
}
DATASETS_DIR = Path(__file__).resolve().parent.parent / "datasets"


def _packaged(name: str) -> tuple[str, tuple[Row, ...], tuple[str, ...]]:
    """A shipped data set's inputs and class labels (the last column)."""
    description, file_name, scale = PACKAGED[name]
    path = DATASETS_DIR / file_name
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if file_name.endswith(".gz") else raw).decode()
    rows = list(csv.reader(io.StringIO(text)))
    if not _is_number(rows[0][0]):
        rows = rows[1:]  # the header
    inputs = tuple(tuple(float(v) / scale for v in row[:-1]) for row in rows)
    labels = tuple(row[-1] for row in rows)
    return description, inputs, labels


@dataclass(frozen=True)
class Dataset:
    """Samples ready for a network: one tuple of floats per input and per target."""

    name: str
    xs: tuple[Row, ...]
    ys: tuple[Row, ...]
    input_names: tuple[str, ...]
    target_names: tuple[str, ...]
    # For one-hot targets: the class label of each output, in output order.
    classes: tuple[str, ...] | None = None

    def __len__(self) -> int:
        """Number of samples."""
        return len(self.xs)


def builtin_names() -> tuple[str, ...]:
    """Names of the built-in data sets."""
    return (*BUILTIN, *PACKAGED)


def split_dataset(
    dataset: Dataset, fraction: float, seed: int
) -> tuple[Dataset, Dataset]:
    """(train, test): a seeded random `fraction` of the samples held out for testing."""
    n = len(dataset)
    n_test = round(n * fraction)
    if not 0 < n_test < n:
        raise UsageError(
            f"--test-split {fraction:g} of {n} samples leaves "
            f"{n_test} for testing and {n - n_test} for training; both need at least 1"
        )
    order = list(range(n))
    random.Random(seed).shuffle(order)
    test_rows, train_rows = sorted(order[:n_test]), sorted(order[n_test:])

    def subset(rows: list[int], part: str) -> Dataset:
        return Dataset(
            f"{dataset.name} ({part})",
            tuple(dataset.xs[i] for i in rows),
            tuple(dataset.ys[i] for i in rows),
            dataset.input_names,
            dataset.target_names,
            dataset.classes,
        )

    return subset(train_rows, "train"), subset(test_rows, "test")


# `--data -`: the CSV comes from standard input.
STDIN = "-"
# Delimiters tried, in this order, when none is given.
DELIMITERS = (",", ";", "\t", "|")
# Lines the delimiter is detected from.
SNIFF_LINES = 20
# Seconds a named pipe may take to start sending before the run gives up.
FIFO_TIMEOUT = 10.0


@dataclass(frozen=True)
class CsvFormat:
    """How a CSV file is laid out beyond its header: delimiter and lines to skip."""

    # None: detected from the first lines (see `detect_delimiter`).
    delimiter: str | None = None
    # Lines before the header (or the first row) that are not part of the table.
    skip_rows: int = 0


@dataclass(frozen=True)
class Table:
    """A CSV file's non-blank rows, with the line each starts on, and its header."""

    source: str
    rows: tuple[tuple[int, list[str]], ...]
    names: tuple[str, ...]
    header: bool
    # Whether the header was guessed (no --header or --no-header given).
    guessed: bool
    # The line that fixed the number of columns (the header or the first row).
    first_line: int
    delimiter: str

    def column_label(self, column: int) -> str:
        """`'column 3 (name)'` for a 0-based column; without a header, `'column 3'`."""
        label = f"column {column + 1}"
        return f"{label} ({self.names[column]})" if self.header else label


def load_data(
    source: str,
    spec: Spec,
    target: str | None = None,
    header: bool | None = None,
    csv_format: CsvFormat | None = None,
) -> Dataset:
    """A built-in data set by name, or a CSV file, checked against `spec`'s network.

    `target` selects the target column(s) of a CSV file: comma-separated names
    (from the header) or 1-based column numbers. `header` None means: the first
    row is a header when none of its fields is a number. `source` "-" reads the
    CSV from standard input; a named pipe is read too.
    """
    if source in BUILTIN or source in PACKAGED:
        if target is not None:
            raise UsageError(
                f"--target is for CSV files; the built-in data set {source!r} "
                "has its own targets"
            )
        if header is not None:
            option = "--header" if header else "--no-header"
            raise UsageError(
                f"{option} is for CSV files; the built-in data set {source!r} "
                "has no header row"
            )
        return _fit_builtin(source, spec)
    table = read_table(source, header=header, csv_format=csv_format)
    return fit_table(table, spec, target=target)


def read_source(source: str) -> bytes:
    """The bytes of a CSV file, of standard input ("-") or of a named pipe.

    A pipe that no program writes to is given up after FIFO_TIMEOUT seconds;
    a device or a socket is refused: it may never end.
    """
    if source == STDIN:
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError(
                "--data - reads the CSV from standard input, which is a terminal "
                "here; pipe a file in, e.g. --data - < data.csv"
            )
        return sys.stdin.buffer.read()
    path = Path(source)
    try:
        mode = path.stat().st_mode
    except OSError:
        mode = 0
    if stat.S_ISFIFO(mode):
        return _read_pipe(path)
    check_regular_or_missing(path, "--data")
    if not path.exists():
        raise UsageError(
            f"--data {echo(source)} is neither a built-in data set "
            f"({', '.join(builtin_names())}) nor an existing file"
        )
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise UsageError(f"--data {path} is a directory; give a CSV file") from None
    except PermissionError:
        raise UsageError(f"--data {path}: permission denied") from None


def _read_pipe(path: Path) -> bytes:
    # Opened without blocking, so that a pipe with no writer cannot hang the
    # run: select() waits for the first bytes (or the writer's end) at most
    # FIFO_TIMEOUT seconds, then the rest is read as from any pipe.
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except PermissionError:
        raise UsageError(f"--data {path}: permission denied") from None
    try:
        ready, _, _ = select.select([descriptor], [], [], FIFO_TIMEOUT)
        if not ready:
            raise UsageError(
                f"--data {path} is a named pipe (FIFO) that nothing wrote to in "
                f"{FIFO_TIMEOUT:g} s; start the program that writes it first, "
                "or give a file"
            )
        os.set_blocking(descriptor, True)
        chunks = []
        while chunk := os.read(descriptor, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def _fit_builtin(name: str, spec: Spec) -> Dataset:
    packaged = name in PACKAGED
    _, inputs, targets = _packaged(name) if packaged else BUILTIN[name]
    n_inputs, n_outputs = spec.arch[0], spec.arch[-1]
    width = len(inputs[0])
    n_classes = len(set(targets))
    if width != n_inputs:
        example = f"{width}-16-{n_classes} --loss ce" if packaged else f"{width}-2-1"
        raise UsageError(
            f"data set {name!r} has {width} inputs per sample, but --arch "
            f"{format_arch(spec.arch)} takes {n_inputs}; use e.g. --arch {example}"
        )
    xs = tuple(tuple(float(v) for v in x) for x in inputs)
    input_names = tuple(f"x{i}" for i in range(width))
    if packaged and spec.loss != "ce":
        raise UsageError(
            f"data set {name!r} has {n_classes} classes; train it with --loss ce "
            f"and {n_classes} outputs, e.g. --arch {width}-16-{n_classes} --loss ce"
        )
    if n_outputs == 1:
        ys = tuple((float(y),) for y in targets)
        return Dataset(name, xs, ys, input_names, ("y",))
    if spec.loss != "ce":
        raise UsageError(
            f"data set {name!r} has one target per sample, but --arch "
            f"{format_arch(spec.arch)} has {n_outputs} outputs; use one output, "
            "or --loss ce to one-hot encode its classes"
        )
    labels = [y if isinstance(y, str) else _label(y) for y in targets]
    classes, ys = _one_hot(labels, n_outputs, f"data set {name!r}", "")
    return Dataset(name, xs, ys, input_names, ("y",), classes)


def _label(value: float) -> str:
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


def _numeric_order(label: str) -> tuple[bool, float, str]:
    # By value, NaN last, then by the text: a set's order varies with the hash
    # seed, so labels of equal value (1, 1.0) or NaN must not tie.
    value = float(label)
    return (math.isnan(value), 0.0 if math.isnan(value) else value, label)


def _one_hot(
    labels: Sequence[str], n_outputs: int, where: str, lines: str
) -> tuple[tuple[str, ...], tuple[Row, ...]]:
    """Class labels in a stable order, and each sample's one-hot target."""
    distinct = set(labels)
    try:
        classes = tuple(sorted(distinct, key=_numeric_order))
    except ValueError:
        classes = tuple(sorted(distinct))
    if len(classes) == 1:
        raise UsageError(
            f"{where}{lines}: every target is the one class {echo(classes[0])}; "
            "ce needs at least 2 classes"
        )
    if len(classes) != n_outputs:
        raise UsageError(
            f"{where}{lines}: the targets hold {len(classes)} classes "
            f"({echo_list(classes)}), but the network has {n_outputs} outputs; "
            f"make the last --arch layer {len(classes)}"
        )
    index = {label: position for position, label in enumerate(classes)}
    ys = tuple(
        tuple(1.0 if index[label] == k else 0.0 for k in range(n_outputs))
        for label in labels
    )
    return classes, ys


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def detect_delimiter(lines: Sequence[str]) -> str:
    """The first of DELIMITERS that splits every line into the same number (> 1)
    of fields; failing that, every line but the first (a title line above the
    table); else ",".
    """
    sample = [line for line in lines if line.strip()]
    for candidates in (sample, sample[1:]):
        for delimiter in DELIMITERS:
            try:
                widths = {
                    len(row) for row in csv.reader(candidates, delimiter=delimiter)
                }
            except csv.Error:
                continue
            if len(widths) == 1 and widths.pop() > 1:
                return delimiter
    return ","


def _describe(delimiter: str) -> str:
    return {",": "commas", ";": "semicolons", "\t": "tabs", "|": "'|'"}.get(
        delimiter, repr(delimiter)
    )


def read_table(
    source: str | Path,
    header: bool | None = None,
    csv_format: CsvFormat | None = None,
) -> Table:
    """A CSV source's rows (see `read_source`), header and delimiter; UsageError if
    it is empty, not UTF-8 text, or has rows of different lengths.
    """
    csv_format = csv_format or CsvFormat()
    source = str(source)
    where = "standard input" if source == STDIN else source
    raw = read_source(source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UsageError(
            f"{where}: not a UTF-8 text file (byte {error.start}); "
            "save it as comma-separated UTF-8 text"
        ) from None
    start = 0
    for _ in range(csv_format.skip_rows):
        newline = text.find("\n", start)
        start = len(text) if newline < 0 else newline + 1
    body = text[start:]
    offset = csv_format.skip_rows
    delimiter = csv_format.delimiter
    if delimiter is None:
        delimiter = detect_delimiter(body.split("\n", SNIFF_LINES)[:SNIFF_LINES])
    rows = _split_rows(body, delimiter, offset, where)
    if not rows:
        skipped = f" after {offset} skipped line(s)" if offset else ""
        raise UsageError(
            f"{where} line {offset + 1}: the file is empty{skipped}; expected "
            "comma-separated rows of numbers, e.g. 0,1,1"
        )
    first_line, first = rows[0]
    guessed = header is None
    if header is None:
        header = not any(_is_number(field) for field in first)
    if header:
        names = tuple(field.strip() for field in first)
        data = rows[1:]
        if not data:
            raise UsageError(
                f"{where} line {first_line}: the file has a header but no data rows"
            )
    else:
        names = tuple(f"column {i}" for i in range(1, len(first) + 1))
        data = rows
    width = len(names)
    for line, row in data:
        if len(row) != width:
            raise UsageError(
                f"{where} line {line}: {len(row)} fields, but line {first_line} "
                f"has {width}; every row needs the same number of columns"
                + _skip_hint(rows, first_line, offset, delimiter)
            )
    return Table(where, tuple(data), names, header, guessed, first_line, delimiter)


def _split_rows(
    body: str, delimiter: str, offset: int, where: str
) -> list[tuple[int, list[str]]]:
    # Non-blank rows with the line each starts on. Without quotes and lone
    # carriage returns a line is its fields split at the delimiter, as the csv
    # module would read it, at three times its speed.
    unix = body.replace("\r\n", "\n") if "\r" in body else body
    if '"' not in unix and "\r" not in unix:
        return [
            (number, line.split(delimiter))
            for number, line in enumerate(unix.split("\n"), start=offset + 1)
            if line.strip()
        ]
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)
    rows = []
    line = 1
    try:
        for row in reader:
            if row and not (len(row) == 1 and not row[0].strip()):
                rows.append((line + offset, row))
            line = reader.line_num + 1
    except csv.Error as error:
        raise UsageError(f"{where} line {reader.line_num + offset}: {error}") from None
    return rows


def _skip_hint(
    rows: list[tuple[int, list[str]]], first_line: int, offset: int, delimiter: str
) -> str:
    # A line above the table (a title, or counts such as "569,30,a,b") has a
    # width of its own while the lines after it agree with each other.
    widths = [len(row) for _, row in rows[1:6]]
    if len(rows) > 2 and len(set(widths)) == 1 and widths[0] != len(rows[0][1]):
        # --skip-rows counts from the top of the file, this line included.
        return (
            f"; if line {first_line} is not part of the table, skip it with "
            f"--skip-rows {first_line}"
        )
    if delimiter != ",":
        return f" (fields separated by {_describe(delimiter)}; see --delimiter)"
    return ""


def _column_index(token: str, names: tuple[str, ...], path: Path, line: int) -> int:
    token = token.strip()
    if token in names:
        return names.index(token)
    if token.isdigit() and token.isascii():
        digits = token.lstrip("0") or "0"
        # Compare lengths first: int() refuses numbers of over 4300 digits.
        if len(digits) <= len(str(len(names))) and 1 <= int(digits) <= len(names):
            return int(digits) - 1
        shown = digits if len(digits) <= 12 else f"a {len(digits)}-digit number"
        raise UsageError(
            f"{path} line {line}: --target column {shown} does not exist; "
            f"the file has columns 1 to {len(names)}"
        )
    raise UsageError(
        f"{path} line {line}: --target column {echo(token)} is not in the header "
        f"({echo_list(names)}); give a column name or a number from 1"
    )


def read_csv(
    path: Path,
    spec: Spec,
    target: str | None = None,
    header: bool | None = None,
    csv_format: CsvFormat | None = None,
) -> Dataset:
    """Read numeric CSV rows into a Dataset for `spec`; UsageError if malformed."""
    return fit_table(read_table(path, header, csv_format), spec, target)


def column_numbers(
    table: Table,
    columns: Sequence[int],
    hint: Callable[[int, int], str] | None = None,
) -> tuple[Row, ...]:
    """Each row's fields in `columns` as floats; UsageError naming the line and
    column of a missing value, text, NaN or infinity (`hint(line, column)` is
    added to the message of text)."""
    path, rows = table.source, table.rows

    def number(line: int, row: list[str], column: int) -> float:
        field = row[column].strip()
        where = f"{path} line {line}, {table.column_label(column)}"
        if not field:
            raise UsageError(f"{where}: missing value")
        try:
            value = float(field)
        except ValueError:
            extra = hint(line, column) if hint is not None else ""
            raise UsageError(f"{where}: {echo(field)} is not a number{extra}") from None
        if not math.isfinite(value):
            raise UsageError(f"{where}: {echo(field)} is not a finite number")
        return value

    # float() over each row's fields at once; only a row that fails is read
    # again field by field, for the message that names the column. A sum that
    # is not finite holds a NaN or an infinity (or overflows, which the slow
    # path accepts).
    columns = list(columns)
    first, last = columns[0], columns[-1] + 1
    contiguous = columns == list(range(first, last))
    found = []
    for line, row in rows:
        fields = row[first:last] if contiguous else [row[c] for c in columns]
        try:
            values = tuple(map(float, fields))
            if math.isfinite(sum(values)):
                found.append(values)
                continue
        except ValueError:
            pass
        found.append(tuple(number(line, row, c) for c in columns))
    return tuple(found)


def _text_labels_hint(spec: Spec, labels: Sequence[str]) -> str:
    classes = len(set(labels))
    arch = list(spec.arch)
    arch[-1] = max(classes, 2)
    return (
        f"; for class labels use --loss ce with one output per class, e.g. "
        f"--arch {format_arch(arch)} --loss ce"
    )


def fit_table(table: Table, spec: Spec, target: str | None = None) -> Dataset:
    """A table's columns as a Dataset for `spec`'s network; UsageError if they do
    not fit it (see `read_csv`)."""
    path, rows, names = table.source, table.rows, table.names
    guessed, first_line = table.guessed, table.first_line
    width = len(names)
    shape_line = first_line

    n_inputs, n_outputs = spec.arch[0], spec.arch[-1]
    arch = format_arch(spec.arch)
    if target is not None:
        target_columns = [
            _column_index(token, names, path, shape_line) for token in target.split(",")
        ]
        if len(set(target_columns)) != len(target_columns):
            raise UsageError(f"--target {echo(target)} names a column twice")
    elif spec.loss == "ce" and width != n_inputs + n_outputs:
        target_columns = [width - 1]  # one column of class labels
    else:
        target_columns = list(range(max(width - n_outputs, 0), width))
    input_columns = [i for i in range(width) if i not in target_columns]
    if len(input_columns) != n_inputs:
        hint = "fix --arch or choose targets with --target"
        if spec.loss != "ce" and target is None and width == n_inputs + 1:
            labels = [row[-1].strip() for _, row in rows]
            hint = (
                f"if its last column holds class labels, use --loss ce with one "
                f"output per class, e.g. --arch "
                f"{format_arch((*spec.arch[:-1], max(len(set(labels)), 2)))} "
                f"--loss ce; else {hint}"
            )
        raise UsageError(
            f"{path} line {shape_line}: {len(input_columns)} input column(s) and "
            f"{len(target_columns)} target column(s), but --arch {arch} takes "
            f"{n_inputs} input(s); {hint}"
        )
    labels_column = spec.loss == "ce" and len(target_columns) == 1
    if not labels_column and len(target_columns) != n_outputs:
        hint = (
            f"; ce takes 1 column of class labels or {n_outputs} target columns"
            if spec.loss == "ce"
            else ""
        )
        raise UsageError(
            f"{path} line {shape_line}: {len(target_columns)} target column(s), "
            f"but --arch {arch} has {n_outputs} output(s){hint}"
        )

    def hint(line: int, column: int) -> str:
        if guessed and line == first_line:
            return f"; if line {line} is a header, pass --header"
        if column in target_columns and not labels_column:
            return _text_labels_hint(spec, [r[column].strip() for _, r in rows])
        return ""

    def numbers(columns: list[int]) -> tuple[Row, ...]:
        return column_numbers(table, columns, hint)

    def column_label(column: int) -> str:
        return table.column_label(column)

    xs = numbers(input_columns)
    target_names = tuple(names[c] for c in target_columns)
    input_names = tuple(names[c] for c in input_columns)
    if labels_column:
        (column,) = target_columns
        labels = []
        for line, row in rows:
            label = row[column].strip()
            if not label:
                raise UsageError(
                    f"{path} line {line}, {column_label(column)}: " "missing value"
                )
            labels.append(label)
        lines = f" lines {rows[0][0]}-{rows[-1][0]}, column {column + 1}"
        classes, ys = _one_hot(labels, n_outputs, str(path), lines)
        return Dataset(str(path), xs, ys, input_names, target_names, classes)
    ys = numbers(target_columns)
    _check_reachable(spec, ys, rows, path, [column_label(c) for c in target_columns])
    return Dataset(str(path), xs, ys, input_names, target_names)


def _check_reachable(
    spec: Spec,
    ys: tuple[Row, ...],
    rows: Sequence[tuple[int, list[str]]],
    path: str,
    columns: list[str],
) -> None:
    # A target outside what the output activation can take can never be met:
    # training would only push the outputs against their bound.
    name = spec.output_activation
    entry = PRIMITIVES.get(name)
    bounds = (0.0, 1.0) if name == "softmax" else entry and entry.outputs
    if not bounds:
        return
    low, high = bounds
    classes = max(len({y[0] for y in ys}), 2)
    for (line, _), y in zip(rows, ys):
        for value, column in zip(y, columns):
            if low <= value <= high:
                continue
            reach = f"{low:g} to {high:g}" if high != math.inf else f"{low:g} or more"
            hint = (
                "for class labels use --loss ce with one output per class, e.g. "
                f"--arch {format_arch((*spec.arch[:-1], classes))} --loss ce; "
                if value.is_integer() and len(y) == 1
                else ""
            )
            raise UsageError(
                f"{path} line {line}, {column}: the target {value:g} is outside what "
                f"a {name} output can reach ({reach}); {hint}for other numbers use "
                "--output-activation identity"
            )
