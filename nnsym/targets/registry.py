"""The target registry: one record per language nnsym writes a trainer in.

A record holds everything the rest of nnsym asks of a target: its name, the
file suffixes it writes and its default file, its number types and forms, its
printer, templates and runtime files, the function that renders it (builds
its template context and emits the file), whether `nnsym export` bakes
trained weights into it, whether `nnsym train --engine` runs in it, and how the
tests compile or run its files. Python and MicroPython are records like C and
JavaScript; nothing outside this module compares a target's name with a string.

Standard library only: the command line builds its choices and help texts
from the records without importing SymPy, Jinja or black. A record names its
functions as "module:attribute" strings, imported on first use, or holds the
functions themselves (a target registered at run time, as in the tests).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Union

from nnsym.errors import UsageError
from nnsym.pipeline.spec import DTYPES, Spec

# A function: itself, or "module:attribute" to import on first use.
Ref = Union[str, Callable[..., Any]]


def _quiet(stage: str) -> None:
    pass


@dataclass(frozen=True)
class Baked:
    """Trained parameters to bake into an exported file, and where they came from.

    `source` is the short description the file shows; the rest is for the
    Python predictor's docstring and selftest (labels, training summary, the
    name to import it by, the full hash of the weights file).
    """

    params: tuple[float, ...]
    source: str
    advice: str = "export the model again instead"
    classes: tuple[str, ...] | None = None
    training: dict[str, Any] = field(default_factory=dict)
    module_name: str = "predictor"
    model_hash: str = ""


@dataclass(frozen=True)
class Request:
    """What to render: a network, its number type, the header's origin line.

    `baked`: trained parameters to build in (nnsym export); `expanded` and
    `progress` are for targets that derive and print formulas as they go.
    """

    spec: Spec
    dtype: str = "float64"
    origin: str = ""
    baked: Baked | None = None
    expanded: bool = False
    progress: Callable[[str], None] = _quiet


@dataclass(frozen=True)
class Rendered:
    """A rendered file, and the formulas `nnsym generate` prints (if any)."""

    source: str
    formulas: str = ""


@dataclass(frozen=True)
class Runner:
    """How the tests compile or run a target's file: a program and its arguments.

    In `command`, {tool} is the program, {file} the file, {upper} the
    network's name in capitals and {repo} the repository's root; `requires`,
    a path under the root that must exist (a package the command loads).
    """

    tool: str
    command: tuple[str, ...]
    requires: str = ""


@dataclass(frozen=True)
class Engine:
    """`nnsym train --engine NAME`: training run in this target's code.

    `prepare()` refuses early (before any file is written) what would make
    loading fail; `start(spec, optimizer)`, if given, begins the build (the
    compiler runs while the Python module is written) and returns what
    `load(spec, module, started)` finishes; `load(spec, module)` alone builds
    and returns the module to train with;
    `batch_note` is said when mini-batches are shuffled in another order;
    `optimizers` are the ones its trainer has (the others run in Python only);
    `options`, the `nnsym train` options beyond the basic ones it has
    (nnsym.models.settings.EXTRA_OPTIONS, e.g. "--weight-decay").
    """

    prepare: Ref
    load: Ref
    start: Ref | None = None
    batch_note: str = ""
    optimizers: tuple[str, ...] = ("sgd", "momentum", "adam")
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    """One target: a language nnsym writes a trainer in, and all it needs."""

    name: str
    # The language its files are in, for messages; its suffixes, the first the
    # default; the default file under generated/ ({name}: the network's name).
    language: str
    suffixes: tuple[str, ...]
    default_file: str
    # Shown in `nnsym generate --help`.
    description: str
    # render(Request) -> Rendered: the template context and the file.
    render: Ref
    dtypes: tuple[str, ...] = ("float64",)
    forms: tuple[str, ...] = ("unrolled", "loops")
    # The printer class, templates (form -> file under templates/) and runtime
    # files (under nnsym/runtime/) it prints with: what a new target supplies.
    printer: Ref | None = None
    templates: tuple[tuple[str, str], ...] = ()
    runtime: tuple[str, ...] = ()
    # nnsym export: whether it bakes trained weights in, its default file, and
    # what the exported file holds, as its report says.
    export_file: str | None = None
    exported: str = "the {name} trainer"
    engine: Engine | None = None
    runners: tuple[Runner, ...] = ()

    def call(self, ref: Ref, *args: Any) -> Any:
        """Call one of the record's functions, importing it on first use."""
        return resolve(ref)(*args)

    def render_request(self, request: Request) -> Rendered:
        """Render `request` with this target's render function."""
        return self.call(self.render, request)

    def default_path_name(self, spec: Spec) -> str:
        """The default file's name for `spec`."""
        return self.default_file.format(name=spec.name)


def resolve(ref: Ref) -> Callable[..., Any]:
    """The function a record names ("module:attribute"), or the function itself."""
    if callable(ref):
        return ref
    module, _, attribute = ref.partition(":")
    return getattr(importlib.import_module(module), attribute)


_REGISTRY: dict[str, Target] = {}


def register(target: Target) -> Target:
    """Add a target (or replace the one of the same name); return it."""
    _REGISTRY[target.name] = target
    return target


def unregister(name: str) -> None:
    """Remove a target added by register (the built-in ones stay)."""
    if name in BUILTIN_NAMES:
        raise ValueError(f"{name} is a built-in target")
    _REGISTRY.pop(name, None)


def targets() -> tuple[Target, ...]:
    """Every registered target, the default (Python) first."""
    return tuple(_REGISTRY.values())


