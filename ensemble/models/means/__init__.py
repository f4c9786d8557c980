"""The default analysis ("means"): tables of means and errors, a report of final values, and a figure of every
observable against its axes. Any kernel gets it, a physicist's new one included, on its first run."""

from __future__ import annotations

from ensemble.models.base import Model

__all__ = ["MODEL", "MeansModel"]


class MeansModel(Model):
    """No fits: the summary table, the final value of every observable per point, and its figures."""

    name = "means"
    description = "means and standard errors of the kernel's observables, a table of final values, a figure per observable"


MODEL = MeansModel()
