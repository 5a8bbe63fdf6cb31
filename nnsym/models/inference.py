"""A trained network's outputs computed from its weights, in plain Python.

`nnsym predict` computes here, with neither SymPy nor a generated module: a
weights file is enough, at any size, and nothing is generated or imported
from generated/. Each layer is the loop-form module's arithmetic, written
the same way (`sum(map(mul, row, a)) + bias`, then each activation as the
loop form prints it), so the outputs are the loop-form module's to the bit;
an unrolled module adds its products in SymPy's order, the same numbers to
rounding.

A user-defined activation is its expression read by Python's own parser and
allowed through only if it is the arithmetic `nnsym generate` accepts
(numbers, x, pi, E, + - * / **, calls of the listed functions), then compiled
with no builtins: a weights file cannot make this code run anything else.

Turning raw rows into the network's inputs is one call, `model_inputs`, so a
transformation recorded with the weights applies in one place.

Standard library only: this module must not import SymPy.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Sequence
from operator import mul

from nnsym.errors import UsageError, echo, echo_list
from nnsym.models.data import Table, column_numbers
from nnsym.models.weights import Weights
from nnsym.primitives import LEAKY_SLOPE_VALUE, PRIMITIVES
from nnsym.runtime.numerics import _log1p_rest

Function = Callable[[float], float]

_exp = math.exp

# sqrt(8/pi), as SymPy evaluates it for the printed gelu (tested against mpmath).
_GELU_SCALE = 1.5957691216057308
_LEAKY_DIVISOR = round(1 / LEAKY_SLOPE_VALUE)


def _sigmoid(x: float) -> float:
    return (1.0 / (1.0 + _exp(-x))) if x >= -709.0 else _exp(x)


def _softplus(x: float) -> float:
    return max(0.0, x) + math.log1p(_exp(-abs(x)))


# Every scalar function of the table of primitives, as the loop form prints it
# (tests/test_inference.py checks each against the generated loop module, and
# that the table has no entry missing here).
FUNCTIONS: dict[str, Function] = {
    "sigmoid": _sigmoid,
    "tanh": math.tanh,
    "relu": lambda x: x if x > 0.0 else 0.0,
    "leaky_relu": lambda x: x if x > 0.0 else x / _LEAKY_DIVISOR,
    "identity": lambda x: x,
    "softplus": _softplus,
    "swish": lambda x: x * _sigmoid(x),
    "gelu": lambda x: x * _sigmoid(_GELU_SCALE * (x + 0.044715 * (x * x * x))),
    "elu": lambda x: x if x > 0.0 else math.expm1(x),
    "step": lambda x: 1.0 if x > 0.0 else 0.0,
    "leaky_step": lambda x: 1.0 if x > 0.0 else LEAKY_SLOPE_VALUE,
}

# The functions a user-defined activation may call, as `nnsym generate` reads it.
_MATH: dict[str, Function] = {
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "tanh": math.tanh,
    "abs": abs,
}
_CALLABLE = {**_MATH, **{name: FUNCTIONS[name] for name in PRIMITIVES}}
_CONSTANTS = {"pi": math.pi, "E": math.e}
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
MAX_EXPRESSION_LENGTH = 500


def compile_activation(text: str) -> Function:
    """A user-defined activation's expression of x as a float function.

    Raise UsageError unless `text` is plain arithmetic of x: numbers, x, pi, E,
    + - * / **, parentheses and calls of the allowed functions by name.
    """
    if not isinstance(text, str) or len(text) > MAX_EXPRESSION_LENGTH:
        raise UsageError(f"the activation {echo(text)} is not an expression of x")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise UsageError(
            f"the activation {echo(text)} is not an expression of x"
        ) from None
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        _check(node, text, id(node) in called)
    # Whole numbers become floats, so that no power of constants can build a
    # huge exact integer: the arithmetic is the float arithmetic of the module.
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            node.value = float(node.value)
    code = compile(ast.fix_missing_locations(tree), "<activation>", "eval")
    namespace = {"__builtins__": {}, **_CALLABLE, **_CONSTANTS}

    def activation(x: float) -> float:
        return float(eval(code, namespace, {"x": x}))  # noqa: S307 (checked above)

    return activation


def _check(node: ast.AST, text: str, called: bool) -> None:
    allowed = (
        isinstance(node, (ast.Expression, ast.Load))
        or (isinstance(node, ast.BinOp) and isinstance(node.op, _OPERATORS))
        or isinstance(node, _OPERATORS)
        or isinstance(node, (ast.UAdd, ast.USub))
        or (isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)))
        or (
            isinstance(node, ast.Constant)
            and type(node.value) in (int, float)
            and len(repr(node.value)) <= 30
        )
        or (isinstance(node, ast.Name) and (node.id == "x" or node.id in _CONSTANTS))
        or (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _CALLABLE
            and len(node.args) == 1
            and not node.keywords
            and not isinstance(node.args[0], ast.Starred)
        )
    )
    # A function's name only where it is called (checked with its call).
    if called and isinstance(node, ast.Name) and node.id in _CALLABLE:
        allowed = True
    if not allowed:
        raise UsageError(
            f"the activation {echo(text)} is not plain arithmetic of x "
            f"({type(node).__name__} is not allowed)"
        )


class Network:
    """A weights file's network as layers of rows (weights, then the bias)."""

    def __init__(self, weights: Weights) -> None:
        """Lay the parameters out by layer and look up each layer's activation."""
        spec = weights.spec
        custom = dict(spec.custom)
        self.weights = weights
        self.layers: list[list[list[float]]] = []
        self.activations: list[Function | None] = []
        start = 0
        for (n_in, n_out), name in zip(zip(spec.arch, spec.arch[1:]), spec.activations):
            width = n_in + 1
            self.layers.append(
                [
                    list(weights.params[start + j * width : start + (j + 1) * width])
                    for j in range(n_out)
                ]
            )
            start += n_out * width
            if name == "softmax":
                self.activations.append(None)
            elif name in custom:
                self.activations.append(compile_activation(custom[name]))
            else:
                self.activations.append(FUNCTIONS[name])

    def predict(self, x: Sequence[float]) -> list[float]:
        """The outputs for one sample of model inputs (see `model_inputs`)."""
        values = list(x)
        for rows, activation in zip(self.layers, self.activations):
            z = [sum(map(mul, row, values)) + row[-1] for row in rows]
            if activation is None:
                # log-sum-exp as top + lp, each output exp(-lp - gap), gap =
                # top - z (nnsym.pipeline.loops).
                top = max(z)
                lp = _log1p_rest(z, top)
                values = [_exp(-lp - (top - v)) for v in z]
            else:
                values = [activation(v) for v in z]
        return values


