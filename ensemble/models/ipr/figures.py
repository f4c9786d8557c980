"""Figures of paper 004 from a run's tables (rmt_bath kernel).

* ``fig3_bath_growth``: D(O_B) vs the number of LIOMs and its discrete slopes against log 2 and the
  density-of-states estimate of each step (GOE baths);
* ``fig4_crossover``: D(sigma^x_i) vs i with the fitted line and the theory's slope;
* ``fig5_thermalization``: Delta D(O_B) vs G, one curve per bath (collapse);
* ``fig6_hybridization``: hybridization functions, raw and rescaled by the golden-rule width g^2/xi;
* ``lc_theory``: the crossover length l_c(zeta, l_b) of Eq. (16), with the measured zeta_eff.
"""

from __future__ import annotations

import math

import numpy as np

from ensemble.present.display import math_label as _label
from ensemble.present.levels import gap_ratio_figure
from ensemble.models.ipr.analysis import crossover_length, semicircle

__all__ = ["figures"]


def figures(exp, tables) -> dict:
    import matplotlib.pyplot as plt

    summary, fits = tables["summary"], tables["fits"]
    params, swept = exp.params_names, exp.swept_names
    made = {
        "fig3_bath_growth": _fig3(plt, fits, swept),
        "fig4_crossover": _fig4(plt, summary, fits, params, swept),
        "fig5_thermalization": _fig5(plt, fits, swept),
        "fig6_hybridization": _fig6(plt, summary, fits, params, swept),
        "lc_theory": _lc(plt, fits),
        "gap_ratio_distribution": gap_ratio_figure(plt, summary, swept),
    }
    return {name: fig for name, fig in made.items() if fig is not None}


def _fig3(plt, fits, swept):
    pts = fits[fits.fit == "ipr_point"]
    grow = fits[fits.fit == "bath_growth"]
    if "D_OB" not in pts or grow.empty:  # no group of points with two or more numbers of LIOMs
        return None
    others = [k for k in swept if k != "n_lioms"]
    fig, (a, b) = plt.subplots(2, 1, figsize=(6, 7), sharex=True)
    groups = pts.groupby(others) if others else [((), pts)]
    for i, (key, g) in enumerate(groups):
        g = g.sort_values("n_lioms")
        lab = _label(g.iloc[0], others)
        a.errorbar(g.n_lioms, g.D_OB, yerr=g.D_OB_err, fmt="o-", color=f"C{i}", label=lab)
        gg = grow
        for k in others:
            gg = gg[gg[k] == g.iloc[0][k]]
        x = (gg.n_from + gg.n_to) / 2
        b.errorbar(x, gg.dD_per_liom, yerr=gg.dD_per_liom_err, fmt="s-", color=f"C{i}", label="measured" if i == 0 else None)
        if "dD_dos" in gg and gg.dD_dos.notna().any():
            b.plot(x, gg.dD_dos, "D:", mfc="white", color=f"C{i}",
                   label="density-of-states estimate (semicircle)" if i == 0 else None)  # fmt: skip
    b.axhline(math.log(2), color="k", ls="--", lw=1, label=r"$\ln 2$")
    a.set_ylabel(r"$D(O_B)$")
    b.set_ylabel(r"discrete slope of $D(O_B)$")
    b.set_xlabel(r"number of LIOMs $n$")
    a.legend(fontsize=7)
    b.legend(fontsize=7)
    return fig


def _fig4(plt, summary, fits, params, swept):
    cross = fits[fits.fit == "crossover"]
    if not len(cross):
        return None
    row = cross.sort_values("n_lioms").iloc[-1]
    D = summary[summary.observable == "D"]
    for k in params:
        D = D[D[k] == row[k]]
    labels = list(D.op)
    idx = [0 if o == "x0" else int(o[1:]) for o in labels if o.startswith("x")]
    vals = D[D.op.str.startswith("x")]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.errorbar(idx, vals["mean"], yerr=vals["sem"], fmt="o", color="C0", label=r"$D(\sigma^x_i)$, mean $\pm$ s.e.")
    i = np.arange(1, int(row.n_lioms) + 1)
    ax.plot(i, row.intercept + row.slope * i, "-", color="C0", label=rf"fit: slope ${row.slope:.3f} \pm {row.slope_err:.3f}$")
    ax.plot(i, row.intercept + row.slope + row.slope_theory * (i - 1), "--", color="k",
            label=f"theory slope {row.slope_theory:.3f}")  # fmt: skip
    ax.set_xlabel(r"LIOM $i$ (0: the spin coupled to the bath)")
    ax.set_ylabel(r"$D(\sigma^x_i)$")
    ax.set_title(_label(row, swept), fontsize=9)
    ax.legend(fontsize=7)
    return fig


def _fig5(plt, fits, swept):
    th = fits[fits.fit == "thermalization"]
    if not len(th):
        return None
    others = [k for k in swept if k != "g_probe"]
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, (key, g) in enumerate(th.groupby(others) if others else [((), th)]):
        g = g.sort_values("G")
        ax.errorbar(g.G, g.delta_D, xerr=g.G_err, yerr=g.delta_D_err, fmt="o-", color=f"C{i}", label=_label(g.iloc[0], others))
    ax.axhline(math.log(2), color="k", ls="--", lw=1, label=r"$\ln 2$")
    ax.set_xscale("log")
    ax.set_xlabel(r"coupling $G$")
    ax.set_ylabel(r"$\Delta D(O_B)$")
    ax.legend(fontsize=7)
    return fig


