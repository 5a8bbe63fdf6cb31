"""The table of primitives: every entry's printed code against mpmath at 50 digits.

The references below are written here from the textbook formulas, at 50 digits,
independently of the table's numerically safe definitions; the code under test
is what the Python printer emits (inline or helper) for f(z) and for f'(z).
"""

from __future__ import annotations

import math

import mpmath
import pytest
import sympy

from nnsym.pipeline import expression, functions
from nnsym.pipeline.expression import FUNCTIONS as PARSER_FUNCTIONS
from nnsym.pipeline.functions import derivative_of, function_of
from nnsym.pipeline.printer import ModulePrinter, PrimitivePrinting
from nnsym.pipeline.spec import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, make_spec
from nnsym.primitives import ACTIVATIONS, LEAKY_SLOPE_VALUE, PRIMITIVES
from tests.helpers import module_for

mpmath.mp.dps = 50
Z = sympy.Symbol("z", real=True)
# Tails included: exp overflows in double beyond 709.78.
GRID = [-700.0, -400.0, -100.0, -40.0, -20.0, -5.0, -1.5, -0.25, -1e-3, -1e-9] + [
    1e-9,
    1e-3,
    0.25,
    1.5,
    5.0,
    20.0,
    40.0,
    100.0,
    400.0,
    700.0,
]


def _sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def _gelu(x):
    u = mpmath.sqrt(2 / mpmath.pi) * (x + mpmath.mpf("0.044715") * x**3)
    # x (1 + tanh(u)) / 2, with 1 + tanh(u) = 2 / (1 + exp(-2u)): at 50 digits
    # 1 + tanh(u) itself would cancel to 0 below u = -58.
    return x / (1 + mpmath.exp(-2 * u))


REFERENCES = {
    "sigmoid": _sigmoid,
    "tanh": mpmath.tanh,
    "relu": lambda x: x if x > 0 else mpmath.mpf(0),
    "leaky_relu": lambda x: x if x > 0 else x / 100,
    "identity": lambda x: x,
    "softplus": lambda x: mpmath.log1p(mpmath.exp(x)),
    "swish": lambda x: x * _sigmoid(x),
    "gelu": _gelu,
    "elu": lambda x: x if x > 0 else mpmath.exp(x) - 1,
    "step": lambda x: mpmath.mpf(1 if x > 0 else 0),
    "leaky_step": lambda x: mpmath.mpf(1) if x > 0 else mpmath.mpf(1) / 100,
}


def compiled(expr: sympy.Expr):
    """A float function of z running exactly the code the printer emits for expr."""
    printer = ModulePrinter()
    body = printer.doprint(expr)
    namespace: dict = {"math": math}
    namespace.update({name: getattr(math, name) for name in printer.math_names})
    for helper, helper_body in printer.helper_definitions():
        exec(f"def {helper}(x):\n    return {helper_body}\n", namespace)  # noqa: S102
    return eval(f"lambda z: {body}", namespace)  # noqa: S307 - our printed code


def reference_derivative(name: str, x: mpmath.mpf) -> mpmath.mpf:
    if name in ("step", "leaky_step"):
        return mpmath.mpf(0)
    return mpmath.diff(REFERENCES[name], x)


def tolerance(name: str, x: float, exact: mpmath.mpf, slope: mpmath.mpf) -> float:
    """A few rounding errors, times the condition number |x f'(x) / f(x)|.

    Rounding z itself already moves f(z) by that factor, in any implementation.
    """
    if exact == 0:
        return 1e-300
    condition = abs(x * slope / exact) if name not in ("step", "leaky_step") else 0
    return float(abs(exact)) * 2e-15 * (1 + float(condition)) + 1e-300


def test_every_entry_has_a_reference():
    assert set(REFERENCES) == set(PRIMITIVES)


def test_activation_lists_come_from_the_table():
    assert HIDDEN_ACTIVATIONS == ACTIVATIONS
    assert OUTPUT_ACTIVATIONS == ACTIVATIONS + ("softmax",)
    for name in ("softplus", "swish", "gelu", "elu"):
        assert name in HIDDEN_ACTIVATIONS
    assert set(PRIMITIVES) <= set(PARSER_FUNCTIONS)


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_value_matches_mpmath_over_the_grid_and_tails(name):
    f = compiled(function_of(name)(Z))
    for x in GRID:
        exact = REFERENCES[name](mpmath.mpf(x))
        slope = reference_derivative(name, mpmath.mpf(x))
        value = f(x)
        assert math.isfinite(value), (name, x)
        error = abs(mpmath.mpf(value) - exact)
        assert error <= tolerance(name, x, exact, slope), (name, x, value, exact)


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_derivative_matches_mpmath_over_the_grid_and_tails(name):
    # f'(z) as the backward pass computes it: from the table's derivative, with
    # y the forward value f(z) where the entry uses it.
    entry = PRIMITIVES[name]
    fprime = compiled(sympy.diff(function_of(name)(Z), Z))
    for x in GRID:
        exact = reference_derivative(name, mpmath.mpf(x))
        value = fprime(x)
        assert math.isfinite(value), (name, x)
        error = abs(mpmath.mpf(value) - exact)
        # Written in terms of the value, as PyTorch's backward is (sigmoid' =
        # y(1 - y)), a derivative keeps an absolute precision of a few ulps of 1
        # where it is tiny; elsewhere a relative one.
        allowed = 4e-15 * float(abs(exact)) * (1 + abs(x)) + 4e-16
        assert error <= allowed, (entry.name, x, value, exact)


