"""Figures of paper 002 from a run's tables (xxz_bubble kernel).

* ``fig2_gap_ratio``: mean r vs W per L, with bubble and without (a panel for each the run has), GOE
  and Poisson lines; beside them, the L / L' crossings vs 1/L;
* ``fig3_purity``: purity vs distance from the bubble per W at the largest L, with the
  bubble-less L + 2 band (site average +- error);
* ``fig4_purity_vs_L``: purity at distance 5 (or the largest that every L has) vs L per W;
* ``fig5_correlation``: C(r) per W, solid with bubble (largest L), dashed without (L + 2);
* ``fig7_magnetization``: distributions of m = 2<S^z_i> per distance, with (colours) and
  without (black) bubble, one panel per W (up to four);
* ``fig6_gap_ratio_vs_beta``: mean r vs the bubble bandwidth beta, one panel per n_GOE, one curve
  per W, with the fitted peak (band: its bootstrap 16-84% range) and the paper's choice (SM Fig. 6);
* ``fig8_purity_vs_ngoe``: purity at several distances from the bubble vs n_GOE per W, the
  bubble-less chain (n_GOE = 0) as horizontal lines (SM Fig. 8);
* ``fig9_delta``: gamma_XXZ - gamma_i with the fits delta_0 + A e^(-i/xi) and the fitted
  avalanche model of Eq. (6) (dotted); lower panel delta_0 vs W per L.
"""

from __future__ import annotations

import math

import numpy as np

from ensemble.present.display import math_label as _label
from ensemble.present.display import symbol as _symbol
from ensemble.present.colours import Colouring, panel_grid
from ensemble.present.levels import gap_ratio_figure
from ensemble.models.bubble.analysis import R_GOE, R_POISSON, avalanche_purity

__all__ = ["figures"]


def figures(exp, tables) -> dict:
    import matplotlib.pyplot as plt

    summary, fits = tables["summary"], tables["fits"]
    made = {
        "fig2_gap_ratio": _fig2(plt, fits),
        "fig3_purity": _fig3(plt, summary, fits),
        "fig4_purity_vs_L": _fig4(plt, summary),
        "fig5_correlation": _fig5(plt, summary),
        "fig6_gap_ratio_vs_beta": _fig6(plt, fits, exp.swept_names),
        "fig7_magnetization": _fig7(plt, summary),
        "fig8_purity_vs_ngoe": _fig8(plt, summary, exp.swept_names),
        "fig9_delta": _fig9(plt, summary, fits),
        "gap_ratio_distribution": gap_ratio_figure(plt, summary, exp.swept_names),
    }
    return {name: fig for name, fig in made.items() if fig is not None}


def _kind(fits, name):
    return fits[fits["fit"] == name] if "fit" in fits else fits.iloc[0:0]


def _fig2(plt, fits):
    """Mean r vs W per L, one panel per kind of chain the run has (with, without bubble), and the crossings of
    successive L against 1/L in a panel of their own (an inset would sit where the curves cross)."""
    pts = _kind(fits, "bubble_point")
    if pts.empty or pts.W.nunique() < 2 or "r_mean" not in pts:
        return None
    cross = _kind(fits, "gap_crossing")
    kinds = [bubble for bubble in (True, False) if ((pts.n_goe > 0) == bubble).any()]
    finite = cross[np.isfinite(cross.W_cross)] if len(cross) else cross
    n = len(kinds) + bool(len(finite))
    fig, axes = plt.subplots(1, n, figsize=(5 * n, 4), squeeze=False)
    axes = list(axes[0])
    for ax, bubble in zip(axes, kinds):
        sel = pts[(pts.n_goe > 0) == bubble]
        for i, (L, g) in enumerate(sel.groupby("L")):
            g = g.sort_values("W")
            ax.errorbar(g.W, g.r_mean, yerr=g.r_mean_err, fmt="o-", ms=3, color=f"C{i}", label=f"$L = {L}$")
        ax.axhline(R_GOE, color="k", ls="--", lw=0.8, label="GOE")
        ax.axhline(R_POISSON, color="k", ls=":", lw=0.8, label="Poisson")
        ax.set_xlabel(r"disorder $W/J$")
        ax.set_ylabel(r"mean gap ratio $\langle r\rangle$")
        if len(kinds) > 1:
            ax.set_title("chain + bubble" if bubble else "chain without bubble")
        ax.legend(fontsize=7, loc="best")
    if len(finite):
        ax = axes[-1]
        for bubble, marker in ((True, "s"), (False, "o")):
            c = finite[(finite.n_goe > 0) == bubble].sort_values("L_a")
            if len(c):
                ax.errorbar(1.0 / c.L_a, c.W_cross, yerr=c.W_cross_err, fmt=marker, ms=4,
                            label="with bubble" if bubble else "without bubble")  # fmt: skip
        ax.set_xlabel(r"$1/L$ (crossing of $L$ and the next size)")
        ax.set_ylabel(r"crossing $W_\times/J$")
        ax.legend(fontsize=7, loc="best")
    return fig


