"""Read a typed expression safely, before SymPy sees it.

`sympy.parse_expr` runs Python's `eval` on the text it is given, so text from a
user is first checked on Python's own syntax tree: only numbers, names,
arithmetic, powers, parentheses and calls of a fixed list of functions pass.
Anything else (attribute access, subscripts, strings, lambdas, keywords,
underscore names, ...) is refused with one line, and the text that passes is
then parsed with empty builtins and a dictionary that binds every name.
"""

from __future__ import annotations

import ast

import sympy
from sympy.parsing.sympy_parser import auto_number, parse_expr

from nnsym.errors import UsageError, echo
from nnsym.pipeline.functions import (
    X,
    function_of,
    is_taken,
    register_activation,
    split_custom,
)
from nnsym.primitives import PRIMITIVES

MAX_LENGTH = 500
MAX_NAME_LENGTH = 40
MAX_NUMBER_LENGTH = 30
# A constant exponent beyond this makes SymPy compute huge exact integers
# (2**10**10 would run for hours): refused, as no one differentiates that.
MAX_CONSTANT_EXPONENT = 1000

# name -> (SymPy function, number of arguments)
FUNCTIONS: dict[str, tuple[type, int]] = {
    "exp": (sympy.exp, 1),
    "log": (sympy.log, 1),
    "sqrt": (sympy.sqrt, 1),
    "sin": (sympy.sin, 1),
    "cos": (sympy.cos, 1),
    "tan": (sympy.tan, 1),
    "asin": (sympy.asin, 1),
    "acos": (sympy.acos, 1),
    "atan": (sympy.atan, 1),
    "sinh": (sympy.sinh, 1),
    "cosh": (sympy.cosh, 1),
    "tanh": (sympy.tanh, 1),
    "abs": (sympy.Abs, 1),
    # Every function of the table of primitives, by its name.
    **{name: (function_of(name), 1) for name in PRIMITIVES},
}
CONSTANTS: dict[str, sympy.Expr] = {"pi": sympy.pi, "E": sympy.E}

_OPERATORS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
}
# Names the parser itself uses for numbers; a variable may not hide them.
_RESERVED = frozenset({"Integer", "Float", "Rational"})
_REFUSED_OPERATORS = {
    ast.BitXor: "'^' is not a power here; write x**2",
    ast.FloorDiv: "'//' is not allowed; use '/'",
    ast.Mod: "'%' is not allowed",
    ast.MatMult: "'@' is not allowed",
}
_ALLOWED = (
    "numbers, variable names, + - * / **, parentheses and the functions "
    + ", ".join(FUNCTIONS)
)


def _refuse(reason: str) -> UsageError:
    return UsageError(f"cannot read the expression: {reason} (allowed: {_ALLOWED})")


def check_expression(text: str) -> set[str]:
    """Raise UsageError unless `text` is plain arithmetic; return its variable names."""
    if not text.strip():
        raise _refuse("it is empty")
    if len(text) > MAX_LENGTH:
        raise _refuse(f"it is {len(text)} characters long, more than {MAX_LENGTH}")
    if not text.isascii() or not text.isprintable():
        raise _refuse("it has a character that is not printable ASCII")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise _refuse(f"syntax error: {error.msg}") from None
    except (ValueError, RecursionError, MemoryError):
        raise _refuse("it is nested too deeply") from None
    names: set[str] = set()
    _check_node(tree.body, names)
    return names


def _check_node(node: ast.AST, names: set[str]) -> None:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _refuse(f"{type(value).__name__} literal {value!r} is not a number")
        if len(repr(value)) > MAX_NUMBER_LENGTH:
            raise _refuse(f"the number {value!r} is too long")
        return
    if isinstance(node, ast.Name):
        _check_name(node.id, as_call=False)
        if node.id not in CONSTANTS:
            names.add(node.id)
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.UAdd, ast.USub)):
            raise _refuse(f"the operator {type(node.op).__name__} is not arithmetic")
        _check_node(node.operand, names)
        return
    if isinstance(node, ast.BinOp):
        operator = type(node.op)
        if operator in _REFUSED_OPERATORS:
            raise _refuse(_REFUSED_OPERATORS[operator])
        if operator not in _OPERATORS:
            raise _refuse(f"the operator {operator.__name__} is not arithmetic")
        if operator is ast.Pow:
            _check_exponent(node.right)
            if not _has_variable(node) and not _is_literal(node.left):
                # (2**1000)**1000**... would still build enormous integers.
                raise _refuse("a power of a constant power is not allowed")
        _check_node(node.left, names)
        _check_node(node.right, names)
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise _refuse("only the listed functions can be called, by name")
        _check_name(node.func.id, as_call=True)
        if node.keywords:
            raise _refuse(f"{node.func.id}() takes no keyword arguments")
        expected = FUNCTIONS[node.func.id][1]
        if len(node.args) != expected or any(
            isinstance(arg, ast.Starred) for arg in node.args
        ):
            raise _refuse(f"{node.func.id}() takes {expected} argument")
        for arg in node.args:
            _check_node(arg, names)
        return
    if isinstance(node, ast.Attribute):
        raise _refuse("attribute access ('.name') is not allowed")
    if isinstance(node, ast.Subscript):
        raise _refuse("subscripts ('[...]') are not allowed")
    if isinstance(node, ast.Lambda):
        raise _refuse("lambda is not allowed")
    raise _refuse(f"{type(node).__name__} is not arithmetic")


