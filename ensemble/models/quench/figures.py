"""Figures of paper 000 from a run's tables (coupled_chains kernel).

* ``fig2_dynamics``: M(t) of system and environment (diagonal ensemble dashed, when run) and
  the window-averaged <S^z_i> per site, for one point (J_int = 1 and W_e = 0 if present);
* ``map_<config>_<initial>[_<other swept values>]``: heat maps of M_sys and M_env over
  (J_int, W_env) (Figs. 3, 5), one figure per value of every other swept parameter;
* ``fidelity_<...>``: the same for F_sys, F_env (Fig. 9);
* ``fig8_M_vs_We`` and ``fig8_M_vs_l``: M vs W_env, and vs the chain length, at the J_int
  nearest J = 1 (the paper's intermediate regime), one row of panels per configuration;
* ``fig10_dimers``: M_sys of strongly coupled aligned ladders over (W_s, W_e), and the
  ladder at W_s = W_e = W against the single chain (Fig. 10); a panel only when the run has its data.

Every averaged quantity has its error bars (maps: the map of its standard errors below or beside it);
colour ranges cover the data (M can be slightly negative). The paper's own value at a cell it gives (Fig. 2's
point of the Fig. 3 map) is a hollow ring with the number.
"""

from __future__ import annotations

import numpy as np

from ensemble.present.display import format_value, math_label

__all__ = ["figures"]

#: What a map's axes and a figure's curves are; every other swept parameter splits figures.
MAP_AXES = ("J_int", "W_e")


def figures(exp, tables) -> dict:
    import matplotlib.pyplot as plt

    summary, fits = tables["summary"], tables["fits"]
    pts = fits[fits["fit"] == "quench_point"]
    swept = [k for k in exp.swept_names if k in pts]
    made = {"fig2_dynamics": _fig2(plt, summary, exp.params_names)}
    split = ["config", "initial"] + [k for k in swept if k not in MAP_AXES + ("config", "initial")]
    for key, g in _groups(pts, split):
        suffix = "_".join(format_value(v) for v in key.values())
        title = _label(key, key)
        made[f"map_{suffix}"] = _map(plt, g, "M", title, readings=_readings(g))
        made[f"fidelity_{suffix}"] = _map(plt, g, "F", title)
    made.update(fig8_M_vs_We=_fig8(plt, pts, "W_e", swept), fig8_M_vs_l=_fig8(plt, pts, "l", swept),
                fig10_dimers=_fig10(plt, pts, fits))  # fmt: skip
    return {name: fig for name, fig in made.items() if fig is not None}


#: The paper's symbols where they differ from the parameter names (W_e is the environment's W_env).
SYMBOLS = {"W_e": r"W_{\rm env}", "W_s": r"W_{\rm s}"}


def _label(row, names, empty="all points"):
    return math_label(row, names, empty=empty, symbols=SYMBOLS)


def _groups(df, keys):
    """(dict of key values, rows) per combination of ``keys`` (one group of everything if none)."""
    if not keys:
        yield {}, df
        return
    for values, g in df.groupby(keys, sort=True):
        values = values if isinstance(values, tuple) else (values,)
        yield dict(zip(keys, values)), g


#: Points fig2_dynamics overlays (the Fig. 2 point and its variants, e.g. disorder profiles); more are not drawn.
FIG2_MAX_VARIANTS = 6


