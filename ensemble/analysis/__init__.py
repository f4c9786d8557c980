"""Analyses: derived quantities and fits computed from the averaged observables."""

from .front import AVALANCHE_BOUND, FitConfig, FrontAnalysis

__all__ = ["AVALANCHE_BOUND", "FitConfig", "FrontAnalysis"]
