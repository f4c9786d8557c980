"""Figures of paper 000 from a run's tables (coupled_chains kernel).

* ``fig2_dynamics``: M(t) of system and environment (diagonal ensemble dashed, when run) and
  the window-averaged <S^z_i> per site, for one point (J_int = 1 and W_e = 0 if present);
* ``map_<config>_<initial>.png``: heat maps of M_sys and M_env over (J_int, W_env) (Figs. 3, 5);
* ``fidelity_<config>_<initial>.png``: the same for F_sys, F_env (Fig. 9);
* ``fig8_M_vs_We`` and ``fig8_M_vs_l``: M vs W_env per J_int, and vs chain length;
* ``fig10_dimers``: M_sys of strongly coupled aligned ladders over (W_s, W_e), and the
  ladder at W_s = W_e = W against the single chain (Fig. 10).
"""

from __future__ import annotations

import numpy as np

__all__ = ["figures"]


def figures(exp, tables) -> dict:
    import matplotlib.pyplot as plt

    summary, fits = tables["summary"], tables["fits"]
    pts = fits[fits["fit"] == "quench_point"]
    made = {"fig2_dynamics": _fig2(plt, summary)}
    for (config, initial), g in pts.groupby(["config", "initial"]):
        made[f"map_{config}_{initial}"] = _map(plt, g, "M", f"{config}, {initial}")
        made[f"fidelity_{config}_{initial}"] = _map(plt, g, "F", f"{config}, {initial}")
    made.update(fig8_M_vs_We=_fig8(plt, pts, "W_e"), fig8_M_vs_l=_fig8(plt, pts, "l"), fig10_dimers=_fig10(plt, pts, fits))
    return {name: fig for name, fig in made.items() if fig is not None}


def _fig2(plt, summary):
    M = summary[summary.observable == "M"]
    if M.empty:
        return None
    pick = M[(M.J_int == 1.0) & (M.W_e == 0.0)]
    M = pick if len(pick) else M
    keys = ["l", "W_s", "W_e", "J_int", "config", "initial"]
    first = M.iloc[0]
    sel = {k: first[k] for k in keys}

    def where(df):
        for k, v in sel.items():
            df = df[df[k] == v]
        return df

    M = where(M)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    diag = where(summary[summary.observable == "M_diag"])
    for i, part in enumerate(("sys", "env")):
        g = M[M.part == part].sort_values("t")
        a.errorbar(g.t, g["mean"], yerr=g["sem"], fmt="o-", ms=3, color=f"C{i}", label=f"M_{part}")
        d = diag[diag.part == part]
        if len(d):
            a.axhline(float(d["mean"].iloc[0]), color=f"C{i}", ls="--", lw=1, label=f"M_{part}, diagonal ensemble")
    a.set_xscale("log")
    a.set_xlabel("J t")
    a.set_ylabel("staggered magnetization M(t)")
    a.set_title(", ".join(f"{k} = {v}" for k, v in sel.items()), fontsize=8)
    a.legend(fontsize=7)
    sz = where(summary[summary.observable == "Sz_window"]).sort_values("site")
    b.bar(sz.site, sz["mean"], yerr=sz["sem"], color="C0", label="window average")
    szd = where(summary[summary.observable == "Sz_diag"]).sort_values("site")
    if len(szd):
        b.plot(szd.site, szd["mean"], "r_", ms=14, mew=2, label="diagonal ensemble")
    b.axvline(first["l"] + 0.5, color="k", lw=0.8)
    b.set_xlabel("site i (system | environment)")
    b.set_ylabel("<S^z_i> in the window")
    b.legend(fontsize=7)
    return fig


def _map(plt, g, quantity, title):
    if g.J_int.nunique() < 2 or g.W_e.nunique() < 2 or f"{quantity}_sys" not in g:
        return None
    others = [c for c in ("l", "W_s") if g[c].nunique() > 1]
    if others:  # one map per figure: the largest l, the largest W_s
        g = g[(g.l == g.l.max()) & (g.W_s == g.W_s.max())]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, part in zip(axes, ("sys", "env")):
        grid = g.pivot_table(index="W_e", columns="J_int", values=f"{quantity}_{part}")
        J, W = grid.columns.to_numpy(float), grid.index.to_numpy(float)
        im = ax.pcolormesh(_edges(J), _edges(W), grid.to_numpy(), cmap="viridis", vmin=0, vmax=1, shading="flat")
        fig.colorbar(im, ax=ax)
        ax.set_xlabel("J_int")
        ax.set_ylabel("W_env")
        ax.set_title(f"{quantity}_{part} ({title})")
    return fig


def _edges(x: np.ndarray) -> np.ndarray:
    if x.size == 1:
        return np.array([x[0] - 0.5, x[0] + 0.5])
    mid = 0.5 * (x[1:] + x[:-1])
    return np.concatenate([[2 * x[0] - mid[0]], mid, [2 * x[-1] - mid[-1]]])


def _fig8(plt, pts, axis):
    if pts.empty or pts[axis].nunique() < 2:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    curves = [c for c in ("config", "initial", "J_int", "l", "W_e") if c != axis and pts[c].nunique() > 1]
    groups = pts.groupby(curves) if curves else [((), pts)]
    for i, (key, g) in enumerate(groups):
        g = g.sort_values(axis)
        key = key if isinstance(key, tuple) else (key,)
        lab = ", ".join(f"{c} = {v}" for c, v in zip(curves, key)) or "all"
        for ax, part in zip(axes, ("sys", "env")):
            ax.errorbar(g[axis], g[f"M_{part}"], yerr=g[f"M_{part}_err"], fmt="o-", ms=3, color=f"C{i % 10}", label=lab)
    for ax, part in zip(axes, ("sys", "env")):
        ax.set_xlabel(axis)
        ax.set_title(f"M_{part} (window average)")
    axes[0].set_ylabel("M")
    if len(curves) and len(groups) <= 12:
        axes[1].legend(fontsize=6)
    return fig


def _fig10(plt, pts, fits):
    lad = pts[(pts.config == "ladder") & (pts.initial == "aligned")]
    comp = fits[fits["fit"] == "dimer_comparison"]
    strong = lad[lad.J_int == lad.J_int.max()] if len(lad) else lad
    if comp.empty and (strong.W_s.nunique() < 2 or strong.W_e.nunique() < 2):
        return None
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    if strong.W_s.nunique() >= 2 and strong.W_e.nunique() >= 2:
        grid = strong.pivot_table(index="W_e", columns="W_s", values="M_sys")
        im = a.pcolormesh(_edges(grid.columns.to_numpy(float)), _edges(grid.index.to_numpy(float)), grid.to_numpy(),
                          cmap="viridis", vmin=0, vmax=1, shading="flat")  # fmt: skip
        fig.colorbar(im, ax=a)
        a.set_xlabel("W_s")
        a.set_ylabel("W_env")
        a.set_title(f"M_sys, aligned ladder, J_int = {strong.J_int.max():g}")
    if len(comp):
        comp = comp.sort_values("W")
        b.errorbar(comp.W, comp.M_chain, yerr=comp.M_chain_err, fmt="o-", color="C3", label="chain (J_int = 0)")
        b.errorbar(comp.W, comp.M_ladder, yerr=comp.M_ladder_err, fmt="s:", color="C0", label="ladder, W_s = W_e = W")
        b.set_xlabel("W")
        b.set_ylabel("M")
        b.legend(fontsize=7)
    return fig
