"""Formulas: chain-rule and expanded forms against hand-written ones, every format."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import sympy
from sympy import Symbol

from nnsym.api import differentiate
from nnsym.cli import main
from nnsym.errors import UsageError
from nnsym.explain.formulas import (
    derive,
    format_derivation,
    format_latex,
    format_markdown,
    format_text,
    format_unicode,
    latex_expression,
    select_parameter,
)
from nnsym.pipeline.functions import sigmoid
from nnsym.pipeline.spec import make_spec

ROOT = Path(__file__).resolve().parent.parent


def S(name):
    return Symbol(name, real=True)


def rhs(equations, lhs):
    (found,) = [eq.rhs for eq in equations if eq.lhs == lhs]
    return found


def same(a, b):
    return sympy.simplify(sympy.expand(a - b)) == 0


def test_2_1_chain_rule_form_matches_hand_derivation():
    d = derive(differentiate(make_spec("2-1")))
    a, y, x0, x1 = S("a1_0"), S("y0"), S("x0"), S("x1")
    delta = S("delta1_0")
    # L = (a - y)^2, a = s(z): dL/dz = 2 (a - y) a (1 - a).
    assert same(rhs(d.backward, "delta1_0"), 2 * (a - y) * a * (1 - a))
    assert same(rhs(d.gradients, "dL/dw1_0_0"), delta * x0)
    assert same(rhs(d.gradients, "dL/dw1_0_1"), delta * x1)
    assert same(rhs(d.gradients, "dL/db1_0"), delta)


def test_2_1_expanded_form_matches_hand_derivation():
    d = derive(differentiate(make_spec("2-1")), expanded=True)
    w0, w1, b, x0, x1, y = (
        S(n) for n in ("w1_0_0", "w1_0_1", "b1_0", "x0", "x1", "y0")
    )
    s = sigmoid(w0 * x0 + w1 * x1 + b)
    common = 2 * (s - y) * s * (1 - s)
    assert same(rhs(d.expanded, "dL/dw1_0_0"), common * x0)
    assert same(rhs(d.expanded, "dL/dw1_0_1"), common * x1)
    assert same(rhs(d.expanded, "dL/db1_0"), common)


def test_2_1_expanded_value_at_zero_parameters_is_hand_computed():
    # All parameters 0: z = 0, a = 1/2; y = 1: dL/dz = 2 (1/2 - 1)(1/2)(1/2) = -1/4.
    d = derive(differentiate(make_spec("2-1")), expanded=True)
    values = {S("w1_0_0"): 0, S("w1_0_1"): 0, S("b1_0"): 0, S("x0"): 3, S("x1"): 5}
    values[S("y0")] = 1
    grad_w1 = rhs(d.expanded, "dL/dw1_0_1").xreplace(values)
    assert float(grad_w1.rewrite(sympy.exp)) == pytest.approx(-0.25 * 5)


def test_2_2_1_chain_rule_form_matches_hand_derivation():
    d = derive(differentiate(make_spec("2-2-1")))
    a1 = [S("a1_0"), S("a1_1")]
    a2, y = S("a2_0"), S("y0")
    d2 = S("delta2_0")
    assert same(rhs(d.backward, "delta2_0"), 2 * (a2 - y) * a2 * (1 - a2))
    for j in range(2):
        expected = d2 * S(f"w2_0_{j}") * a1[j] * (1 - a1[j])
        assert same(rhs(d.backward, f"delta1_{j}"), expected)
        assert same(rhs(d.gradients, f"dL/dw2_0_{j}"), d2 * a1[j])
        for i in range(2):
            expected = S(f"delta1_{j}") * S(f"x{i}")
            assert same(rhs(d.gradients, f"dL/dw1_{j}_{i}"), expected)
        assert same(rhs(d.gradients, f"dL/db1_{j}"), S(f"delta1_{j}"))
    assert same(rhs(d.gradients, "dL/db2_0"), d2)


def _hand_loss_2_2_1(p, x, y):
    # Plain floats, written from the tutorial: 2-2-1, sigmoid, squared error.
    def sig(v):
        return 1 / (1 + math.exp(-v))

    h0 = sig(p[0] * x[0] + p[1] * x[1] + p[2])
    h1 = sig(p[3] * x[0] + p[4] * x[1] + p[5])
    out = sig(p[6] * h0 + p[7] * h1 + p[8])
    return (out - y) ** 2


def test_2_2_1_expanded_values_match_finite_differences_of_hand_loss():
    spec = make_spec("2-2-1")
    d = derive(differentiate(spec), expanded=True)
    params = [0.3, -0.7, 0.1, 0.5, 0.9, -0.2, 1.1, -0.6, 0.25]
    names = ["w1_0_0", "w1_0_1", "b1_0", "w1_1_0", "w1_1_1", "b1_1"]
    names += ["w2_0_0", "w2_0_1", "b2_0"]
    x, y = (1.0, 0.5), 1.0
    values = {S(n): v for n, v in zip(names, params)}
    values.update({S("x0"): x[0], S("x1"): x[1], S("y0"): y})
    h = 1e-6
    for k, name in enumerate(names):
        symbolic = float(
            rhs(d.expanded, f"dL/d{name}").xreplace(values).rewrite(sympy.exp)
        )
        up, down = list(params), list(params)
        up[k] += h
        down[k] -= h
        numeric = (_hand_loss_2_2_1(up, x, y) - _hand_loss_2_2_1(down, x, y)) / (2 * h)
        assert symbolic == pytest.approx(numeric, abs=1e-8)


def test_text_format_is_what_generated_modules_hold():
    # The docstring of the committed example is format_text without title.
    text = format_text(derive(differentiate(make_spec("2-2-1"))), title=False)
    module = (ROOT / "generated" / "mlp_2_2_1.py").read_text(encoding="utf-8")
    assert text.strip() in module


def test_unicode_uses_partial_sigma_and_subscripts():
    out = format_unicode(derive(differentiate(make_spec("2-2-1"))), title=False)
    assert "∂L/∂w₁,₀,₁ = δ₁,₀⋅x₁" in out
    assert "a₁,₀ = σ(z₁,₀)" in out
    assert "δ₂,₀ = ∂L/∂z₂,₀ = 2⋅a₂,₀⋅(1 - a₂,₀)⋅(a₂,₀ - y₀)" in out
    assert "sigmoid" not in out and "delta" not in out


def _balanced(text):
    depth = 0
    for char in text.replace(r"\{", "").replace(r"\}", ""):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


@pytest.mark.parametrize(
    "arch,options",
    [
        ("2-1", {}),
        ("2-2-1", {}),
        ("3-4-4-1", {"activation": "tanh"}),
        ("4-3", {"loss": "ce"}),
        ("2-2-1", {"activation": "relu", "loss": "bce"}),
    ],
)
def test_latex_document_is_well_formed(arch, options):
    doc = format_latex(derive(differentiate(make_spec(arch, **options))))
    assert _balanced(doc)
    assert doc.startswith("\\documentclass{article}")
    assert doc.rstrip().endswith("\\end{document}")
    begins = re.findall(r"\\begin\{(\w+\*?)\}", doc)
    ends = re.findall(r"\\end\{(\w+\*?)\}", doc)
    assert sorted(begins) == sorted(ends)
    assert doc.count("\\left") == doc.count("\\right")
    assert doc.count("\\[") == doc.count("\\]")
    # Every row of an aligned block has exactly one alignment point.
    for block in re.findall(r"\\begin\{aligned\}\n(.*?)\n\\end\{aligned\}", doc, re.S):
        for row in block.split(" \\\\\n"):
            assert row.count("&") == 1, row


def test_latex_of_2_1_gradient_is_hand_written():
    doc = format_latex(derive(differentiate(make_spec("2-1"))))
    assert r"\frac{\partial L}{\partial w_{1,0,1}} &= \delta_{1,0} x_{1}" in doc
    assert r"a_{1,0} &= \sigma\left(z_{1,0}\right)" in doc


def test_latex_parses_back_to_the_same_expression():
    # SymPy's LaTeX parser (ANTLR backend) reads what our printer wrote.
    pytest.importorskip("antlr4")
    from sympy.parsing.latex import parse_latex

    d = derive(differentiate(make_spec("2-2-1")), expanded=True)
    for eq in d.forward + (d.loss,) + d.backward + d.gradients + d.expanded[:2]:
        # The parser knows neither sigma nor comma subscripts: write sigmoid out
        # and rename each symbol v{k}, printed v_{k}.
        expr = eq.rhs.replace(sigmoid, lambda t: 1 / (1 + sympy.exp(-t)))
        symbols = sorted(expr.free_symbols, key=lambda s: s.name)
        renamed = {s: Symbol(f"v{k}") for k, s in enumerate(symbols)}
        expr = expr.xreplace(renamed)
        # The parser reads "v_{0} \\left(...\\right)" as a call of v_0; a product
        # is meant, so make it explicit for the parser.
        text = latex_expression(expr).replace("} \\left(", "} \\cdot \\left(")
        parsed = parse_latex(text)
        back = {Symbol(f"v_{{{k}}}"): Symbol(f"v{k}") for k in range(len(symbols))}
        back[Symbol("e")] = sympy.E  # the parser reads e^{x} as a symbol e
        difference = parsed.xreplace(back) - expr
        point = {s: sympy.Rational(k + 2, 7) for k, s in enumerate(renamed.values())}
        assert abs(float(difference.xreplace(point))) < 1e-12, eq.lhs


def test_markdown_wraps_latex_in_dollar_blocks():
    md = format_markdown(derive(differentiate(make_spec("2-1"))))
    assert md.startswith("## Network 2-1")
    assert md.count("$$\n\\begin{aligned}") == 3
    assert md.count("\\end{aligned}\n$$") == 3
    assert _balanced(md)


def test_repr_latex_for_jupyter():
    d = derive(differentiate(make_spec("2-1")))
    shown = d._repr_latex_()
    assert shown.startswith("$$\\begin{aligned}") and shown.endswith("\\end{aligned}$$")
    assert _balanced(shown)
    assert d.gradients[0]._repr_latex_() == (
        r"$$\frac{\partial L}{\partial w_{1,0,0}} = \delta_{1,0} x_{0}$$"
    )


def test_one_parameter_keeps_only_what_it_needs():
    d = derive(differentiate(make_spec("2-2-1")), expanded=True)
    one = select_parameter(d, "w1_0_1")
    assert [eq.lhs for eq in one.gradients] == ["dL/dw1_0_1"]
    assert [eq.lhs for eq in one.expanded] == ["dL/dw1_0_1"]
    assert [eq.lhs for eq in one.backward] == ["delta2_0", "delta1_0"]
    assert "z1_1" in [eq.lhs for eq in one.forward]  # a1_1 feeds z2_0
    with pytest.raises(UsageError, match="w1_0_0, w1_0_1, b1_0"):
        select_parameter(d, "w9_9_9")


def test_cli_formulas_every_format(capsys):
    for style in ("text", "unicode", "latex", "markdown"):
        assert main(["formulas", "--arch", "2-1", "--format", style]) == 0
        out = capsys.readouterr().out
        assert "w" in out
    assert main(["formulas", "--arch", "2-2-1", "--param", "b2_0"]) == 0
    out = capsys.readouterr().out
    assert "dL/db2_0 = delta2_0" in out and "dL/dw1_0_0" not in out


def test_cli_unknown_param_is_one_line_usage_error(capsys):
    assert main(["formulas", "--arch", "2-1", "--param", "w7"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--param 'w7'" in err and "without --param" in err


def test_format_derivation_rejects_unknown_format():
    with pytest.raises(UsageError):
        format_derivation(derive(differentiate(make_spec("2-1"))), "html")
