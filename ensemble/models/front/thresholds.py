r"""Fits across parameter points: the avalanche thresholds of paper 003.

* **Eq. (9)**: ``ln t~ = alpha L W + c``, a weighted least-squares fit over the
  (L, W) points (weights: the jackknife errors of ln t~; the points are
  independent runs), with ``W~ = 2 ln 2 / alpha`` (Eq. 10). Errors are scaled
  by sqrt(chi^2/dof) when that exceeds 1.
* **Eq. (18)**: ``W*``, where ``1/A(W)`` crosses ``2 ln 4``, computed as the
  crossing of the front slope ``A(W)`` through ``1/(2 ln 4)`` (the same
  condition; A keeps Gaussian errors where A ~ 0 and 1/A does not): above the
  last sampled W at which the bound is violated, by linear interpolation to
  the next W. Its error comes from a parametric bootstrap (A(W) ~ N(value,
  err) independently per W). "No crossing within the sampled W" is a valid
  answer and is reported as such, with the side it falls on.

Both group points by every parameter that is not part of the fit (e.g. one
W* per L), and return rows for the fits table.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ensemble.analysis.resolution import EDGE, RESOLVED, UNDETERMINED, classify, grid_effect, quadratic_crossing, worst
from ensemble.spec.seeding import analysis_rng
from ensemble.models.base import groups
from ensemble.models.front.analysis import A_BOUND, AVALANCHE_BOUND

__all__ = ["avalanche_crossing", "cross_point_rows", "crossing", "threshold_scaling"]


def cross_point_rows(fits: pd.DataFrame, params: list[str], bootstrap: int, seed: int) -> list[dict]:
    """Rows of the Eq. (9) and Eq. (18) fits from the per-point fits rows."""
    rows = []
    if {"L", "W"} <= set(params):
        rows += threshold_scaling(fits, params)
    if "W" in params:
        rows += avalanche_crossing(fits, params, bootstrap, seed)
    return rows


def threshold_scaling(fits: pd.DataFrame, params: list[str]) -> list[dict]:
    """Eq. (9) per group of the parameters other than L and W."""
    pts = fits[(fits["fit"] == "threshold_time")]
    out = []
    for group, g in groups(pts, params, ("L", "W")):
        ok = np.isfinite(g["ln_t_tilde"]) & np.isfinite(g["ln_t_tilde_err"]) & (g["ln_t_tilde_err"] > 0)
        if "status" in g:  # a crossing before the first sample time is only a bound: not fitted
            ok &= g["status"] != EDGE
        g = g[ok]
        x = (g["L"] * g["W"]).to_numpy(dtype=float)
        row = {**group, "fit": "threshold_scaling", "n_points": int(len(g))}
        if len(g) < 2 or np.unique(x).size < 2:
            out.append({**row, "outcome": "fewer than 2 (L W) values with a threshold time",
                        "status": UNDETERMINED})  # fmt: skip
            continue
        y, s = g["ln_t_tilde"].to_numpy(dtype=float), g["ln_t_tilde_err"].to_numpy(dtype=float)
        (alpha, c), cov, chi2, dof = _weighted_line(x, y, s)
        scale = math.sqrt(chi2 / dof) if dof > 0 and chi2 > dof else 1.0
        a_err, c_err = math.sqrt(cov[0, 0]) * scale, math.sqrt(cov[1, 1]) * scale
        w_tilde = 2 * math.log(2) / alpha if alpha != 0 else math.nan
        out.append(
            {
                **row,
                "outcome": "fitted",
                "status": worst(g["status"]) if "status" in g else RESOLVED,
                "alpha": alpha,
                "alpha_err": a_err,
                "c": c,
                "c_err": c_err,
                "chi2_dof": chi2 / dof if dof > 0 else math.nan,
                "errors_scaled": scale > 1.0,
                "W_tilde": w_tilde,
                "W_tilde_err": abs(w_tilde) * a_err / abs(alpha) if alpha != 0 else math.nan,
            }
        )
    return out


def _weighted_line(x, y, s):
    """y = a x + b by weighted least squares: (a, b), covariance, chi^2, dof."""
    A = np.stack([x, np.ones_like(x)], axis=1) / s[:, None]
    coef, *_ = np.linalg.lstsq(A, y / s, rcond=None)
    cov = np.linalg.inv(A.T @ A)
    chi2 = float(np.sum(((y - (coef[0] * x + coef[1])) / s) ** 2))
    return coef, cov, chi2, len(x) - 2


def crossing(W: np.ndarray, A: np.ndarray, bound: float = A_BOUND) -> tuple[float, str]:
    """W* above which every sampled front slope satisfies A < bound (1/A > 2 ln 4).

    Linear interpolation between the last W where A >= bound and the next.
    Returns (W*, outcome), outcome one of "crossing", "bound holds at all sampled W"
    (W* below the smallest W) or "bound violated at the largest sampled W".
    """
    i = _last_violation(A, bound)
    if i is None:
        return math.nan, "bound holds at all sampled W"
    if i == W.size - 1:
        return math.nan, "bound violated at the largest sampled W"
    f = (A[i] - bound) / (A[i] - A[i + 1])
    return float(W[i] + f * (W[i + 1] - W[i])), "crossing"


def _quadratic(W: np.ndarray, A: np.ndarray) -> float:
    """W* by quadratic instead of linear interpolation between the same two sampled W (for the grid's effect)."""
    return quadratic_crossing(W, A, _last_violation(A, A_BOUND), A_BOUND)


def _last_violation(A: np.ndarray, bound: float) -> int | None:
    violated = np.flatnonzero(A >= bound)
    return int(violated[-1]) if violated.size else None


def avalanche_crossing(fits: pd.DataFrame, params: list[str], bootstrap: int, seed: int) -> list[dict]:
    """Eq. (18) per group of the parameters other than W."""
    pts = fits[(fits["fit"] == "front")]
    out = []
    rng = analysis_rng(seed, "avalanche_crossing")
    for group, g in groups(pts, params, ("W",)):
        asymptotic = g["plateau"].astype(bool) if "plateau" in g else np.ones(len(g), dtype=bool)
        left_out = int((~asymptotic & np.isfinite(g["A"])).sum())
        g = g[np.isfinite(g["A"]) & np.isfinite(g["A_err"]) & asymptotic].sort_values("W")
        row = {**group, "fit": "avalanche_crossing", "n_points": int(len(g)), "n_no_plateau": left_out,
               "bound": AVALANCHE_BOUND}  # fmt: skip
        if len(g) < 2:
            out.append({**row, "outcome": "fewer than 2 W values with an asymptotic front slope",
                        "status": UNDETERMINED})  # fmt: skip
            continue
        W, v, e = (g[c].to_numpy(dtype=float) for c in ("W", "A", "A_err"))
        w_star, outcome = crossing(W, v)
        draws = v + e * rng.standard_normal((bootstrap, v.size))
        boot = np.array([crossing(W, d)[0] for d in draws])
        crossed = boot[np.isfinite(boot)]
        w_err = float(np.std(crossed, ddof=1)) if crossed.size > 1 else math.nan
        if outcome == "crossing":  # how much the W grid decides W*: linear against quadratic interpolation
            shift = [_quadratic(W, d) - c for d, c in zip(draws, boot) if math.isfinite(c)]
            delta_err = float(np.std(shift, ddof=1)) if len(shift) > 1 else math.nan
            grid = grid_effect(_quadratic(W, v) - w_star, delta_err)
            status = worst([classify(w_star, w_err, discretization=grid), *g.get("status", [])])
        else:
            status = EDGE
        row.update(
            outcome=outcome,
            status=status,
            W_star=w_star,
            W_min=float(W[0]),
            W_max=float(W[-1]),
            p_crossing=crossed.size / bootstrap,
            W_star_err=w_err,
            W_star_lo=float(np.percentile(crossed, 16)) if crossed.size else math.nan,
            W_star_hi=float(np.percentile(crossed, 84)) if crossed.size else math.nan,
        )
        out.append(row)
    return out
