"""`nnsym playground`: one self-contained HTML page that trains the network live.

The page holds, inline: the generated JavaScript trainer of the spec (exactly
what `nnsym generate --target js` writes, its `export`s turned into the names
of one object), the formulas (MathML from SymPy's presentation printer, and
the JavaScript that puts numbers in them), the data as JSON, and the page's own
code from `nnsym/runtime/playground/` (plain files, linted and tested there).
A Content-Security-Policy allows no network access: scripts and styles only
by their hashes, images only from data: and blob: URLs.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nnsym import api
from nnsym.errors import UsageError, echo
from nnsym.pipeline.spec import Spec

RUNTIME_DIR = Path(__file__).resolve().parent.parent / "runtime" / "playground"
TEMPLATE = "playground/page.html.jinja"
# The page's scripts, in order; each sees M (the module) and G (the formulas).
PAGE_SCRIPTS = (
    *("data.js", "trainer.js", "quantities.js", "view.js", "app.js"),
    "controls.js",
)
# The ones that need no document (tested under Node).
CORE_SCRIPTS = PAGE_SCRIPTS[:3]
# The data sets the page draws itself (data.js), besides nnsym's own.
GENERATORS = ("xor", "circle", "moons", "spiral", "gaussians")
# The runtime functions of the module that the page's trainer calls.
RUNTIME_NAMES = ("SplitMix64", "_shuffle", "_sgdStep", "_momentumStep", "_adamStep")
# The runtime functions the formulas' JavaScript calls, printed as in the module.
PRINTED_NAMES = ("_logsumexp", "_tanh")
# The kernel train() runs for each sample, when the module has it as the page
# knows it: the loss of the sample at x[xo...], y[yo...] with the parameters in
# paramsBuffer, its gradient written to gradBuffer. The page's trainer calls it
# as train() does; without it, through lossAndGrad() (the same numbers, slower:
# the arguments checked and copied for every sample).
KERNEL = (
    r"^function _lossAndGradAt\(x, xo, y, yo\) \{",
    r"^const paramsBuffer = new Float64Array\(N_PARAMS\);",
    r"^const gradBuffer = new Float64Array\(N_PARAMS\);",
)
# Beyond this many parameters the page would be slow and large.
MAX_PARAMS = 5000
# How the page begins: the mark that lets nnsym overwrite its own pages.
FIRST_LINE = "<!DOCTYPE html>"
MARK = "<!-- nnsym playground: a page nnsym wrote"
_EXPORT = re.compile(r"^export (?:const|function|class) ([A-Za-z_$][\w$]*)", re.M)


@dataclass(frozen=True)
class Playground:
    """The playground page of one network: its HTML, to save or show in a notebook."""

    spec: Spec
    html: str

    def save(self, path: str | Path, force: bool = False) -> None:
        """Write the page to `path` atomically; another file there only with force."""
        from nnsym.pipeline.write import check_folder, check_regular_or_missing

        path = Path(path)
        check_folder(path, "--output")
        check_regular_or_missing(path, "--output")
        if path.exists() and not force and not _is_playground(path):
            raise UsageError(
                f"{echo(str(path))} exists and is not a page nnsym playground "
                "wrote; choose another name, or overwrite it with --force"
            )
        api.write_atomic(path, self.html)

    def _repr_html_(self) -> str:
        # The page in an iframe of its own, so that its CSP and scripts stay in it.
        return (
            '<iframe title="nnsym playground" sandbox="allow-scripts allow-downloads"'
            ' style="width:100%;height:940px;border:1px solid #ddd"'
            f' srcdoc="{html.escape(self.html, quote=True)}"></iframe>'
        )


def _is_playground(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(200).decode("utf-8", "replace")
    return head.startswith(FIRST_LINE) and MARK in head


def runtime_file(name: str) -> str:
    """One of the page's own source files, as text."""
    return (RUNTIME_DIR / name).read_text(encoding="utf-8")


def module_object(source: str) -> str:
    """The generated ES module as a script: its exports gathered in an object `M`."""
    names = _EXPORT.findall(source)
    body = _EXPORT.sub(lambda match: match.group(0)[len("export ") :], source)
    if re.search(r"^export\b", body, re.M):
        raise ValueError("the generated module has an export the page cannot read")
    members = [*names, *RUNTIME_NAMES, *PRINTED_NAMES]
    if all(re.search(pattern, source, re.M) for pattern in KERNEL):
        members.append(
            "kernel: { lossAndGradAt: _lossAndGradAt, params: paramsBuffer, "
            "grad: gradBuffer }"
        )
    listed = ", ".join(members)
    return f"const M = (() => {{\n{body}\nreturn {{ {listed} }};\n}})();"


