"""What the CLI prints for a coupled_chains run: window-averaged M and F per point, and App. B's comparison."""

from __future__ import annotations

from ensemble.present.display import label, missing

__all__ = ["MAX_REPORT_ROWS", "report"]

#: Points listed in full; a map of hundreds of points is summarized (the fits table has them all).
MAX_REPORT_ROWS = 24


def report(exp, tables) -> list[str]:
    fits, swept = tables["fits"], exp.swept_names
    if "fit" not in fits:
        return []
    pts = fits[fits["fit"] == "quench_point"]
    diag = "M_sys_diag" in pts
    lines = ["", "Window-averaged staggered magnetization M (Eq. 7; 1 = initial state kept, 0 = thermal) and fidelity F (App. A)"
             + (", diagonal ensemble in brackets" if diag else "")]  # fmt: skip
    shown = pts if len(pts) <= MAX_REPORT_ROWS else pts.iloc[:MAX_REPORT_ROWS]
    for _, r in shown.iterrows():
        def d(k, r=r):
            return f" [{r[k + '_diag']:.3f}]" if diag and not missing(r, k + "_diag") else ""

        lines.append(f"  {label(r, swept)}: M_sys = {r.M_sys:.3f} +- {r.M_sys_err:.3f}{d('M_sys')}   "
                     f"M_env = {r.M_env:.3f} +- {r.M_env_err:.3f}{d('M_env')}   F_sys = {r.F_sys:.3f}   F_env = {r.F_env:.3f}")  # fmt: skip
    if len(pts) > len(shown):
        lines.append(f"  ... {len(pts) - len(shown)} more points: the fits table has them all (fit = 'quench_point')")
    comp = fits[fits["fit"] == "dimer_comparison"]
    if len(comp):
        lines += ["", "App. B: strongly coupled aligned ladder (W_s = W_e = W) vs the chain (J_int = 0)"]
        for _, r in comp.iterrows():
            lines.append(f"  l = {r.l:g}, W = {r.W:g}, J_int = {r.J_int:g}: ladder {r.M_ladder:.3f} +- {r.M_ladder_err:.3f}, "
                         f"chain {r.M_chain:.3f} +- {r.M_chain_err:.3f}")  # fmt: skip
    return lines
