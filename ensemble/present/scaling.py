"""The figure of a ``[scaling]`` analysis (any kernel): the crossings of successive sizes against 1/L with the
preferred extrapolation and its X_c, and the scaling collapse of the observable."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ensemble.analysis.scaling import drift_form, observable_rows
from ensemble.present.colours import Colouring
from ensemble.present.display import math_name, symbol

__all__ = ["scaling_figure"]


def scaling_figure(plt, summary: pd.DataFrame, scaling: pd.DataFrame, spec, swept: list[str]):
    """None when the table holds neither a crossing nor a collapse with a value."""
    if scaling is None or scaling.empty:
        return None
    cross = scaling[(scaling["kind"] == "crossing") & np.isfinite(scaling.get("X_cross", np.nan))]
    coll = scaling[(scaling["kind"] == "collapse") & np.isfinite(scaling.get("X_c", np.nan))]
    panels = [p for p, has in (("cross", len(cross)), ("collapse", len(coll))) if has]
    if not panels:
        return None
    X, Lsym = symbol(spec.control), symbol(spec.size)
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), squeeze=False)
    axes = dict(zip(panels, axes[0]))
    if "cross" in axes:
        ax = axes["cross"]
        err = np.hypot(cross["X_cross_err"].fillna(0.0), cross["X_cross_sys"].fillna(0.0))
        ax.errorbar(1.0 / cross["L_x"], cross["X_cross"], yerr=err, fmt="o", ms=4, color="C0",
                    label=rf"crossings of ${Lsym}$ and the next size")  # fmt: skip
        ext = scaling[(scaling["kind"] == "extrapolation")] if "form" in scaling else scaling.iloc[0:0]
        best = ext[ext["preferred"] == True] if len(ext) else ext  # noqa: E712 (a column of objects)
        inv = np.linspace(0.0, float((1.0 / cross["L_x"]).max()) * 1.1, 100)
        for _, row in best.iterrows():
            if row["form"] == "linear":  # no finite limit to draw at 1/L = 0
                continue
            f, k = drift_form(row["form"])
            y = f(1.0 / np.maximum(inv, 1e-12), *[row["X_c"], row["a"], row["nu"]][:k])
            ax.plot(inv, y, "-", color="C1", lw=1.2, label=f"{row['form']}: ${X}_c = {row['X_c']:.3g} \\pm {row['X_c_err']:.2g}$")
            ax.axhspan(row["X_c"] - row["X_c_err"], row["X_c"] + row["X_c_err"], color="C1", alpha=0.2, lw=0)
        ax.set_xlim(0.0, float((1.0 / cross["L_x"]).max()) * 1.15)
        ax.set_xlabel(rf"$1/{Lsym}_\times$ (mean size of the pair)")
        ax.set_ylabel(rf"crossing ${X}_\times$")
        ax.legend(fontsize=7, loc="best")
    if "collapse" in axes:
        ax = axes["collapse"]
        c = coll.iloc[0]
        rows = observable_rows(summary, spec)
        group = [k for k in swept if k not in (spec.size, spec.control) and k in scaling.columns]
        for k in group:  # the first group's collapse (a table row per group; the figure draws one)
            rows = rows[rows[k] == c[k]]
        colours = Colouring(plt, spec.size, rows[spec.size])
        for L, g in rows.groupby(spec.size, sort=True):
            g = g.sort_values(spec.control)
            u = (g[spec.control].to_numpy(float) - c["X_c"]) * float(L) ** (1.0 / c["nu"])
            ax.errorbar(u, g["mean"], yerr=g["sem"], fmt="o-", ms=3, lw=1, color=colours.color(L),
                        label=colours.label(L))  # fmt: skip
        ax.set_xlabel(rf"$({X} - {X}_c)\,{Lsym}^{{1/\nu}}$")
        ax.set_ylabel(math_name(spec.observable) if len(spec.observable) == 1 else spec.observable)
        ax.set_title(rf"${X}_c = {c['X_c']:.3g} \pm {c['X_c_err']:.2g}$, $\nu = {c['nu']:.3g} \pm {c['nu_err']:.2g}$, "
                     rf"$S = {c['S']:.3g}$", fontsize=8)  # fmt: skip
        ax.legend(fontsize=7, loc="best")
    return fig
