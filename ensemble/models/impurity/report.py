"""What the CLI prints for a boson_impurity or boson_tebd run: Eq. (4)'s xi_c, the late l_c and l_d, Eq. (5)'s fit."""

from __future__ import annotations

from ensemble.present.display import cell, header, missing

__all__ = ["COLUMNS", "report"]

#: (head, fits column, width) of the per-point table
COLUMNS = (
    ("xi_c", "xi_c", 10), ("err", "xi_c_err", 10), ("T0", "T0", 10), ("l_c(t_last)", "l_c_late", 13),
    ("err", "l_c_late_err", 9), ("l_d(t_last)", "l_d_centre_late", 13), ("S_AI", "S_AI", 9), ("xi_S", "xi_S", 9),
    ("err", "xi_S_err", 9),
)  # fmt: skip


def report(exp, tables) -> list[str]:
    fits, swept = tables["fits"], exp.swept_names
    if "fit" not in fits:
        return []
    pts = fits[fits["fit"] == "impurity_point"]
    if pts.empty:
        return []
    lines = [
        "",
        "c-boson: Eq. (4) l_c(t) = xi_c log(1 + t/T0) / (1 + log(1 + t/T0)) fitted to the Eq. (3) decay lengths; "
        "l_c and l_d (d-d correlations, centre) at the last time; Eq. (5) S = S_AI + xi_S log(1 + U n_c t)",
        header(swept) + "".join(f"{head:>{w}}" for head, _, w in COLUMNS) + "  status of xi_c",
    ]
    for _, r in pts.iterrows():
        lines.append(cell(r, swept) + "".join(f"{'-' if missing(r, k) else format(r[k], '.4g'):>{w}}" for _, k, w in COLUMNS)
                     + ("" if missing(r, "status") else f"  {r.status}"))
    if "trunc_err" in set(tables["summary"]["observable"]):
        s = tables["summary"]
        worst = s[s.observable == "trunc_err"]["mean"].max()
        chi = s[s.observable == "chi"]["mean"].max()
        lines.append(f"  TEBD: largest mean truncation error {worst:.2e}, largest mean bond dimension {chi:.0f}")
    return lines
