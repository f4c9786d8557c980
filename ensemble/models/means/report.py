"""What the CLI prints for a run of the default analysis: every observable's final value at every point.

"Final" is the value at the last coordinate of the observable's first axis (the last sample time for a
time-resolved one); further axes (sites, bins) are summarized by their range, which the summary table
holds in full.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ensemble.present.display import cell, format_value, header

__all__ = ["MAX_POINTS", "final_values", "report"]

#: Points listed per observable; more are summarized (the summary table has them all).
MAX_POINTS = 24


def report(exp, tables) -> list[str]:
    summary = tables["summary"]
    swept = exp.swept_names
    lines = []
    for obs in _observables(exp, summary):
        rows = final_values(summary, obs, exp.params_names)
        if rows.empty:
            continue
        where = rows["where"].iloc[0]
        w, e = max(12, 2 + rows.text.str.len().max()), max(11, 2 + rows.err.str.len().max())
        lines += ["", f"{obs}{': ' + exp.kernel.observables[obs] if obs in exp.kernel.observables else ''}"
                  + (f", at {where}" if where else ""), header(swept) + f"{'mean':>{w}}{'sem':>{e}}{'n':>8}"]  # fmt: skip
        for _, r in rows.iloc[:MAX_POINTS].iterrows():
            lines.append(cell(r, swept) + f"{r.text:>{w}}{r.err:>{e}}{int(r.n):>8}")
        if len(rows) > MAX_POINTS:
            lines.append(f"  ... {len(rows) - MAX_POINTS} more points (the summary table has them all)")
    return lines


def _observables(exp, summary: pd.DataFrame) -> list[str]:
    """The kernel's observables in schema order (plain means, not histograms or derived rows)."""
    names = list(exp.kernel.schema(exp.points[0].params))
    present = set(summary.loc[summary["estimator"] == "mean", "observable"])
    return [n for n in names if n in present]


def final_values(summary: pd.DataFrame, obs: str, params: list[str]) -> pd.DataFrame:
    """Per point: the observable at the last coordinate of its first axis; other axes as a min..max range."""
    s = summary[(summary.observable == obs) & (summary.estimator == "mean")]
    axes = [c for c in _axis_columns(summary) if s[c].notna().any()]
    out = []
    keys = [p for p in params if p in s]
    for _, g in (s.groupby(keys, sort=False, dropna=False) if keys else [((), s)]):
        where = ""
        if axes:
            last = g[axes[0]].max()
            g = g[g[axes[0]] == last]
            where = f"{axes[0]} = {format_value(last)}"
        row = {k: g.iloc[0][k] for k in keys}
        if len(g) == 1:
            text, err = f"{g['mean'].iloc[0]:.6g}", f"{g['sem'].iloc[0]:.3g}"
        else:
            text = f"{np.nanmin(g['mean']):.4g}..{np.nanmax(g['mean']):.4g}"
            err = f"<= {np.nanmax(g['sem']):.2g}"
            where += f" (range over {', '.join(axes[1:])})"
        out.append({**row, "text": text, "err": err, "n": int(g["n"].min()), "where": where})
    return pd.DataFrame(out)


def _axis_columns(summary: pd.DataFrame) -> list[str]:
    cols = list(summary.columns)
    return cols[cols.index("observable") + 1 : cols.index("n")]
