"""Thermalization fronts and avalanche thresholds of paper 003 (kernels anderson_trajectory, xxz_trajectory, xxz_exact)."""

from __future__ import annotations

from ensemble.errors import SpecError
from ensemble.models.base import Model
from ensemble.models.front.analysis import FrontAnalysis, FrontSettings

__all__ = ["MODEL", "FrontModel"]


class FrontModel(Model):
    """Ir, dS, h(t) per point; the front fit, the threshold time; Eqs. (9), (10), (18) across points."""

    name = "front"
    description = "thermalization front h(t) = A ln t + B, threshold time t~, Eq. (9) scaling and the crossing W* (paper 003)"
    Settings = FrontSettings
    tables = ("fit_windows",)
    headline = "Ir"

    def analysis(self, params, settings) -> FrontAnalysis:
        return FrontAnalysis(params.times, settings)

    def check(self, exp) -> None:
        """A user's fit window must hold enough sample times at every point."""
        if exp.fit.window is None:
            return
        for pt in exp.points:
            problem = self.analysis(pt.params, exp.fit).window_problem()
            if problem:
                raise SpecError("fit.window", list(exp.fit.window), f"{problem} (point {pt.label or 'the only point'})")

    def cross_point_rows(self, fits, params, settings, seed):
        from ensemble.models.front.thresholds import cross_point_rows  # pandas: only when tables are made

        return cross_point_rows(fits, params, settings.bootstrap, seed)


MODEL = FrontModel()
