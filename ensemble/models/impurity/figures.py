"""Figures of paper 001 from a run's tables (boson_impurity kernel), at the largest L of each U.

* ``fig1_c_boson``: coarse-grained c-boson profiles at several times (log scale) with the
  Eq. (3) fits, and l_c(t) with the Eq. (4) fit;
* ``fig2_interaction``: l_c(t) for every U, and the entanglement profile S(cut) at the
  sample time closest to 130;
* ``fig3_d_bosons``: n_d at the last time, and l_d(t) at the centre and two other sites;
* ``fig4_entanglement``: S(t) for several cuts with Eq. (5), and S against |cut - L/2| at
  three times.
"""

from __future__ import annotations

import numpy as np

from ensemble.models.impurity.analysis import eq3_profile, eq4_growth

__all__ = ["figures"]


def figures(exp, tables) -> dict:
    import matplotlib.pyplot as plt

    summary, fits = tables["summary"], tables["fits"]
    pts = fits[fits["fit"] == "impurity_point"] if "fit" in fits else fits
    if pts.empty:
        return {}
    ctx = _Ctx(summary, pts)
    ctx.eq4_from = float(getattr(exp.fit, "eq4_from", 0.0))
    made = {"fig1_c_boson": _fig1(plt, ctx), "fig2_interaction": _fig2(plt, ctx), "fig3_d_bosons": _fig3(plt, ctx),
            "fig4_entanglement": _fig4(plt, ctx)}  # fmt: skip
    return {name: fig for name, fig in made.items() if fig is not None}


class _Ctx:
    def __init__(self, summary, pts):
        self.s, self.pts = summary, pts
        self.point = pts.sort_values(["L", "U"]).iloc[-1]  # largest L, then largest U

    def obs(self, name, point=None):
        row = self.point if point is None else point
        df = self.s[self.s.observable == name]
        for k in ("L", "U", "W", "t_d", "t_c", "d_bits", "c_site"):
            if k in df:
                df = df[df[k] == row[k]]
        return df