def _fig6(plt, summary, fits, params, swept):
    hyb = summary[summary.observable == "hyb"]
    if not len(hyb):
        return None
    pts = hyb[params].drop_duplicates()
    goe = pts[pts["bath"] == "goe"] if "bath" in pts else pts
    # the golden-rule rescaling needs the GOE semicircle; a local bath (Fig. 7) gets the raw curve only
    fig, axes = plt.subplots(1, 2 if len(goe) else 1, figsize=(10 if len(goe) else 8, 4), squeeze=False)
    a, b = axes[0][0], (axes[0][1] if len(goe) else None)
    for i, (_, pt) in enumerate(pts.iterrows()):
        d = hyb
        for k in params:
            d = d[d[k] == pt[k]]
        d = d.sort_values("omega")
        c = f"C{i % 10}"
        what = _label(pt, swept) if swept else r"mean $\pm$ s.e. (band)"
        a.plot(d.omega, d["mean"], "-", color=c, label=what + _width_note(fits, pt, params))
        a.fill_between(d.omega, d["mean"] - d["sem"], d["mean"] + d["sem"], color=c, alpha=0.25, lw=0)
        fit = _hyb_fit(fits, pt, params)
        if len(pts) <= 3 and fit is not None and math.isfinite(fit.w50) and ("bath" in pt and pt["bath"] != "goe"):
            # the paper's contrast for a local bath (Fig. 7): not a Lorentzian. The Lorentzian of the same
            # half-weight width (w50 is its half width at half maximum) and weight, for comparison
            x = np.linspace(d.omega.min(), d.omega.max(), 400)
            a.plot(x, fit.w50 / np.pi / (x * x + fit.w50**2), "--", color="0.35", lw=1,
                   label=r"Lorentzian, same $w_{50}$")  # fmt: skip
        if b is not None and ("bath" not in pt or pt["bath"] == "goe"):
            g = pt.g_probe if pt.g_probe >= 0 else pt.g1 * pt.alpha ** (pt.n_lioms - 1)
            w = math.pi * g * g * semicircle(2.0, pt.bandwidth / 2)  # golden rule, GOE bath, h = 1
            b.plot(d.omega / w, d["mean"] * w, "-", color=c)
            b.fill_between(d.omega / w, (d["mean"] - d["sem"]) * w, (d["mean"] + d["sem"]) * w, color=c, alpha=0.25, lw=0)
    a.set_xlabel(r"energy $\omega/\bar h$ (mean LIOM field $\bar h = 1$)")
    a.set_ylabel(r"hybridization $k(\omega)$")
    ys = [np.asarray(line.get_ydata(), float) for line in a.lines]
    ys = np.concatenate([y[np.isfinite(y)] for y in ys]) if ys else np.array([])
    if ys.size and ys.max() > 0:
        a.set_ylim(min(0.0, ys.min()), (1.3 + 0.12 * min(len(pts), 4)) * ys.max())  # headroom: the legend above the curves, not on them
    a.legend(loc="upper right", fontsize=7)
    if b is not None:
        x = np.linspace(-10, 10, 400)
        b.plot(x, 1 / (math.pi * (1 + x * x)), "k--", lw=1, label="Lorentzian of golden-rule width")
        b.set_xlabel(r"$\omega / w_{\rm GR}$")
        b.set_ylabel(r"$k\, w_{\rm GR}$")
        b.set_xlim(-10, 10)
        b.legend()
    return fig


def _hyb_fit(fits, pt, params):
    """The point's ``hybridization`` fit row (w50, its error, status, bin width), or None."""
    rows = fits[fits.fit == "hybridization"] if "fit" in fits else fits.iloc[0:0]
    for k in params:
        if k in rows:
            rows = rows[rows[k] == pt[k]]
    return rows.iloc[0] if len(rows) else None


def _width_note(fits, pt, params) -> str:
    """" (w50 at resolution limit)" etc. when the point's half-weight width is not resolved by the bins."""
    row = _hyb_fit(fits, pt, params)
    status = row.get("status") if row is not None else None
    return rf" ($w_{{50}}$ {status}: bins of {row.bin_width:.3g})" if status not in (None, "resolved") else ""


def _lc(plt, fits):
    cross = fits[fits.fit == "crossover"]
    zeta = np.linspace(1.5, 2 / math.log(2) * 0.999, 200)
    fig, ax = plt.subplots(figsize=(6, 4))
    for l_b in (4, 6, 9):
        ax.plot(zeta, [crossover_length(z, l_b) for z in zeta], label=rf"$l_{{\rm b}} = {l_b}$")
    for _, r in cross.iterrows():
        if math.isfinite(r.zeta_eff):
            ax.axvline(r.zeta_eff, color="gray", ls=":", lw=1)
    ax.axvline(2 / math.log(2), color="k", ls="--", lw=1, label=r"$\zeta = 2/\ln 2$: $l_c \to \infty$")
    ax.set_yscale("log")
    ax.set_xlabel(r"$\zeta$")
    ax.set_ylabel(r"$l_c$ (Eq. 16)")
    ax.set_title(r"crossover length; dotted: $\zeta_{\rm eff}$ from the measured slopes", fontsize=9)
    ax.legend(fontsize=7)
    return fig