def _refs(fits, L, W):
    pts = _kind(fits, "bubble_point")
    return pts[(pts.n_goe == 0) & (pts.L == L + 2) & (pts.W == W)]


def _fig3(plt, summary, fits):
    gd = summary[(summary.observable == "gamma_dist") & (summary.n_goe > 0)]
    if gd.empty:
        return None
    L = gd.L.max()
    gd = gd[gd.L == L]
    fixed = []  # one curve per W: every other swept parameter at one value (its largest), named in the title
    for k in [c for c in gd.columns[: list(gd.columns).index("observable")] if c not in ("L", "W")]:
        if gd[k].nunique() > 1:
            v = gd[k].max()
            gd = gd[gd[k] == v]
            fixed.append(f"${_symbol(k)} = {v:g}$" if isinstance(v, float | int | np.number) else f"{k} = {v}")
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for i, (W, g) in enumerate(gd.groupby("W")):
        g = g.sort_values("dist")
        ax.errorbar(g.dist, g["mean"], yerr=g["sem"], fmt="o-", ms=3, color=f"C{i}", label=f"$W = {W:g}$")
        ref = _refs(fits, L, W)
        if len(ref):
            m, e = float(ref.gamma_avg.iloc[0]), float(ref.gamma_avg_err.iloc[0])
            ax.axhspan(m - e, m + e, color=f"C{i}", alpha=0.25, lw=0)
    ax.set_xlabel(r"distance $i$ from the bubble (sites)")
    ax.set_ylabel(r"one-site purity $\gamma_i$")
    ax.set_title(f"$L = {L}$ with bubble" + (", " + ", ".join(fixed) if fixed else "") + f"; bands: no bubble, $L = {L + 2}$")
    ax.legend()
    return fig


def _fig4(plt, summary):
    gd = summary[summary.observable == "gamma_dist"]
    if gd.empty or gd.L.nunique() < 2:
        return None
    d = int(min(5, gd.groupby("L").dist.max().min()))  # one distance that every L has
    gd = gd[gd.dist == d]
    kinds = [bubble for bubble in (True, False) if ((gd.n_goe > 0) == bubble).any()]  # no empty panel
    colours = Colouring(plt, "W", gd.W)
    fig, axes, cax = panel_grid(plt, len(kinds), colours.bar, width=7.0, height=4.0)
    for ax, bubble in zip(axes, kinds):
        sel = gd[(gd.n_goe > 0) == bubble]
        for W, g in sel.groupby("W"):
            g = g.sort_values("L")
            ax.errorbar(g.L, g["mean"], yerr=g["sem"], fmt="o-", ms=3, color=colours.color(W), label=colours.label(W))
        ax.set_xlabel(r"chain length $L$")
        ax.xaxis.get_major_locator().set_params(integer=True)
        if len(kinds) > 1:
            ax.set_title("with bubble" if bubble else "without bubble")
        if not colours.bar:
            ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    colours.add_bar(fig, cax)
    axes[0].set_ylabel(rf"purity $\gamma_{{{d}}}$ at distance {d}")
    return fig