def _fig2(plt, summary, params):
    """M(t) and the window's <S^z_i> at the Fig. 2 point (J_int = 1, W_e = 0 if the run has it), every
    variant of it that the run also swept (a disorder profile, an initial state, ...) overlaid in its colour."""
    M = summary[summary.observable == "M"]
    if M.empty:
        return None
    pick = M[(M.J_int == 1.0) & (M.W_e == 0.0)]
    M = pick if len(pick) else M
    keys = [k for k in params if k in M]
    varying = [k for k in keys if M[k].nunique(dropna=False) > 1]
    rows = M[varying].drop_duplicates().itertuples(index=False, name=None)
    variants = [dict(zip(varying, v)) for v in rows][:FIG2_MAX_VARIANTS] if varying else [{}]
    first = M.iloc[0]
    fixed = {k: first[k] for k in keys if k not in varying}

    def where(df, variant):
        for k, v in {**fixed, **variant}.items():
            df = df[df[k] == v]
        return df

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    n = len(variants)
    width = 0.8 / n
    for j, variant in enumerate(variants):
        name = _label(variant, list(variant), empty="")
        colour = f"C{j}" if n > 1 else None
        for i, part in enumerate(("sys", "env")):
            g = where(M, variant)
            g = g[g.part == part].sort_values("t")
            c = colour or f"C{i}"
            tag = rf"$M_{{\rm {part}}}(t)$" + (f", {name}" if name else "")
            a.errorbar(g.t, g["mean"], yerr=g["sem"], fmt="o-" if part == "sys" else "s--", ms=3, color=c, label=tag)
            d = where(summary[summary.observable == "M_diag"], variant)
            d = d[d.part == part]
            if len(d):
                m, e = float(d["mean"].iloc[0]), float(d["sem"].iloc[0])
                a.axhline(m, color=c, ls=":", lw=1, label=rf"$M_{{\rm {part}}}$, diagonal ensemble (${m:.3f} \pm {e:.3f}$)")
        sz = where(summary[summary.observable == "Sz_window"], variant).sort_values("site")
        offset = (j - (n - 1) / 2) * width
        b.bar(sz.site + offset, sz["mean"], width=width, yerr=sz["sem"], color=colour or "C0",
              label="window average" + (f", {name}" if name else ""))  # fmt: skip
        szd = where(summary[summary.observable == "Sz_diag"], variant).sort_values("site")
        if len(szd):
            b.plot(szd.site + offset, szd["mean"], "_", color="r" if n == 1 else colour, ms=14 / n, mew=2,
                   label="diagonal ensemble" + (f", {name}" if name else ""))  # fmt: skip
    a.set_xscale("log")
    a.set_xlabel(r"$J t$")
    a.set_ylabel(r"staggered magnetization $M(t)$")
    chosen = [k for k in ("J_int", "W_e") if k in fixed and summary[k].nunique() > 1]
    if chosen:  # picked out of a sweep: say which point (short: the caption has the rest)
        a.set_title(_label(fixed, chosen), fontsize=8)
    if n == 1:
        a.legend(fontsize=7, loc="best")
    b.axvline(first["l"] + 0.5, color="k", lw=0.8)
    b.axhline(0.0, color="0.5", lw=0.5)
    b.set_xlabel(r"site $i$ (system | environment)")
    b.set_ylabel(r"$\langle S^z_i\rangle$ in the window")
    if n == 1:
        b.legend(fontsize=7, loc="best")
    else:  # legends of every variant's curves and bars would cover them: one below the panels
        (ha, la), (hb, lb) = a.get_legend_handles_labels(), b.get_legend_handles_labels()
        fig.legend(ha + hb, la + lb, fontsize=7, ncol=3, frameon=False)
    return fig


#: The paper's own numbers on the map that holds their point: Fig. 2 of paper 000 (J_int = J, W_env = 0,
#: W_s = 9, l = 6, junction, aligned Neel; Pauli form, which its figures match): M_sys ~ 0.4, M_env ~ 0,
#: read in the window t in [9.6, 12].
READINGS = [
    {"where": {"config": "junction", "initial": "aligned", "l": 6, "W_s": 9.0, "operators": "pauli"},
     "at": (1.0, 0.0), "values": {"sys": 0.4, "env": 0.0}, "label": "paper, Fig. 2"},
]