def _fig1(plt, c):
    n = c.obs("n_c_cg").dropna(subset=["mean"])
    lc = c.obs("l_c").sort_values("t")
    R = c.obs("R").sort_values("t")
    if n.empty:
        return None
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    times = sorted(n.t.unique())
    pick = sorted({times[round(k)] for k in np.linspace(len(times) // 3, len(times) - 1, 4)})  # no time twice
    i0 = int(c.point["c_site"])
    for j, t in enumerate(pick):
        g = n[(n.t == t) & (n["mean"] > 0)].sort_values("site")
        x = g.site.to_numpy(float) + 1 - i0
        a.errorbar(x, g["mean"], yerr=g["sem"], fmt="o", ms=3, color=f"C{j}", label=f"$J t = {t:.3g}$")
        a.set_yscale("log")
        lct, Rt = lc[lc.t == t]["mean"].iloc[0], R[R.t == t]["mean"].iloc[0]
        if np.isfinite(lct) and np.isfinite(Rt):
            xs = np.linspace(x.min(), x.max(), 200)
            shape = np.exp(eq3_profile(x, 0.0, lct, Rt))
            scale = np.exp(np.mean(np.log(g["mean"].to_numpy()) - np.log(shape)))
            a.semilogy(xs, scale * np.exp(eq3_profile(xs, 0.0, lct, Rt)), "--", color=f"C{j}", lw=1)
    a.set_xlabel(r"$x = i - L/2$ (sites)")
    a.set_ylabel(r"coarse-grained $n_c$")
    row = c.point
    a.set_title(f"$L = {row.L}$, $U = {row.U:g}$, $W = {row.W:g}$; dashed: Eq. (3) at each time")
    a.legend()
    b.errorbar(lc.t, lc["mean"], yerr=lc["sem"], fmt="o", ms=3, label=r"$l_c(t)$ from the Eq. (3) fit")
    row = c.point
    if np.isfinite(row.get("xi_c", np.nan)):
        t0 = max(c.eq4_from, float(lc.t.min()))
        windowed = c.eq4_from > lc.t.min()
        ts = np.geomspace(t0, lc.t.max(), 200)
        where = rf" for $J t \geq {t0:g}$" if windowed else ""
        b.plot(ts, eq4_growth(ts, row.xi_c, row.T0), "k--", lw=1,
               label=rf"Eq. (4){where}: $\xi_c = {row.xi_c:.2f} \pm {row.xi_c_err:.2f}$")  # fmt: skip
        if windowed:  # fitted from eq4_from on ([fit] eq4_from): before it, the extrapolation, dotted
            early = np.geomspace(lc.t.min(), t0, 60)
            b.plot(early, eq4_growth(early, row.xi_c, row.T0), "k:", lw=1, label="Eq. (4), extrapolated")
            b.axvline(t0, color="0.6", lw=0.8)
    b.set_xscale("log")
    b.set_xlabel(r"$J t$")
    b.set_ylabel(r"$l_c$ (sites)")
    b.set_title(f"$L = {row.L}$, $U = {row.U:g}$, $W = {row.W:g}$")
    b.legend(frameon=True, framealpha=0.9, edgecolor="none")  # opaque: the fit window's line runs behind it
    return fig


def _fig2(plt, c):
    if c.pts.U.nunique() < 2:
        return None
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for j, (U, g) in enumerate(c.pts.groupby("U")):
        row = g.sort_values("L").iloc[-1]
        lc = c.obs("l_c", row).sort_values("t")
        a.errorbar(lc.t, lc["mean"], yerr=lc["sem"], fmt="o-", ms=3, color=f"C{j}", label=f"$U = {U:g}$, $L = {row.L}$")
        S = c.obs("S", row)
        if len(S):
            t = S.t.unique()[np.argmin(np.abs(S.t.unique() - 130.0))]
            g2 = S[S.t == t].sort_values("cut")
            b.errorbar(g2.cut, g2["mean"], yerr=g2["sem"], fmt="o-", ms=3, color=f"C{j}", label=f"$U = {U:g}$, $J t = {t:.3g}$")
    a.set_xscale("log")
    a.set_yscale("log")  # the Eq. (3) fit of a not yet exponential early profile gives very long l_c
    a.set_xlabel(r"$J t$")
    a.set_ylabel(r"$l_c(t)$ (sites), Eq. (3) fit")
    a.legend(fontsize=7)
    b.set_xlabel(r"cut $i$")
    b.set_ylabel(r"entanglement entropy $S(i)$")
    b.legend(fontsize=7)
    return fig


def _fig3(plt, c):
    nd = c.obs("n_d")
    ld = c.obs("l_d")
    if nd.empty:
        return None
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    last = nd[nd.t == nd.t.max()].sort_values("site")
    a.errorbar(last.site, last["mean"], yerr=last["sem"], fmt="o-", ms=3)
    a.set_xlabel(r"site $i$")
    a.set_ylabel(rf"$\langle n_{{d,i}}\rangle$ at $J t = {nd.t.max():g}$")
    L, i0 = int(c.point["L"]), int(c.point["c_site"])
    for j, i in enumerate(sorted({i0, max(2, i0 - L // 4), min(L - 3, i0 + L // 4)})):
        g = ld[ld.site == i].sort_values("t")
        b.errorbar(g.t, g["mean"], yerr=g["sem"], fmt="o-", ms=3, color=f"C{j}", label=f"$i = {i}$")
    b.set_xscale("log")
    b.set_xlabel(r"$J t$")
    b.set_ylabel(r"$l_d(t, i)$ (sites)")
    b.legend(fontsize=7)
    sat = c.obs("l_d_sat").dropna(subset=["mean"]).sort_values("site")
    if len(sat):
        ins = b.inset_axes([0.62, 0.12, 0.35, 0.35])
        ins.errorbar(sat.site, sat["mean"], yerr=sat["sem"], fmt="o", ms=2)
        ins.set_xlabel(r"$i$", fontsize=7)
        ins.set_ylabel(r"$l_d(t\to\infty, i)$", fontsize=7)
        ins.tick_params(labelsize=6)
    return fig


def _fig4(plt, c):
    S = c.obs("S")
    if S.empty:
        return None
    row = c.point
    nc = c.obs("n_c")
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    L, i0 = int(row.L), int(row.c_site)
    cuts = sorted({i0, max(1, i0 - L // 4), max(1, i0 - L // 2 + 1)})
    for j, cut in enumerate(cuts):
        g = S[S.cut == cut].sort_values("t")
        a.errorbar(g.t, g["mean"], yerr=g["sem"], fmt="o", ms=3, color=f"C{j}", label=f"cut {cut}")
        if np.isfinite(row.get("xi_S", np.nan)):
            n_at = nc[nc.site == cut].sort_values("t")["mean"].to_numpy()
            a.plot(g.t, row.S_AI + row.xi_S * np.log1p(abs(row.U) * n_at * g.t.to_numpy()), "--", color=f"C{j}", lw=1)
    a.set_xscale("log")
    a.set_xlabel(r"$J t$")
    a.set_ylabel(r"$S(i, t)$")
    a.set_title("dashed: Eq. (5)", fontsize=8)
    a.legend(fontsize=7)
    times = sorted(S.t.unique())
    for j, t in enumerate(times[-3:]):
        g = S[S.t == t].sort_values("cut")
        b.errorbar(np.abs(g.cut - L / 2), g["mean"], yerr=g["sem"], fmt="o", ms=3, color=f"C{j}", label=f"$J t = {t:.3g}$")
    b.set_xlabel(r"$|i - L/2|$ (sites)")
    b.set_ylabel(r"$S$")
    b.legend(fontsize=7)
    return fig
