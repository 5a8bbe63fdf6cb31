"""Property-based tests over random small networks: every valid request gives a
module that compiles, imports only the standard library, stays finite for
inputs and parameters up to 1e6, and whose gradients agree with central finite
differences wherever the function is smooth."""

from __future__ import annotations

import ast
import functools
import math
import sys
from types import ModuleType

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nnsym import api
from nnsym.pipeline.spec import (
    HIDDEN_ACTIVATIONS,
    LOSSES,
    OUTPUT_ACTIVATIONS,
    Spec,
    make_spec,
)

# Generating a module takes a fraction of a second; each is generated once and
# shared by all tests (see module_for), so keep the number of examples modest.
FEW = settings(max_examples=15, deadline=None)
MORE = settings(max_examples=25, deadline=None)

STDLIB = frozenset(getattr(sys, "stdlib_module_names", ("math", "random")))
# Nothing in a generated module should reach for these.
DANGEROUS_CALLS = frozenset(
    {"eval", "exec", "compile", "__import__", "open", "getattr", "setattr"}
    | {"globals", "locals", "vars", "input", "breakpoint", "delattr"}
)
KINKED = frozenset({"relu", "leaky_relu"})


@st.composite
def specs(draw) -> Spec:
    """A random valid request: 1 to 4 layers of 1 to 4 units, any valid choice."""
    sizes = draw(st.lists(st.integers(1, 4), min_size=2, max_size=5))
    loss = draw(st.sampled_from(LOSSES))
    activation = draw(st.sampled_from(HIDDEN_ACTIVATIONS))
    if loss == "ce":
        output = "softmax"
    elif loss == "bce":
        output = "sigmoid"
    else:
        output = draw(st.sampled_from(OUTPUT_ACTIVATIONS))
    if output == "softmax" and sizes[-1] < 2:
        sizes[-1] = draw(st.integers(2, 4))
    return make_spec(tuple(sizes), activation, output, loss)


@functools.cache
def source_for(spec: Spec) -> str:
    return api.generate(spec).source


@functools.cache
def module_for(spec: Spec) -> ModuleType:
    module = ModuleType(f"nnsym_property_{spec.name}")
    exec(compile(source_for(spec), module.__name__, "exec"), vars(module))
    return module


def targets(spec: Spec, scale: float) -> st.SearchStrategy[list[float]]:
    """Targets that make sense for the loss: anything for sse/mse, else 0 to 1."""
    n_outputs = spec.arch[-1]
    if spec.loss == "ce":
        return st.integers(0, n_outputs - 1).map(
            lambda k: [1.0 if i == k else 0.0 for i in range(n_outputs)]
        )
    bound = 1.0 if spec.loss == "bce" else scale
    low = 0.0 if spec.loss == "bce" else -bound
    return st.lists(st.floats(low, bound), min_size=n_outputs, max_size=n_outputs)


def floats(count: int, scale: float) -> st.SearchStrategy[list[float]]:
    return st.lists(st.floats(-scale, scale), min_size=count, max_size=count)


@FEW
@given(specs())
def test_module_compiles_and_imports_only_the_standard_library(spec):
    source = source_for(spec)
    tree = ast.parse(source)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in DANGEROUS_CALLS, node.func.id
    assert imported == {"math", "random"}
    assert imported <= STDLIB
    compile(tree, spec.name, "exec")
    module = module_for(spec)
    assert module.ARCH == spec.arch
    assert module.ACTIVATIONS == spec.activations
    assert module.LOSS == spec.loss
    assert module.N_PARAMS == len(module.PARAM_NAMES) == spec.n_params
    assert (module.N_INPUTS, module.N_OUTPUTS) == (spec.arch[0], spec.arch[-1])


@FEW
@given(specs(), st.data())
def test_finite_for_inputs_and_parameters_up_to_1e6(spec, data):
    module = module_for(spec)
    scale = 1e6
    params = data.draw(floats(module.N_PARAMS, scale), label="params")
    x = data.draw(floats(module.N_INPUTS, scale), label="x")
    y = data.draw(targets(spec, scale), label="y")
    outputs = module.forward(params, x)
    loss = module.loss(params, x, y)
    same_loss, grads = module.loss_and_grad(params, x, y)
    assert len(outputs) == module.N_OUTPUTS and len(grads) == module.N_PARAMS
    assert all(math.isfinite(value) for value in [*outputs, loss, *grads])
    assert same_loss == loss