def _readings(g) -> list[dict]:
    """The readings whose parameters every row of the map has and whose (J_int, W_e) cell it contains."""
    def holds(r):
        return all(k in g and (g[k] == v).all() for k, v in r["where"].items()) and \
            ((g.J_int == r["at"][0]) & (g.W_e == r["at"][1])).any()

    return [r for r in READINGS if holds(r)]


def _map(plt, g, quantity, title, readings=()):
    if g.J_int.nunique() < 2 or g.W_e.nunique() < 2 or f"{quantity}_sys" not in g:
        return None
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.0))
    values = np.concatenate([g[f"{quantity}_{p}"].to_numpy(float) for p in ("sys", "env")])
    lo, hi = min(0.0, float(np.nanmin(values))), max(1.0, float(np.nanmax(values)))
    errs = np.concatenate([g[f"{quantity}_{p}_err"].to_numpy(float) for p in ("sys", "env")])
    emax = float(np.nanmax(errs)) if np.isfinite(errs).any() else 1.0
    for col, part in enumerate(("sys", "env")):
        sym = rf"$\overline{{{quantity}}}_{{\rm {part}}}$"
        for row, (column, cmap, vmin, vmax, what) in enumerate(
                ((f"{quantity}_{part}", "viridis", lo, hi, sym + " (window average)"),
                 (f"{quantity}_{part}_err", "magma_r", 0.0, emax, "standard error of " + sym))):  # fmt: skip
            ax = axes[row][col]
            grid = g.pivot(index="W_e", columns="J_int", values=column)  # one row per cell: no silent mean
            J, W = grid.columns.to_numpy(float), grid.index.to_numpy(float)
            im = ax.pcolormesh(_edges(J), _edges(W), grid.to_numpy(), cmap=cmap, vmin=vmin, vmax=vmax, shading="flat")
            fig.colorbar(im, ax=ax, label=what)
            ax.set_xlabel(r"$J_{\rm int}/J$")
            ax.set_ylabel(r"$W_{\rm env}/J$")
            if row == 0 and title:
                ax.set_title(title)
            for r in readings if row == 0 else ():  # the paper's value at its cell: a hollow ring and the number
                ax.plot(*r["at"], "o", ms=9, mfc="none", mec="white", mew=1.5)
                ax.annotate(f"{r['label']}: {r['values'][part]:g}", r["at"], xytext=(8, 6), textcoords="offset points",
                            color="white", fontsize=7)  # fmt: skip
    return fig


def _edges(x: np.ndarray) -> np.ndarray:
    if x.size == 1:
        return np.array([x[0] - 0.5, x[0] + 0.5])
    mid = 0.5 * (x[1:] + x[:-1])
    return np.concatenate([[2 * x[0] - mid[0]], mid, [2 * x[-1] - mid[-1]]])


def _fig8(plt, pts, axis, swept):
    """M vs ``axis`` (W_e or l), one curve per value of the other of the two, at the J_int nearest 1.

    The paper's Fig. 8 is the intermediate regime J_int = J = 1 with the aligned state; other J_int
    and initial states are in the maps. One row of (sys, env) panels per configuration and any other
    swept parameter.
    """
    if pts.empty or axis not in swept or pts[axis].nunique() < 2:
        return None
    J = float(pts.J_int.iloc[(pts.J_int - 1.0).abs().argmin()])
    pts = pts[pts.J_int == J]
    if "initial" in pts and (pts.initial == "aligned").any():
        pts = pts[pts.initial == "aligned"]
    curve = "l" if axis == "W_e" else "W_e"
    rows = [k for k in swept if k not in (axis, curve, "J_int", "initial") and pts[k].nunique() > 1]
    groups = list(_groups(pts, rows))
    fig, axes = plt.subplots(len(groups), 2, figsize=(11, 3.6 * len(groups)), squeeze=False, sharey=True)
    values = sorted(pts[curve].unique()) if curve in pts else [None]
    cmap = plt.get_cmap("viridis")
    for (key, g), row in zip(groups, axes):
        for i, v in enumerate(values):
            c = g if v is None else g[g[curve] == v]
            c = c.sort_values(axis)
            if c.empty:
                continue
            color = cmap(i / max(1, len(values) - 1))
            label = _label({curve: v}, [curve]) if v is not None else None
            for ax, part in zip(row, ("sys", "env")):
                ax.errorbar(c[axis], c[f"M_{part}"], yerr=c[f"M_{part}_err"], fmt="o-", ms=3, color=color, label=label)
        head = _label({"J_int": J, **key}, ["J_int", *key])
        for ax, part in zip(row, ("sys", "env")):
            ax.set_xlabel(r"$W_{\rm env}/J$" if axis == "W_e" else r"$l$ (spins per chain)")
            ax.set_title(rf"$\overline{{M}}_{{\rm {part}}}$, {head}", fontsize=8)
            ax.axhline(0.0, color="0.6", lw=0.6)
        row[0].set_ylabel(r"$\overline{M}$")
        if values != [None]:
            row[1].legend(fontsize=7, ncol=2 if len(values) > 5 else 1)
    return fig


