"""Every target's generated files, byte for byte: the committed snapshots in
tests/snapshots/files/ regenerated now for a sample of requests (Python in both
forms, MicroPython, C in both number types, JavaScript, and the baked exports).

A change that alters generated output on purpose regenerates them with
`python -m tests.snapshots` and commits tests/snapshots/files/ with it.
"""

from __future__ import annotations

import pytest

from tests import snapshots

REGENERATE = "run `python -m tests.snapshots` and commit tests/snapshots/files/"
CASES = snapshots.snapshots()


@pytest.mark.parametrize(
    ("file", "spec_name", "kind"), CASES, ids=[c[0] for c in CASES]
)
def test_generated_file_matches_its_snapshot(file, spec_name, kind):
    committed = (snapshots.FOLDER / file).read_bytes()
    produced = snapshots.produce(spec_name, kind).encode("utf-8")
    assert produced == committed, f"{file} changed: {REGENERATE} if meant"


def test_the_snapshots_cover_every_target_and_nothing_is_stale():
    kinds = {kind for _, _, kind in CASES}
    assert kinds == set(snapshots.PRODUCERS)
    names = {file for file, _, _ in CASES}
    assert {p.name for p in snapshots.FOLDER.iterdir()} == names
    forms = {snapshots.SPECS[name].form for _, name, _ in CASES}
    assert forms == {"unrolled", "loops"}
    # Small enough to review and to keep in the repository (each Python module
    # carries lbfgs, lm and weight decay, about 21 KB, since they came, each
    # JavaScript module lbfgs and lm, about 18 KB, and each C header its
    # jacobian, lm and lbfgs, about 30 KB, and avr-libc's expm1 fallback, the
    # JavaScript loop form's groups of samples, the C loop form's blocked
    # gradient sums and the C trainer's weight decay, Nesterov and clipping,
    # 1 to 3 KB each).
    size = sum((snapshots.FOLDER / name).stat().st_size for name in names)
    assert size < 3_400_000