def _fig5(plt, summary):
    C = summary[summary.observable == "C"]
    if C.empty:
        return None
    fig, ax = plt.subplots(figsize=(6, 4.5))
    bub = C[C.n_goe > 0]
    L = bub.L.max() if len(bub) else None
    for i, W in enumerate(sorted(C.W.unique())):
        for sel, ls, lab in ((bub[bub.L == L] if L else bub, "-", "bubble, $L = {L}$"),
                             (C[(C.n_goe == 0) & (C.L == (L + 2 if L else C.L.max()))], "--", "no bubble, $L = {L}$")):  # fmt: skip
            g = sel[sel.W == W].sort_values("site")
            if g.empty:
                continue
            g = g[g.site <= g.L.iloc[0] // 2]
            ax.errorbar(g.site, g["mean"], yerr=g["sem"], fmt="o" + ls, ms=3, color=f"C{i}",
                        label=f"$W = {W:g}$, " + lab.format(L=g.L.iloc[0]))  # fmt: skip
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel(r"distance $r$ (sites)")
    ax.set_ylabel(r"correlation $C(r)$")
    ax.legend(fontsize=6)
    return fig


def _fig6(plt, fits, swept):
    pts = _kind(fits, "bubble_point")
    if pts.empty or "beta" not in swept or pts.beta.nunique() < 3 or "r_mean" not in pts:
        return None
    pts = pts[pts.n_goe > 0]
    peaks = _kind(fits, "beta_peak")
    ns = sorted(pts.n_goe.unique())
    cols = min(len(ns), 2)
    rows = math.ceil(len(ns) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.8 * rows), squeeze=False, sharey=True)
    curve = [k for k in swept if k not in ("beta", "n_goe") and pts[k].nunique() > 1]
    for ax, n in zip(axes.ravel(), ns):
        g = pts[pts.n_goe == n]
        marked_peak = False
        for i, (key, c) in enumerate(g.groupby(curve) if curve else [((), g)]):
            key = key if isinstance(key, tuple) else (key,)
            c = c.sort_values("beta")
            lab = _label(dict(zip(curve, key)), curve) if curve else ""
            color = f"C{i % 10}"
            ax.errorbar(c.beta, c.r_mean, yerr=c.r_mean_err, fmt="o-", ms=3, color=color, label=lab or None)
            pk = peaks[(peaks.n_goe == n)]
            for k, v in zip(curve, key):
                pk = pk[pk[k] == v] if k in pk else pk
            if len(pk) and pk.iloc[0].outcome == "peak":  # the fitted maximum and its 68% range, above the curve
                p = pk.iloc[0]
                y = float(np.nanmax(c.r_mean + c.r_mean_err)) + 0.004 * (i + 1)
                below, above = max(0.0, p.beta_peak - p.beta_peak_lo), max(0.0, p.beta_peak_hi - p.beta_peak)
                ax.errorbar([p.beta_peak], [y], xerr=[[below], [above]],
                            fmt="v", ms=4, color=color, capsize=2, mfc=color if p.get("status") == "resolved" else "none")  # fmt: skip
                if not marked_peak:
                    ax.plot([], [], "v", ms=4, color="0.3", label=r"fitted maximum, 68% range (hollow: not resolved)")
                    marked_peak = True
        paper = _kind(fits, "beta_peak")
        paper = paper[paper.n_goe == n].beta_paper
        if len(paper) and np.isfinite(paper.iloc[0]):
            ax.axvline(paper.iloc[0], color="k", ls="--", lw=1)
            ax.set_title(rf"$n_{{\rm GOE}} = {n}$ (paper's choice: $\beta = {paper.iloc[0]:g}$)")
        else:
            ax.set_title(rf"$n_{{\rm GOE}} = {n}$")
        ax.axhline(R_GOE, color="0.5", ls=":", lw=0.8)
        ax.set_xlabel(r"bubble bandwidth $\beta$ (Eq. 4)")
    # one legend for every panel (the same colour is the same curve in each), below them, off the data
    first = axes.ravel()[0]
    first.plot([], [], ":", color="0.5", lw=0.8, label=rf"GOE $\langle r\rangle = {R_GOE:.4f}$")
    first.plot([], [], "--", color="k", lw=1, label=r"the paper's choice of $\beta$")
    handles, labels = first.get_legend_handles_labels()
    for ax in axes.ravel()[1:]:  # a maximum marker drawn only in a later panel
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="lower center", ncol=min(3, len(labels)))  # placed below the panels by figstyle.finish
    for ax in axes[:, 0]:
        ax.set_ylabel(r"mean gap ratio $\langle r\rangle$")
    for ax in axes.ravel()[len(ns):]:
        ax.set_visible(False)
    return fig


def _fig8(plt, summary, swept):
    gd = summary[summary.observable == "gamma_dist"]
    if gd.empty or "n_goe" not in swept or gd[gd.n_goe > 0].n_goe.nunique() < 2:
        return None
    L = gd.L.max()
    gd = gd[gd.L == L]
    dists = sorted(gd[gd.n_goe > 0].dist.unique())
    dists = [dists[int(round(j))] for j in np.linspace(0, len(dists) - 1, min(4, len(dists)))]
    fig, axes = plt.subplots(1, len(dists), figsize=(3.6 * len(dists), 3.6), squeeze=False, sharey=True)
    for ax, d in zip(axes[0], dists):
        for i, (W, g) in enumerate(gd.groupby("W")):
            b = g[(g.n_goe > 0) & (g.dist == d)].sort_values("n_goe")
            ax.errorbar(b.n_goe, b["mean"], yerr=b["sem"], fmt="o-", ms=3, color=f"C{i}", label=f"$W = {W:g}$")
            ref = g[(g.n_goe == 0) & (g.dist == d)]
            if len(ref):
                ax.axhline(float(ref["mean"].iloc[0]), color=f"C{i}", ls="--", lw=0.8)
        ax.set_xlabel(r"bubble dimension $n_{\rm GOE}$")
        ax.set_title(f"distance $i = {d}$ from the bubble", fontsize=9)
    axes[0][0].set_ylabel(rf"purity $\gamma_i$ ($L = {L}$)")
    axes[0][0].legend(fontsize=7, title="dashed: no bubble", title_fontsize=7)
    return fig


