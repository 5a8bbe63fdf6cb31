"""The source of `nnsym.runtime`'s definitions, for templates to include verbatim.

A template writes `{{ runtime("_floats", "_params") }}` and gets those top-level
definitions exactly as they are written in `nnsym/runtime/*.py`, comments
included, so that the code of generated files is linted and tested in one place.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

RUNTIME_DIR = Path(__file__).resolve().parent.parent / "runtime"


def _defined_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    return []


def _with_comments_above(lines: list[str], node: ast.stmt, segment: str) -> str:
    # A comment block right above a definition belongs to it.
    start = node.lineno - 1
    while start > 0 and lines[start - 1].startswith("#"):
        start -= 1
    return "".join(lines[start : node.lineno - 1]) + segment


@functools.cache
def definitions() -> dict[str, str]:
    """Every top-level definition of the runtime modules, by name, as source."""
    found: dict[str, str] = {}
    for path in sorted(RUNTIME_DIR.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines(keepends=True)
        for node in ast.parse(source).body:
            segment = ast.get_source_segment(source, node)
            for name in _defined_names(node):
                if name in found:
                    raise ValueError(f"{name} is defined twice in {RUNTIME_DIR}")
                found[name] = _with_comments_above(lines, node, segment or "")
    return found


def runtime(*names: str) -> str:
    """The source of the named runtime definitions, as black would space them.

    Consecutive constants stay together; functions and classes get two blank
    lines around them.
    """
    sources = definitions()
    missing = [name for name in names if name not in sources]
    if missing:
        raise KeyError(f"no runtime definition named {', '.join(missing)}")
    text = sources[names[0]]
    for before, name in zip(names, names[1:]):
        constants = _is_constant(sources[before]) and _is_constant(sources[name])
        text += ("\n" if constants else "\n\n\n") + sources[name]
    return text


def _is_constant(source: str) -> bool:
    last_statement = ast.parse(source).body[-1]
    return isinstance(last_statement, ast.Assign)
