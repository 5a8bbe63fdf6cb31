"""The C loop form's chunk kernel: any NAME_CHUNK gives the same numbers."""

from __future__ import annotations

import dataclasses
import random
import shutil
from pathlib import Path

import pytest

from nnsym.pipeline.spec import make_spec
from nnsym.targets import source_for
from nnsym.targets.cengine import (
    FAST_FLAGS,
    OK,
    PORTABLE_FLAGS,
    CTrainer,
    compile_shared,
)

pytestmark = pytest.mark.skipif(
    shutil.which("gcc") is None, reason="gcc is not installed"
)

# Widths that fill no block of four exactly, tanh's runtime function, a
# softmax's per-sample log-sum-exp over a column, and sigmoid with mse; 17-13-6
# for the dot products' blocks of eight, four and one and the gradient sums'
# blocks of 16 inputs by four rows (and rows left over).
SPECS = (
    make_spec("3-6-5-3", activation="tanh", loss="ce", form="loops"),
    make_spec("2-7-1", activation="sigmoid", loss="mse", form="loops"),
    make_spec("17-13-6-1", activation="relu", loss="mse", form="loops"),
)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_chunk_size_trains_to_the_same_bits(tmp_path: Path, spec, dtype):
    # 37 samples in batches of 10 and the full batch: chunks that end inside a
    # batch, batches that end inside a chunk, chunks of one sample and chunks
    # larger than any batch.
    rng = random.Random(spec.name)
    xs = [[rng.uniform(-2, 2) for _ in range(spec.arch[0])] for _ in range(37)]
    labels = [rng.randrange(spec.arch[-1]) for _ in range(37)]
    if spec.loss == "ce":
        ys = [[float(k == label) for k in range(spec.arch[-1])] for label in labels]
    else:
        ys = [[float(x[0] * x[1] > 0)] for x in xs]
    source = source_for(spec, "c", dtype)
    runs = {}
    for chunk, flags in (
        (None, FAST_FLAGS),
        (1, FAST_FLAGS),
        (3, FAST_FLAGS),
        (40, FAST_FLAGS),
        (5, PORTABLE_FLAGS),
    ):
        folder = tmp_path / f"chunk{chunk}{len(flags)}"
        folder.mkdir()
        define = () if chunk is None else (f"-D{spec.name.upper()}_CHUNK={chunk}",)
        library = compile_shared(source, spec.name, folder, flags=(*flags, *define))
        trainer = CTrainer(library, spec, dtype)
        start = trainer.init_params(4)
        results = []
        for batch_size, optimizer in ((10, "adam"), (None, "sgd")):
            code, params, history = trainer.train(
                xs,
                ys,
                lr=0.05,
                epochs=30,
                params=start,
                batch_size=batch_size,
                optimizer=optimizer,
                reduction="mean",
                seed=3,
            )
            assert code == OK
            results.append((params, history))
        runs[(chunk, len(flags))] = results
    first, *others = runs.values()
    assert all(other == first for other in others)
    # Not trivially equal: training moved the parameters.
    assert first[0][0] != trainer.init_params(4)


def test_the_chunk_is_a_macro_a_device_build_may_shrink():
    spec = dataclasses.replace(SPECS[1], name="small")
    source = source_for(spec, "c")
    assert (
        "#ifndef SMALL_CHUNK\n#include <limits.h>\n#if UINT_MAX <= 0xFFFFU\n" in source
    )
    assert "#define SMALL_CHUNK 1\n#else\n#define SMALL_CHUNK 16\n#endif" in source
    assert "static small_real small_z1c[SMALL_SIZE_1 * SMALL_CHUNK];" in source
