"""How values, labels and figures are shown: one formatter for reports and plot labels, one figure writer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

__all__ = ["cell", "format_value", "header", "label", "missing", "save_figures"]


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