def test_sigmoid_lower_tail_keeps_its_relative_precision():
    # The case: 0.5*tanh(z/2) + 0.5 gave 0.0 here.
    sigmoid = compiled(functions.sigmoid(Z))
    exact = _sigmoid(mpmath.mpf(-40))
    assert float(abs((sigmoid(-40.0) - exact) / exact)) < 1e-15
    assert sigmoid(-745.0) >= 0.0
    assert sigmoid(-800.0) == 0.0 and sigmoid(800.0) == 1.0


def test_no_entry_overflows_anywhere():
    # Values for any finite z; derivatives up to |z| = 1e5 (gelu's x**3 is inf
    # beyond 1e102, and inf * 0 in its derivative is NaN there).
    for name in PRIMITIVES:
        f = compiled(function_of(name)(Z))
        fprime = compiled(sympy.diff(function_of(name)(Z), Z))
        for x in (-1e300, -1e5, -710.0, 710.0, 1e5, 1e300):
            assert not math.isnan(f(x)), (name, x)
            if abs(x) <= 1e5:
                assert math.isfinite(fprime(x)), (name, x)


def test_leaky_slope_is_written_once():
    f = compiled(functions.leaky_relu(Z))
    assert f(-2.0) == pytest.approx(-2.0 * LEAKY_SLOPE_VALUE, rel=1e-15)


@pytest.mark.parametrize("name", ["softplus", "swish", "gelu", "elu"])
def test_new_activation_matches_pytorch_float64(name):
    torch = pytest.importorskip("torch")
    from nnsym.explain.fdcheck import torch_activation

    points = [x for x in GRID if abs(x) <= 100]
    z = torch.tensor(points, dtype=torch.float64, requires_grad=True)
    values = torch_activation(name)(z)
    values.sum().backward()
    f = compiled(function_of(name)(Z))
    fprime = compiled(sympy.diff(function_of(name)(Z), Z))
    for x, v, g in zip(points, values.tolist(), z.grad.tolist()):
        # PyTorch's gelu computes 1 + tanh(u), which cancels below about -5:
        # there it is only absolutely close (and less exact than nnsym).
        assert f(x) == pytest.approx(v, rel=1e-12, abs=1e-14), (name, x)
        assert fprime(x) == pytest.approx(g, rel=1e-9, abs=1e-15), (name, x)


def test_fdiff_uses_the_value_where_the_table_says_so():
    s = functions.sigmoid(Z)
    assert sympy.diff(s, Z) == s * (1 - s)
    assert sympy.diff(functions.softplus(Z), Z) == functions.sigmoid(Z)
    assert derivative_of(PRIMITIVES["elu"], Z).has(functions.elu(Z))
    assert functions.identity(Z) == Z


def test_helpers_print_from_the_table_dependencies_first():
    printer = ModulePrinter()
    printer.doprint(functions.swish(2 * Z) + functions.gelu(Z))
    names = [name for name, _ in printer.helper_definitions()]
    assert names.index("_sigmoid") < names.index("_swish")
    assert names.index("_sigmoid") < names.index("_gelu")
    bodies = dict(printer.helper_definitions())
    # sqrt(8/pi) as one float literal, not recomputed per call.
    assert "1.5957691216057308" in bodies["_gelu"] and "pi" not in bodies["_gelu"]


def test_the_mixin_is_target_neutral():
    # Any SymPy code printer can take it; here SymPy's C printer.
    from sympy.printing.c import C99CodePrinter

    class CPrinter(PrimitivePrinting, C99CodePrinter):
        helper_prefix = "nnsym_"

    printer = CPrinter()
    code = printer.doprint(
        functions.softplus(Z) + functions.relu(Z) + sympy.tanh(Z) + functions.gelu(Z)
    )
    assert "nnsym_softplus(z)" in code and "tanh(z)" in code
    bodies = dict(printer.helper_definitions())
    assert (
        "log1p" in bodies["nnsym_softplus"] and "math." not in bodies["nnsym_softplus"]
    )


