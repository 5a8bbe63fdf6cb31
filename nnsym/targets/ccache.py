"""Compiled C trainers kept between runs, keyed by a hash of what built them.

`nnsym train --engine c` compiles the generated C of the network it trains
(about a second for 784-128-10 at -O3). The shared library is kept in the
cache folder under a name that is the SHA-256 of the C source, the compiler's
path and version line and the flags, so the same request reuses it and any
change to any of those builds a new one. A library is compiled in a private
temporary folder inside the cache and moved into place with os.replace, one
atomic rename: two runs at once may both compile, but neither ever loads a
half-written file, and the last rename wins with the same bytes.

The folder: $NNSYM_CACHE_DIR if set; else $XDG_CACHE_HOME/nnsym/c, or
~/.cache/nnsym/c. Safe to delete at any time. Where it cannot be written, the
library is compiled in a temporary folder removed after loading (no cache).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

CACHE_ENV = "NNSYM_CACHE_DIR"


def cache_dir() -> Path:
    """Where compiled trainers are kept (see the module's docstring)."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    return root / "nnsym" / "c"


def compiler_identity(compiler: str) -> str:
    """The compiler's resolved path and the first line of its --version."""
    try:
        result = subprocess.run(
            [compiler, "--version"], capture_output=True, text=True, check=False
        )
        version = (result.stdout.splitlines() or [""])[0]
    except OSError:
        version = ""
    return f"{os.path.realpath(compiler)}\n{version}"


def generator_fingerprint() -> str:
    """SHA-256 (hex) of nnsym's own Python files and templates, which write the C.

    A trainer asked for by its network (not its source) is cached under this,
    so that a cached one loads without generating its C again (SymPy, about
    half a second), and any change to nnsym builds a new one.
    """
    package = Path(__file__).resolve().parents[1]
    installed = package / "templates"
    templates = installed if installed.is_dir() else package.parent / "templates"
    digest = hashlib.sha256()
    for root, pattern in ((package, "*.py"), (templates, "*")):
        for path in sorted(root.rglob(pattern)):
            if path.is_file():
                digest.update(str(path.relative_to(root)).encode("utf-8") + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(source: str, compiler: str, flags: tuple[str, ...]) -> str:
    """SHA-256 (hex) of the source, the compiler's identity and the flags."""
    digest = hashlib.sha256()
    for part in (compiler_identity(compiler), "\0".join(flags), source):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0\0")
    return digest.hexdigest()


def cached_path(key: str, prefix: str) -> Path | None:
    """The cached library for `key`, if it was built before; else None."""
    final = cache_dir() / f"{prefix}-{key[:32]}.so"
    return final if final.is_file() else None


def cached_library(
    key: str, prefix: str, build: Callable[[Path], Path]
) -> tuple[Path, Path | None]:
    """The library for `key`, built by build(folder) -> path if not cached yet.

    Returns (library, temporary folder to remove after loading, or None).
    """
    found = cached_path(key, prefix)
    if found is not None:
        return found, None
    folder = cache_dir()
    final = folder / f"{prefix}-{key[:32]}.so"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".build-", dir=folder))
    except OSError:
        # Not writable: build outside it, and cache nothing.
        work = Path(tempfile.mkdtemp(prefix="nnsym-c-"))
        return build(work), work
    try:
        built = build(work)
        os.replace(built, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final, None