def json_script_text(value: Any) -> str:
    """JSON for a <script type="application/json">: no '<', '>' or '&' as such."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _check_inline(text: str, what: str) -> str:
    # Inline, "</script" or "<!--" would end the element early or change parsing.
    lowered = text.lower()
    if "</script" in lowered or "<!--" in lowered or "</style" in lowered:
        raise ValueError(f"{what} holds text that cannot be inlined in a page")
    return text


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-%s'" % base64.b64encode(digest).decode("ascii")


def _dataset_record(source: str, spec: Spec, target: str | None, header: bool | None):
    dataset = api.load_data(source, spec, target=target, header=header)
    return {
        "name": Path(source).name if source not in api.builtin_names() else source,
        "xs": [list(row) for row in dataset.xs],
        "ys": [list(row) for row in dataset.ys],
        "inputNames": list(dataset.input_names),
        "targetNames": list(dataset.target_names),
        "classes": list(dataset.classes) if dataset.classes is not None else None,
    }


def _derivation(spec: Spec) -> tuple[str, object]:
    if api.uses_layers_by_default(spec):
        return "layers", api.derive_layers(spec)
    return "scalar", api.derive(api.differentiate(spec))


def _head_script(spec: Spec, mode: str, derivation: object) -> tuple[list, str]:
    """The formulas, and the script that defines M (the module) and G (formulas)."""
    from nnsym.playground.formulas import formulas_script, forward_script, live_formulas

    formulas, helpers = live_formulas(derivation, spec.arch)
    network_forward = ""
    if spec.arch[0] == 2:
        from nnsym.pipeline.model import build_network

        network_forward = forward_script(build_network(spec))
    head = "\n".join(
        [
            '"use strict";',
            runtime_file("shared.js"),
            module_object(api.source_for(spec, "js")),
            "const G = (() => {",
            f"const {{ {', '.join(PRINTED_NAMES)} }} = M;",
            formulas_script(formulas, helpers),
            network_forward or "const activationsAt = null;",
            f"return {{ MODE: {json.dumps(mode)}, FORMULAS, activationsAt }};",
            "})();",
        ]
    )
    return formulas, head


def core_script(spec: Spec) -> str:
    """The page's code that needs no page (M, G and the trainer), for its tests.

    Its last statement evaluates to an object of what it defines.
    """
    mode, derivation = _derivation(spec)
    _, head = _head_script(spec, mode, derivation)
    names = "M, G, Stepper, quantities, formulaNumbers, formulaGradient"
    names += ", formatNumber, generate, targetsOf, splitIndices, parseCsv"
    parts = [head, *(runtime_file(name) for name in CORE_SCRIPTS)]
    return "\n".join([*parts, f"return {{ {names} }};"])


def build_playground(
    spec: Spec,
    data: str | None = None,
    target: str | None = None,
    header: bool | None = None,
    test_split: float | None = None,
) -> Playground:
    """The playground page of `spec`, with `data` (a built-in name or a CSV file).

    Without `data`, a two-input network starts on the page's own xor points.
    """
    import jinja2

    if spec.n_params > MAX_PARAMS:
        raise UsageError(
            f"the playground is for networks of at most {MAX_PARAMS} parameters; "
            f"this one has {spec.n_params}"
        )
    given = None
    start = "given"
    if data is None or data in GENERATORS and data not in api.builtin_names():
        if spec.arch[0] != 2:
            raise UsageError(
                f"the page draws its own data sets for two inputs; this network "
                f"has {spec.arch[0]}: give --data NAME or --data FILE.csv"
            )
        start = data or "xor"
    else:
        given = _dataset_record(data, spec, target, header)
    if test_split is not None and not 0 <= test_split < 1:
        raise UsageError("--test-split is a fraction from 0 up to (not including) 1")
    mode, derivation = _derivation(spec)
    formulas, head = _head_script(spec, mode, derivation)
    weights = api.Weights(spec, tuple(0.0 for _ in range(spec.n_params)))
    from nnsym.models.weights import to_json

    command = re.sub(r" --name \S+", "", spec.command_line())
    command = command.replace("nnsym generate", "nnsym playground")
    if data is not None:
        command += f" --data {data}"
    config = {
        "title": spec.title,
        "command": command,
        "mode": mode,
        "start": start,
        "split": test_split,
        "generators": list(GENERATORS),
        "weights": json.loads(to_json(weights)),
    }
    script = "\n".join(
        [
            head,
            "((M, G) => {",
            *(runtime_file(name) for name in PAGE_SCRIPTS),
            "})(M, G);",
        ]
    )
    script = _check_inline(f"(() => {{\n{script}\n}})();\n", "the page's script")
    style = _check_inline(runtime_file("playground.css"), "the page's style")
    csp = "; ".join(
        [
            "default-src 'none'",
            f"script-src {_hash(script)}",
            f"style-src {_hash(style)}",
            "img-src data: blob:",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_templates_dir())),
        autoescape=True,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    page = environment.get_template(TEMPLATE).render(
        title=spec.title,
        csp=csp,
        style=jinja2.utils.markupsafe.Markup(style),
        script=jinja2.utils.markupsafe.Markup(script),
        config=jinja2.utils.markupsafe.Markup(json_script_text(config)),
        dataset=jinja2.utils.markupsafe.Markup(json_script_text(given)),
        formulas=[
            {
                "mathml": jinja2.utils.markupsafe.Markup(f.mathml),
                "plugged": jinja2.utils.markupsafe.Markup(f.plugged),
                "section": f.section,
                "layer": f.layer,
            }
            for f in formulas
        ],
        mode=mode,
        derivation_title=derivation.title,
    )
    return Playground(spec, page)


def _templates_dir() -> Path:
    from nnsym.pipeline.emit import templates_dir

    return templates_dir()