def _check_name(name: str, as_call: bool) -> None:
    if name.startswith("_"):
        raise _refuse(f"names may not start with '_' ({name!r})")
    if name in _RESERVED:
        raise _refuse(f"{name!r} is reserved; choose another variable name")
    if len(name) > MAX_NAME_LENGTH:
        raise _refuse(f"the name {name[:20]!r}... is too long")
    if as_call and name not in FUNCTIONS:
        raise _refuse(f"{name}() is not a known function")
    if not as_call and name in FUNCTIONS:
        raise _refuse(f"{name} is a function; call it, e.g. {name}(x)")


def _has_variable(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Name) and n.id not in CONSTANTS for n in ast.walk(node)
    )


def _is_literal(node: ast.AST) -> bool:
    literal = node.operand if isinstance(node, ast.UnaryOp) else node
    return isinstance(literal, (ast.Constant, ast.Name))


def _check_exponent(node: ast.AST) -> None:
    # A constant exponent must be a small literal; one with a variable is fine.
    if _has_variable(node):
        return
    literal = node.operand if isinstance(node, ast.UnaryOp) else node
    if isinstance(literal, ast.Constant) and isinstance(literal.value, (int, float)):
        if abs(literal.value) <= MAX_CONSTANT_EXPONENT:
            return
        raise _refuse(f"the exponent {literal.value!r} is too large")
    raise _refuse("a constant exponent must be a plain number, e.g. x**3")


def parse_expression(text: str) -> tuple[sympy.Expr, dict[str, sympy.Symbol]]:
    """Check `text`, then parse it with SymPy; return it and its variables by name."""
    names = check_expression(text)
    variables = {name: sympy.Symbol(name, real=True) for name in sorted(names)}
    local_dict: dict[str, object] = dict(variables)
    local_dict.update(CONSTANTS)
    local_dict.update({name: func for name, (func, _) in FUNCTIONS.items()})
    # auto_number makes 1/2 an exact Rational; no other transformation is needed
    # because every name is bound above. Empty builtins: nothing else is reachable.
    global_dict = {
        "__builtins__": {},
        "Integer": sympy.Integer,
        "Float": sympy.Float,
        "Rational": sympy.Rational,
    }
    try:
        expr = parse_expr(
            text.strip(),
            local_dict=local_dict,
            global_dict=global_dict,
            transformations=(auto_number,),
        )
    except (SyntaxError, TypeError, ValueError, ZeroDivisionError) as error:
        raise _refuse(str(error) or type(error).__name__) from None
    if not isinstance(expr, sympy.Expr):
        raise _refuse("it is not a number-valued expression")
    # SymPy folds 1/0 or log(0) into zoo or nan instead of raising; a derivative
    # of that would be printed as if it meant something.
    if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise UsageError(
            f"the expression is undefined: SymPy evaluates it to "
            f"{sympy.sstr(expr)} (a division by zero or a logarithm of 0?); "
            "correct it and try again"
        )
    return expr, variables


def define_activation(option: str, flag: str = "--activation") -> tuple[str, str]:
    """Register `'name=expression in x'` (or a bare expression) as an activation.

    The expression is read by the safe parser of `nnsym diff`; it may use the
    table's functions (`x*sigmoid(x)`). Returns (name, expression text); raises
    UsageError if the text is not a valid expression of x alone.
    """
    name, text = split_custom(option)
    # A SymPy name (exp, sin, Max) would be printed as that function.
    if is_taken(name) and name not in PRIMITIVES:
        raise UsageError(
            f"{flag} {echo(option)}: {name!r} is the name of a math function; "
            "choose another name"
        )
    if name in PRIMITIVES or name in ("softmax", "logsumexp"):
        raise UsageError(
            f"{flag} {echo(option)}: {name!r} is a built-in activation; "
            "choose another name"
        )
    try:
        expr, variables = parse_expression(text)
    except UsageError as error:
        raise UsageError(f"{flag} {echo(option)}: {error}") from None
    unknown = sorted(set(variables) - {"x"})
    if unknown:
        raise UsageError(
            f"{flag} {echo(option)}: an activation is an expression of x "
            f"alone, but it uses {', '.join(unknown)}"
        )
    if "x" not in variables:
        raise UsageError(f"{flag} {echo(option)}: the expression does not depend on x")
    register_activation(name, text, expr.xreplace({variables["x"]: X}))
    return name, text
