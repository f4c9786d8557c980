"""Eigenstate IPRs of a bath coupled to LIOMs, paper 004 (kernel rmt_bath)."""

from __future__ import annotations

from ensemble.models.base import Model
from ensemble.models.ipr.analysis import IprAnalysis, cross_point_rows

__all__ = ["MODEL", "IprModel"]


class IprModel(Model):
    """D(O_B), G, the slope of D(sigma^x_i) over the LIOMs, the hybridization width; Figs. 3 and 5 across points."""

    name = "ipr"
    description = "eigenstate IPRs D(O) of bath and LIOM operators, the coupling G, hybridization widths (paper 004)"

    def analysis(self, params, settings) -> IprAnalysis:
        return IprAnalysis(params)

    def cross_point_rows(self, fits, params, settings, seed):
        return cross_point_rows(fits, params, seed)


MODEL = IprModel()