def model_inputs(
    weights: Weights, rows: Sequence[Sequence[float]]
) -> list[tuple[float, ...]]:
    """The network's inputs for raw samples (the features as the user has them).

    The one place where what the weights record about their inputs applies;
    today the samples go in unchanged.
    """
    return [tuple(float(v) for v in row) for row in rows]


class Batch:
    """The rows of a CSV file as a model's samples, with their targets if present."""

    def __init__(
        self,
        xs: list[tuple[float, ...]],
        ys: tuple[tuple[float, ...], ...] | None,
        labels: list[str] | None,
    ) -> None:
        """Raw inputs, numeric targets (or None) and class labels (or None)."""
        self.xs = xs
        self.ys = ys
        self.labels = labels


def _recorded(weights: Weights, key: str, count: int | None) -> list[str] | None:
    names = weights.training.get(key)
    if (
        isinstance(names, list)
        and names
        and all(isinstance(name, str) for name in names)
        and (count is None or len(names) == count)
    ):
        return names
    return None


def batch_from_table(weights: Weights, table: Table) -> Batch:
    """The samples of a CSV table for `weights`' network (see `nnsym predict --data`).

    With a header, the input columns are found by the names the model was
    trained with (recorded in the weights file), wherever they are; the target
    columns too, if all are there. Without a header, or without recorded names,
    the first columns are the inputs and the next ones, if they are as many as
    the model's targets, the targets. Other columns are ignored.
    """
    spec = weights.spec
    n_inputs = spec.arch[0]
    names = table.names
    inputs = _recorded(weights, "inputs", n_inputs)
    targets = _recorded(weights, "targets", None)
    positional = [f"column {i}" for i in range(1, len(names) + 1)]
    by_name = table.header and inputs is not None
    if not table.header and inputs is not None and set(inputs) <= set(positional):
        by_name = True  # trained on a file without a header: names are places
    if by_name:
        missing = [name for name in inputs if name not in names]
        if missing:
            raise UsageError(
                f"{table.source} line {table.first_line}: no column "
                f"{echo_list(missing)}; the model takes the inputs "
                f"{echo_list(inputs)} (the header of the file it was trained on)"
            )
        input_columns = [names.index(name) for name in inputs]
        target_columns = (
            [names.index(name) for name in targets]
            if targets is not None and all(name in names for name in targets)
            else []
        )
    else:
        if len(names) < n_inputs:
            raise UsageError(
                f"{table.source} line {table.first_line}: {len(names)} column(s), "
                f"but the model takes {n_inputs} input(s)"
            )
        input_columns = list(range(n_inputs))
        rest = list(range(n_inputs, len(names)))
        labelled = weights.classes is not None and len(rest) == 1
        target_columns = rest if labelled or len(rest) == spec.arch[-1] else []
    xs = list(column_numbers(table, input_columns))
    if not target_columns:
        return Batch(xs, None, None)
    if weights.classes is not None and len(target_columns) == 1:
        (column,) = target_columns
        return Batch(xs, None, [row[column].strip() for _, row in table.rows])
    return Batch(xs, column_numbers(table, target_columns), None)


def right_answers(
    weights: Weights, outputs: list[float], batch: Batch, row: int
) -> bool:
    """Whether the outputs for sample `row` give its class (its label, the largest
    one-hot target, or for one output the target's side of the threshold)."""
    if batch.labels is not None:
        return weights.label(outputs) == batch.labels[row]
    assert batch.ys is not None
    target = batch.ys[row]
    if len(outputs) == 1:
        threshold = weights.spec.classification_threshold
        return (outputs[0] >= threshold) == (target[0] >= threshold)
    return outputs.index(max(outputs)) == list(target).index(max(target))


def has_classes(weights: Weights, batch: Batch) -> bool:
    """Whether the batch's targets are classes an accuracy can be counted on:
    labels, one-hot rows, or for one output two values either side of the
    threshold (as `nnsym train` decides)."""
    if batch.labels is not None:
        return True
    if not batch.ys:
        return False
    if weights.classes is not None:
        return True
    if len(batch.ys[0]) == 1:
        values = {y[0] for y in batch.ys}
        threshold = weights.spec.classification_threshold
        return len(values) == 2 and min(values) < threshold <= max(values)
    return all(sorted(y) == [0.0] * (len(y) - 1) + [1.0] for y in batch.ys)
