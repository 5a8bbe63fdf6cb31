"""How fast `nnsym train` reads a CSV file: numbers a second, against the csv
module with float() on each field, measured in the same run.

    python -m benchmarks.csv_speed            # 2000 rows x 784 inputs + a label
    python -m benchmarks.csv_speed --rows 200

The file is made here (pixel-like numbers, one column of class labels), read
by nnsym.models.data.load_data for a 784-128-10 ce network and by the baseline;
each is timed over a few alternating rounds and the medians are printed.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from nnsym.models.data import load_data
from nnsym.pipeline.spec import make_spec


def make_file(path: Path, rows: int, columns: int, seed: int = 0) -> None:
    """A header, then `rows` rows of `columns` numbers and a class label."""
    rng = random.Random(seed)
    lines = [",".join([*(f"p{i}" for i in range(columns)), "label"])]
    for _ in range(rows):
        pixels = [repr(round(rng.random(), 4)) for _ in range(columns)]
        lines.append(",".join([*pixels, str(rng.randrange(10))]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def baseline(path: Path) -> int:
    """The csv module and float() on each input field: the floor to beat."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        xs = [[float(field) for field in row[:-1]] for row in reader]
    return len(xs)


def main(argv: list[str] | None = None) -> int:
    """Make the file, time both readers, print numbers a second and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--columns", type=int, default=784)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    spec = make_spec(f"{args.columns}-128-10", loss="ce", form="loops")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pixels.csv"
        make_file(path, args.rows, args.columns)
        times: dict[str, list[float]] = {"nnsym load_data": [], "csv + float()": []}
        for _ in range(args.rounds):
            start = time.perf_counter()
            data = load_data(str(path), spec)
            times["nnsym load_data"].append(time.perf_counter() - start)
            start = time.perf_counter()
            baseline(path)
            times["csv + float()"].append(time.perf_counter() - start)
        assert len(data) == args.rows
    numbers = args.rows * args.columns
    print(
        f"{args.rows} rows x {args.columns} inputs ({numbers} numbers), "
        f"median of {args.rounds} rounds, Python {sys.version.split()[0]}"
    )
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, seconds in medians.items():
        print(
            f"  {name:16} {seconds:7.3f} s  {numbers / seconds / 1e6:5.2f} M numbers/s"
        )
    ratio = medians["nnsym load_data"] / medians["csv + float()"]
    print(f"  nnsym takes {ratio:.2f}x the baseline's time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
