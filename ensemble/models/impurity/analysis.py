r"""Analysis of the Anderson insulator + clean boson (paper 001, Eqs. 2-5), per point with jackknife errors.

* ``n_c_cg`` (t, site): the c-boson density coarse-grained over a unit cell of
  three sites, (n_i + n_i+1 + n_i+2)/3 (the paper prints the sum to i + 3, four
  sites, over 3);
* ``l_c``, ``R`` (t): the fit of Eq. (3), n(x) = N exp(-|x| / (l_c tanh(R/|x|))),
  to the coarse-grained profile at each time (x = distance from the c-boson's
  initial site; least squares on log n). The profile is exponential inside R
  and Gaussian (sigma^2 = l_c R / 2 in this form) beyond it; the paper's
  sentence has the two regimes swapped;
* ``xi_c``, ``T0``: Eq. (4), l_c(t) = xi_c log(1 + t/T0) / (1 + log(1 + t/T0)), fitted to l_c(t);
* ``l_d`` (t, site): the decay length of |<n_d,i-x/2 n_d,i+x/2>_c| ~ e^(-x/l_d) over
  even x at centre i (a line through log|C| against x, x = 2, 4, ...), and
  ``l_d_sat`` (site): its saturation value from Eq. (4) fitted to l_d(t, i) at each i
  (Fig. 3b inset);
* ``S_AI``, ``xi_S``: Eq. (5), S(i, t) = S_AI + xi_S log(1 + U n_c(i - i0, t) t),
  linear least squares over all cuts and times with the measured n_c at the cut.

:func:`stability_criterion` evaluates Eq. (2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from ensemble.errors import SpecError
from ensemble.analysis.resolution import classify
from ensemble.spec.settings import setting

__all__ = ["ImpurityAnalysis", "ImpuritySettings", "coarse_grain", "eq3_profile", "eq4_growth", "fit_eq3", "fit_eq4", "stability_criterion"]

BOUNDS = (0.05, 1e3)


def coarse_grain(n: np.ndarray) -> np.ndarray:
    """(n_i + n_i+1 + n_i+2) / 3 along the last axis; the last two sites get the cells that fit."""
    out = np.full_like(n, np.nan)
    out[..., :-2] = (n[..., :-2] + n[..., 1:-1] + n[..., 2:]) / 3.0
    return out


def eq3_profile(x, log_N: float, l_c: float, R: float):
    """log n(x) of Eq. (3); at x = 0 the exponent is 0."""
    ax = np.abs(np.asarray(x, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        expo = np.where(ax > 0, ax / (l_c * np.tanh(R / np.where(ax > 0, ax, 1.0))), 0.0)
    return log_N - expo


def fit_eq3(x: np.ndarray, n: np.ndarray, floor: float = 1e-12) -> tuple[float, float, float]:
    """(log N, l_c, R) of Eq. (3) by least squares on log n over points with n > floor; NaN if < 4 points."""
    ok = np.isfinite(n) & (n > floor)
    if ok.sum() < 4:
        return math.nan, math.nan, math.nan
    x, y = x[ok], np.log(n[ok])
    res = least_squares(lambda q: eq3_profile(x, q[0], q[1], q[2]) - y, x0=(y.max(), 1.0, 2.0),
                        bounds=([-np.inf, BOUNDS[0], BOUNDS[0]], [np.inf, BOUNDS[1], BOUNDS[1]]))  # fmt: skip
    return float(res.x[0]), float(res.x[1]), float(res.x[2])


def eq4_growth(t, xi_c: float, T0: float):
    g = np.log1p(np.asarray(t, dtype=float) / T0)
    return xi_c * g / (1.0 + g)


def fit_eq4(t: np.ndarray, l_c: np.ndarray, t_from: float = 0.0) -> tuple[float, float]:
    """(xi_c, T0) of Eq. (4) fitted to the times t >= ``t_from``; NaN with fewer than 3 finite points there."""
    ok = np.isfinite(l_c) & (t >= t_from)
    if ok.sum() < 3:
        return math.nan, math.nan
    t, y = t[ok], l_c[ok]
    res = least_squares(lambda q: eq4_growth(t, q[0], q[1]) - y, x0=(2.0 * y.max(), 1.0),
                        bounds=([1e-6, 1e-6], [1e6, 1e6]))  # fmt: skip
    return float(res.x[0]), float(res.x[1])


def decay_lengths(C: np.ndarray) -> np.ndarray:
    """l_d at every centre i from |C(i - x/2, i + x/2)| over even x >= 2 (NaN with < 2 distances)."""
    L = C.shape[-1]
    out = np.full(C.shape[:-2] + (L,), np.nan)
    for i in range(L):
        xs = [x for x in range(2, L, 2) if i - x // 2 >= 0 and i + x // 2 < L]
        if len(xs) < 2:
            continue
        y = np.stack([np.abs(C[..., i - x // 2, i + x // 2]) for x in xs], axis=-1)
        with np.errstate(divide="ignore"):
            ly = np.log(y)
        xv = np.array(xs, dtype=float)
        xc = xv - xv.mean()
        slope = (ly - ly.mean(axis=-1, keepdims=True)) @ xc / (xc @ xc)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[..., i] = np.where(slope < 0, -1.0 / slope, np.nan)
    return out


def stability_criterion(W: float, W_tilde: float, U: float, xi_c0: float, xi_d: float, nu_d: float, a: float = 1.0):
    """Eq. (2): (W + W~) U > (3/2) xi_c^0 xi_d nu_d (1 - nu_d) / a^2. Returns (lhs, rhs, holds)."""
    lhs = (W + W_tilde) * U
    rhs = 1.5 * xi_c0 * xi_d * nu_d * (1.0 - nu_d) / a**2
    return lhs, rhs, bool(lhs > rhs)


def _time_from(field: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
        raise SpecError(field, v, "a time J t >= 0 (0: every sample time)")
    return float(v)


@dataclass(frozen=True)
class ImpuritySettings:
    """[fit] settings of the impurity analysis."""

    eq4_from: float = setting(0.0, _time_from, "J t from which Eq. (4) is fitted to the c-boson's l_c(t); the Eq. (3) "
                              "fits of earlier times, before the profile has an exponential tail, are left out "
                              "(0: every sample time, the paper's choice; the figure draws the fit dotted before it)")


class ImpurityAnalysis:
    """Eqs. (3)-(5) for one point of the boson_impurity kernel."""

    derived_axes = {"n_c_cg": ("t", "site"), "l_c": ("t",), "R": ("t",), "l_d": ("t", "site"), "l_d_sat": ("site",)}

    def __init__(self, params, settings: ImpuritySettings | None = None):
        self.p = params
        self.settings = settings or ImpuritySettings()
        self.t = np.asarray(params.times, dtype=float)
        self.x = np.arange(params.L) + 1.0 - params.c_site  # cell [i, i + 2] is centred at i + 1

    def estimators(self, means: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        ncg = coarse_grain(means["n_c"])
        lead = ncg.shape[:-2]
        flat = ncg.reshape((-1,) + ncg.shape[-2:])
        prof = np.array([[fit_eq3(self.x, row) for row in sample] for sample in flat])  # (s, t, 3)
        l_c, R = prof[..., 1], prof[..., 2]
        g4 = np.array([fit_eq4(self.t, lc, self.settings.eq4_from) for lc in l_c])
        out = {
            "n_c_cg": ncg,
            "l_c": l_c.reshape(lead + self.t.shape),
            "R": R.reshape(lead + self.t.shape),
            "xi_c": g4[:, 0].reshape(lead),
            "T0": g4[:, 1].reshape(lead),
            "l_d": decay_lengths(means["nd_nd"]),
        }
        ld = out["l_d"].reshape((-1,) + out["l_d"].shape[-2:])  # (s, t, site)
        sat = np.array([[fit_eq4(self.t, sample[:, i])[0] for i in range(sample.shape[1])] for sample in ld])
        out["l_d_sat"] = sat.reshape(lead + (self.p.L,))
        if "S" in means:
            out.update(self._eq5(means["S"], means["n_c"]))
        return out

    def _eq5(self, S: np.ndarray, n_c: np.ndarray) -> dict[str, np.ndarray]:
        """S_AI, xi_S of Eq. (5) with n_c at the cut (the site right of it)."""
        L = self.p.L
        cut_site = np.arange(1, L)
        z = np.log1p(abs(self.p.U) * n_c[..., :, cut_site] * self.t[:, None])  # (..., t, cut)
        zf = z.reshape(z.shape[:-2] + (-1,))
        sf = S.reshape(S.shape[:-2] + (-1,))
        zc = zf - zf.mean(axis=-1, keepdims=True)
        xi = np.sum(zc * (sf - sf.mean(axis=-1, keepdims=True)), axis=-1) / np.sum(zc * zc, axis=-1)
        return {"xi_S": xi, "S_AI": sf.mean(axis=-1) - xi * zf.mean(axis=-1)}

    def fit_rows(self, value, sem) -> dict[str, list[dict]]:
        row = {"fit": "impurity_point"}
        for k in ("xi_c", "T0", "xi_S", "S_AI"):
            if k in value:
                row[k], row[f"{k}_err"] = float(value[k]), float(sem[k])
        # Eq. (4) saturates at t ~ T0: a T0 beyond the last sample time, a parameter at a bound of the fit, or a
        # saturation length beyond the chain mean that l_c(t) has not saturated within the sampled range
        xi_c, T0 = row["xi_c"], row["T0"]
        edge = math.isfinite(T0) and (T0 >= self.t[-1] or not 1e-6 * 1.001 < T0 < 1e6 * 0.999
                                      or not 1e-6 * 1.001 < xi_c < 1e6 * 0.999 or xi_c > self.p.L)  # fmt: skip
        row["status"] = classify(xi_c, row["xi_c_err"], edge=edge)
        late = value["l_d"][-1]
        centre = self.p.c_site
        row["l_d_centre_late"] = float(late[centre]) if np.isfinite(late[centre]) else math.nan
        row["l_d_centre_late_err"] = float(sem["l_d"][-1][centre])
        row["l_c_late"], row["l_c_late_err"] = float(value["l_c"][-1]), float(sem["l_c"][-1])
        return {"fits": [row]}
