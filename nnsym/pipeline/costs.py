"""What a request would cost: the time to generate it, the memory to train it.

Standard library only; `nnsym.pipeline.spec` uses them to refuse a request
with its cost in the message.
"""

from __future__ import annotations

import os

# Used only to tell the user what a refused request would cost. Measured with
# `nnsym generate -q --arch A` on a shared 2-core machine: 2-32-32-1 (1185
# parameters) 3.8 s, 2-64-64-1 (4417) 12.7 s, 64-64-64-10 (8970) 26 s, i.e. about
# 310-350 parameters a second. A busy machine can be twice as slow, so the
# estimate assumes less than half that: it should err on the long side.
PARAMS_PER_SECOND = 150


def physical_memory() -> int | None:
    """Bytes of physical memory, or None where the platform does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def estimated_seconds(n_params: int) -> float:
    """A deliberately generous estimate of how long generating a network takes."""
    return n_params / PARAMS_PER_SECOND


def format_duration(seconds: float) -> str:
    """`75` -> `'75 seconds'`, `600` -> `'10 minutes'`, `9000` -> `'2.5 hours'`."""
    if seconds < 90:
        return f"{max(seconds, 1):.0f} seconds"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.1f} hours"
