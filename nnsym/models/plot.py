"""The loss curve as an image, with matplotlib (an optional extra: nnsym[plot])."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from nnsym.errors import NnsymError, UsageError
from nnsym.pipeline.write import check_folder, check_regular_or_missing, write_atomic

FORMATS = ("png", "svg", "pdf")
MISSING = (
    "--plot needs matplotlib, which is not installed: "
    "pip install 'nnsym[plot]' (or pip install matplotlib)"
)


def _matplotlib() -> ModuleType:
    try:
        import matplotlib
    except ImportError:
        # A missing optional package is status 1, as everywhere in nnsym: the
        # request is right, the installation lacks something.
        raise NnsymError(MISSING) from None
    return matplotlib


def check_plot_target(path: Path) -> None:
    """Raise UsageError, before any training, if the plot could not be written."""
    _matplotlib()
    check_folder(path, "--plot")
    check_regular_or_missing(path, "--plot")
    if path.suffix.lower().lstrip(".") not in FORMATS:
        raise UsageError(
            f"--plot {path}: name the file with one of these endings: "
            f"{', '.join('.' + name for name in FORMATS)}"
        )


def plot_loss(history: Sequence[float], path: Path, title: str) -> None:
    """Draw the objective against the epoch and write the image atomically."""
    check_plot_target(path)
    # The object-oriented API with the Agg canvas: no GUI, no global pyplot state.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.0))
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    axes.plot(range(len(history)), history, linewidth=1.5)
    if history and min(history) > 0:
        axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss")
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format=path.suffix.lower().lstrip("."))
    try:
        write_atomic(path, buffer.getvalue())
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
        raise NnsymError(f"cannot write {path}: {reason}") from None
