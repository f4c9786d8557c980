"""What the CLI prints for an rmt_bath run: D(O_B) and G per point, Fig. 3's growth, Fig. 4's slope, widths, Fig. 5."""

from __future__ import annotations

import math

import pandas as pd

from ensemble.present.display import label, missing
from ensemble.analysis.resolution import note

__all__ = ["report"]


def report(exp, tables) -> list[str]:
    fits, swept = tables["fits"], exp.swept_names
    if "fit" not in fits:
        return []
    lines = []
    pts = fits[fits["fit"] == "ipr_point"]
    if "D_OB" in pts:
        lines += ["", "D(O_B) = log IPR of a bath operator (Sec. IV)" + (" and the coupling G (Sec. V B)" if "G" in pts else "")]
        for _, r in pts.iterrows():
            g = f"   G = {r.G:.3f} +- {r.G_err:.3f}" if not missing(r, "G") else ""
            lines.append(f"  {label(r, swept)}: D(O_B) = {r.D_OB:.3f} +- {r.D_OB_err:.3f}{g}")
    grow = fits[fits["fit"] == "bath_growth"]
    if len(grow):
        dos = "dD_dos" in grow and grow["dD_dos"].notna().any()
        lines += ["", f"Fig. 3: D(O_B) per added LIOM (theory: log 2 = {math.log(2):.3f})"
                  + ("; in brackets the step of log rho(0), the density of states at the centre (semicircle)" if dos else "")]
        for _, r in grow.iterrows():
            extra = f"   [{r.dD_dos:.3f}]" if dos and pd.notna(r.get("dD_dos")) else ""
            lines.append(f"  n = {r.n_from:g} -> {r.n_to:g}: {r.dD_per_liom:.3f} +- {r.dD_per_liom_err:.3f}{extra}")
    for _, r in fits[fits["fit"] == "crossover"].iterrows():
        lines += [
            "",
            f"Fig. 4 ({label(r, swept)}): slope of D(sigma^x_i) over the LIOMs = {r.slope:.3f} +- {r.slope_err:.3f} "
            f"(theory 2 log(alpha) = {r.slope_theory:.3f}, z = {r.slope_z:+.1f}); zeta_eff = {r.zeta_eff:.2f}, "
            f"l_c(Eq. 16) = {r.l_c_eff:.3g} (theory zeta {r.zeta:.2f}: {r.l_c_theory:.3g})",
        ]
    hyb = fits[fits["fit"] == "hybridization"]
    if len(hyb):
        lines += ["", "Hybridization half-width w50 of the probe (App. A); golden rule pi g^2 v(2h) for GOE baths"]
        for _, r in hyb.iterrows():
            limit = f" (bins of {r.bin_width:.3g}: w50 is a bound)" if r.get("status") == "at resolution limit" else ""
            lines.append(f"  {label(r, swept)}: w50 = {r.w50:.4f} +- {r.w50_err:.4f}{note(r.get('status'))}{limit}   golden rule "
                         f"{r.w_golden_rule:.4f}   (g^2/xi = {r.w_g2_over_xi:.4f})")  # fmt: skip
    thermal = fits[fits["fit"] == "thermalization"]
    if len(thermal):
        lines += ["", "Fig. 5: Delta D(O_B) against G (theory: -> log 2 for G >> 1)"]
        for _, r in thermal.iterrows():
            lines.append(f"  g_probe = {r.g_probe:g}: G = {r.G:.3f} +- {r.G_err:.3f}, Delta D = {r.delta_D:.3f} +- {r.delta_D_err:.3f}")
    return lines
