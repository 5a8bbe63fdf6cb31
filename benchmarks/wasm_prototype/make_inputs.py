"""Writes the WebAssembly prototype's inputs: generated trainers and the case.

    PYTHONPATH=. python benchmarks/wasm_prototype/make_inputs.py

moons_loops.mjs and moons_loops.h (nnsym's JavaScript and C loop forms of
benchmarks/targets.py's moons 2-16-16-1), case.json (moons(200) and the Python
module's init_params(0), the benchmark's start) and data.h (the same numbers
for the C driver, as hexadecimal floats: exact).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from benchmarks.data import moons
from nnsym.pipeline.spec import make_spec
from nnsym.targets import source_for
from nnsym.targets.python import generate, import_generated

HERE = Path(__file__).resolve().parent


def _array(name: str, values: list[float]) -> str:
    return f"static const double {name}[] = {{{','.join(v.hex() for v in values)}}};\n"


def main() -> None:
    """Writes the four files beside this script."""
    spec = make_spec(
        (2, 16, 16, 1), activation="tanh", output_activation="sigmoid", loss="mse"
    )
    loops = replace(spec, form="loops", name=spec.name + "_loops")
    (HERE / "moons_loops.mjs").write_text(source_for(loops, "js"), encoding="utf-8")
    (HERE / "moons_loops.h").write_text(source_for(loops, "c"), encoding="utf-8")
    xs, ys = moons(200)
    xs, ys = [list(map(float, x)) for x in xs], [list(map(float, y)) for y in ys]
    params = [float(v) for v in import_generated(generate(spec)).init_params(0)]
    case = {"xs": xs, "ys": ys, "params": params}
    (HERE / "case.json").write_text(json.dumps(case), encoding="utf-8")
    data = _array("DATA_XS", [v for x in xs for v in x])
    data += _array("DATA_YS", [v for y in ys for v in y])
    data += _array("DATA_PARAMS", params)
    (HERE / "data.h").write_text(data, encoding="utf-8")


if __name__ == "__main__":
    main()
