"""Figures from a run's tables (matplotlib, no display needed).

``front.png``: h(t) per point on a log time axis with the fitted A ln t + B
over its window, and an inset of 1/A against the first swept parameter with
the avalanche bound 2 ln 4 (Fig. 4 of paper 003). ``imbalance.png``: I0, Ig
and Ir per point (Fig. 2).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .analysis.front import AVALANCHE_BOUND

__all__ = ["plot_run"]


def plot_run(run_dir: str | Path) -> list[Path]:
    """Write the figures of a run under ``run_dir/plots``; return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run_dir = Path(run_dir)
    summary = pd.read_parquet(run_dir / "tables" / "summary.parquet")
    fits = pd.read_parquet(run_dir / "tables" / "fits.parquet")
    params = [c for c in fits.columns if c in summary.columns and c not in ("n",)]
    swept = [c for c in params if fits[c].nunique() > 1] or params[:1]
    out = run_dir / "plots"
    out.mkdir(exist_ok=True)
    paths = [_front(plt, summary, fits, params, swept, out / "front.png"), _imbalance(plt, summary, params, swept, out / "imbalance.png")]
    plt.close("all")
    return paths


def _label(row, swept) -> str:
    return ", ".join(f"{k} = {row[k]:g}" for k in swept)


def _select(df: pd.DataFrame, row, params) -> pd.DataFrame:
    mask = np.ones(len(df), dtype=bool)
    for k in params:
        mask &= (df[k] == row[k]).to_numpy()
    return df[mask]


def _front(plt, summary, fits, params, swept, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7, 5))
    lo, hi = np.inf, -np.inf
    for i, (_, fit) in enumerate(fits.iterrows()):
        h = _select(summary, fit, params)
        h = h[h.observable == "h"].sort_values("t")
        color = f"C{i}"
        ax.errorbar(h.t, h["mean"], yerr=h["sem"], fmt="o", ms=3, color=color, label=_label(fit, swept))
        lo, hi = min(lo, h["mean"].min()), max(hi, h["mean"].quantile(0.97))
        if np.isfinite(fit.A):
            tt = np.geomspace(fit.t_start, fit.t_stop, 50)
            ax.plot(tt, fit.A * np.log(tt) + fit.B, "-", color=color, lw=2)
    ax.set_xscale("log")
    ax.set_xlabel("t")
    ax.set_ylabel("h(t)")
    if np.isfinite(lo) and np.isfinite(hi) and hi > lo:
        # by the means, not the error bars: at early times h is a ratio of two
        # vanishing sums and its error bars are huge
        pad = 0.1 * (hi - lo)
        ax.set_ylim(lo - pad, hi + 2.2 * (hi - lo))
    ax.legend(loc="center left", bbox_to_anchor=(0.0, 0.36), fontsize=8)
    inset = ax.inset_axes([0.09, 0.58, 0.36, 0.36])
    x = fits[swept[0]].to_numpy(dtype=float)
    inset.errorbar(x, fits.invA, yerr=fits.invA_err, fmt="s", ms=4, color="k")
    inset.axhline(AVALANCHE_BOUND, color="r", ls="--", lw=1, label="2 ln 4")
    inset.set_xlabel(swept[0], fontsize=8)
    inset.set_ylabel("1/A", fontsize=8)
    inset.tick_params(labelsize=7)
    inset.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def _imbalance(plt, summary, params, swept, path: Path) -> Path:
    points = summary[params].drop_duplicates()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for i, (_, pt) in enumerate(points.iterrows()):
        df = _select(summary, pt, params)
        color = f"C{i}"
        for name, ls in (("I0", "-"), ("Ig", "--")):
            d = df[df.observable == name].sort_values("t")
            axes[0].plot(d.t, d["mean"], ls, color=color, label=f"{name}, {_label(pt, swept)}" if ls == "-" else None)
        d = df[df.observable == "Ir"].sort_values("t")
        axes[1].errorbar(d.t, d["mean"], yerr=d["sem"], fmt=".-", color=color, label=_label(pt, swept))
    axes[0].set_title("I0 (solid), Ig (dashed)")
    axes[1].set_title("Ir = (I0 - Ig) / I0")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("t")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path
