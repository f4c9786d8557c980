r"""Finite-size scaling of any summary observable: crossings of successive sizes, their drift extrapolated to
infinite size, and a scaling collapse (a spec's ``[scaling]``, :mod:`ensemble.spec.scaling`).

Input: the summary table (a mean and its standard error per point), so it works for every kernel. Per group of
the other swept parameters, with sizes L_1 < L_2 < ... and the control parameter X:

* **Crossings** of y(X; L_a) and y(X; L_b) for successive sizes: the sign change of d = y_a - y_b between two
  sampled X, by linear interpolation (``X_cross``). Errors: a parametric bootstrap of the point means (each mean
  redrawn within its standard error, the points independent), ``X_cross_err`` the bootstrap standard deviation.
  The interpolation between sampled X is a systematic of its own: ``X_cross_sys`` is the distance to the
  crossing of a quadratic through the four nearest X; where it exceeds the statistical error the crossing is
  "at resolution limit" (a finer grid of X is what it needs). No sign change: "at range edge"; several:
  "undetermined".
* **Drift** of the crossings with L_x = (L_a + L_b)/2, fitted (weighted by the crossings' errors, statistical and
  systematic in quadrature) under each form of ``forms``: ``inverse`` X_c + a/L, ``power`` X_c + a L^(-1/nu),
  ``linear`` b + c L (no finite X_c). Each row: the parameters with errors, chi^2, degrees of freedom, the
  p-value and the AIC; ``preferred`` marks the form with the lowest AIC among those with a degree of freedom left.
* **Collapse** y(X, L) = f((X - X_c) L^(1/nu)): X_c and nu minimize the Houdayer-Hartmann quality
  S = (1/N) sum_i (y_i - Y_i)^2 / (dy_i^2 + dY_i^2), where Y_i is the master curve at point i's scaled
  abscissa, interpolated from the other sizes (their inverse-variance mean); S ~ 1 for a collapse within the
  errors. Errors: the same bootstrap, each resample re-minimized. scipy.optimize (Nelder-Mead; least squares
  for the drift) does the fitting: the problems have two or three parameters and no library would add to them.

Reference: J. Houdayer and A. K. Hartmann, Phys. Rev. B 70, 014418 (2004).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ensemble.analysis.resolution import EDGE, LIMIT, RESOLVED, UNDETERMINED

__all__ = ["collapse", "collapse_quality", "crossing", "drift_form", "extrapolate", "observable_rows", "scaling_rows"]

#: Fraction of bootstrap resamples in which the curves must cross for a crossing to count as resolved.
MIN_FOUND = 0.9
#: |d| / sigma_d above which two curves differ beyond noise (a sign flip between such points is a crossing).
STRONG = 3.0
#: Collapse quality above which the sizes do not fall on one curve within their errors.
MAX_S = 2.0
#: Bootstrap resamples of the collapse (each a minimization) at most.
MAX_COLLAPSE_BOOT = 50


def crossing(x: np.ndarray, ya: np.ndarray, yb: np.ndarray, da=None, db=None, order: int = 1) -> tuple[float, int, int]:
    """(X where y_a - y_b changes sign; the index of the sampled X left of it; the number of sign changes beyond
    the errors); (nan, -1, 0) where the curves do not cross within x. See :func:`locate`."""
    return locate(x, ya, yb, da, db, order)[:3]


def locate(x: np.ndarray, ya: np.ndarray, yb: np.ndarray, da=None, db=None, order: int = 1) -> tuple[float, int, int, bool]:
    """:func:`crossing`'s three values and whether the polynomial of degree ``order`` had its root within the
    bracket (False: the crossing fell back to the line through the bracket's ends, or its middle, which a
    polynomial of another degree would fall back to as well: their difference then says nothing of the
    interpolation's error).

    The sign change is located as a change point: the split of the sampled X that maximizes the significance
    z = d / sigma_d of d = y_a - y_b on its left minus that on its right (far from the crossing, where the
    curves agree within their errors, d flips sign by noise; the split is decided by all the points). The
    crossing is then the root of a weighted polynomial of degree ``order`` (1: a line) through the four
    sampled X nearest the split, within the split's bracket."""
    d = ya - yb
    sd = np.hypot(da, db) if da is not None else np.ones_like(d)
    z = d / sd
    if len(x) < 2:
        return math.nan, -1, 0, False
    total = np.cumsum(z)
    split = total[:-1] - (total[-1] - total[:-1])  # left sum minus right sum, per split after index i
    i = int(np.argmax(np.abs(split)))
    left, right = total[i], total[-1] - total[i]
    strong = np.sign(d[np.abs(z) > STRONG])
    flips = int(np.count_nonzero(strong[1:] != strong[:-1])) if len(strong) > 1 else 0
    if not (left * right < 0):
        return math.nan, -1, 0, False
    for k in (i, i + 1):  # a sampled X where the curves meet exactly
        if d[k] == 0:
            return float(x[k]), i, max(flips, 1), True
    lo, hi = max(0, i - 1), min(len(x), i + 3)
    if hi - lo >= order + 2:
        c = np.polyfit(x[lo:hi], d[lo:hi], order, w=1.0 / sd[lo:hi])
        tol = 0.05 * (x[i + 1] - x[i])  # a root just outside (a crossing at a sampled X) is that X: clipped
        roots = [min(max(r.real, x[i]), x[i + 1]) for r in np.roots(c)
                 if abs(r.imag) < 1e-12 and x[i] - tol <= r.real <= x[i + 1] + tol]  # fmt: skip
        if roots:
            return float(min(roots, key=lambda r: abs(r - 0.5 * (x[i] + x[i + 1])))), i, max(flips, 1), True
    if d[i] * d[i + 1] < 0:  # the line through the bracket's ends
        return float(x[i] - d[i] * (x[i + 1] - x[i]) / (d[i + 1] - d[i])), i, max(flips, 1), False
    return float(0.5 * (x[i] + x[i + 1])), i, max(flips, 1), False  # within the bracket; its half width is the error


def _crossing_rows(data: Mapping, rng, boot: int) -> list[dict]:
    sizes = sorted(data)
    out = []
    for la, lb in zip(sizes, sizes[1:]):
        xa, ya, da = data[la]
        xb, yb, db = data[lb]
        x = np.intersect1d(xa, xb)
        if len(x) < 2:
            continue
        ia, ib = np.searchsorted(xa, x), np.searchsorted(xb, x)
        ya_, yb_, da_, db_ = ya[ia], yb[ib], da[ia], db[ib]
        xc, i, n, fitted = locate(x, ya_, yb_, da_, db_)
        row = {"kind": "crossing", "L_a": la, "L_b": lb, "L_x": 0.5 * (la + lb), "X_cross": xc,
               "X_cross_err": math.nan, "X_cross_sys": math.nan, "found_fraction": math.nan}  # fmt: skip
        draws = np.array([crossing(x, ya_ + da_ * rng.standard_normal(len(x)), yb_ + db_ * rng.standard_normal(len(x)),
                                   da_, db_)[0] for _ in range(boot)])  # fmt: skip
        found = np.isfinite(draws)
        row["found_fraction"] = float(found.mean())
        if n == 0:
            row["status"], row["note"] = EDGE, "the curves do not cross within the sampled values"
        else:
            row["X_cross_err"] = float(np.std(draws[found], ddof=1)) if found.sum() > 2 else math.nan
            q, _, _, q_fitted = locate(x, ya_, yb_, da_, db_, order=2)  # the same crossing from a quadratic
            row["X_cross_sys"] = abs(q - xc) if math.isfinite(q) else math.nan
            if not (fitted and q_fitted):  # a fit missed the bracket: only the bracket bounds where the root is
                row["X_cross_sys"] = max(np.nan_to_num(row["X_cross_sys"]), float(xc - x[i]), float(x[i + 1] - xc))
            if n > 1:
                row["status"], row["note"] = UNDETERMINED, f"the curves cross {n} times (beyond their errors)"
            elif row["found_fraction"] < MIN_FOUND:
                row["status"], row["note"] = UNDETERMINED, "the curves cross in too few resamples of the means"
            elif math.isfinite(row["X_cross_sys"]) and row["X_cross_sys"] > row["X_cross_err"]:
                row["status"], row["note"] = LIMIT, "the interpolation between sampled values exceeds the error: " \
                                                    "a finer grid of the control parameter"  # fmt: skip
            else:
                row["status"], row["note"] = RESOLVED, ""
        out.append(row)
    return out


def drift_form(name: str):
    """(X_x(L, *parameters), number of parameters) of a form of the crossings' drift."""
    if name == "inverse":
        return (lambda L, xc, a: xc + a / L), 2
    if name == "power":
        return (lambda L, xc, a, nu: xc + a * L ** (-1.0 / nu)), 3
    return (lambda L, b, c: b + c * L), 2


def extrapolate(L: np.ndarray, X: np.ndarray, err: np.ndarray, forms, nu_range=(0.2, 10.0)) -> list[dict]:
    """One row per form: the fit of the crossings' drift X(L) (weighted by ``err``), its parameters and their
    errors, chi^2, dof, p-value, AIC and whether it is the preferred form (lowest AIC with dof >= 1)."""
    import warnings

    from scipy import stats
    from scipy.optimize import OptimizeWarning, curve_fit

    rows = []
    for name in forms:
        f, k = drift_form(name)
        row = {"kind": "extrapolation", "form": name, "X_c": math.nan, "X_c_err": math.nan, "a": math.nan,
               "a_err": math.nan, "nu": math.nan, "nu_err": math.nan, "chi2": math.nan, "dof": len(L) - k,
               "p_value": math.nan, "aic": math.nan, "preferred": False}  # fmt: skip
        if len(L) < k:
            row["status"], row["note"] = UNDETERMINED, f"{k} parameters need at least {k} crossings (there are {len(L)})"
            rows.append(row)
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", category=OptimizeWarning)  # no covariance: the errors come out nan
                if name == "power":
                    p0 = [X[-1], (X[0] - X[-1]) * L[0], 1.0]
                    lo, hi = [-np.inf, -np.inf, nu_range[0]], [np.inf, np.inf, nu_range[1]]
                    p, cov = curve_fit(f, L, X, p0=p0, sigma=err, absolute_sigma=True, bounds=(lo, hi), maxfev=20000)
                else:
                    p, cov = curve_fit(f, L, X, sigma=err, absolute_sigma=True)
        except Exception as e:  # no convergence
            row["status"], row["note"] = UNDETERMINED, f"the fit did not converge ({type(e).__name__})"
            rows.append(row)
            continue
        perr = np.sqrt(np.clip(np.diag(cov), 0, np.inf)) if np.all(np.isfinite(cov)) else np.full(len(p), math.nan)
        chi2 = float(np.sum(((X - f(L, *p)) / err) ** 2))
        row.update(chi2=chi2, aic=chi2 + 2 * k)
        if name == "linear":
            row.update(a=float(p[1]), a_err=float(perr[1]), note="no finite limit: a slope c of the crossing in L")
        else:
            row.update(X_c=float(p[0]), X_c_err=float(perr[0]), a=float(p[1]), a_err=float(perr[1]))
            if name == "power":
                row.update(nu=float(p[2]), nu_err=float(perr[2]))
        if row["dof"] >= 1:
            row["p_value"] = float(stats.chi2.sf(chi2, row["dof"]))
        at_bound = name == "power" and (math.isclose(p[2], nu_range[0], rel_tol=1e-3) or math.isclose(p[2], nu_range[1], rel_tol=1e-3))
        if at_bound:
            row["status"], row["note"] = EDGE, f"nu at the end of nu_range {list(nu_range)}"
        elif row["dof"] < 1:
            row["status"], row["note"] = UNDETERMINED, "as many parameters as crossings: the form cannot be tested"
        else:
            row["status"] = RESOLVED
            row.setdefault("note", "")
        rows.append(row)
    ok = [r for r in rows if r["dof"] >= 1 and math.isfinite(r["aic"]) and r["status"] == RESOLVED]
    if ok:
        best = min(ok, key=lambda r: r["aic"])
        best["preferred"] = True
    return rows


def collapse_quality(xc: float, nu: float, data: Mapping, count: bool = False):
    """Houdayer-Hartmann S of the collapse y = f((X - xc) L^(1/nu)) of ``data`` (L -> (X, y, dy), X sorted): ~1
    when the sizes fall on one curve within their errors; inf when fewer than 3 points overlap another size."""
    scaled = [((x - xc) * L ** (1.0 / nu), y, dy) for L, (x, y, dy) in data.items()]
    num, den = [], []
    for k, (u, y, dy) in enumerate(scaled):
        sw, swy = np.zeros(len(u)), np.zeros(len(u))
        for m, (u2, y2, dy2) in enumerate(scaled):
            if m == k or len(u2) < 2:
                continue
            inside = (u >= u2[0]) & (u <= u2[-1])
            Y, dY2 = _interpolate(u2, y2, dy2, u)
            wt = np.where(inside, 1.0 / np.maximum(dY2, 1e-300), 0.0)
            sw += wt
            swy += wt * Y
        has = sw > 0
        Y = swy[has] / sw[has]
        num.append((y[has] - Y) ** 2)
        den.append(dy[has] ** 2 + 1.0 / sw[has])
    terms = np.concatenate(num) / np.concatenate(den) if num else np.empty(0)
    S = float(terms.mean()) if len(terms) >= 3 else math.inf
    return (S, len(terms)) if count else S


def _curvature_errors(xc: float, nu: float, data: Mapping, span: float) -> tuple[float, float]:
    """Errors of (X_c, nu) from the curvature of chi^2 = N S at the optimum (cov = 2 H^-1), scaled by sqrt(S)
    where S > 1 (Houdayer and Hartmann's rule: the data scatter more than their errors say)."""
    S, n = collapse_quality(xc, nu, data, count=True)
    if not math.isfinite(S) or n < 3:
        return math.nan, math.nan
    h = np.array([1e-3 * span, 1e-2 * nu])
    p0 = np.array([xc, nu])

    def chi2(p):
        return n * collapse_quality(p[0], max(p[1], 1e-6), data)

    H = np.empty((2, 2))
    f0 = chi2(p0)
    for i in range(2):
        for j in range(i, 2):
            ei, ej = np.eye(2)[i] * h[i], np.eye(2)[j] * h[j]
            if i == j:
                H[i, i] = (chi2(p0 + ei) - 2 * f0 + chi2(p0 - ei)) / h[i] ** 2
            else:
                H[i, j] = H[j, i] = (chi2(p0 + ei + ej) - chi2(p0 + ei - ej) - chi2(p0 - ei + ej) + chi2(p0 - ei - ej)) / (4 * h[i] * h[j])
    try:
        cov = 2.0 * np.linalg.inv(H)
    except np.linalg.LinAlgError:
        return math.nan, math.nan
    d = np.diag(cov) * max(S, 1.0)
    return (float(math.sqrt(d[0])) if d[0] > 0 else math.nan, float(math.sqrt(d[1])) if d[1] > 0 else math.nan)


def _interpolate(u2, y2, dy2, u):
    """The master curve of one size at ``u``: the parabola through its three sampled points nearest ``u``
    (a line where it has two), with the propagated variance. A line between two points would bias the
    collapse where the scaling function is curved (nu drawn towards larger values)."""
    n = len(u2)
    j = np.clip(np.searchsorted(u2, u, side="right") - 1, 0, n - 2)
    if n < 3:
        span = u2[1] - u2[0]
        w = (u - u2[0]) / span if span > 0 else np.zeros_like(u)
        return (1 - w) * y2[0] + w * y2[1], ((1 - w) * dy2[0]) ** 2 + (w * dy2[1]) ** 2
    nearer_left = (u - u2[j]) <= (u2[np.minimum(j + 1, n - 1)] - u)
    j0 = np.clip(j - nearer_left.astype(int), 0, n - 3)
    a, b, c = u2[j0], u2[j0 + 1], u2[j0 + 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        la = (u - b) * (u - c) / ((a - b) * (a - c))
        lb = (u - a) * (u - c) / ((b - a) * (b - c))
        lc = (u - a) * (u - b) / ((c - a) * (c - b))
    Y = la * y2[j0] + lb * y2[j0 + 1] + lc * y2[j0 + 2]
    dY2 = (la * dy2[j0]) ** 2 + (lb * dy2[j0 + 1]) ** 2 + (lc * dy2[j0 + 2]) ** 2
    return np.nan_to_num(Y), np.nan_to_num(dY2, nan=1e300)


def _minimize(data, nu_range, starts):
    from scipy.optimize import minimize

    lo, hi = math.log(nu_range[0]), math.log(nu_range[1])

    def cost(p):
        s = collapse_quality(p[0], math.exp(min(max(p[1], lo), hi)), data)
        penalty = max(0.0, lo - p[1]) + max(0.0, p[1] - hi)
        return (s if math.isfinite(s) else 1e12) + 1e6 * penalty

    best = None
    for xc0, nu0 in starts:
        res = minimize(cost, [xc0, math.log(nu0)], method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-9,
                                                                                    "maxiter": 4000})  # fmt: skip
        if best is None or res.fun < best.fun:
            best = res
    return float(best.x[0]), float(math.exp(min(max(best.x[1], lo), hi))), float(best.fun)


def collapse(data: Mapping, nu_range, rng, boot: int, xc_guess: float | None = None) -> dict:
    """The collapse row: X_c, nu with bootstrap errors, the quality S at the optimum, its status."""
    xs = np.concatenate([x for x, _, _ in data.values()])
    lo_x, hi_x = float(xs.min()), float(xs.max())
    guesses = [xc_guess] if xc_guess is not None and math.isfinite(xc_guess) else []
    guesses += list(np.quantile(xs, [0.25, 0.5, 0.75]))
    nus = [v for v in (0.5, 1.0, 2.0) if nu_range[0] <= v <= nu_range[1]] or [math.sqrt(nu_range[0] * nu_range[1])]
    xc, nu, S = _minimize(data, nu_range, [(g, n) for g in guesses for n in nus])
    row = {"kind": "collapse", "X_c": xc, "X_c_err": math.nan, "nu": nu, "nu_err": math.nan, "S": S,
           "n_points": int(sum(len(x) for x, _, _ in data.values()))}  # fmt: skip
    draws = []
    for _ in range(min(boot, MAX_COLLAPSE_BOOT)):
        resampled = {L: (x, y + dy * rng.standard_normal(len(y)), dy) for L, (x, y, dy) in data.items()}
        bx, bnu, _ = _minimize(resampled, nu_range, [(xc, nu)])
        draws.append((bx, bnu))
    draws = np.asarray(draws)
    if len(draws) > 2:  # the larger of the bootstrap spread and the curvature error (the bootstrap alone
        # covered nu within 2 sigma in 70% of 20 seeds of the synthetic test, not 95%)
        cx, cnu = _curvature_errors(xc, nu, data, hi_x - lo_x)
        row["X_c_err"] = float(np.nanmax([np.std(draws[:, 0], ddof=1), cx]))
        row["nu_err"] = float(np.nanmax([np.std(draws[:, 1], ddof=1), cnu]))
    at_bound = math.isclose(nu, nu_range[0], rel_tol=1e-3) or math.isclose(nu, nu_range[1], rel_tol=1e-3)
    if not math.isfinite(S) or S >= 1e11:
        row["status"], row["note"] = UNDETERMINED, "fewer than 3 points of one size overlap another after scaling"
    elif at_bound:
        row["status"], row["note"] = EDGE, f"nu at the end of nu_range {list(nu_range)}"
    elif S > MAX_S:
        row["status"], row["note"] = LIMIT, (f"collapse quality S = {S:.3g} > {MAX_S:g}: the sizes do not fall on "
                                             "one curve within their errors (a grid too coarse for the scaling "
                                             "function, or corrections to scaling)")  # fmt: skip
    elif not lo_x <= xc <= hi_x:
        row["status"], row["note"] = EDGE, "X_c outside the sampled values of the control parameter"
    else:
        row["status"], row["note"] = RESOLVED, ""
    return row


def observable_rows(summary: pd.DataFrame, spec) -> pd.DataFrame:
    """The summary rows of the scaling's observable at its ``where`` coordinates."""
    rows = summary[summary["observable"] == spec.observable]
    for axis, value in spec.where:
        col = rows[axis]
        if isinstance(value, str):
            rows = rows[col == value]
        else:
            rows = rows[np.isclose(col.astype(float), float(value), rtol=1e-9, atol=0.0)]
    return rows


def scaling_rows(summary: pd.DataFrame, spec, swept: list[str], rng) -> list[dict]:
    """The scaling table's rows of ``summary`` (see the module docstring), per group of the swept parameters
    other than size and control (parameters that follow the size, such as a sector's n_up = L/2, are not
    groups). ``rng``: a numpy Generator (the analysis stream of the run's seed)."""
    rows = observable_rows(summary, spec)
    if rows.empty:
        return []
    others = [p for p in swept if p not in (spec.size, spec.control) and p in rows and rows[p].nunique() > 1]
    groups = rows.groupby(others, sort=True, dropna=False) if others else [((), rows)]
    out = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        fixed = dict(zip(others, key))
        data = {}
        for L, h in g.groupby(spec.size, sort=True):
            h = h.sort_values(spec.control)
            data[float(L) if not float(L).is_integer() else int(L)] = (
                h[spec.control].to_numpy(float), h["mean"].to_numpy(float), h["sem"].to_numpy(float))
        if len(data) < 2:
            continue
        base = {**fixed, "observable": spec.observable, "size": spec.size, "control": spec.control}
        cross = _crossing_rows(data, rng, spec.bootstrap)
        out += [{**base, **r} for r in cross]
        good = [r for r in cross if r["status"] in (RESOLVED, LIMIT) and math.isfinite(r["X_cross_err"])]
        if good and spec.forms:
            L = np.array([r["L_x"] for r in good])
            X = np.array([r["X_cross"] for r in good])
            err = np.array([math.hypot(r["X_cross_err"], r["X_cross_sys"] if math.isfinite(r["X_cross_sys"]) else 0.0)
                            for r in good])  # fmt: skip
            out += [{**base, **r} for r in extrapolate(L, X, np.maximum(err, 1e-12), spec.forms, spec.nu_range)]
        if spec.collapse:
            guess = float(np.median([r["X_cross"] for r in good])) if good else None
            out.append({**base, **collapse(data, spec.nu_range, rng, spec.bootstrap, guess)})
    return out