def test_user_defined_activation_is_an_entry_like_the_others():
    name, text = expression.define_activation("cube=x**3/3")
    assert (name, text) == ("cube", "x**3/3")
    cube = function_of("cube")
    assert sympy.diff(cube(Z), Z) == Z**2
    f = compiled(cube(Z))
    assert f(3.0) == pytest.approx(9.0, rel=1e-15)
    unnamed, _ = expression.define_activation("x*sigmoid(x)")
    # Named from its expression (was act_5b5cc48a), with a digest for safety.
    assert unnamed == "x_mul_sigmoid_x_5b5cc4" and unnamed.isidentifier()
    g = compiled(function_of(unnamed)(Z))
    assert g(2.0) == pytest.approx(2.0 / (1 + math.exp(-2.0)), rel=1e-15)


@pytest.mark.parametrize(
    "text",
    [
        "cube=x**3/3 + y",
        "relu=x",
        "exp=x",
        "1 + 2",
        "x.real",
        "__import__('os')",
        "sigmod",
    ],
)
def test_bad_user_activations_are_refused(text):
    from nnsym.errors import UsageError
    from nnsym.pipeline.spec import make_spec

    with pytest.raises(UsageError):
        make_spec("2-2-1", activation=text)


def test_user_defined_activation_end_to_end_through_the_cli(
    tmp_path, capsys, monkeypatch
):
    from nnsym.cli import main
    from tests.helpers import central_difference, close

    monkeypatch.chdir(tmp_path)
    network = ["--arch", "2-3-1", "--activation", "cube=x**3/3"]
    assert main(["generate", *network, "--output-activation", "sigmoid"]) == 0
    out = capsys.readouterr().out
    # The formulas show the definition and SymPy's derivative.
    assert "cube(x) = x**3/3" in out and "cube'(x) = x**2" in out
    path = tmp_path / "generated" / "mlp_2_3_1_cube_sigmoid.py"
    source = path.read_text()
    # The header's command line reproduces the request.
    assert "--activation 'cube=x**3/3'" in source.splitlines()[0]
    assert "def _cube(x):" in source
    # Generating again from the header's command is byte for byte the same.
    assert main(["generate", *network, "--output-activation", "sigmoid", "-q"]) == 0
    assert path.read_text() == source
    # Train a few epochs, save and reload the weights.
    status = main(
        ["train", *network, "--output-activation", "sigmoid", "--data", "xor"]
        + ["--epochs", "5", "--seed", "0", "--save", "m.json", "-q"]
    )
    assert status == 0
    status = main(
        ["train", *network, "--output-activation", "sigmoid", "--data", "xor"]
        + ["--epochs", "2", "--init", "m.json", "-q"]
    )
    assert status == 0
    # The symbolic gradient passes nnsym check, PyTorch included.
    assert main(["check", *network, "--output-activation", "sigmoid"]) == 0
    capsys.readouterr()
    # And the generated module against central differences of its own loss.
    spec = make_spec("2-3-1", activation="x*sigmoid(x)")
    mod = module_for(spec)
    params = [0.1 * (i % 7) - 0.3 for i in range(mod.N_PARAMS)]
    value, grads = mod.loss_and_grad(params, [0.4, -1.2], [0.7])
    numeric = central_difference(mod, params, [0.4, -1.2], [0.7], h=1e-5)
    assert all(close(g, n, 1e-7) for g, n in zip(grads, numeric))


def test_user_defined_activation_is_checked_against_pytorch():
    pytest.importorskip("torch")
    from nnsym.explain.fdcheck import torch_loss_and_grad
    from nnsym.explain.point import Point

    spec = make_spec("2-2-1", activation="soft=log(1 + exp(x))", loss="bce")
    mod = module_for(spec)
    params = [0.3, -0.2, 0.1, 0.5, 0.4, -0.6, 1.1, -0.7, 0.2]
    value, grads = mod.loss_and_grad(params, [1.0, 2.0], [1.0])
    torch_value, torch_grads = torch_loss_and_grad(
        spec, Point(tuple(params), (1.0, 2.0), (1.0,), None)
    )
    assert value == pytest.approx(torch_value, rel=1e-13)
    assert grads == pytest.approx(torch_grads, rel=1e-12, abs=1e-15)


def test_cli_md_lists_every_function_diff_knows():
    from pathlib import Path

    from nnsym.explain.limits import FUNCTION_NAMES

    text = (Path(__file__).parent.parent / "docs" / "cli.md").read_text()
    import re

    listed = re.search(r"functions `([a-z_ \n]+)` pass", text)
    assert listed and tuple(listed[1].split()) == FUNCTION_NAMES


def test_unnamed_activations_are_named_from_their_expression():
    from nnsym.pipeline.functions import name_of_expression

    names = {
        text: name_of_expression(text)
        for text in ("x**3/3", "(x+1)*x", "x+1*x", "2*x", "0.5*x", "x", "-x")
    }
    assert names["x**3/3"] == "x_pow_3_div_3_13f276"
    assert names["2*x"].startswith("act_2_mul_x_")
    # Expressions that read alike still get different names.
    assert names["(x+1)*x"] != names["x+1*x"]
    assert len(set(names.values())) == len(names)
    for name in names.values():
        assert name.isidentifier() and name.isascii() and len(name) <= 27
