"""The MicroPython profile: the Python module, with a small compatibility block.

MicroPython has no `random.Random`, may lack `math.log1p` and `math.fsum`, and
(on some ports) has 32-bit floats. The profile is the generated Python module
with its `import math`, `import random` and (loop form) `from operator import
mul` replaced by `nnsym/runtime/micropython/compat.py`, included verbatim: a
`math` namespace that adds what is missing, CPython's Mersenne Twister as
`random.Random`, so that init_params(seed), the mini-batch order and the
selftest are CPython's, and `mul` where the port has no `operator` module.
Everything else is the Python module's code, unchanged.
"""

from __future__ import annotations

from nnsym.pipeline.header import make_header, split_header
from nnsym.pipeline.spec import Spec
from nnsym.targets.common import runtime_text
from nnsym.targets.python import generate
from nnsym.targets.registry import Rendered, Request

COMPAT = "micropython/compat.py"


def micropython_body(python_body: str) -> str:
    """A generated Python module's body (no header) as the MicroPython profile."""
    lines = python_body.split("\n")
    # The file's own lint directives stay in the file.
    compat = "\n".join(
        line
        for line in runtime_text(COMPAT).split("\n")
        if not line.startswith("# ruff:")
    )
    out: list[str] = []
    replaced = False
    for line in lines:
        # Both come from the compatibility block.
        if line in ("import random", "from operator import mul"):
            continue
        if line == "import math" and not replaced:
            out.append(compat)
            replaced = True
            continue
        out.append(line)
    if not replaced:
        raise ValueError("the Python module has no top-level 'import math' line")
    return "\n".join(out)


def micropython_source(spec: Spec, origin: str) -> str:
    """The MicroPython profile of `spec`'s module, with its own header."""
    parts = split_header(generate(spec).source)
    if parts is None:
        raise ValueError("a generated module without a header")
    body = micropython_body(parts[1])
    return make_header(origin, body, "regenerate with the command above") + body


def render(request: Request) -> Rendered:
    """The registry's render: the Python module, as the MicroPython profile."""
    return Rendered(micropython_source(request.spec, request.origin))
