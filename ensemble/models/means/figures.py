"""Figures of the default analysis: every observable of any kernel against its axes, with error bars.

One figure per observable (file stem: the observable's name):

* against its first axis (a time axis, ``t``, on a log scale when it spans more than a decade), one line
  per value of the first swept parameter (at most :data:`MAX_LINES`, evenly chosen, the legend says so),
  one panel per value of the other swept parameters (at most :data:`MAX_PANELS`);
* an observable with two or more axes: one panel per point, one line per value of its second axis;
* a scalar: against the first swept parameter, one line per value of the second (a single point: one
  value with its error bar).

Errors are standard errors of the mean: bars, or bands where a line has many points.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ensemble.present.display import format_value
from ensemble.present.display import math_label as label
from ensemble.present.display import math_name

__all__ = ["MAX_LINES", "MAX_PANELS", "figures"]

MAX_LINES = 16
MAX_PANELS = 12
#: Lines with more points than this get an error band instead of bars.
BAND_FROM = 30


def figures(exp, tables) -> dict:
    import matplotlib.pyplot as plt

    summary = tables["summary"]
    means = summary[summary["estimator"] == "mean"]
    made = {}
    for obs in exp.kernel.schema(exp.points[0].params):
        rows = means[means.observable == obs]
        if rows.empty:
            continue
        axes = [c for c in _axis_columns(summary) if rows[c].notna().any()]
        fig = (_scalar if not axes else _profile if len(axes) == 1 else _field)(plt, exp, rows, obs, axes)
        if fig is not None:
            made[obs] = fig
    return made


def _axis_columns(summary: pd.DataFrame) -> list[str]:
    cols = list(summary.columns)
    return cols[cols.index("observable") + 1 : cols.index("n")]


def _swept(exp, rows) -> list[str]:
    """Swept parameters that take more than one value in these rows."""
    return [k for k in exp.swept_names if k in rows and rows[k].nunique(dropna=False) > 1]


def _pick(values: list, most: int) -> list:
    """At most ``most`` of ``values``, evenly spread, first and last included."""
    if len(values) <= most:
        return list(values)
    idx = sorted({int(round(i)) for i in np.linspace(0, len(values) - 1, most)})
    return [values[i] for i in idx]


def _groups(df: pd.DataFrame, keys: list[str]):
    if not keys:
        yield {}, df
        return
    for values, g in df.groupby(keys, sort=True, dropna=False):
        values = values if isinstance(values, tuple) else (values,)
        yield dict(zip(keys, values)), g


def _panels(plt, n: int, width: float = 4.2, height: float = 3.2):
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, axes.ravel()[:n]


def _draw(ax, x, y, e, color, text, band: bool) -> None:
    if band:
        ax.plot(x, y, "-", color=color, lw=1.2, label=text)
        ax.fill_between(x, y - e, y + e, color=color, alpha=0.25, lw=0)
    else:
        ax.errorbar(x, y, yerr=e, fmt="o-", ms=3, lw=1, elinewidth=0.8, color=color, label=text)


def _log_if_time(ax, axis: str, x) -> None:
    """A log time axis for times over more than a decade sampled (about) geometrically, as the default log grid
    of [times] is; times sampled evenly keep a linear axis."""
    x = np.unique(np.asarray(x, dtype=float))
    if axis not in ("t", "time") or not np.all(x > 0) or x.max() / x.min() <= 10:
        return
    if len(x) >= 3:
        def unevenness(steps):
            return float(np.std(steps) / np.mean(steps))

        if unevenness(np.diff(x)) <= unevenness(np.diff(np.log(x))):
            return
    ax.set_xscale("log")


def _color(i: int, n: int, plt):
    return plt.cm.viridis(i / max(1, n - 1)) if n > 10 else f"C{i % 10}"


def _ylabel(exp, obs: str) -> str:
    """The kernel's symbol for an observable or axis (LABELS, mathtext, its scale included), else its name with
    its unit (UNITS) where that is not 1."""
    symbol = exp.kernel.labels.get(obs)
    if symbol:
        return symbol
    units = exp.kernel.units.get(obs)
    name = math_name(obs) if obs.replace("_", "").isalnum() and len(obs) <= 12 else obs
    return f"{name} ({units})" if units and units != "1" else name


def _profile(plt, exp, rows, obs, axes):
    """An observable with one axis: x = the axis, lines = the first swept parameter, panels = the others."""
    axis = axes[0]
    swept = _swept(exp, rows)
    line_key, panel_keys = (swept[0], swept[1:]) if swept else (None, [])
    panels = list(_groups(rows, panel_keys))
    shown = panels[:MAX_PANELS]
    fig, axs = _panels(plt, len(shown))
    for ax, (where, g) in zip(axs, shown):
        values = sorted(g[line_key].unique()) if line_key else [None]
        chosen = _pick(values, MAX_LINES)
        for i, v in enumerate(chosen):
            d = (g[g[line_key] == v] if line_key else g).sort_values(axis)
            text = label({line_key: v}, [line_key]) if line_key else None
            _draw(ax, d[axis], d["mean"], d["sem"], _color(i, len(chosen), plt), text, len(d) > BAND_FROM)
        _log_if_time(ax, axis, g[axis])
        ax.set_xlabel(_ylabel(exp, axis))
        ax.set_ylabel(_ylabel(exp, obs))
        if where:
            ax.set_title(label(where, list(where)), fontsize=9)
        if line_key:
            key = math_name(line_key)
            title = f"{key}: {len(chosen)} of {len(values)} values" if len(chosen) < len(values) else key
            ax.legend(title=title)
    if len(panels) > len(shown):
        fig.text(0.5, 0.01, f"{len(shown)} of {len(panels)} panels shown; the summary table has them all", ha="center", fontsize=8)
    return fig


def _field(plt, exp, rows, obs, axes):
    """An observable with two or more axes: x = its first axis, lines = its second, one panel per point."""
    x_axis, line_axis = axes[0], axes[1]
    keys = [k for k in exp.params_names if k in rows]
    points = list(_groups(rows, [k for k in exp.swept_names if k in rows]))
    shown = points[:MAX_PANELS]
    fig, axs = _panels(plt, len(shown))
    for ax, (where, g) in zip(axs, shown):
        if len(axes) > 2:  # further axes: their first coordinate (the figure says so)
            for a in axes[2:]:
                g = g[g[a] == g[a].min()]
        values = sorted(g[line_axis].dropna().unique())
        chosen = _pick(values, min(8, MAX_LINES))
        for i, v in enumerate(chosen):
            d = g[g[line_axis] == v].sort_values(x_axis)
            _draw(ax, d[x_axis], d["mean"], d["sem"], _color(i, len(chosen), plt),
                  label({line_axis: v}, [line_axis]), len(d) > BAND_FROM)  # fmt: skip
        _log_if_time(ax, x_axis, g[x_axis])
        ax.set_xlabel(_ylabel(exp, x_axis))
        ax.set_ylabel(_ylabel(exp, obs))
        title = label(where, list(where), empty="")
        if len(axes) > 2:
            title += ("; " if title else "") + label({a: g[a].min() for a in axes[2:]}, axes[2:])
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7, title=f"{len(chosen)} of {len(values)} values" if len(chosen) < len(values) else None,
                  title_fontsize=7)  # fmt: skip
    del keys
    if len(points) > len(shown):
        fig.text(0.5, 0.01, f"{len(shown)} of {len(points)} points shown; the summary table has them all", ha="center", fontsize=8)
    return fig


def _scalar(plt, exp, rows, obs, axes):
    """A scalar observable: against the first swept parameter, lines = the second (one value without a sweep)."""
    swept = _swept(exp, rows)
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    numeric = [k for k in swept if pd.api.types.is_numeric_dtype(rows[k])]
    if not swept:
        ax.errorbar([0], rows["mean"].iloc[:1], yerr=rows["sem"].iloc[:1], fmt="o", color="C0")
        ax.set_xticks([0], ["the only point"])
        ax.set_xlabel("point")
    else:
        x_key = numeric[0] if numeric else swept[0]
        line_key = next((k for k in swept if k != x_key), None)
        values = sorted(rows[line_key].unique()) if line_key else [None]
        chosen = _pick(values, MAX_LINES)
        for i, v in enumerate(chosen):
            d = (rows[rows[line_key] == v] if line_key else rows).sort_values(x_key)
            x = d[x_key] if x_key in numeric else np.arange(len(d))
            ax.errorbar(x, d["mean"], yerr=d["sem"], fmt="o-", ms=3, color=_color(i, len(chosen), plt),
                        label=label({line_key: v}, [line_key]) if line_key else None)  # fmt: skip
            if x_key not in numeric:
                ax.set_xticks(np.arange(len(d)), [format_value(v) for v in d[x_key]])
        ax.set_xlabel(_ylabel(exp, x_key))
        if line_key:
            ax.legend(fontsize=7, title=f"{len(chosen)} of {len(values)} values" if len(chosen) < len(values) else None,
                      title_fontsize=7)  # fmt: skip
    ax.set_ylabel(_ylabel(exp, obs))
    return fig