# --- an independent reference, written from the documented contract ------------


def activate(name: str, zs: list[float]) -> list[float]:
    if name == "softmax":
        top = max(zs)
        exps = [math.exp(z - top) for z in zs]
        return [e / sum(exps) for e in exps]
    table = {
        "sigmoid": lambda z: 1 / (1 + math.exp(-z)),
        "tanh": math.tanh,
        "relu": lambda z: max(z, 0.0),
        "leaky_relu": lambda z: z if z > 0 else 0.01 * z,
        "identity": lambda z: z,
        "softplus": lambda z: math.log1p(math.exp(z)),
        "swish": lambda z: z / (1 + math.exp(-z)),
        "gelu": lambda z: 0.5
        * z
        * (1 + math.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z**3))),
        "elu": lambda z: z if z > 0 else math.expm1(z),
    }
    return [table[name](z) for z in zs]


def reference_forward(
    spec: Spec, params: list[float], x: list[float]
) -> tuple[list[float], list[float]]:
    """Outputs and every pre-activation, in PARAM_NAMES order of parameters."""
    values = iter(params)
    a = list(x)
    pre_activations = []
    for name, n_out in zip(spec.activations, spec.arch[1:]):
        zs = []
        for _ in range(n_out):
            weights = [next(values) for _ in a]
            zs.append(math.fsum(w * v for w, v in zip(weights, a)) + next(values))
        pre_activations += zs
        a = activate(name, zs)
    return a, pre_activations


def reference_loss(spec: Spec, outputs: list[float], y: list[float]) -> float:
    if spec.loss in ("sse", "mse"):
        sse = sum((a - t) ** 2 for a, t in zip(outputs, y))
        return sse / len(y) if spec.loss == "mse" else sse
    if spec.loss == "bce":
        return -sum(
            t * math.log(a) + (1 - t) * math.log(1 - a) for a, t in zip(outputs, y)
        )
    return -sum(t * math.log(a) for a, t in zip(outputs, y))


MODERATE = 1.5


@MORE
@given(specs(), st.data())
def test_forward_and_loss_match_a_reference_at_moderate_values(spec, data):
    module = module_for(spec)
    params = data.draw(floats(module.N_PARAMS, MODERATE), label="params")
    x = data.draw(floats(module.N_INPUTS, MODERATE), label="x")
    y = data.draw(targets(spec, MODERATE), label="y")
    expected, _ = reference_forward(spec, params, x)
    for got, want in zip(module.forward(params, x), expected):
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)
    want_loss = reference_loss(spec, expected, y)
    assert math.isclose(
        module.loss(params, x, y), want_loss, rel_tol=1e-9, abs_tol=1e-9
    )


@MORE
@given(specs(), st.data())
def test_gradients_agree_with_central_finite_differences(spec, data):
    module = module_for(spec)
    params = data.draw(floats(module.N_PARAMS, MODERATE), label="params")
    x = data.draw(floats(module.N_INPUTS, MODERATE), label="x")
    y = data.draw(targets(spec, MODERATE), label="y")
    kinked_layers = [name in KINKED for name in spec.activations]
    if any(kinked_layers):
        # Stay clear of relu's kink, where finite differences straddle two slopes.
        _, pre_activations = reference_forward(spec, params, x)
        assume(min(abs(z) for z in pre_activations) > 1e-3)
    loss, grads = module.loss_and_grad(params, x, y)
    for index, grad in enumerate(grads):
        step = 1e-6 * max(1.0, abs(params[index]))
        up, down = list(params), list(params)
        up[index] += step
        down[index] -= step
        numeric = (module.loss(up, x, y) - module.loss(down, x, y)) / (2 * step)
        # Relative agreement, plus the rounding error a difference of two losses
        # of this size can carry.
        tolerance = 1e-6 * max(1.0, abs(grad)) + 1e-9 * max(1.0, abs(loss))
        assert abs(grad - numeric) <= tolerance, (module.PARAM_NAMES[index], grad)
