"""CSV files as people have them: read from a file, standard input or a pipe,
the delimiter detected, junk lines skipped, numbers converted fast.

Every problem is a `UsageError` naming the file, the line and the column.
"""

from __future__ import annotations

import csv
import io
import math
import os
import select
import stat
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nnsym.errors import UsageError
from nnsym.pipeline.spec import echo, echo_list
from nnsym.pipeline.write import check_regular_or_missing

Row = tuple[float, ...]

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
        raise UsageError(f"--data {echo(source)}: no such file")
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


def is_number(field: str) -> bool:
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
        header = not any(is_number(field) for field in first)
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


def column_index(token: str, names: tuple[str, ...], path: Path, line: int) -> int:
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
