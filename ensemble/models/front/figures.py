"""Figures of paper 003 from a run's tables (matplotlib figures; the caller writes or shows them).

* ``fig2_imbalance``: I0, Ig and Ir vs t at the largest L (Fig. 2);
* ``fig3_threshold_time``: t~ vs W per L and vs L per W, with the Eq. (9) fit (Fig. 3);
* ``fig4_front``: h(t) vs t (log axis) at the largest L with the fitted A ln t + B,
  and beside it 1/A vs W per L with the bound 2 ln 4 (the inset of Fig. 4), open markers where A has no plateau;
* ``fig5_L_Ir``: L Ir(t) vs t for each L, one panel per W (Fig. 5).

Figures that need a sweep the run does not have (e.g. Fig. 3 without a W
sweep) are left out.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ensemble.present.display import format_value, mark_unresolved
from ensemble.present.display import math_label as label
from ensemble.present.display import math_names
from ensemble.models.front.analysis import AVALANCHE_BOUND

__all__ = ["figures"]


def figures(exp, tables) -> dict:
    import matplotlib.pyplot as plt

    ctx = _Context(plt, exp, tables["summary"], tables["fits"])
    made = {name: f(ctx) for name, f in (("fig2_imbalance", _fig2), ("fig3_threshold_time", _fig3),
                                        ("fig4_front", _fig4), ("fig5_L_Ir", _fig5))}  # fmt: skip
    return {name: fig for name, fig in made.items() if fig is not None}


#: The papers' own numbers, drawn (hollow, grey) on the figure that reproduces theirs when a run has the paper's
#: setup: kernel family, parameters every point has ("fixed") or some point has ("includes"), and the
#: figure's readings: points (x, y) drawn as hollow markers, or a span of x shaded.
READINGS = [
    {"kernels": ("anderson_trajectory", "anderson_exact"), "fixed": {"L": 100},
     "figure": "fig4_front", "label": "paper 003, Fig. 4(a) inset",
     "points": [(3.0, 4.0), (15.0, 10.0)]},
    {"kernels": ("xxz_trajectory",), "fixed": {"Delta": 1.0}, "includes": {"L": 16},
     "figure": "fig4_front", "label": r"paper 003: $W^* \gtrsim 7$ at $L = 16$",
     "span": (7.0, None)},  # Fig. 4(b): where 1/A meets the bound at L = 16, a range, not a point
]


def _readings(ctx, figure: str) -> list[dict]:
    exp = ctx.exp
    def values(k):  # of every point, defaults included
        return {getattr(pt.params, k, None) for pt in exp.points}

    return [r for r in READINGS if r["figure"] == figure and exp.kernel.name in r["kernels"]
            and all(values(k) == {v} for k, v in r["fixed"].items())
            and all(v in values(k) for k, v in r.get("includes", {}).items())]  # fmt: skip


class _Context:
    def __init__(self, plt, exp, summary, fits):
        self.plt, self.summary, self.fits = plt, summary, fits
        self.exp = exp
        self.params = exp.params_names
        self.swept = exp.swept_names
        self.L_max = summary["L"].max() if "L" in summary else None

    def series(self, observable: str, **where) -> pd.DataFrame:
        s = self.summary[self.summary.observable == observable]
        for k, v in where.items():
            s = s[s[k] == v]
        return s.sort_values("t")

    def point_fits(self, kind: str) -> pd.DataFrame:
        return self.fits[self.fits["fit"] == kind] if "fit" in self.fits else self.fits.iloc[0:0]

    def label(self, row, exclude=()) -> str:
        return label(row, [k for k in self.swept if k not in exclude])

    def points(self, **where) -> pd.DataFrame:
        pts = self.summary[self.params].drop_duplicates()
        for k, v in where.items():
            pts = pts[pts[k] == v]
        return pts


def _at_largest_L(ctx) -> dict:
    return {"L": ctx.L_max} if "L" in ctx.swept else {}


def _fig2(ctx):
    fig, axes = ctx.plt.subplots(1, 2, figsize=(10, 4))
    where = _at_largest_L(ctx)
    top = 0.0
    for i, (_, pt) in enumerate(ctx.points(**where).iterrows()):
        sel = {k: pt[k] for k in ctx.params}
        color = f"C{i % 10}"
        for name, ls in (("I0", "-"), ("Ig", "--")):
            d = ctx.series(name, **sel)
            axes[0].errorbar(d.t, d["mean"], yerr=d["sem"], fmt=ls, color=color, elinewidth=0.8)
        d = ctx.series("Ir", **sel)
        axes[1].errorbar(d.t, d["mean"], yerr=d["sem"], fmt=".-", color=color, label=ctx.label(pt))
        top = max(top, float(np.nanmax(d["mean"] + d["sem"])) if len(d) else 0.0)
    r_th = ctx.point_fits("threshold_time")["r_th"]
    if len(r_th):
        r = float(r_th.iloc[0])
        if top >= 0.5 * r:  # the threshold line only when the data come near it; else say so
            axes[1].axhline(r, color="k", ls=":", lw=1, label=f"$r_{{\\rm th}} = {r:g}$")
        else:
            axes[1].text(0.98, 0.03, f"$r_{{\\rm th}} = {r:g}$ (above the data)", transform=axes[1].transAxes,
                         ha="right", va="bottom", color="0.3")  # fmt: skip
    suffix = f" ($L = {format_value(ctx.L_max)}$)" if where else ""
    axes[0].set_title(r"$I_0$ (solid: no bath), $I_\gamma$ (dashed: bath)" + suffix)
    axes[1].set_title(r"$I_r = (I_0 - I_\gamma)/I_0$" + suffix)
    axes[0].set_ylabel(r"imbalance $I(t)$")
    axes[1].set_ylabel(r"relative imbalance $I_r(t)$")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel(r"$J t$")
    swept = [k for k in ctx.swept if k not in where]
    # one legend for both panels (the same colour is the same point in each), beside them, off the data
    axes[1].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
                   title=math_names(swept) if swept else None)  # fmt: skip
    return fig


def _fig3(ctx):
    thr = ctx.point_fits("threshold_time")
    if not {"L", "W"} <= set(ctx.params) or not len(thr) or thr["t_tilde"].notna().sum() < 2:
        return None
    thr = thr[thr["t_tilde"].notna()]
    scaling = ctx.point_fits("threshold_scaling")
    scaling = scaling[scaling["outcome"] == "fitted"] if len(scaling) else scaling
    # one Eq. (9) fit per group of the other swept parameters (e.g. gamma, unraveling): markers per group
    others = [k for k in ctx.swept if k not in ("L", "W") and k in thr.columns]
    fig, axes = ctx.plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    marked: dict = {}
    for ax, (x, by) in zip(axes, (("W", "L"), ("L", "W"))):
        groups = list(thr.groupby([by] + others, sort=True))
        offset = _side_by_side(thr[x], len(groups))
        for i, (key, g) in enumerate(groups):
            val, rest = key[0], dict(zip(others, key[1:]))
            g = g.sort_values(x)
            color = f"C{i % 10}"
            yerr = np.vstack([g.t_tilde - g.t_tilde * np.exp(-g.ln_t_tilde_err), g.t_tilde * np.exp(g.ln_t_tilde_err) - g.t_tilde])
            text = label({by: val, **rest}, [by, *others])
            xs = g[x] + offset * (i - (len(groups) - 1) / 2)
            ax.errorbar(xs, g.t_tilde, yerr=yerr, fmt="o", color=color, label=text)
            if "status" in g:
                mark_unresolved(ax, xs, g.t_tilde, g["status"], color, labelled=marked.setdefault(id(ax), set()))
            fit = _matching(scaling, rest)
            if fit is not None:
                xx = np.linspace(g[x].min(), g[x].max(), 50)
                ax.plot(xx, np.exp(fit.alpha * xx * val + fit.c), "-", color=color, lw=1)
        ax.set_yscale("log")
        ax.set_xlabel({"L": r"chain length $L$", "W": r"disorder $W/J$"}.get(x, x))
        ax.legend(fontsize=7)
        _offset_note(ax, offset, len(groups), x)
    axes[0].set_ylabel(r"threshold time $J\tilde t$")
    lines = []  # the Eq. (9) fits, in the figure (a short title, the numbers in a panel) and not only the report
    for _, fit in scaling.iterrows():
        which = label(fit, others, empty="")
        lines.append(f"{which + ': ' if which else ''}$\\alpha = {fit.alpha:.4f} \\pm {fit.alpha_err:.4f}$, "
                     f"$\\tilde W = {fit.W_tilde:.2f} \\pm {fit.W_tilde_err:.2f}$")  # fmt: skip
    if lines:
        fig.suptitle(r"Eq. (9): $\ln \tilde t = \alpha L W + c$")
        axes[1].text(0.98, 0.02, "\n".join(lines), transform=axes[1].transAxes, ha="right", va="bottom")
    return fig


def _side_by_side(x, n_groups: int) -> float:
    """The shift between consecutive series that share x values (6% of the smallest x step), so that their
    points and error bars sit side by side, not on top of each other; 0 for one series."""
    xs = np.unique(np.asarray(x, float))
    step = float(np.min(np.diff(xs))) if len(xs) > 1 else 1.0
    return 0.06 * step if n_groups > 1 else 0.0


def _offset_note(ax, offset: float, n_groups: int, name: str) -> None:
    if offset:
        ax.text(0.02, 0.02, rf"series offset $\pm${offset * (n_groups - 1) / 2:.2g} in ${name}$",
                transform=ax.transAxes, color="0.35")  # fmt: skip


def _matching(rows: pd.DataFrame, where: dict):
    """The one row of ``rows`` whose columns equal ``where`` (None if there is none)."""
    for k, v in where.items():
        if k not in rows:
            return None
        rows = rows[rows[k] == v]
    return rows.iloc[0] if len(rows) else None


def _fig4(ctx):
    front = ctx.point_fits("front")
    if not len(front):
        return None
    with_W = "W" in ctx.params and front["W"].nunique() > 1
    fig, axes = ctx.plt.subplots(1, 2 if with_W else 1, figsize=(12 if with_W else 7, 4.6), squeeze=False,
                                 gridspec_kw={"width_ratios": [1.25, 1]} if with_W else None)
    ax = axes[0][0]
    where = _at_largest_L(ctx)
    rows = front[front["L"] == ctx.L_max] if where else front
    series = [ctx.series("h", **{k: fit[k] for k in ctx.params}) for _, fit in rows.iterrows()]
    means = np.concatenate([h["mean"].to_numpy(float) for h in series]) if series else np.array([])
    means = means[np.isfinite(means)]
    # the range is set by the means, not the error bars: at early times h is a ratio of two vanishing sums and
    # its jackknife errors are huge; points whose error bar exceeds the range are drawn hollow, without it
    lo, hi = (means.min(), means.max()) if len(means) else (np.nan, np.nan)
    span = hi - lo if np.isfinite(hi - lo) and hi > lo else np.inf
    clipped_label = "error bar off scale"
    for i, ((_, fit), h) in enumerate(zip(rows.iterrows(), series)):
        color = f"C{i % 10}"
        wide = (h["sem"] > 0.1 * span).to_numpy()
        ax.errorbar(h.t[~wide], h["mean"][~wide], yerr=h["sem"][~wide], fmt="o", ms=3, color=color,
                    label=ctx.label(fit, exclude=where))  # fmt: skip
        if wide.any():
            ax.plot(h.t[wide], h["mean"][wide], "o", ms=3, mfc="none", color=color)
            if clipped_label:
                ax.plot([], [], "o", ms=3, mfc="none", color="0.4", label=clipped_label)
                clipped_label = ""
        if np.isfinite(fit.A):
            tt = np.geomspace(fit.t_start, fit.t_stop, 50)
            ax.plot(tt, fit.A * np.log(tt) + fit.B, "-", color=color, lw=1.5)
    ax.plot([], [], "-", color="0.3", lw=1.5, label=r"fit $A \ln t + B$")
    ax.set_xscale("log")
    ax.set_xlabel(r"$J t$")
    ax.set_ylabel(r"front $h(t)$" + (f" ($L = {format_value(ctx.L_max)}$)" if where else ""))
    if np.isfinite(span):
        ax.set_ylim(lo - 0.08 * span, hi + 0.08 * span)
    swept = [k for k in ctx.swept if k not in where]
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, ncol=2 if len(rows) > 12 else 1,
              title=math_names(swept) if swept else None)  # beside the panel: off the data
    if with_W:
        b = axes[0][1]
        by = [k for k in ctx.swept if k != "W" and k in front.columns]  # one curve per L (and other swept values)
        groups = list(front.groupby(by, sort=True)) if by else [(None, front)]
        marked: set = set()
        offset = _side_by_side(front.W, len(groups))
        for i, (key, g) in enumerate(groups):
            g = g.sort_values("W")
            label = ctx.label(g.iloc[0], exclude=("W",)) if by else r"$1/A$ (front fits)"
            color = f"C{i % 10}" if by else "k"
            x = g.W + offset * (i - (len(groups) - 1) / 2)
            b.errorbar(x, g.invA, yerr=g.invA_err, fmt="s-", ms=4, color=color, label=label)
            if "status" in g:  # slopes without a resolved plateau of A: open markers (not asymptotic)
                mark_unresolved(b, x, g.invA, g["status"], color, labelled=marked)
        _offset_note(b, offset, len(groups), "W")
        b.axhline(AVALANCHE_BOUND, color="C1", ls="--", lw=1, label=r"bound $2\ln 4$ (Eq. 18)")
        for r in _readings(ctx, "fig4_front"):
            if "span" in r:  # a range of W the paper gives: shaded to the panel's edge
                lo, hi = r["span"]
                left, right = b.get_xlim()
                b.axvspan(lo, right if hi is None else hi, color="0.88", lw=0, zorder=0, label=r["label"])
                b.set_xlim(left, right)
            else:
                xs, ys = zip(*r["points"])
                b.plot(xs, ys, "o", ms=7, mfc="none", mec="0.45", mew=1.2, label=r["label"])
        top = front.invA + front.invA_err
        top = top[np.isfinite(top) & (front.invA > 0)]
        if len(top):
            b.set_ylim(0, 1.1 * max(top.max(), AVALANCHE_BOUND))
        else:  # nothing fitted: the sweep's range, and why the panel has no points
            b.set_xlim(front.W.min() - 0.5, front.W.max() + 0.5)
            b.set_ylim(0, 1.3 * AVALANCHE_BOUND)
            b.text(0.5, 0.35, "no front fit: no fit window in the data", transform=b.transAxes, ha="center", color="0.3")
        b.set_xlabel(r"disorder $W/J$")
        b.set_ylabel(r"inverse front slope $1/A$")
        b.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, markerscale=0.6,
                 title=math_names(by) if by else None)  # beside the panel: off the data
    return fig


def _fig5(ctx):
    if "L" not in ctx.swept:
        return None
    Ws = sorted(ctx.summary["W"].unique()) if "W" in ctx.params else [None]
    n = len(Ws)
    cols = min(n, 3)
    fig, axes = ctx.plt.subplots(math.ceil(n / cols), cols, figsize=(4 * cols, 3.2 * math.ceil(n / cols)), squeeze=False)
    for ax, W in zip(axes.ravel(), Ws):
        where = {"W": W} if W is not None else {}
        for i, (_, pt) in enumerate(ctx.points(**where).sort_values("L").iterrows()):
            d = ctx.series("Ir", **{k: pt[k] for k in ctx.params})
            ax.errorbar(d.t, pt["L"] * d["mean"], yerr=pt["L"] * d["sem"], fmt=".-", color=f"C{i % 10}", label=ctx.label(pt, exclude=("W",)))
        ax.set_xscale("log")
        ax.set_xlabel(r"$J t$")
        ax.set_ylabel(r"$L\, I_r(t)$")
        ax.set_title(f"$W = {W:g}$" if W is not None else "")
        ax.legend(fontsize=7)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig
