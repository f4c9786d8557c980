"""Normal draws of known mean and variance, x = mu + sigma z: what precision goals are tested on (the standard error
after n realizations is sigma / sqrt(n), and the coverage of the error bar is known). Its analysis (a test model,
ANALYSIS below) fits a difference across points, for goals on a fit that combines points."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ensemble.models import Model

NAME = "normal"
ANALYSIS = "module:tests.ensemble.normal_kernel"
OBSERVABLES = {"x": "mu + sigma z, z standard normal"}


@dataclass(frozen=True)
class Params:
    """One normal draw.

    Parameters
    ----------
    mu : float
        The mean.
    sigma : float
        The standard deviation, > 0.
    shape : str
        "normal" (x = mu + sigma z) or "exponential" (x = mu + sigma (e - 1), e ~ Exp(1): skewed, same mean
        and variance).
    """

    mu: float = 0.0
    sigma: float = 1.0
    shape: str = "normal"

    def __post_init__(self):
        if self.shape not in ("normal", "exponential"):
            raise ValueError(f"shape = {self.shape!r}: allowed: 'normal' or 'exponential'")


def warmup_params() -> Params:
    return Params()


def schema(p: Params):
    return {"x": {}}


def sample(p: Params, rng: np.random.Generator):
    return rng.exponential() - 1.0 if p.shape == "exponential" else rng.standard_normal()


def realize(p: Params, z: float):
    return {"x": np.array(p.mu + p.sigma * z)}


def cost(p: Params) -> float:
    """CPU seconds of a realization: next to none."""
    return 1e-6


class _Point:
    derived_axes: dict = {}

    def estimators(self, means):
        return {"x": means["x"]}

    def fit_rows(self, value, sem):
        return {"fits": [{"fit": "mean", "x": float(value["x"]), "x_err": float(sem["x"]), "status": "resolved"}]}


class NormalModel(Model):
    """The mean per point, and across points the difference of the largest-sigma point's mean and the smallest's."""

    name = "normal_test"
    description = "means, and a difference across points (a test model)"

    def analysis(self, params, settings):
        return _Point()

    def cross_point_rows(self, fits, params, settings, seed):
        pts = fits[fits["fit"] == "mean"].sort_values("sigma")
        if len(pts) < 2:
            return []
        a, b = pts.iloc[0], pts.iloc[-1]
        return [{"fit": "difference", "difference": b.x - a.x, "difference_err": math.hypot(a.x_err, b.x_err),
                 "status": "resolved"}]  # fmt: skip


MODEL = NormalModel()
