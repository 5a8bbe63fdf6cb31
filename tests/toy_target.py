"""A toy target, registered by tests/test_toy_target.py: the forward pass only.

What docs/design.md's "How to add a target" describes, at its smallest: a
printer (SymPy's own Python printer, taught the table of primitives), a render
function (the program printed into a file, with nnsym's header) and a record.
"""

from __future__ import annotations

from sympy.printing.pycode import PythonCodePrinter

from nnsym.pipeline.build import differentiate
from nnsym.pipeline.cse import eliminate_common_subexpressions
from nnsym.pipeline.header import make_header
from nnsym.pipeline.printer import PrimitivePrinting
from nnsym.pipeline.runtime_source import runtime
from nnsym.targets.common import print_statements
from nnsym.targets.registry import Rendered, Request, Runner, Target


class ToyPrinter(PrimitivePrinting, PythonCodePrinter):
    """Python with math.* names; helpers are functions named toy_<entry>."""

    helper_prefix = "toy_"


def render(request: Request) -> Rendered:
    """`forward(params, x)` as one standard-library Python function."""
    spec = request.spec
    program = eliminate_common_subexpressions(differentiate(spec))
    printer = ToyPrinter({"strict": True})
    statements = print_statements(
        program,
        printer,
        declare=lambda name, expr: f"    {name} = {expr}",
        store=lambda array, index, expr: f"    {array}[{index}] = {expr}",
    )
    lines = ["import math", ""]
    # The runtime's functions the program calls (softmax's _logsumexp), verbatim.
    for name in sorted(statements.runtime_helpers):
        lines += ["", runtime(name), ""]
    for name, body in statements.helpers:
        lines += ["", f"def {name}(x):", f"    return {body}", ""]
    lines += ["", "def forward(params, x):"]
    lines += [f"    out = [0.0] * {spec.arch[-1]}", *statements.forward]
    body = "\n".join([*lines, "    return out", ""])
    return Rendered(make_header(request.origin, body, "regenerate it", "#") + body)


TOY = Target(
    name="toy",
    language="Python",
    suffixes=(".py",),
    default_file="{name}_forward.py",
    description="toy (the forward pass only)",
    render=render,
    forms=("unrolled",),
    printer=ToyPrinter,
    runners=(Runner("python3", ("{tool}", "{file}")),),
)
