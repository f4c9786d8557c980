"""The model interface: what an analysis family provides to the engine, the CLI and the plots.

A *model* (one package under ``ensemble/models/``) owns everything that knows
about one family of the papers' physics: its fit settings (the spec's
``[fit]`` table, validated: keys it does not know are errors), the per-point
analysis that derives quantities and fits from the block averages, the fits
across points, the report the CLI prints (``report.py``: ``report(exp,
tables) -> list[str]``), and the figures (``figures.py``: ``figures(exp,
tables) -> dict[str, Figure]``). Shared code calls these methods and never
names a model's parameters or observables.

A per-point analysis (returned by :meth:`Model.analysis`) has

``derived_axes``
    dict: derived observable -> tuple of axis names (they go to the summary table);
``estimators(means) -> dict``
    derived quantities from the averaged observables; must broadcast over a
    leading axis (the block jackknife evaluates it on leave-one-out means);
``fit_rows(value, sem) -> dict[str, list[dict]]``
    rows per table ("fits", and any extra table of :attr:`Model.tables`). ``value`` and ``sem`` hold the
    kernel's averaged observables with their per-realization standard errors (the summary's ``sem``) and the
    derived quantities of ``estimators`` with their block-jackknife errors: a fits column that is a plain mean
    of an observable (or one element of it) is read from the observable, so that one number has one error bar.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ensemble.settings import from_table

__all__ = ["Model", "NoSettings", "PointAnalysis", "gap_ratio_figure", "groups"]


@dataclass(frozen=True)
class NoSettings:
    """A model without fit settings: any [fit] key is an error."""


class PointAnalysis(Protocol):
    derived_axes: Mapping[str, tuple[str, ...]]

    def estimators(self, means: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]: ...

    def fit_rows(self, value: Mapping[str, np.ndarray], sem: Mapping[str, np.ndarray]) -> dict[str, list[dict]]: ...


class Model:
    """Base class of the analysis models (the default one, "means", is :mod:`ensemble.models.means`).

    Attributes
    ----------
    name : str
        The analysis family, as kernels name it in ``ANALYSIS``.
    description : str
        One line for listings.
    Settings : type
        Frozen dataclass of the [fit] settings (see :mod:`ensemble.settings`).
    tables : tuple of str
        Tables besides summary and fits that the analysis writes.
    headline : str or None
        The observable a report suggests querying first (None: the first of the schema).
    """

    name = ""
    description = ""
    Settings: type = NoSettings
    tables: tuple[str, ...] = ()
    headline: str | None = None

    def settings(self, table: dict) -> Any:
        """Validated [fit] settings from the spec's table."""
        return from_table(self.Settings, table, "fit", f"the {self.name} analysis")

    def check(self, exp) -> None:
        """Spec-level checks that need the points and the settings together (SpecError)."""

    def analysis(self, params, settings) -> PointAnalysis | None:
        """The per-point analysis, or None for means only."""
        return None

    def cross_point_rows(self, fits: pd.DataFrame, params: list[str], settings, seed: int) -> list[dict]:
        """Fits-table rows that combine points (e.g. a crossing over W)."""
        return []

    def report(self, exp, tables: Mapping[str, pd.DataFrame]) -> list[str]:
        """Lines the CLI prints after a run or a refit: ``report(exp, tables)`` of the package's report.py."""
        part = self._part("report")
        return part.report(exp, tables) if part else []

    def figures(self, exp, tables: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
        """matplotlib figures by file stem, from ``figures(exp, tables)`` of the package's figures.py; figures
        the run's sweep cannot support are left out. A model may override this (a plugin's single module does).
        The engine draws through :func:`ensemble.figstyle.draw`, which applies the style around this call and
        finishes every figure for a journal (size, fonts, panel letters, caption)."""
        part = self._part("figures")
        if not part:
            return {}
        return part.figures(exp, tables)

    def _part(self, name: str):
        """The module ``name`` of this model's package, imported on first use (matplotlib only when drawing)."""
        package = type(self).__module__
        if package == __name__ or not hasattr(importlib.import_module(package), "__path__"):
            return None  # the base class, or a model in a single module (its methods are its parts)
        if importlib.util.find_spec(f"{package}.{name}") is None:
            return None
        return importlib.import_module(f"{package}.{name}")

    def settings_doc(self) -> dict[str, str]:
        """[fit] key -> one line of documentation."""
        return {f.name: f.metadata.get("doc", "") for f in dataclasses.fields(self.Settings)}


def groups(df: pd.DataFrame, params: list[str], over: tuple[str, ...]) -> Iterator[tuple[dict, pd.DataFrame]]:
    """Rows of ``df`` grouped by every parameter of ``params`` not in ``over`` (one group if none is left)."""
    keys = [p for p in params if p not in over]
    if not keys:
        yield {}, df
        return
    for values, g in df.groupby(keys, sort=True, dropna=False):
        values = values if isinstance(values, tuple) else (values,)
        yield dict(zip(keys, values)), g


def gap_ratio_figure(plt, summary: pd.DataFrame, swept: list[str]):
    """P(r) of every point (mean density with its error) against the GOE surmise and Poisson levels."""
    from kernels.numerics.levels import gap_ratio_density

    from ensemble.display import math_label as label

    h = summary[summary.observable == "r_hist"]
    if h.empty:
        return None
    fig, ax = plt.subplots(figsize=(6, 4.2))
    keys = [k for k in swept if k in h]
    groups = list(h.groupby(keys)) if keys else [((), h)]
    cmap = plt.cm.viridis
    for i, (_, g) in enumerate(groups):
        g = g.sort_values("ratio")
        color = cmap(i / max(1, len(groups) - 1)) if len(groups) > 10 else f"C{i % 10}"
        ax.errorbar(g.ratio, g["mean"], yerr=g["sem"], fmt="o-", ms=2, lw=1, color=color,
                    label=(label(g.iloc[0], keys) if keys else r"$P(r)$, mean $\pm$ s.e.") if len(groups) <= 10 else None)
    r = np.linspace(0, 1, 200)
    ax.plot(r, gap_ratio_density(r, "GOE"), "k--", lw=1.2, label="GOE (surmise)")
    ax.plot(r, gap_ratio_density(r, "Poisson"), "k:", lw=1.2, label="Poisson")
    n = int(h["n"].max())
    ax.set_xlabel(r"gap ratio $r$")
    ax.set_ylabel(r"$P(r)$")
    ax.set_xlim(0, 1)
    ax.text(0.98, 0.97, f"up to {n} gap ratios per point", transform=ax.transAxes, ha="right", va="top", color="0.35")
    if len(groups) > 10:
        sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, len(groups) - 1))
        fig.colorbar(sm, ax=ax, label="point index")
    ax.legend(fontsize=7)
    return fig
