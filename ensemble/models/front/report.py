"""What the CLI prints for a front-analysis run: front fits, threshold times, Eq. (9) and the crossing W*."""

from __future__ import annotations

import pandas as pd

from ensemble.present.display import cell, header, label, missing
from ensemble.analysis.resolution import note
from ensemble.models.front.analysis import AVALANCHE_BOUND

__all__ = ["report"]


def report(exp, tables) -> list[str]:
    fits = tables["fits"]
    swept = exp.swept_names
    if "fit" not in fits:
        return []
    lines = _fronts(fits[fits["fit"] == "front"], swept)
    lines += _thresholds(fits[fits["fit"] == "threshold_time"], swept)
    # the fits across points only where the sweep gives them something to fit
    values = {k: {getattr(pt.params, k) for pt in exp.points} for k in ("L", "W")}
    if len({getattr(pt.params, "L") * getattr(pt.params, "W") for pt in exp.points}) >= 2:
        lines += _scaling(fits[fits["fit"] == "threshold_scaling"], swept, exp.params_names)
    if len(values["W"]) >= 2:
        lines += _crossings(fits[fits["fit"] == "avalanche_crossing"], swept)
    return lines


def _fronts(front: pd.DataFrame, swept) -> list[str]:
    if front.empty:
        return []
    lines = [
        "",
        f"Front fits h(t) = A ln t + B; avalanche bound 1/A > 2 ln 4 = {AVALANCHE_BOUND:.3f} (Eq. 18); "
        "plateau: A stable as the window start moves",
        header(swept) + f"{'1/A':>10}{'err':>8}{'A':>9}{'err':>8}  {'window':<18}{'plateau':<8}{'status':<21}bound",
    ]
    for _, row in front.iterrows():
        window = f"[{row.t_start:g}, {row.t_stop:g}]" if row.window_source != "none" else "none"
        z = "" if missing(row, "bound_z") else f" (z = {row.bound_z:+.1f})"
        lines.append(
            cell(row, swept)
            + f"{row.invA:>10.3f}{row.invA_err:>8.3f}{row.A:>9.4f}{row.A_err:>8.4f}  {window:<18}"
            + f"{'yes' if row.plateau else 'NO':<8}{_status(row):<21}{row.bound_holds}{z if row.plateau else ''}"
        )
    return lines


def _thresholds(thr: pd.DataFrame, swept) -> list[str]:
    if thr.empty:
        return []
    if (thr.outcome == "not reached").all():
        return ["", f"Threshold time t~: Ir stays below r_th = {thr.r_th.iloc[0]:g} at every point within the sampled times"]
    lines = [
        "",
        f"Threshold time t~: Ir first exceeds r_th = {thr.r_th.iloc[0]:g} (Sec. IV A)",
        header(swept) + f"{'t~':>10}{'ln t~':>9}{'err':>7}  {'Ir+-err crosses in':<22}{'crossing':<17}status",
    ]
    for _, row in thr.iterrows():
        bracket = f"[{row.t_tilde_lo:g}, {row.t_tilde_hi:g}]"
        lines.append(cell(row, swept) + f"{row.t_tilde:>10.4g}{row.ln_t_tilde:>9.3f}{row.ln_t_tilde_err:>7.3f}  {bracket:<22}"
                     f"{row.outcome:<17}{_status(row)}")
    return lines


def _scaling(rows: pd.DataFrame, swept, params) -> list[str]:
    if rows.empty or not {"L", "W"} <= set(params):
        return []
    groups = [k for k in swept if k not in ("L", "W")]
    lines = []
    for _, row in rows.iterrows():
        which = f" ({label(row, groups)})" if groups else ""
        if row.outcome != "fitted":
            lines += ["", f"Eq. (9) ln t~ = alpha L W + c{which}: not fitted ({row.outcome})"]
            continue
        lines += [
            "",
            f"Eq. (9) ln t~ = alpha L W + c{which} over {row.n_points:g} points: alpha = {row.alpha:.4f} +- {row.alpha_err:.4f}, "
            f"chi2/dof = {row.chi2_dof:.2f}{' (errors scaled)' if row.errors_scaled else ''}; "
            f"W~ = 2 ln 2 / alpha = {row.W_tilde:.2f} +- {row.W_tilde_err:.2f} (Eq. 10){note(row.status)}",
        ]
    return lines


def _crossings(cross: pd.DataFrame, swept) -> list[str]:
    if cross.empty:
        return []
    lines = ["", "Eq. (18) crossing W* of 1/A through 2 ln 4 (bootstrap error):"]
    others = [k for k in swept if k != "W"]
    for _, row in cross.iterrows():
        where = label(row, others, empty="all points")
        if not missing(row, "n_no_plateau") and row.n_no_plateau:
            where += f" ({row.n_no_plateau:g} W without a plateau left out)"
        if row.outcome == "crossing":
            lines.append(
                f"  {where}: W* = {row.W_star:.2f} +- {row.W_star_err:.2f} (68% [{row.W_star_lo:.2f}, {row.W_star_hi:.2f}], "
                f"crossing in {100 * row.p_crossing:.0f}% of resamples){note(row.status)}"
            )
        elif not missing(row, "W_min"):
            lines.append(f"  {where}: no crossing within W = {row.W_min:g}..{row.W_max:g}: {row.outcome}{note(row.status)}")
        else:
            lines.append(f"  {where}: {row.outcome}")
    return lines


def _status(row) -> str:
    return "" if missing(row, "status") else str(row.status)
