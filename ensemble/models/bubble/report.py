"""What the CLI prints for an xxz_bubble run: r and purity per point, the crossings of Fig. 2, delta_0 of Fig. 9,
the beta maximizing r (SM Fig. 6)."""

from __future__ import annotations

from kernels.numerics.levels import R_GOE, R_POISSON

from ensemble.present.display import label, missing
from ensemble.analysis.resolution import note

__all__ = ["report"]


def report(exp, tables) -> list[str]:
    fits, swept = tables["fits"], exp.swept_names
    if "fit" not in fits:
        return []
    pts = fits[fits["fit"] == "bubble_point"]
    lines = ["", f"Mean gap ratio r (GOE {R_GOE:.4f}, Poisson {R_POISSON:.4f}) and site-averaged purity (Eq. 5)"]
    for _, r in pts.iterrows():
        ratio = f"r = {r.r_mean:.4f} +- {r.r_mean_err:.4f}   " if not missing(r, "r_mean") else ""
        lines.append(f"  {label(r, swept)}: {ratio}purity = {r.gamma_avg:.4f} +- {r.gamma_avg_err:.4f}")
    cross = fits[fits["fit"] == "gap_crossing"]
    if len(cross):
        lines += ["", "Fig. 2: crossings of r(W) between L and the next L"]
        for _, r in cross.iterrows():
            where = "with bubble" if r.n_goe > 0 else "without bubble"
            w = f"W = {r.W_cross:.2f} +- {r.W_cross_err:.2f}" if not missing(r, "W_cross") else r.outcome
            lines.append(f"  {where}, L = {r.L_a:g} / {r.L_b:g}: {w}{note(r.status)}")
    shift = fits[fits["fit"] == "purity_shift"]
    if len(shift):
        lines += ["", "Fig. 9: delta_0 = gamma_XXZ(L + 2) - plateau of gamma_i = c - A exp(-i/xi)"]
        for _, r in shift.iterrows():
            lines.append(f"  L = {r.L:g}, W = {r.W:g}: delta_0 = {r.delta_0:.4f} +- {r.delta_0_err:.4f} ({r.delta_0_z:+.1f} sigma), "
                         f"xi = {r.fit_xi:.2f} +- {r.fit_xi_err:.2f}" + ("" if r.fit_outcome == "ok" else f" [{r.fit_outcome}]")
                         + note(r.status))  # fmt: skip
    peaks = fits[fits["fit"] == "beta_peak"]
    if len(peaks):
        others = [s for s in swept if s != "beta"]
        lines += ["", "SM Fig. 6: bubble bandwidth beta maximizing r (bootstrap over blocks; the paper's choice in brackets)"]
        for _, r in peaks.iterrows():
            paper = f"   [paper {r.beta_paper:g}]" if not missing(r, "beta_paper") else ""
            if missing(r, "beta_peak"):
                lines.append(f"  {label(r, others)}: {r.outcome}{note(r.status)}{paper}")
                continue
            lines.append(f"  {label(r, others)}: beta = {r.beta_peak:.3f} +- {r.beta_peak_err:.3f} (68% [{r.beta_peak_lo:.3f}, "
                         f"{r.beta_peak_hi:.3f}]), r = {r.r_peak:.4f} +- {r.r_peak_err:.4f}"
                         + ("" if r.outcome == "peak" else f" ({r.outcome})") + note(r.status) + paper)  # fmt: skip
    return lines
