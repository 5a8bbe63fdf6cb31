"""The target registry: every record is whole, and nothing else names a target.

tests/test_toy_target.py shows that a new record is all a target needs.
"""

from __future__ import annotations

import ast
import inspect

import pytest

from nnsym.pipeline.emit import templates_dir
from nnsym.pipeline.printer import PrimitivePrinting
from nnsym.targets import c, js, registry
from nnsym.targets.common import RUNTIME_DIR
from tests.helpers import REPO

BUILTIN = registry.BUILTIN_NAMES


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_each_record_names_files_and_functions_that_exist(name):
    record = registry.get(name)
    assert callable(registry.resolve(record.render))
    printer = registry.resolve(record.printer)
    assert inspect.isclass(printer) and issubclass(printer, PrimitivePrinting)
    forms = dict(record.templates)
    assert set(record.forms) <= set(forms)
    for template in forms.values():
        assert (templates_dir() / template).is_file(), template
    for runtime in record.runtime:
        assert (RUNTIME_DIR / runtime).is_file(), runtime
    assert record.default_file.format(name="x").endswith(record.suffixes[0])
    assert record.runners, "the tests need a way to run its files"
    if record.engine is not None:
        assert callable(registry.resolve(record.engine.prepare))
        assert callable(registry.resolve(record.engine.load))


def test_the_c_and_js_modules_render_the_records_templates():
    for module, name in ((c, "c"), (js, "js")):
        forms = dict(registry.get(name).templates)
        assert (module.TEMPLATE, module.LOOPS_TEMPLATE) == (
            forms["unrolled"],
            forms["loops"],
        )


def test_the_records_drive_the_checks():
    assert registry.names()[0] == registry.DEFAULT == "python"
    assert registry.with_dtype("float32") == ("c",)
    assert registry.exportable() == ("python", "c", "js")
    assert registry.engines() == ("python", "c")
    assert registry.language_of(".mjs") == "JavaScript"
    with pytest.raises(registry.UsageError, match="--dtype float32 is for --target c"):
        registry.check_options("js", "float32")
    with pytest.raises(ValueError):
        registry.unregister("c")


def _names_a_target(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in BUILTIN
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_names_a_target(item) for item in node.elts)
    return False


def test_no_module_but_the_registry_compares_a_target_name_with_a_string():
    found = []
    for path in sorted((REPO / "nnsym").rglob("*.py")):
        if path.name == "registry.py" and path.parent.name == "targets":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and any(
                _names_a_target(side) for side in (node.left, *node.comparators)
            ):
                found.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert found == []
    # The check can fail.
    tree = ast.parse('if target == "c": pass')
    assert any(
        isinstance(n, ast.Compare) and _names_a_target(n.comparators[0])
        for n in ast.walk(tree)
    )
