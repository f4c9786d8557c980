r"""Analysis of the coupled-chains quench (paper 000, Secs. III-IV and Apps. A-C).

Per point: the window averages M_sys, M_env (Eq. 7) and F_sys, F_env (App. A)
with their errors, the Hamming distance D = (1 - M)/2 (Eq. 8), and the
diagonal-ensemble values when the run computed them. The (J_int, W_env) maps
of Figs. 3, 5 and 9 are these rows pivoted (``ensemble plot`` draws them).

Across points:

* ``dimer_comparison`` (App. B, Fig. 10b): the strongly coupled aligned ladder
  with W_s = W_e = W against a single chain with disorder W, taken from
  points with J_int = 0 (two independent chains; the system half is the chain);
* ``window_vs_diagonal`` (Fig. 2, App. C): the window average minus the
  diagonal ensemble, per point that has both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ensemble.analysis.resolution import RESOLVED

__all__ = ["QuenchAnalysis", "dimer_comparison"]

PARTS = ("sys", "env")
#: J_int at or above which a ladder counts as strongly coupled (dimers; the paper uses 20)
STRONG_COUPLING = 10.0


class QuenchAnalysis:
    """Fits-table rows of one point of the coupled_chains kernel."""

    derived_axes = {"D_window": ("part",)}

    def __init__(self, params):
        self.p = params

    def estimators(self, means: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {"D_window": 0.5 * (1.0 - means["M_window"])}
        if "M_diag" in means:
            for k, part in enumerate(PARTS):
                out[f"gap_{part}"] = means["M_window"][..., k] - means["M_diag"][..., k]
        return out

    def fit_rows(self, value, sem) -> dict[str, list[dict]]:
        row = {"fit": "quench_point"}
        # window and diagonal averages per part: plain means of the kernel's outputs, with the summary's errors
        for k, part in enumerate(PARTS):
            for source, name in (("M_window", f"M_{part}"), ("F_window", f"F_{part}"), ("M_diag", f"M_{part}_diag")):
                if source in value:
                    row[name], row[f"{name}_err"] = float(value[source][k]), float(sem[source][k])
        row["status"] = RESOLVED  # window averages of the kernel's own time grid
        rows = [row]
        if "gap_sys" in value:
            rows.append({"fit": "window_vs_diagonal", **{f"{k}{s}": float(v[k]) for k in ("gap_sys", "gap_env")
                                                       for s, v in (("", value), ("_err", sem))},
                         "status": RESOLVED})  # fmt: skip
        return {"fits": rows}


#: Parameters a J_int = 0 reference chain may differ in from the ladder it is compared with: at
#: J_int = 0 the configurations coincide, and the system half of both initial states is |psi_even>
FREE_IN_REFERENCE = ("J_int", "W_e", "config", "initial")


def dimer_comparison(pts: pd.DataFrame, params: list[str] | None = None) -> list[dict]:
    """Strong aligned ladders at W_s = W_e = W against the chain (J_int = 0) at W_s = W.

    The reference agrees with the ladder in every parameter of ``params`` but
    those of FREE_IN_REFERENCE (l, W_s, the operators' convention, the window,
    ...); rows carry those parameters.
    """
    if pts.empty:
        return []
    params = [k for k in (params or ["l", "W_s"]) if k in pts and k not in FREE_IN_REFERENCE]
    ladders = pts[(pts.config == "ladder") & (pts.initial == "aligned") & (pts.J_int >= STRONG_COUPLING)
                  & np.isclose(pts.W_s, pts.W_e)]  # fmt: skip
    chains = pts[pts.J_int == 0.0]
    out = []
    for _, q in ladders.iterrows():
        ref = chains
        for k in params:
            ref = ref[ref[k] == q[k]]
        if ref.empty:
            continue
        r = ref.iloc[0]
        out.append(
            {
                "fit": "dimer_comparison",
                **{k: q[k] for k in params},
                "W": q.W_s,
                "J_int": q.J_int,
                "M_ladder": q.M_sys,
                "M_ladder_err": q.M_sys_err,
                "M_chain": r.M_sys,
                "M_chain_err": r.M_sys_err,
                "difference": q.M_sys - r.M_sys,
                "difference_err": math.hypot(q.M_sys_err, r.M_sys_err),
                "status": RESOLVED,
            }
        )
    return out
