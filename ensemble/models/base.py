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
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

from ensemble.spec.settings import from_table

__all__ = ["Model", "NoSettings", "PointAnalysis", "groups"]


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
        Frozen dataclass of the [fit] settings (see :mod:`ensemble.spec.settings`).
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
        The engine draws through :func:`ensemble.present.figstyle.draw`, which applies the style around this call and
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
