r"""Analysis of the XXZ chain + GOE bubble (paper 002, Secs. III-IV and SM).

Per point (errors by block jackknife, so nonlinear estimators are honest):

* ``gamma_dist`` (dist): purity averaged over the sites at distance d from the
  bubble (Fig. 3); for the bubble-less chain (n_goe = 0) d counts from the ends;
* ``C`` (site): the purity correlation of Eq. (7), the Pearson coefficient of
  gamma_0 and gamma_r over eigenstates and samples, from the streamed moments
  <gamma_i>, <gamma_i gamma_j>; averaged over the two ends (reference site 0 with
  site r, and site L-1 with site L-1-r), which the ring makes equivalent (Fig. 5);
* ``sigma`` (site): the standard deviation of gamma_i;
* with a bubble, the fit gamma_d = c - A exp(-d / xi) over every distance
  (variable projection: c and A linear, xi by a bounded 1-D search, unweighted,
  so that the jackknife error includes the correlation between distances);
  the paper's delta_0 (Fig. 9) is gamma_XXZ - c.

Across points (independent runs, errors in quadrature):

* ``gap_crossing``: W where mean r of L and of the next larger L cross (Fig. 2
  inset), for the chain with bubble and without, with a parametric bootstrap error;
* ``purity_shift``: delta_0 = gamma_XXZ(L + 2) - c for each bubble point that has a
  bubble-less run at L + 2 sites (the paper's reference; ``ref_offset``), the same
  W, Delta and J (Fig. 9, lower panel);
* ``avalanche_model``: Eq. (6) fitted to gamma_d for p and xi, with d_therm and
  l_c from the fitted xi (:func:`avalanche_purity`, :func:`critical_length`);
* ``beta_peak`` (SM Fig. 6): the bubble bandwidth beta that maximizes mean r, for
  groups of points differing only in beta (>= 3 values), by a weighted quadratic
  through the largest r and up to two neighbours on each side, with a parametric
  bootstrap error; beside it the paper's choice for that n_GOE.

Two slips in the paper's formulas are not copied (see :func:`critical_length`
and :func:`effective_dimension`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit, minimize_scalar

from kernels.numerics.levels import R_GOE, R_POISSON

from ensemble.analysis.resolution import (
    EDGE,
    LIMIT,
    RESOLVED,
    UNDETERMINED,
    classify,
    grid_effect,
    quadratic_crossing,
    quadratic_vertex,
    worst,
)
from ensemble.spec.seeding import analysis_rng
from ensemble.spec.settings import integer, setting
from ensemble.models.base import groups

__all__ = [
    "R_GOE",
    "R_POISSON",
    "XI_STAR",
    "BubbleAnalysis",
    "BubbleSettings",
    "cross_point_rows",
    "avalanche_purity",
    "critical_length",
    "effective_dimension",
    "exp_plateau_fit",
    "thermal_dimension",
]

#: Critical localization length xi_* = 1 / log 2
XI_STAR = 1.0 / math.log(2.0)
XI_BOUNDS = (0.05, 50.0)


def critical_length(xi: float, n_goe: float) -> float:
    """Distance l_c up to which an avalanche from the bubble thermalizes the chain.

    From the resonance condition of SM Eq. (8), e^(-l/xi) (n_GOE 4^l)^(1/2) = 1:
    l_c = log(n_GOE) / (2 (1/xi - 1/xi_*)), infinite for xi >= xi_*. The SM prints
    (1/xi - 1/xi_*)^(-1/2) log n_GOE, which does not follow from Eq. (8) and
    disagrees with its own d_therm = n_GOE 4^l_c = n_GOE^(1/(1 - xi/xi_*)); this
    form satisfies both.
    """
    a = 1.0 / xi - 1.0 / XI_STAR
    return math.inf if a <= 0 else math.log(n_goe) / (2.0 * a)


def thermal_dimension(xi: float, n_goe: float, L: int) -> float:
    """d_therm: n_GOE^(1/(1 - xi/xi_*)) for xi < xi_* (capped at the whole system), else n_GOE 2^L."""
    whole = n_goe * 2.0**L
    if xi >= XI_STAR:
        return whole
    return min(n_goe ** (1.0 / (1.0 - xi / XI_STAR)), whole)


def effective_dimension(i, xi: float, n_goe: float, L: int):
    """d_eff,i = e^(-2 i / xi) d_therm (main text; the SM's e^(+2i/xi) would grow away from the bubble)."""
    return np.exp(-2.0 * np.asarray(i, dtype=float) / xi) * thermal_dimension(xi, n_goe, L)


def avalanche_purity(i, xi: float, p: float, gamma_xxz: float, n_goe: float, L: int):
    """Eq. (6): gamma_i = 1/2 + (1 - p)(1 - e^(-i/xi))(gamma_XXZ - 1/2) + p d_eff,i^(-1/2).

    The purity of a thermal state is at most 1, so d_eff is floored at 1.
    """
    i = np.asarray(i, dtype=float)
    d = np.maximum(effective_dimension(i, xi, n_goe, L), 1.0)
    return 0.5 + (1 - p) * (1 - np.exp(-i / xi)) * (gamma_xxz - 0.5) + p / np.sqrt(d)


def exp_plateau_fit(d: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least squares y = c - A exp(-d / xi): (c, A, xi); NaN with fewer than 4 points (no degree of freedom).

    For fixed xi the model is linear in (c, A); xi is found by a bounded search
    on log xi, so the fit is deterministic and needs no starting guess.
    """
    ok = np.isfinite(y)
    d, y = d[ok], y[ok]
    if d.size < 4:
        return math.nan, math.nan, math.nan

    def solve(log_xi):
        X = np.stack([np.ones_like(d), -np.exp(-d / math.exp(log_xi))], axis=1)
        coef, *_ = np.linalg.lstsq(X, y, rcond=None)
        return coef, float(np.sum((X @ coef - y) ** 2))

    best = minimize_scalar(lambda s: solve(s)[1], bounds=tuple(map(math.log, XI_BOUNDS)), method="bounded",
                           options={"xatol": 1e-10})  # fmt: skip
    (c, A), _ = solve(best.x)
    return float(c), float(A), math.exp(best.x)


class BubbleAnalysis:
    """Derived quantities and fits of one point of the xxz_bubble kernel."""

    derived_axes = {"gamma_dist": ("dist",), "C": ("site",), "sigma": ("site",)}

    def __init__(self, params):
        self.p = params
        dist = params.distances()
        self.dist = np.arange(dist.max() + 1)
        self.avg = (dist[:, None] == self.dist[None, :]) / np.bincount(dist)[None, :]  # (L, nd)

    def estimators(self, means: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        g, gg = means["gamma"], means["gamma_gamma"]
        L = g.shape[-1]
        var = np.diagonal(gg, axis1=-2, axis2=-1) - g * g
        sd = np.sqrt(np.maximum(var, 0.0))
        with np.errstate(invalid="ignore", divide="ignore"):
            c0 = (gg[..., 0, :] - g[..., :1] * g) / (sd[..., :1] * sd)
            rev = g[..., ::-1]
            c1 = (gg[..., L - 1, ::-1] - g[..., L - 1 :] * rev) / (sd[..., L - 1 :] * sd[..., ::-1])
        gd = g @ self.avg
        out = {
            "gamma_dist": gd,
            "C": 0.5 * (c0 + c1),
            "sigma": sd,
            "gamma_avg": g.mean(axis=-1),
        }
        if self.p.n_goe:
            flat = gd.reshape(-1, gd.shape[-1])
            fits = np.array([exp_plateau_fit(self.dist.astype(float), y) for y in flat])
            for j, name in enumerate(("fit_c", "fit_A", "fit_xi")):
                out[name] = fits[:, j].reshape(gd.shape[:-1])
        return out

    def fit_rows(self, value, sem) -> dict[str, list[dict]]:
        def pair(name):
            return float(value[name]), float(sem[name])

        point = {"fit": "bubble_point"}
        if "r" in value:  # the mean gap ratio: the kernel's own mean, with the summary's error (no gap ratio below 3 levels)
            point["r_mean"], point["r_mean_err"] = pair("r")
        point["gamma_avg"], point["gamma_avg_err"] = pair("gamma_avg")
        d5 = min(5, self.dist[-1])
        point["dist_ref"] = int(d5)
        point["gamma_d5"], point["gamma_d5_err"] = float(value["gamma_dist"][d5]), float(sem["gamma_dist"][d5])
        if self.p.n_goe:
            for name in ("fit_c", "fit_A", "fit_xi"):
                point[name], point[f"{name}_err"] = pair(name)
            model = value["fit_c"] - value["fit_A"] * np.exp(-self.dist / value["fit_xi"])
            s = np.asarray(sem["gamma_dist"])
            dof = self.dist.size - 3
            with np.errstate(invalid="ignore", divide="ignore"):
                chi2 = float(np.sum(((value["gamma_dist"] - model) / s) ** 2))
            lo, hi = XI_BOUNDS
            xi = point["fit_xi"]
            at_bound = math.isfinite(xi) and not lo * 1.001 < xi < hi * 0.999
            outcome = "ok" if math.isfinite(xi) and not at_bound else ("xi at a bound" if at_bound else "fewer than 4 distances")
            point.update(fit_chi2_dof=chi2 / dof if dof > 0 else math.nan, fit_dof=dof, fit_outcome=outcome)
            # xi at a bound of its search, or a decay length beyond the distances sampled: at the range's edge
            point["status"] = classify(xi, point["fit_xi_err"], edge=at_bound or xi > self.dist[-1])
        else:
            point["status"] = RESOLVED  # means of the sampled distances only
        rows = [point]
        for d in self.dist:
            rows.append(
                {
                    "fit": "purity_profile",
                    "dist": int(d),
                    "gamma": float(value["gamma_dist"][d]),
                    "gamma_err": float(sem["gamma_dist"][d]),
                    "status": RESOLVED,
                }
            )
        return {"fits": rows}


def cross_point_rows(fits: pd.DataFrame, params: list[str], bootstrap: int, seed: int) -> list[dict]:
    """Fig. 2's gap-ratio crossings and Fig. 9's delta_0 with the Eq. (6) fits."""
    pts = fits[fits["fit"] == "bubble_point"]
    if pts.empty:
        return []
    crossings = gap_crossings(pts, params, bootstrap, seed) if "r_mean" in pts else []
    peaks = beta_peaks(pts, params, bootstrap, seed) if "r_mean" in pts and "beta" in params else []
    return crossings + peaks + purity_shifts(fits, params)


def peak_location(x: np.ndarray, y: np.ndarray, err: np.ndarray) -> tuple[float, str]:
    """Abscissa of the maximum of y(x): a weighted quadratic through the largest y and up to two
    neighbours on each side; the sampled x itself (and an outcome saying so) at an edge or if the
    quadratic has no maximum inside those points."""
    i = int(np.argmax(y))
    if i == 0 or i == x.size - 1:
        return float(x[i]), "maximum at the edge of the sampled beta"
    sl = slice(max(0, i - 2), min(x.size, i + 3))
    xs, ys, es = x[sl], y[sl], np.where(err[sl] > 0, err[sl], np.nan)
    w = 1.0 / np.nan_to_num(es, nan=np.nanmax(es) if np.isfinite(es).any() else 1.0)
    a, b, _ = np.polyfit(xs, ys, 2, w=w)
    if a >= 0:
        return float(x[i]), "no curvature at the maximum: the largest sample"
    v = -b / (2 * a)
    if not xs[0] <= v <= xs[-1]:
        return float(x[i]), "quadratic vertex outside the fitted points: the largest sample"
    return float(v), "peak"


def beta_peaks(pts: pd.DataFrame, params: list[str], bootstrap: int, seed: int) -> list[dict]:
    """beta of the largest mean r per group of points differing only in beta (SM Fig. 6)."""
    from ensemble.models import kernel_named

    paper = kernel_named("xxz_bubble").Params.paper_beta()
    rng = analysis_rng(seed, "beta_peak")
    out = []
    keys = [p for p in params if p not in NUMERICAL]
    for group, g in groups(pts[pts["n_goe"] > 0], keys, ("beta",)):
        if g["beta"].nunique() < 3:
            continue
        g = g.sort_values("beta")
        x, y, e = (g[c].to_numpy(float) for c in ("beta", "r_mean", "r_mean_err"))
        v, outcome = peak_location(x, y, e)
        draws = [y + e * rng.standard_normal(y.size) for _ in range(bootstrap)]
        boot = np.array([peak_location(x, d, e)[0] for d in draws])
        lo, hi = np.percentile(boot, [16, 84])
        err = float(np.std(boot, ddof=1))
        if outcome == "peak":  # the vertex between samples: how much the beta grid decides it
            shift = np.array([quadratic_vertex(x, d) for d in draws]) - boot
            grid = grid_effect(quadratic_vertex(x, y) - v, float(np.std(shift, ddof=1)))
            status = classify(v, err, discretization=grid)
        elif outcome.startswith("maximum at the edge"):
            status = EDGE
        else:  # the largest sample itself: the beta grid is the resolution
            status = LIMIT
        out.append(
            {
                **group,
                "fit": "beta_peak",
                "outcome": outcome,
                "status": status,
                "beta_peak": v,
                "beta_peak_err": err,
                "beta_peak_lo": float(lo),
                "beta_peak_hi": float(hi),
                "r_peak": float(y.max()),
                "r_peak_err": float(e[int(np.argmax(y))]),
                "beta_paper": paper.get(int(group.get("n_goe", 0)), math.nan),
                "n_beta": int(x.size),
            }
        )
    return out


@dataclass(frozen=True)
class BubbleSettings:
    """[fit] settings of the bubble analysis."""

    bootstrap: int = setting(2000, integer(100, "resamples"), "resamples for the errors of the gap-ratio crossings")


def curve_crossing(W: np.ndarray, diff: np.ndarray) -> float:
    """First W where diff = r(L') - r(L) goes from > 0 (larger L more ergodic) to <= 0, by linear interpolation."""
    i = _first_sign_change(diff)
    if i is None:
        return math.nan
    return float(W[i] + diff[i] / (diff[i] - diff[i + 1]) * (W[i + 1] - W[i]))


def _first_sign_change(diff: np.ndarray) -> int | None:
    """The first i with diff[i] > 0 >= diff[i + 1] (None if there is none)."""
    for i in range(diff.size - 1):
        if diff[i] > 0 >= diff[i + 1]:
            return i
    return None


# Parameters that do not change the physics of a point (solver choice, histogram binning).
NUMERICAL = ("method", "full_max_dim", "hist_bins")


def gap_crossings(pts: pd.DataFrame, params: list[str], bootstrap: int, seed: int) -> list[dict]:
    """Crossings of mean r(W) between consecutive L of every group (Fig. 2 inset)."""
    rng = analysis_rng(seed, "gap_crossing")
    out = []
    keys = [p for p in params if p not in NUMERICAL]
    for group, g in groups(pts, keys, ("L", "W", "n_up")):
        Ls = sorted(g["L"].unique())
        for La, Lb in zip(Ls, Ls[1:]):
            a = g[g["L"] == La].set_index("W")
            b = g[g["L"] == Lb].set_index("W")
            W = np.array(sorted(set(a.index) & set(b.index)), dtype=float)
            row = {**group, "fit": "gap_crossing", "L_a": int(La), "L_b": int(Lb), "n_W": int(W.size)}
            if W.size < 2:
                out.append({**row, "outcome": "fewer than 2 common W", "status": UNDETERMINED})
                continue
            ra, ea = a.loc[W, "r_mean"].to_numpy(float), a.loc[W, "r_mean_err"].to_numpy(float)
            rb, eb = b.loc[W, "r_mean"].to_numpy(float), b.loc[W, "r_mean_err"].to_numpy(float)
            w = curve_crossing(W, rb - ra)
            draws = (rb - ra) + np.hypot(ea, eb) * rng.standard_normal((bootstrap, W.size))
            boot = np.array([curve_crossing(W, d) for d in draws])
            ok = boot[np.isfinite(boot)]
            w_err = float(np.std(ok, ddof=1)) if ok.size > 1 else math.nan
            if math.isfinite(w):  # how much the W grid decides the crossing: linear against quadratic interpolation
                shift = [quadratic_crossing(W, d, _first_sign_change(d)) - c for d, c in zip(draws, boot)
                         if math.isfinite(c)]  # fmt: skip
                delta = quadratic_crossing(W, rb - ra, _first_sign_change(rb - ra)) - w
                grid = grid_effect(delta, float(np.std(shift, ddof=1)) if len(shift) > 1 else math.nan)
                status = classify(w, w_err, discretization=grid)
            else:
                status = EDGE
            row.update(
                outcome="crossing" if math.isfinite(w) else "no crossing within the sampled W",
                status=status,
                W_cross=w,
                W_cross_err=w_err,
                p_crossing=ok.size / bootstrap,
                r_cross=float(np.interp(w, W, ra)) if math.isfinite(w) else math.nan,
            )
            out.append(row)
    return out


def purity_shifts(fits: pd.DataFrame, params: list[str], ref_offset: int = 2) -> list[dict]:
    """delta_0 and the Eq. (6) fit for every bubble point with a bubble-less reference at L + ref_offset."""
    pts = fits[fits["fit"] == "bubble_point"]
    prof = fits[fits["fit"] == "purity_profile"]
    refs = pts[pts["n_goe"] == 0]
    out = []
    for q in pts[pts["n_goe"] > 0].itertuples(index=False):
        q = q._asdict()
        match = refs[(refs["L"] == q["L"] + ref_offset) & (refs["W"] == q["W"]) & (refs["Delta"] == q["Delta"])
                     & (refs["J"] == q["J"])]  # fmt: skip
        if match.empty:
            continue
        ref = match.iloc[0]
        base = {k: q[k] for k in params}
        gx, gx_err = float(ref["gamma_avg"]), float(ref["gamma_avg_err"])
        d0 = gx - q["fit_c"]
        d0_err = math.hypot(q["fit_c_err"], gx_err)
        out.append(
            {
                **base,
                "fit": "purity_shift",
                "L_ref": int(ref["L"]),
                "gamma_xxz": gx,
                "gamma_xxz_err": gx_err,
                "delta_0": d0,
                "delta_0_err": d0_err,
                "delta_0_z": d0 / d0_err if d0_err > 0 else math.nan,
                "fit_A": q["fit_A"],
                "fit_A_err": q["fit_A_err"],
                "fit_xi": q["fit_xi"],
                "fit_xi_err": q["fit_xi_err"],
                "fit_outcome": q.get("fit_outcome"),
                "status": worst([q.get("status", RESOLVED)]),
            }
        )
        sel = prof
        for k in params:
            sel = sel[sel[k] == q[k]]
        sel = sel.sort_values("dist")
        out.append({**base, "fit": "avalanche_model", "L_ref": int(ref["L"]), "gamma_xxz": gx,
                    **avalanche_fit(sel["dist"].to_numpy(float), sel["gamma"].to_numpy(float),
                                    sel["gamma_err"].to_numpy(float), gx, q["n_goe"], q["L"])})  # fmt: skip
    return out


def avalanche_fit(i, y, s, gamma_xxz: float, n_goe: int, L: int) -> dict:
    """Fit p and xi of Eq. (6) to the purity profile (diagonal errors); l_c and d_therm at the fitted xi."""
    if i.size < 3 or not np.all(np.isfinite(s)) or np.any(s <= 0):
        return {"outcome": "fewer than 3 distances with errors", "status": UNDETERMINED}

    def model(x, p, xi):
        return avalanche_purity(x, xi, p, gamma_xxz, n_goe, L)

    try:
        (p, xi), cov = curve_fit(model, i, y, p0=(0.1, 1.0), sigma=s, absolute_sigma=True,
                                 bounds=([0.0, XI_BOUNDS[0]], [1.0, XI_BOUNDS[1]]))  # fmt: skip
    except (RuntimeError, ValueError) as e:
        return {"outcome": f"fit failed: {e}", "status": UNDETERMINED}
    err = np.sqrt(np.diag(cov))
    chi2 = float(np.sum(((model(i, p, xi) - y) / s) ** 2))
    dof = i.size - 2
    at_bound = not (XI_BOUNDS[0] * 1.001 < xi < XI_BOUNDS[1] * 0.999) or not 0.0 < p < 1.0
    return {
        "outcome": "ok",
        "status": classify(xi, err[1], edge=at_bound or xi > i[-1]),
        "p": float(p),
        "p_err": float(err[0]),
        "xi": float(xi),
        "xi_err": float(err[1]),
        "chi2_dof": chi2 / dof if dof > 0 else math.nan,
        "l_c": critical_length(xi, n_goe),
        "d_therm": thermal_dimension(xi, n_goe, L),
        "xi_star": XI_STAR,
    }
