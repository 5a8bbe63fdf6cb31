"""Names and limits of the explaining commands, standard library only.

The command line shows these in its help; keeping them apart from the modules
that use them lets it do so without importing SymPy.
"""

from __future__ import annotations

from nnsym.primitives import PRIMITIVES

# The functions `nnsym diff` knows (nnsym.pipeline.expression.FUNCTIONS): SymPy's
# elementary ones, then every function of the table of primitives.
_MATH_FUNCTION_NAMES = (
    "exp",
    "log",
    "sqrt",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "tanh",
    "abs",
)
FUNCTION_NAMES = _MATH_FUNCTION_NAMES + tuple(
    name for name in PRIMITIVES if name not in _MATH_FUNCTION_NAMES
)
# Above this many parameters the formulas are shown per layer, in index notation.
PER_PARAMETER_MAX_PARAMS = 100
# `nnsym formulas --format`.
FORMULA_FORMATS = ("text", "unicode", "latex", "markdown")
# `--expanded` writes each gradient out only for networks this small.
MAX_EXPANDED_PARAMS = 25
# `nnsym graph`: above this many values, one node per layer.
MAX_NODES = 400
GRAPH_SUFFIXES = (".dot", ".gv", ".svg", ".png")
GRAPH_INSTALL_HINT = "pip install 'nnsym[graph]'"
