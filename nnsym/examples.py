"""The committed example modules in generated/, which double as golden files.

`python -m nnsym.examples` regenerates them all.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nnsym import api
from nnsym.pipeline.spec import Spec, make_spec

# (what it shows, spec): the tutorials' networks, a softmax classifier, and the
# digits classifier in the loop form.
EXAMPLES: tuple[tuple[str, Spec], ...] = (
    ("AND gate, no hidden layer", make_spec("2-1")),
    ("XOR gate, the tutorial's 2-2-1 net", make_spec("2-2-1")),
    ("the micrograd tutorial's MLP", make_spec("3-4-4-1", activation="tanh")),
    ("a softmax classifier", make_spec("4-8-3", loss="ce")),
    (
        "the 8x8 digits classifier, loops over each layer",
        make_spec("64-32-10", loss="ce", form="loops"),
    ),
)


def regenerate(directory: Path = api.GENERATED_DIR) -> list[Path]:
    """Write every example module into `directory`; return the paths."""
    paths = []
    for _, spec in EXAMPLES:
        path = directory / f"{spec.name}.py"
        api.write_module(api.generate(spec), path, force=True)
        paths.append(path)
    return paths


def main() -> int:
    """Regenerate the examples in ./generated and list them."""
    for path in regenerate():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
