"""Level-statistics figures any model with a gap-ratio histogram (``r_hist``) draws: P(r) against the GOE
surmise and Poisson."""

from __future__ import annotations

import numpy as np
import pandas as pd
from kernels.numerics.levels import gap_ratio_density

from ensemble.present.display import math_label as label

__all__ = ["gap_ratio_figure"]


def gap_ratio_figure(plt, summary: pd.DataFrame, swept: list[str]):
    """P(r) of every point (mean density with its error) against the GOE surmise and Poisson levels."""
    h = summary[summary.observable == "r_hist"]
    if h.empty:
        return None
    fig, ax = plt.subplots(figsize=(6, 4.2))
    keys = [k for k in swept if k in h]
    groups = list(h.groupby(keys)) if keys else [((), h)]
    cmap = plt.cm.viridis
    for i, (_, g) in enumerate(groups):
        g = g.sort_values("ratio")
        color = cmap(i / max(1, len(groups) - 1)) if len(groups) > 10 else f"C{i % 10}"
        ax.errorbar(g.ratio, g["mean"], yerr=g["sem"], fmt="o-", ms=2, lw=1, color=color,
                    label=(label(g.iloc[0], keys) if keys else r"$P(r)$, mean $\pm$ s.e.") if len(groups) <= 10 else None)
    r = np.linspace(0, 1, 200)
    ax.plot(r, gap_ratio_density(r, "GOE"), "k--", lw=1.2, label="GOE (surmise)")
    ax.plot(r, gap_ratio_density(r, "Poisson"), "k:", lw=1.2, label="Poisson")
    n = int(h["n"].max())
    ax.set_xlabel(r"gap ratio $r$")
    ax.set_ylabel(r"$P(r)$")
    ax.set_xlim(0, 1)
    ax.text(0.98, 0.97, f"up to {n} realizations per point", transform=ax.transAxes, ha="right", va="top", color="0.35")
    if len(groups) > 10:
        sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, len(groups) - 1))
        fig.colorbar(sm, ax=ax, label="point index")
    ax.legend(fontsize=7)
    return fig