def _fig7(plt, summary):
    h = summary[summary.observable == "mag_hist"]
    if h.empty:
        return None
    bub = h[h.n_goe > 0]
    L = bub.L.max() if len(bub) else h.L.max()
    # the reference: the bubble-less chain at L + 2 (the paper's), or, in a run without bubble, the chain itself
    ref_L = L + 2 if len(bub) else L
    Ws = sorted(h.W.unique())
    Ws = [Ws[int(round(j))] for j in np.linspace(0, len(Ws) - 1, min(4, len(Ws)))]
    fig, axes = plt.subplots(1, len(Ws), figsize=(3.2 * len(Ws), 3.4), squeeze=False)
    for ax, W in zip(axes[0], Ws):
        b = bub[(bub.L == L) & (bub.W == W)]
        for j, (d, g) in enumerate(b.groupby("dist")):
            ax.plot(g.m, g["mean"], color=plt.cm.viridis(j / max(1, b.dist.nunique() - 1)), lw=1, label=f"$i = {d}$")
        ref = h[(h.n_goe == 0) & (h.L == ref_L) & (h.W == W)]
        if len(ref):
            r = ref.groupby("m")["mean"].mean()
            ax.plot(r.index, r.values, color="k", lw=1.2, label=f"no bubble, $L = {ref_L}$ (all sites)")
        if (b["mean"] > 0).any() or (ref["mean"] > 0).any():
            ax.set_yscale("log")
        ax.set_xlabel(r"$2\langle S^z_i\rangle$")
        ax.set_title(f"$W = {W:g}$" + (f", $L = {L}$" if len(bub) else ""))
    axes[0][0].set_ylabel(r"probability density")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, ncols=min(len(labels), 6), frameon=False)  # below the panels
    return fig


def _fig9(plt, summary, fits):
    shift = _kind(fits, "purity_shift")
    if shift.empty:
        return None
    model = _kind(fits, "avalanche_model")
    L = shift.L.max()
    fig, (a, b) = plt.subplots(2, 1, figsize=(6, 7))
    gd = summary[(summary.observable == "gamma_dist") & (summary.n_goe > 0) & (summary.L == L)]
    for i, row in enumerate(shift[shift.L == L].sort_values("W").itertuples()):
        g = gd[gd.W == row.W].sort_values("dist")
        for k in ("n_goe", "beta", "g", "Delta", "J"):
            g = g[g[k] == getattr(row, k)]
        if g.empty:
            continue
        x = g.dist.to_numpy(float)
        a.errorbar(x, row.gamma_xxz - g["mean"], yerr=np.hypot(g["sem"], row.gamma_xxz_err), fmt="o", ms=3,
                   color=f"C{i}", label=f"$W = {row.W:g}$")  # fmt: skip
        xs = np.linspace(0, x.max(), 100)
        if math.isfinite(row.fit_xi):
            a.plot(xs, row.delta_0 + row.fit_A * np.exp(-xs / row.fit_xi), "--", color=f"C{i}", lw=1)
        m = model[(model.L == L) & (model.W == row.W)]
        if len(m) and m.iloc[0].get("outcome") == "ok":
            mm = m.iloc[0]
            a.plot(xs, row.gamma_xxz - avalanche_purity(xs, mm.xi, mm.p, row.gamma_xxz, row.n_goe, L), ":",
                   color=f"C{i}", lw=1)  # fmt: skip
    a.axhline(0, color="k", lw=0.5)
    a.set_xlabel(r"distance $i$ (sites)")
    a.set_ylabel(r"$\gamma_{\rm XXZ} - \gamma_i$")
    a.set_title(rf"$L = {L}$: fits $\delta_0 + A e^{{-i/\xi}}$ (dashed), Eq. (6) (dotted)")
    a.legend(fontsize=7)
    for i, (Lq, g) in enumerate(shift.groupby("L")):
        g = g.sort_values("W")
        b.errorbar(g.W, g.delta_0, yerr=g.delta_0_err, fmt="o-", ms=3, color=f"C{i}", label=f"$L = {Lq}$")
    b.axhline(0, color="k", lw=0.5)
    b.set_xlabel(r"disorder $W/J$")
    b.set_ylabel(r"$\delta_0$")
    b.legend(fontsize=7)
    return fig
