"""How the formulas read our symbol names: a base and its indices.

Our names carry their indices as digits: w1_0_1, delta2_0, x0. Typeset, they
become a base with comma-separated subscripts, w_{1,0,1}, so that w_{1,10}
and w_{11,0} stay apart. Shared by the LaTeX, Unicode and MathML printers.
"""

from __future__ import annotations

import re

from sympy import Indexed

INDEXED_NAME = re.compile(r"([A-Za-z]+?)([0-9]+(?:_[0-9]+)*)", re.ASCII)


def split_name(name: str) -> tuple[str, list[str]] | None:
    """(base, indices) of a name such as `delta1_0`, or None if it has none."""
    match = INDEXED_NAME.fullmatch(name)
    if match is None:
        return None
    return match.group(1), match.group(2).split("_")


def indexed_parts(expr: Indexed) -> tuple[str, str, list[str]]:
    """(base, layer or "", index names) of an indexed name such as w1[j, i]."""
    parts = split_name(expr.base.name)
    base, layer = (parts[0], parts[1][0]) if parts else (expr.base.name, "")
    return base, layer, [str(index) for index in expr.indices]