def names() -> tuple[str, ...]:
    """The names `--target` accepts."""
    return tuple(_REGISTRY)


def get(name: str) -> Target:
    """The record of `name`; UsageError naming the choices if there is none."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UsageError(f"--target must be one of: {', '.join(names())}") from None


def default() -> Target:
    """The target written when none is named: Python."""
    return _REGISTRY[DEFAULT]


def exportable() -> tuple[str, ...]:
    """The targets `nnsym export` bakes trained weights into."""
    return tuple(t.name for t in targets() if t.export_file is not None)


def engines() -> tuple[str, ...]:
    """The choices of `nnsym train --engine`: Python's module, then the others."""
    return (DEFAULT, *(t.name for t in targets() if t.engine is not None))


def engine(name: str) -> Engine | None:
    """`train --engine NAME`'s engine, or None for the Python module's own loop."""
    return get(name).engine


def with_dtype(dtype: str) -> tuple[str, ...]:
    """The targets that have number type `dtype`."""
    return tuple(t.name for t in targets() if dtype in t.dtypes)


def language_of(suffix: str) -> str | None:
    """The language a file suffix says, by the records, or None."""
    for target in targets():
        if suffix in target.suffixes:
            return target.language
    return None


def check_options(name: str, dtype: str) -> Target:
    """The record of `name`, refusing a dtype that does not exist or it lacks."""
    target = get(name)
    if dtype not in DTYPES:
        raise UsageError(f"--dtype must be one of: {', '.join(DTYPES)}")
    if dtype not in target.dtypes:
        having = " or ".join(f"--target {n}" for n in with_dtype(dtype))
        raise UsageError(f"--dtype {dtype} is for {having} only")
    return target


DEFAULT = "python"
_FORMS = {"unrolled": "module.py.jinja", "loops": "module_loops.py.jinja"}

BUILTIN = (
    Target(
        name="python",
        language="Python",
        suffixes=(".py",),
        default_file="{name}.py",
        description="python (default)",
        render="nnsym.targets.python:render",
        printer="nnsym.pipeline.printer:ModulePrinter",
        templates=(*_FORMS.items(), ("baked", "predictor.py.jinja")),
        runtime=(
            "checks.py",
            "init.py",
            "numerics.py",
            "optimizers.py",
            "schedules.py",
        ),
        export_file="predictor.py",
        exported="predict(x)",
        runners=(
            Runner("python3", ("{tool}", "{file}", "--selftest")),
            Runner("pypy3", ("{tool}", "{file}", "--selftest")),
        ),
    ),
    Target(
        name="c",
        language="C",
        suffixes=(".h", ".c"),
        default_file="{name}.h",
        description="c (header-only C99)",
        render="nnsym.targets.c:render",
        dtypes=("float64", "float32"),
        printer="nnsym.targets.printers:CPrinter",
        templates=(
            ("unrolled", "c/trainer.h.jinja"),
            ("loops", "c/trainer_loops.h.jinja"),
        ),
        runtime=(
            "c/nnsym_runtime.h",
            "c/nnsym_logsumexp.h",
            "c/nnsym_softmax.h",
            "c/nnsym_tanh.h",
            "c/nnsym_sigmoid.h",
            "c/nnsym_outer.h",
            "c/nnsym_jacobian.h",
            "c/nnsym_second_order.h",
        ),
        export_file="predictor.h",
        engine=Engine(
            prepare="nnsym.targets.cengine:require_compiler",
            load="nnsym.targets.cmodule:c_engine",
            start="nnsym.targets.cmodule:start_c_engine",
            batch_note="--engine c shuffles mini-batches in the C trainer's "
            "splitmix64 order, so its parameters differ from --engine python's "
            "(docs/targets.md)",
            optimizers=("sgd", "momentum", "adam", "lbfgs", "lm"),
            options=("--weight-decay", "--nesterov", "--clip-grad-norm"),
        ),
        runners=(
            Runner(
                "gcc",
                (
                    "{tool}",
                    "-std=c99",
                    "-Wall",
                    "-Wextra",
                    "-Werror",
                    "-fsyntax-only",
                    "-x",
                    "c",
                    "-D{upper}_IMPLEMENTATION",
                    "{file}",
                ),
            ),
        ),
    ),
    Target(
        name="js",
        language="JavaScript",
        suffixes=(".mjs", ".js"),
        default_file="{name}.mjs",
        description="js (ES module)",
        render="nnsym.targets.js:render",
        printer="nnsym.targets.printers:JsPrinter",
        templates=(
            ("unrolled", "js/trainer.mjs.jinja"),
            ("loops", "js/trainer_loops.mjs.jinja"),
        ),
        runtime=("js/runtime.js",),
        export_file="predictor.mjs",
        runners=(Runner("node", ("{tool}", "--check", "{file}")),),
    ),
    Target(
        name="micropython",
        language="Python",
        suffixes=(".py",),
        default_file="{name}_micropython.py",
        description="micropython",
        render="nnsym.targets.micropython:render",
        printer="nnsym.pipeline.printer:ModulePrinter",
        templates=tuple(_FORMS.items()),
        runtime=("micropython/compat.py",),
        # The WebAssembly port, run by Node: the module's selftest.
        runners=(
            Runner(
                "node",
                (
                    "{tool}",
                    "{repo}/tests/js/micropython_run.mjs",
                    "{file}",
                    "{repo}/tests/js/micropython_selftest.py",
                ),
                requires="node_modules/@micropython/micropython-webassembly-pyscript",
            ),
        ),
    ),
)

for _target in BUILTIN:
    register(_target)
BUILTIN_NAMES = frozenset(t.name for t in BUILTIN)
