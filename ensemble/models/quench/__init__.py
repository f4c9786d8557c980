"""A localized chain coupled to a finite environment, quench dynamics, paper 000 (kernel coupled_chains)."""

from __future__ import annotations

from ensemble.models.base import Model
from ensemble.models.quench.analysis import QuenchAnalysis, dimer_comparison

__all__ = ["MODEL", "QuenchModel"]


class QuenchModel(Model):
    """Window and diagonal-ensemble averages of M and F per point; the App. B ladder-vs-chain comparison."""

    name = "quench"
    description = "staggered magnetization and fidelities after a quench, window and diagonal-ensemble averages (paper 000)"

    def analysis(self, params, settings) -> QuenchAnalysis:
        return QuenchAnalysis(params)

    def cross_point_rows(self, fits, params, settings, seed):
        return dimer_comparison(fits[fits["fit"] == "quench_point"], params)


MODEL = QuenchModel()
