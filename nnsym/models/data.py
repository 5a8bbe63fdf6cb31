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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nnsym.errors import UsageError
from nnsym.models.csv_table import (  # noqa: F401 (re-exported)
    DELIMITERS,
    FIFO_TIMEOUT,
    SNIFF_LINES,
    STDIN,
    CsvFormat,
    Table,
    column_index,
    column_numbers,
    detect_delimiter,
    is_number,
    read_source,
    read_table,
)
from nnsym.pipeline.spec import Spec, echo, echo_list, format_arch
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
    if not is_number(rows[0][0]):
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
    dataset: Dataset, fraction: float, seed: int, part: str = "test"
) -> tuple[Dataset, Dataset]:
    """(train, held out): a seeded random `fraction` of the samples held out.

    `part` names the held-out samples: "test" (--test-split) or "validation".
    """
    n = len(dataset)
    n_test = round(n * fraction)
    if not 0 < n_test < n:
        raise UsageError(
            f"--{part}-split {fraction:g} of {n} samples leaves "
            f"{n_test} for {'testing' if part == 'test' else part} and "
            f"{n - n_test} for training; both need at least 1"
        )
    order = list(range(n))
    random.Random(seed).shuffle(order)
    test_rows, train_rows = sorted(order[:n_test]), sorted(order[n_test:])

    def subset(rows: list[int], label: str) -> Dataset:
        # Split twice (test, then validation), the training rows are named once.
        name = dataset.name.removesuffix(" (train)")
        return Dataset(
            f"{name} ({label})",
            tuple(dataset.xs[i] for i in rows),
            tuple(dataset.ys[i] for i in rows),
            dataset.input_names,
            dataset.target_names,
            dataset.classes,
        )

    return subset(train_rows, "train"), subset(test_rows, part)


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
    if source != STDIN:
        try:
            os.lstat(source)
        except FileNotFoundError:
            raise UsageError(
                f"--data {echo(source)} is neither a built-in data set "
                f"({', '.join(builtin_names())}) nor an existing file"
            ) from None
        except OSError:
            pass  # read_table says what is wrong: a name too long, a loop, ...
    table = read_table(source, header=header, csv_format=csv_format)
    return fit_table(table, spec, target=target)


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
            column_index(token, names, path, shape_line) for token in target.split(",")
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


def read_csv(
    path: Path,
    spec: Spec,
    target: str | None = None,
    header: bool | None = None,
    csv_format: CsvFormat | None = None,
) -> Dataset:
    """Read numeric CSV rows into a Dataset for `spec`; UsageError if malformed."""
    return fit_table(read_table(path, header, csv_format), spec, target)
