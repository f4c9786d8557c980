"""An Anderson insulator of d-bosons with one clean c-boson, paper 001 (kernels boson_impurity, boson_tebd)."""

from __future__ import annotations

from ensemble.models.base import Model
from ensemble.models.impurity.analysis import ImpurityAnalysis, ImpuritySettings

__all__ = ["MODEL", "ImpurityModel"]


class ImpurityModel(Model):
    """Coarse-grained c profiles with Eq. (3), l_c(t) with Eq. (4), d-d decay lengths, Eq. (5)'s entanglement fit."""

    name = "impurity"
    description = "c-boson spreading (Eqs. 3, 4), d-boson correlations, entanglement growth (Eq. 5) (paper 001)"
    headline = "l_c"
    Settings = ImpuritySettings

    def analysis(self, params, settings) -> ImpurityAnalysis:
        return ImpurityAnalysis(params, settings)


MODEL = ImpurityModel()
