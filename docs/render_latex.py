"""Render `nnsym formulas --arch 2-2-1 --format latex` to docs/formulas_2_2_1.png.

Offline, with matplotlib's mathtext (no TeX installation): each equation of the
LaTeX output becomes one line of the picture. Needs `pip install matplotlib`.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from nnsym.api import differentiate  # noqa: E402
from nnsym.explain.formulas import derive, latex_equation  # noqa: E402
from nnsym.pipeline.spec import make_spec  # noqa: E402

OUTPUT = Path(__file__).resolve().parent / "formulas_2_2_1.png"


def main() -> None:
    """Draw the 2-2-1 net's chain-rule formulas, one equation a line."""
    derivation = derive(differentiate(make_spec("2-2-1")))
    rows: list[str] = []
    for heading, equations in derivation.sections():
        rows.append(heading)
        for equation in equations:
            # mathtext has no alignment points and reads \left( as plain (.
            latex = latex_equation(equation).replace("&=", "=")
            rows.append("$" + latex.replace(r"\left", "").replace(r"\right", "") + "$")
    figure = plt.figure(figsize=(7.5, 0.36 * len(rows) + 0.2))
    for i, row in enumerate(rows):
        is_heading = not row.startswith("$")
        figure.text(
            0.02,
            1 - (i + 0.8) / (len(rows) + 0.3),
            row,
            fontsize=11 if is_heading else 12,
            weight="bold" if is_heading else "normal",
        )
    figure.savefig(OUTPUT, dpi=110, facecolor="white")


if __name__ == "__main__":
    main()
