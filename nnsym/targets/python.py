"""The Python target, and what joins the pipeline to the tools that explain it.

`generate(spec)` runs the pipeline and puts the derivative formulas
(`nnsym.explain`) in the module's docstring: it lives here, above both, so
that nothing in `nnsym.pipeline` imports `nnsym.explain`. The functions that
use a generated module (`prepare_module`, `module_for`, `check_gradients`)
build on it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from nnsym.explain import fdcheck
from nnsym.pipeline.build import (
    Progress,
    check_target,
    default_output,
    differentiate,
    is_up_to_date,
    load_module,
)
from nnsym.pipeline.spec import Spec
from nnsym.pipeline.write import write_generated
from nnsym.targets.registry import Rendered, Request

if TYPE_CHECKING:
    from nnsym.explain.formulas import Derivation
    from nnsym.explain.point import Point
    from nnsym.pipeline.gradients import Gradients

# SymPy, Jinja and black are imported inside the functions that generate: using an
# up-to-date module in generated/ (prepare_module, module_for) must not pay for
# them.


def _quiet(stage: str) -> None:
    pass


@dataclass(frozen=True)
class Generated:
    """The result of generating one module."""

    spec: Spec
    gradients: Gradients | None  # None for the loop form, which has no per-scalar ones
    derivation: Derivation
    formulas: str
    source: str

    def _repr_html_(self) -> str:
        # In a notebook: the formulas, as MathML.
        return self.derivation._repr_html_()

    def _repr_latex_(self) -> str:
        return self.derivation._repr_latex_()


def render(request: Request) -> Rendered:
    """The Python target's record: the module and its formulas, or a predictor."""
    if request.baked is not None:
        from nnsym.targets.predictor import predictor_source

        source = predictor_source(request.spec, request.baked, request.origin)
        return Rendered(source)
    generated = generate(request.spec, request.expanded, request.progress)
    return Rendered(generated.source, generated.formulas)


def generate(
    spec: Spec, expanded: bool = False, progress: Progress = _quiet
) -> Generated:
    """Run the pipeline for `spec` in memory: formulas and module source."""
    from nnsym.explain.formulas import derive, format_text
    from nnsym.explain.layer_formulas import (
        derive_layers,
        format_layers_text,
        uses_layers_by_default,
    )
    from nnsym.pipeline.cse import eliminate_common_subexpressions
    from nnsym.pipeline.emit import build_context, render_module
    from nnsym.pipeline.gradients import backpropagate
    from nnsym.pipeline.jacobian import output_jacobian
    from nnsym.pipeline.model import build_network
    from nnsym.pipeline.reference import selftest_reference

    if spec.form == "loops":
        return _generate_loops(spec, expanded, progress)
    progress("building the network")
    network = build_network(spec)
    progress("differentiating (chain rule, layer by layer)")
    gradients = backpropagate(network)
    if expanded or not uses_layers_by_default(spec):
        derivation = derive(gradients, expanded=expanded)
        formulas = format_text(derivation)
        # The module's docstring holds the chain-rule formulas, never the expanded.
        docstring = format_text(replace(derivation, expanded=()), title=False)
    else:
        # Per parameter they would run to thousands of lines: per layer instead.
        derivation = derive_layers(spec)
        formulas = format_layers_text(derivation)
        docstring = format_layers_text(derivation, title=False)
    progress("sharing common subexpressions")
    program = eliminate_common_subexpressions(gradients)
    progress("computing the selftest's reference values (30 digits)")
    reference = selftest_reference(gradients)
    progress("printing and formatting the module")
    context = build_context(
        spec,
        program,
        docstring,
        spec.title,
        selftest=reference,
        jacobian=output_jacobian(network),
    )
    source = render_module(spec, context)
    return Generated(spec, gradients, derivation, formulas, source)


# Up to this many parameters, the loop form's selftest also has reference values
# from the per-parameter chain rule: about a second at 5,000 parameters (64-64-10
# takes 1.1 s to differentiate, 0.2 s to evaluate). Above, the per-parameter
# derivation the loop form exists to avoid would dominate generation: the
# selftest then checks central differences only.
LOOPS_REFERENCE_MAX_PARAMS = 5000


def _generate_loops(spec: Spec, expanded: bool, progress: Progress) -> Generated:
    from nnsym.explain.formulas import derive, format_text
    from nnsym.explain.layer_formulas import format_layers_text, layer_derivation
    from nnsym.pipeline.loops import build_loop_program
    from nnsym.pipeline.loops_emit import build_loop_context, render_loop_module
    from nnsym.pipeline.reference import selftest_reference

    progress("differentiating one generic neuron per layer")
    program = build_loop_program(spec)
    # The formulas as shown, not as evaluated (they differ for a softmax).
    layers = layer_derivation(build_loop_program(spec, evaluated=False))
    formulas = format_layers_text(layers)
    if expanded:  # asked for: per parameter, written out (small networks only)
        formulas = format_text(derive(differentiate(spec), expanded=True))
    reference = None
    if spec.n_params <= LOOPS_REFERENCE_MAX_PARAMS:
        # An independent derivation (per parameter, by the chain rule), not the
        # generic neuron the module is printed from.
        progress("computing the selftest's reference values (30 digits)")
        reference = selftest_reference(differentiate(spec))
    progress("printing and formatting the module")
    context = build_loop_context(
        spec,
        program,
        format_layers_text(layers, title=False),
        spec.title,
        selftest=reference,
    )
    source = render_loop_module(spec, context)
    return Generated(spec, None, layers, formulas, source)


def write_module(generated: Generated, path: str | Path, force: bool = False) -> bool:
    """Write a generated module atomically; return False if it was unchanged."""
    path = Path(path)
    return write_generated(path, generated.source, force=force)


def prepare_module(
    spec: Spec, path: str | Path, force: bool = False, progress: Progress = _quiet
) -> ModuleType:
    """Import the module for `spec` at `path`, generating it unless up to date."""
    path = Path(path)
    if not is_up_to_date(spec, path):
        check_target(path, force=force)
        write_module(generate(spec, progress=progress), path, force=force)
    return load_module(path)


def import_generated(generated: Generated) -> ModuleType:
    """Import a generated module without leaving a file behind.

    It is written to a temporary folder, imported and the folder removed.
    """
    with tempfile.TemporaryDirectory(prefix="nnsym-") as folder:
        path = Path(folder) / f"{generated.spec.name}.py"
        write_module(generated, path)
        return load_module(path)


def module_for(spec: Spec) -> ModuleType:
    """`spec`'s module: the up-to-date one in generated/, else one made in memory.

    Nothing is written outside a temporary folder.
    """
    default = default_output(spec)
    if is_up_to_date(spec, default):
        return load_module(default)
    return import_generated(generate(spec))


def load_generated(spec: Spec) -> ModuleType:
    """Generate `spec`'s module in a temporary directory and import it."""
    return import_generated(generate(spec))


def check_gradients(
    spec: Spec,
    point: Point,
    step: float = fdcheck.DEFAULT_STEP,
    tolerance: float = fdcheck.DEFAULT_TOLERANCE,
    against_torch: bool = False,
    module: ModuleType | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> fdcheck.CheckReport:
    """`nnsym check`: the generated module's gradients against finite differences.

    The module is generated unless given; see `nnsym.explain.fdcheck`.
    """
    # A check too costly to run is refused before the module is generated.
    fdcheck.check_request(spec, step, tolerance)
    if module is None:
        module = load_generated(spec)
    return fdcheck.check_gradients(
        spec, point, step, tolerance, against_torch, module=module, progress=progress
    )