def _fig10(plt, pts, fits):
    lad = pts[(pts.config == "ladder") & (pts.initial == "aligned")]
    comp = fits[fits["fit"] == "dimer_comparison"]
    strong = lad[lad.J_int == lad.J_int.max()] if len(lad) else lad
    has_map = len(strong) and strong.W_s.nunique() >= 2 and strong.W_e.nunique() >= 2
    if comp.empty and not has_map:
        return None
    panels = 2 * int(bool(has_map)) + int(not comp.empty)
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.2), squeeze=False)
    axes = list(axes[0])
    if has_map:  # the map and, beside it, the map of its standard errors
        sym = r"$\overline{M}_{\rm sys}$"
        for column, cmap, what in (("M_sys", "viridis", sym), ("M_sys_err", "magma_r", "standard error of " + sym)):
            a = axes.pop(0)
            grid = strong.pivot(index="W_e", columns="W_s", values=column)  # one row per cell: no silent mean
            vals = grid.to_numpy(float)
            lo, hi = (min(0.0, np.nanmin(vals)), max(1.0, np.nanmax(vals))) if column == "M_sys" else (0.0, np.nanmax(vals))
            im = a.pcolormesh(_edges(grid.columns.to_numpy(float)), _edges(grid.index.to_numpy(float)), vals, cmap=cmap,
                              vmin=lo, vmax=hi, shading="flat")  # fmt: skip
            fig.colorbar(im, ax=a, label=what)
            a.set_xlabel(r"$W_{\rm s}/J$")
            a.set_ylabel(r"$W_{\rm env}/J$")
            a.set_title(rf"aligned ladder, $J_{{\rm int}} = {strong.J_int.max():g}$", fontsize=9)
    if not comp.empty:
        b = axes.pop(0)
        split = [k for k in comp.columns if k not in ("fit", "W", "J_int") and not k.startswith(("M_", "difference"))
                 and comp[k].nunique() > 1]  # fmt: skip
        for i, (key, g) in enumerate(_groups(comp, split)):
            g = g.sort_values("W")
            tag = _label(key, key, empty="")
            tag = f" ({tag})" if tag else ""
            b.errorbar(g.W, g.M_chain, yerr=g.M_chain_err, fmt="o-", color=f"C{2 * i}", label=r"chain ($J_{\rm int} = 0$)" + tag)
            b.errorbar(g.W, g.M_ladder, yerr=g.M_ladder_err, fmt="s:", color=f"C{2 * i + 1}",
                       label=rf"ladder, $J_{{\rm int}} = {g.J_int.max():g}$, $W_{{\rm s}} = W_{{\rm env}} = W$" + tag)  # fmt: skip
        b.set_xlabel(r"disorder $W/J$")
        b.set_ylabel(r"$\overline{M}_{\rm sys}$ (window average)")
        b.legend(fontsize=7)
    return fig
