"""How values, labels and figures are shown: one formatter for reports and plot labels, one figure writer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

__all__ = ["caption", "cell", "format_value", "header", "label", "mark_unresolved", "missing", "save_figures", "value_range"]


def format_value(v) -> str:
    """A parameter value as reports and plot labels show it: numbers as %g, strings (e.g. unraveling) as they are."""
    if isinstance(v, bool | np.bool_):
        return str(bool(v)).lower()
    return f"{v:g}" if isinstance(v, int | float | np.integer | np.floating) else str(v)


def label(row: Mapping, names: Iterable[str], empty: str = "all") -> str:
    """``k = v, ...`` of the named parameters of a row (``empty`` if there are none)."""
    return ", ".join(f"{k} = {format_value(row[k])}" for k in names) or empty


def header(names: Iterable[str]) -> str:
    """Fixed-width column heads of swept parameters, one space apart (see :func:`cell`)."""
    return "".join(f" {k:>{max(7, len(k))}}" for k in names)


def cell(row: Mapping, names: Iterable[str]) -> str:
    """Fixed-width cells of the swept values (numbers as %g, strings as they are), one space apart."""
    return "".join(f" {format_value(row[k]):>{max(7, len(k))}}" for k in names)


def missing(row: Mapping, key: str) -> bool:
    """True if a fits row lacks ``key`` or holds NaN/None there (rows of one table differ in their columns)."""
    v = row.get(key) if hasattr(row, "get") else None
    return v is None or (isinstance(v, float | np.floating) and not np.isfinite(v))


def value_range(values: Iterable) -> str:
    """One value as %g; several numbers as ``lo–hi (n values)``; several strings joined by "/"."""
    vals = sorted(set(values), key=lambda v: (isinstance(v, str), v))
    if len(vals) == 1:
        return format_value(vals[0])
    if all(isinstance(v, int | float | np.integer | np.floating) for v in vals):
        return f"{format_value(vals[0])}–{format_value(vals[-1])} ({len(vals)} values)"
    return "/".join(format_value(v) for v in vals)


def caption(exp, summary=None, width: int = 110) -> str:
    """What a figure of this run shows: spec name, kernel, the parameters the spec sets, the swept ranges, N_r.

    N_r is read from the summary table's ``n`` column when there is one (what the
    tables hold), else from the spec.
    """
    import textwrap

    parts = [f"{k} = {format_value(v)}" for k, v in exp.fixed.items() if k != "times"]
    for k in exp.swept_names:
        values = [pt.swept.get(k, getattr(pt.params, k)) for pt in exp.points]
        parts.append(f"{k} = {value_range(values)}")
    if summary is not None and "n" in summary and len(summary):
        n = summary["n"].dropna()
        parts.append(f"N_r = {value_range(int(v) for v in n.unique())}" if len(n) else "")
    else:
        parts.append(f"N_r = {value_range(pt.realizations for pt in exp.points)}")
    text = f"{exp.name} ({exp.kernel.name}): " + ", ".join(p for p in parts if p)
    return "\n".join(textwrap.wrap(text, width))


def save_figures(figures: Mapping[str, object], out: str | Path, dpi: int = 120) -> list[Path]:
    """Write matplotlib figures as ``out/<name>.png`` (tight layout) and close them; return the paths."""
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, fig in figures.items():
        path = out / f"{name}.png"
        fig.tight_layout()
        fig.savefig(path, dpi=dpi)
        plt.close(fig)
        paths.append(path)
    return paths


def mark_unresolved(ax, x, y, status, color, ms: float = 9, labelled: set | None = None) -> None:
    """Draw open markers over the points whose ``status`` is not "resolved" (see :mod:`ensemble.resolution`):
    a hollow square for "at resolution limit", a hollow diamond for "at range edge". ``labelled`` collects the
    statuses that already have a legend entry (one entry per status per axes)."""
    from .resolution import EDGE, LIMIT

    labelled = labelled if labelled is not None else set()
    status = np.asarray(list(status), dtype=object)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    for which, marker in ((LIMIT, "s"), (EDGE, "D")):
        sel = status == which
        if sel.any():
            ax.plot(x[sel], y[sel], marker, ms=ms, mfc="none", mec=color, mew=1.2, ls="none",
                    label=which if which not in labelled else None)  # fmt: skip
            labelled.add(which)
