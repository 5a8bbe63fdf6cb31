"""Formulas per layer in index notation: the per-parameter formulas, summarised."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys

import pytest
import sympy
from sympy import Indexed, Symbol

from nnsym.errors import UsageError
from nnsym.explain.formulas import derive, format_derivation, latex_expression
from nnsym.explain.layer_formulas import (
    derive_layers,
    format_layers_text,
    uses_layers_by_default,
)
from nnsym.pipeline.build import differentiate
from nnsym.pipeline.functions import logsumexp, sigmoid, softplus
from nnsym.pipeline.spec import make_spec
from tests.helpers import REPO

INDICES = {name: Symbol(name, integer=True) for name in "ijkm"}


def _scalar_name(indexed: Indexed) -> str:
    # x[1] -> x1, w2[0, 1] -> w2_0_1, delta1[0] -> delta1_0, y[0] -> y0.
    base = indexed.base.name
    values = [str(int(index)) for index in indexed.indices]
    if base in ("x", "y"):
        return base + values[0]
    return base + "_" + "_".join(values)


def _scalar(expr, assignment):
    """A layer formula for concrete neuron indices, in the per-parameter symbols."""
    expr = expr.xreplace(assignment).doit()
    return expr.replace(
        lambda e: isinstance(e, Indexed), lambda e: Symbol(_scalar_name(e), real=True)
    )


def _number(expr, values):
    expr = expr.replace(
        logsumexp, lambda *args: sympy.log(sympy.Add(*map(sympy.exp, args)))
    )
    expr = expr.replace(sigmoid, lambda t: 1 / (1 + sympy.exp(-t)))
    expr = expr.replace(softplus, lambda t: sympy.log(1 + sympy.exp(t)))
    return float(expr.xreplace({s: values[s.name] for s in expr.free_symbols}))


def _key(symbol, assignment) -> str:
    return _scalar_name(symbol.xreplace(assignment))


@pytest.mark.parametrize(
    "arch, options",
    [
        ("2-2-1", {}),
        ("3-4-3-3-2", dict(activation="tanh", loss="ce")),
        ("2-3-3-3-2", dict(loss="mse", output_activation="sigmoid")),
        ("2-3-2-2-1", dict(loss="bce")),
    ],
)
def test_layer_formulas_are_the_per_parameter_formulas(arch, options):
    spec = make_spec(arch, **options)
    per_parameter = derive(differentiate(spec))
    scalar = {eq.lhs: eq.rhs for eq in per_parameter.forward + per_parameter.backward}
    scalar.update({eq.lhs: eq.rhs for eq in per_parameter.gradients})
    scalar["L"] = per_parameter.loss.rhs
    rng = random.Random(0)
    values: dict[str, float] = {}

    def value_of(name: str) -> float:
        return values.setdefault(name, rng.uniform(0.1, 0.9))

    if spec.output_activation == "softmax":
        # The unrolled ce delta is rewritten with sum(a) = 1 (for precision),
        # so the two agree only where the outputs are a softmax's: sum to 1.
        draws = [rng.uniform(0.1, 0.9) for _ in range(spec.arch[-1])]
        for k, draw in enumerate(draws):
            values[f"a{spec.n_layers}_{k}"] = draw / sum(draws)

    layers = derive_layers(spec)
    assert len(layers.forward) == 2 * spec.n_layers
    assert len(layers.backward) == len(layers.gradients) / 2 == spec.n_layers
    compared = 0
    for eq in layers.forward + layers.backward + layers.gradients:
        target = eq.wrt if eq.symbol is None else eq.symbol
        free = sorted(target.free_symbols & set(INDICES.values()), key=str)
        layer = int("".join(c for c in target.base.name if c.isdigit()))
        sizes = {"j": spec.arch[layer], "i": spec.arch[layer - 1]}
        if eq.symbol is not None and eq.symbol.base.name.startswith("delta"):
            sizes["i"] = spec.arch[layer]  # a hidden delta's own neuron is i
        for combo in itertools.product(*(range(sizes[s.name]) for s in free)):
            assignment = dict(zip(free, (sympy.Integer(v) for v in combo)))
            name = _key(target, assignment)
            lhs = f"dL/d{name}" if eq.symbol is None else name
            expected = scalar[lhs]
            got = _scalar(eq.rhs, assignment)
            names = {s.name for s in expected.free_symbols | got.free_symbols}
            point = {n: value_of(n) for n in names}
            assert _number(got, point) == pytest.approx(
                _number(expected, point), rel=1e-12
            ), lhs
            compared += 1
    assert compared > spec.n_params  # every parameter's gradient, and more
    got = _scalar(layers.loss.rhs, {})
    names = {s.name for s in got.free_symbols | scalar["L"].free_symbols}
    point = {n: value_of(n) for n in names}
    assert _number(got, point) == pytest.approx(_number(scalar["L"], point), rel=1e-12)


def test_layer_text_reads_like_a_textbook():
    text = format_layers_text(derive_layers(make_spec("2-2-1")))
    assert "z1[j] = b1[j] + Sum(w1[j, i]*x[i], (i, 0, 1))" in text
    assert "a1[j] = sigmoid(z1[j])" in text
    assert (
        "delta1[i] = dL/dz1[i] = (1 - a1[i])*a1[i]*Sum(delta2[j]*w2[j, i], (j, 0, 0))"
        in text
    )
    assert "dL/dw2[j, i] = a1[i]*delta2[j]" in text


def test_size_grows_with_layers_not_parameters():
    small = format_layers_text(derive_layers(make_spec("16-64-64-4")))
    assert small.count("\n") < 30  # 5,912 lines per parameter
    deep = format_layers_text(derive_layers(make_spec("4-4-4-4-4-4-2")))
    assert deep.count("\n") > small.count("\n")


def test_custom_derivative_shows_in_the_formulas():
    relu = format_layers_text(
        derive_layers(make_spec("2-3-1", activation="relu", loss="bce"))
    )
    assert "step(z1[i])*Sum(delta2[j]*w2[j, i]" in relu


@pytest.mark.parametrize("style", ["unicode", "latex", "markdown"])
def test_every_format_prints_the_layer_formulas(style):
    text = format_derivation(derive_layers(make_spec("3-4-4-3", loss="ce")), style)
    if style == "unicode":
        assert "z¹ⱼ" in text and "∂L/∂w²ⱼ,ᵢ" in text and "δ³ⱼ" in text
    else:
        assert r"w^{1}_{j,i}" in text and r"\sum_{i=0}^{2}" in text
        assert text.count("{") == text.count("}")


def test_layer_latex_parses_back_to_the_same_expression():
    pytest.importorskip("antlr4")
    from sympy.parsing.latex import parse_latex

    d = derive_layers(make_spec("2-3-3-2", loss="ce"))
    for eq in d.forward + (d.loss,) + d.backward + d.gradients:
        # The parser reads neither sigma nor comma subscripts: write sigmoid out,
        # and rename each indexed name v{k} (printed v_{k}); the sums stay.
        expr = eq.rhs.replace(sigmoid, lambda t: 1 / (1 + sympy.exp(-t)))
        indexed = sorted(expr.atoms(Indexed), key=str)
        renamed = {e: Symbol(f"v{k}") for k, e in enumerate(indexed)}
        expr = expr.xreplace(renamed)
        text = latex_expression(expr).replace("} \\left(", "} \\cdot \\left(")
        parsed = parse_latex(text)
        back = {Symbol(f"v_{{{k}}}"): Symbol(f"v{k}") for k in range(len(indexed))}
        back[Symbol("e")] = sympy.E
        point = {s: sympy.Rational(k + 2, 7) for k, s in enumerate(renamed.values())}
        difference = (parsed.xreplace(back) - expr).doit().xreplace(point)
        assert abs(float(difference)) < 1e-12, eq.lhs


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nnsym", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
    )


def test_formulas_command_chooses_the_view_by_size():
    small = run("formulas", "--arch", "2-2-1")
    assert "dL/dw1_0_0" in small.stdout and "Sum(" not in small.stdout
    big = run("formulas", "--arch", "16-64-64-4")
    assert big.returncode == 0 and "Index notation" in big.stdout
    assert big.stdout.count("\n") < 30
    layers = run("formulas", "--arch", "2-2-1", "--layers", "--format", "latex")
    assert r"w^{1}_{j,i}" in layers.stdout
    both = run("formulas", "--arch", "2-2-1", "--layers", "--param", "w1_0_0")
    assert both.returncode == 2 and "leave out --layers" in both.stderr
    per = run("formulas", "--arch", "3-8-8-3", "--per-parameter")
    assert "dL/dw3_2_7" in per.stdout


def test_softmax_under_squared_error_is_shown_per_parameter():
    options = dict(output_activation="softmax", loss="mse")
    assert not uses_layers_by_default(make_spec("20-64-3", **options))
    with pytest.raises(UsageError, match="no per-layer formulas"):
        derive_layers(make_spec("2-3-2", **options))
