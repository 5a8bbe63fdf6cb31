"""Layer sizes: `--arch` text read and checked, and the tuple the API takes."""

from __future__ import annotations

import re
import unicodedata

from nnsym.errors import UsageError, echo

MAX_LAYER_SIZE = 100_000
# Layer sizes an architecture may list, the input's included. Every form's code
# and every view grows with the layers (the loop form writes each layer's loops
# out, about 48 lines a layer, and black formats them: 100 layers of 2 took 20 s
# to generate, 10,000 would take hours), and no network that learns by plain
# backpropagation through sigmoids is that deep.
MAX_LAYERS = 64
# ASCII digits only: Python's int() would also take '２' or '٣', which no one
# types on purpose in an architecture; such text is refused with the offending
# character named.
_LAYER_RE = re.compile(r"[0-9]+", re.ASCII)


def parse_arch(text: str) -> tuple[int, ...]:
    """Parse `'2-2-1'` into `(2, 2, 1)`; raise UsageError on anything else.

    Surrounding whitespace is ignored; anything else but ASCII digits and single
    dashes between them is refused, with the layer and the reason named.
    """
    hint = "write layer sizes from input to output joined by '-', e.g. 2-2-1"
    if not isinstance(text, str):
        raise UsageError(f"--arch must be text such as '2-2-1', got {echo(text)}")
    shown = echo(text)
    stripped = text.strip()
    if not stripped:
        raise UsageError(f"--arch is empty: {hint}")
    for char in stripped:
        if not char.isascii():
            raise UsageError(
                f"--arch {shown} contains {char!r} "
                f"(U+{ord(char):04X} {unicodedata.name(char, 'unnamed')}); "
                f"use the ASCII digits 0-9 and '-': {hint}"
            )
    if stripped.startswith("-"):
        raise UsageError(f"--arch {shown}: layer sizes cannot be negative: {hint}")
    parts = stripped.split("-")
    sizes = []
    for position, part in enumerate(parts, start=1):
        if part == "":
            where = (
                "trailing '-'"
                if position == len(parts)
                else "doubled '-'; sizes cannot be negative"
            )
            raise UsageError(
                f"--arch {shown}: layer {position} is missing ({where}): {hint}"
            )
        if not _LAYER_RE.fullmatch(part):
            raise UsageError(
                f"--arch {shown}: layer {position} is {echo(part)}, "
                f"not a whole number: {hint}"
            )
        digits = part.lstrip("0") or "0"
        # Compare lengths first: int() refuses numbers of over 4300 digits.
        if len(digits) > len(str(MAX_LAYER_SIZE)) or int(digits) > MAX_LAYER_SIZE:
            count = digits if len(digits) <= 12 else f"a {len(digits)}-digit number of"
            raise UsageError(
                f"--arch {shown}: layer {position} has {count} units; "
                f"the most nnsym builds is {MAX_LAYER_SIZE}"
            )
        size = int(digits)
        if size < 1:
            raise UsageError(f"--arch {shown}: layer {position} has size 0: {hint}")
        sizes.append(size)
    if len(sizes) > MAX_LAYERS:
        raise UsageError(
            f"--arch {shown} has {len(sizes)} layers; the most nnsym builds is "
            f"{MAX_LAYERS} (input and output included)"
        )
    if len(sizes) < 2:
        raise UsageError(
            f"--arch {shown} has one layer; a network needs an input and an "
            f"output layer: {hint}"
        )
    return tuple(sizes)


def check_sizes(sizes: tuple[int, ...]) -> tuple[int, ...]:
    """Validate a tuple of layer sizes given to the Python API; return it."""
    hint = "give two or more positive whole numbers, e.g. (2, 2, 1)"
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise UsageError(f"architecture {echo(sizes)}: {hint}") from None
    if len(sizes) < 2:
        raise UsageError(f"architecture {echo(sizes)} has under two layers: {hint}")
    if len(sizes) > MAX_LAYERS:
        raise UsageError(
            f"architecture: {len(sizes)} layers; the most nnsym builds is "
            f"{MAX_LAYERS} (input and output included)"
        )
    for position, size in enumerate(sizes, start=1):
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise UsageError(
                f"architecture: layer {position} is {echo(size)}, not a positive "
                f"whole number: {hint}"
            )
        if size > MAX_LAYER_SIZE:
            raise UsageError(
                f"architecture: layer {position} has {echo(size)} units; "
                f"the most nnsym builds is {MAX_LAYER_SIZE}"
            )
    return sizes
