"""An XXZ chain closed through an ergodic bubble, paper 002 (kernel xxz_bubble)."""

from __future__ import annotations

from ensemble.models.base import Model
from ensemble.models.bubble.analysis import BubbleAnalysis, BubbleSettings, cross_point_rows

__all__ = ["MODEL", "BubbleModel"]


class BubbleModel(Model):
    """Gap ratio, purities by distance, C(r), the plateau fit; r crossings and delta_0 across points."""

    name = "bubble"
    description = "gap ratio, one-site purities and their correlations near an ergodic bubble, delta_0 and Eq. (6) fits (paper 002)"
    Settings = BubbleSettings
    headline = "gamma_dist"

    def analysis(self, params, settings) -> BubbleAnalysis:
        return BubbleAnalysis(params)

    def cross_point_rows(self, fits, params, settings, seed):
        return cross_point_rows(fits, params, settings.bootstrap, seed)


MODEL = BubbleModel()
