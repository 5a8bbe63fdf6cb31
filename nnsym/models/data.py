"""Training data: the tutorials' built-in sets and CSV files, fitted to a network.

Every problem with a file is a `UsageError` naming the file and the line, so that
the user can open the file and fix it.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nnsym.errors import UsageError
from nnsym.pipeline.spec import Spec, echo, echo_list, format_arch
from nnsym.pipeline.write import check_regular_or_missing

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


def load_data(
    source: str,
    spec: Spec,
    target: str | None = None,
    header: bool | None = None,
) -> Dataset:
    """A built-in data set by name, or a CSV file, checked against `spec`'s network.

    `target` selects the target column(s) of a CSV file: comma-separated names
    (from the header) or 1-based column numbers. `header` None means: the first
    row is a header when none of its fields is a number.
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
    path = Path(source)
    # A FIFO or a device would be read until it ends, which it may never do.
    check_regular_or_missing(path, "--data")
    if not path.exists():
        raise UsageError(
            f"--data {echo(source)} is neither a built-in data set "
            f"({', '.join(builtin_names())}) nor an existing file"
        )
    return read_csv(path, spec, target=target, header=header)


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


def _read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """Non-blank CSV rows with the line number each starts on."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            rows = []
            line = 1
            for row in reader:
                if row and not (len(row) == 1 and not row[0].strip()):
                    rows.append((line, row))
                line = reader.line_num + 1
    except IsADirectoryError:
        raise UsageError(f"--data {path} is a directory; give a CSV file") from None
    except PermissionError:
        raise UsageError(f"--data {path}: permission denied") from None
    except UnicodeDecodeError as error:
        raise UsageError(
            f"{path}: not a UTF-8 text file (byte {error.start}); "
            "save it as comma-separated UTF-8 text"
        ) from None
    except csv.Error as error:
        raise UsageError(f"{path} line {reader.line_num}: {error}") from None
    return rows


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
    path: Path, spec: Spec, target: str | None = None, header: bool | None = None
) -> Dataset:
    """Read numeric CSV rows into a Dataset for `spec`; UsageError if malformed."""
    rows = _read_rows(path)
    if not rows:
        raise UsageError(
            f"{path} line 1: the file is empty; expected comma-separated rows of "
            "numbers, e.g. 0,1,1"
        )
    first_line, first = rows[0]
    guessed = header is None
    if header is None:
        header = not any(_is_number(field) for field in first)
    if header:
        names = tuple(field.strip() for field in first)
        rows = rows[1:]
        if not rows:
            raise UsageError(
                f"{path} line {first_line}: the file has a header but no data rows"
            )
    else:
        names = tuple(f"column {i}" for i in range(1, len(first) + 1))
    width = len(names)
    shape_line = first_line  # the line that fixed the number of columns
    for line, row in rows:
        if len(row) != width:
            raise UsageError(
                f"{path} line {line}: {len(row)} fields, but line {shape_line} "
                f"has {width}; every row needs the same number of columns"
            )

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
        raise UsageError(
            f"{path} line {shape_line}: {len(input_columns)} input column(s) and "
            f"{len(target_columns)} target column(s), but --arch {arch} takes "
            f"{n_inputs} input(s); fix --arch or choose targets with --target"
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

    def column_label(column: int) -> str:
        # Without a header the name would only repeat the number.
        label = f"column {column + 1}"
        return f"{label} ({names[column]})" if header else label

    def number(line: int, row: list[str], column: int) -> float:
        field = row[column].strip()
        where = f"{path} line {line}, {column_label(column)}"
        if not field:
            raise UsageError(f"{where}: missing value")
        try:
            value = float(field)
        except ValueError:
            hint = (
                f"; if line {line} is a header, pass --header"
                if guessed and line == first_line
                else ""
            )
            raise UsageError(f"{where}: {echo(field)} is not a number{hint}") from None
        if not math.isfinite(value):
            raise UsageError(f"{where}: {echo(field)} is not a finite number")
        return value

    xs = tuple(tuple(number(line, row, c) for c in input_columns) for line, row in rows)
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
    ys = tuple(
        tuple(number(line, row, c) for c in target_columns) for line, row in rows
    )
    return Dataset(str(path), xs, ys, input_names, target_names)
