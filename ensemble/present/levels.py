"""Level-statistics figures any model with a gap-ratio histogram (``r_hist``) draws: P(r) against the GOE
surmise and Poisson, shaped by what the spec swept."""

from __future__ import annotations

import numpy as np
import pandas as pd
from kernels.numerics.levels import gap_ratio_density

from ensemble.present.colours import Colouring, panel_grid
from ensemble.present.display import math_label

__all__ = ["SIZE_NAMES", "gap_ratio_figure", "panels_and_colour"]

#: Parameter names read as a system size: a figure gives each of their values a panel of its own.
SIZE_NAMES = ("L", "N", "l", "l_b", "L_b", "n_goe", "size")
#: Panels at most (the remaining combinations are left out, and the caption's run says which were run).
MAX_PANELS = 4


def panels_and_colour(df: pd.DataFrame, swept: list[str]) -> tuple[list[str], str | None]:
    """Which swept parameters make panels (sizes first, then any beyond the colour) and which one colours the
    curves within a panel (the first numeric swept parameter that is not a size; else the first other one)."""
    keys = [k for k in swept if k in df and df[k].nunique() > 1]
    sizes = [k for k in keys if k in SIZE_NAMES]
    rest = [k for k in keys if k not in sizes]
    numeric = [k for k in rest if df[k].dtype.kind in "iuf"]
    colour = (numeric or rest or [None])[0]
    if colour is None and len(sizes) > 1:  # only sizes swept: colour by the last, panels by the others
        colour = sizes.pop()
    panels = sizes + [k for k in rest if k != colour]
    return panels, colour


def gap_ratio_figure(plt, summary: pd.DataFrame, swept: list[str]):
    """P(r) (mean density with its error) against the GOE surmise and Poisson: one panel per system size (and
    per value of any further swept parameter), the curves of a panel coloured by the swept control parameter,
    named in a legend or on a labelled colour bar."""
    h = summary[summary.observable == "r_hist"]
    if h.empty:
        return None
    panel_keys, colour = panels_and_colour(h, swept)
    groups = list(h.groupby(panel_keys, sort=True)) if panel_keys else [((), h)]
    groups = groups[:MAX_PANELS]
    colours = Colouring(plt, colour, h[colour] if colour is not None else [])
    fig, axes, cax = panel_grid(plt, len(groups), colours.bar, height=4.2 if len(groups) <= 2 else 3.2)
    r = np.linspace(0, 1, 200)
    for ax, (_, panel) in zip(axes, groups):
        curves = list(panel.groupby(colour, sort=True)) if colour is not None else [((), panel)]
        for value, g in curves:
            g = g.sort_values("ratio")
            value = value[0] if isinstance(value, tuple) and len(value) == 1 else value
            name = colours.label(value) if colour is not None else r"$P(r)$, mean $\pm$ s.e."
            ax.errorbar(g.ratio, g["mean"], yerr=g["sem"], fmt="o-", ms=2, lw=1, color=colours.color(value), label=name)
        ax.plot(r, gap_ratio_density(r, "GOE"), "k--", lw=1.2, label="GOE (surmise)")
        ax.plot(r, gap_ratio_density(r, "Poisson"), "k:", lw=1.2, label="Poisson")
        ax.set_xlim(0, 1)
        ax.set_xlabel(r"gap ratio $r$")
        ax.set_ylabel(r"$P(r)$")
        if panel_keys:
            ax.set_title(math_label(panel.iloc[0], panel_keys), fontsize=9)
        ax.legend(fontsize=7, loc="best")
    colours.add_bar(fig, cax)
    return fig  # the caption beside it states the run (kernel, parameters, N_r)
