r"""Thermalization-front analysis of paper 003 (Sec. IV), for any kernel with the
paired observables ``Sz0``, ``Szg`` (shape (T, L)) and ``I0``, ``Ig`` (shape (T,)).

Derived from the disorder/noise averages (all errors by block jackknife):

* relative imbalance, Eq. (8): ``Ir(t) = (I0 - Ig) / I0``;
* magnetization difference, Eq. (11): ``dS_j(t) = |avg Sz0_j - avg Szg_j|``;
* front position, Eq. (12): ``h(t) = sum_j (j - 1) dS_j / sum_j dS_j``.

The threshold time of Sec. IV A, ``t~``: the first upward crossing of
``Ir(t)`` through ``r_th`` (default 0.17), interpolated linearly in ln t between
sample times, with its jackknife error; plus the paper's discrete reading as
a bracket: the earliest sample times at which ``Ir + sigma`` and ``Ir - sigma``
exceed ``r_th``.

The front fit ``h(t) = A ln t + B`` runs over a window of sample times. By
default the window is chosen automatically, from the stability of A as the
window's start moves: the candidate windows end at the last sample time and
start at every sample time t_s >= ``min_start`` (default 10/J, the paper's
"t >> 1/J") that leaves at least ``min_decades`` decades and ``min_points``
times. A start t_s is on a *plateau* if the slopes of every later start up to
``plateau_decades`` decades after it agree with its own within
``plateau_sigma`` jackknife errors of the difference (the windows overlap, so
the difference's own error is used, not the two slopes' errors), and the
samples reach that far. Not seeing a drift is evidence of a plateau only if
the data could have seen one: the start must also *bound* the drift, the
largest (|A_later - A| + ``plateau_sigma`` errors) over the span, below
``plateau_resolution`` (default 20%) of A. The earliest start that passes both
is chosen (``plateau = True``, status ``resolved``). If A does not drift
visibly but the data cannot bound its drift (short or noisy data: paper 003's
own t <= 10^3 at W = 9 shows no drift within its errors, 1/A = 23.8, while
t <= 10^5 settles at 8.5), the row says ``plateau = False`` with status ``at
resolution limit``. If A drifts at every testable start, the logarithmic regime
has not (yet) set in within the sampled times: ``plateau = False``, status
``at range edge``, and the most stable window's slope, which is then not an
asymptotic one. The crossing W* leaves both out. A curvature test would pass
whenever the data cannot resolve curvature; a plateau of the slope itself is
what "the linear regime in ln t has set in" means. ``1/A`` is compared with the
avalanche bound ``2 ln 4`` of Eq. (18).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ensemble.analysis.resolution import EDGE, LIMIT, RESOLVED, UNDETERMINED, classify, grid_effect, quadratic_crossing
from ensemble.spec.settings import integer, number, setting, window

__all__ = ["AVALANCHE_BOUND", "A_BOUND", "FrontAnalysis", "FrontSettings", "crossing_log_time", "derived"]

#: Eq. (18): localization is robust against avalanches if 1/A > 2 ln 4 ...
AVALANCHE_BOUND = 2.0 * math.log(4.0)
#: ... i.e. if the front slope A is below 1/(2 ln 4) = 0.3607. Verdicts and the
#: crossing W* are computed on A, whose errors stay Gaussian where A ~ 0 and
#: 1/A does not.
A_BOUND = 1.0 / AVALANCHE_BOUND

REQUIRED = ("Sz0", "Szg", "I0", "Ig")


@dataclass(frozen=True)
class FrontSettings:
    """How the front is fitted (the spec's [fit] table for the front analysis)."""

    window: tuple[float, float] | None = setting(None, window, "(t_start, t_stop) of the front fit; default: chosen automatically")
    min_start: float = setting(10.0, number(), "automatic windows start at t >= min_start")
    min_decades: float = setting(1.0, number(), "automatic windows span at least this many decades of t")
    min_points: int = setting(5, integer(4, "a slope and its stability need 4 times"), "automatic windows hold at least this many sample times")
    plateau_decades: float = setting(0.5, number(), "A must stay put while the window start moves over this many decades of t")
    plateau_sigma: float = setting(2.0, number(), "... within this many jackknife errors of the difference of the two slopes")
    plateau_resolution: float = setting(0.2, number(), "... and the data must bound the change of A over plateau_decades "
                                        "below this fraction of A (drift + plateau_sigma errors), else the plateau is not resolved")
    nsigma: float = setting(2.0, number(), "the bound 1/A > 2 ln 4 holds (is violated) when A is this many errors below (above) 1/(2 ln 4)")
    r_th: float = setting(0.17, number(), "threshold of the relative imbalance Ir for t~ (paper: 0.17)")
    bootstrap: int = setting(2000, integer(100, "resamples"), "resamples for the error of the avalanche crossing W*")


def crossing_log_time(Ir: np.ndarray, t: np.ndarray, r_th: float) -> np.ndarray:
    """ln of the first time Ir crosses r_th upwards, linear in ln t; NaN if never (broadcasts)."""
    above = Ir >= r_th
    i = np.argmax(above, axis=-1)[..., None]
    prev = np.maximum(i - 1, 0)
    lt = np.log(t)
    y0 = np.take_along_axis(Ir, prev, axis=-1)[..., 0]
    y1 = np.take_along_axis(Ir, i, axis=-1)[..., 0]
    x0, x1 = lt[prev[..., 0]], lt[i[..., 0]]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(i[..., 0] > 0, (r_th - y0) / (y1 - y0), 0.0)
    return np.where(above.any(axis=-1), x0 + frac * (x1 - x0), np.nan)


def _quadratic_crossing_log_time(Ir: np.ndarray, t: np.ndarray, r_th: float) -> np.ndarray:
    """ln t~ as :func:`crossing_log_time`, but interpolated by a parabola through the bracketing samples and a
    neighbour (broadcasts over leading axes): its difference from the linear one is the grid's effect."""
    lt = np.log(t)
    flat = Ir.reshape(-1, Ir.shape[-1])
    out = np.full(flat.shape[0], np.nan)
    for k, row in enumerate(flat):
        above = np.flatnonzero(row >= r_th)
        if above.size and above[0] > 0:
            out[k] = quadratic_crossing(lt, row, int(above[0]) - 1, r_th)
        elif above.size:
            out[k] = lt[0]
    return out.reshape(Ir.shape[:-1])


def derived(means: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Ir, dS and h from the averaged observables (broadcasts over leading axes)."""
    I0, Ig = means["I0"], means["Ig"]
    dS = np.abs(means["Sz0"] - means["Szg"])
    j = np.arange(dS.shape[-1], dtype=float)  # j - 1 for sites j = 1..L
    # I0 = 0 (an imbalance crossing zero) or dS = 0 (no noise effect yet) give NaN rows, which fits skip
    with np.errstate(divide="ignore", invalid="ignore"):
        return {"Ir": (I0 - Ig) / I0, "dS": dS, "h": (dS @ j) / dS.sum(axis=-1)}


class FrontAnalysis:
    """Derived observables and the front fit for one parameter point.

    Parameters
    ----------
    times : sequence of float
        The point's sample times.
    config : FrontSettings
    """

    #: Derived observables that go to the summary table, with their axes.
    derived_axes = {"Ir": ("t",), "dS": ("t", "site"), "h": ("t",)}

    def __init__(self, times, config: FrontSettings):
        self.t = np.asarray(times, dtype=float)
        self.config = config
        self.user_window = config.window is not None
        self.windows = self._candidate_windows()
        self._lin = [self._linear_weights(w) for w in self.windows]
        self._quad = [self._curvature_weights(w) for w in self.windows]

    # -- windows -------------------------------------------------------------
    def window_problem(self) -> str | None:
        """Why no window can be fitted with these times, or None."""
        if self.windows:
            return None
        cfg = self.config
        if cfg.window is not None:
            return f"at least 3 sample times inside fit.window = {list(cfg.window)}"
        return (
            f"at least {cfg.min_points} sample times in [{cfg.min_start:g}, t_last] spanning "
            f"{cfg.min_decades:g} decade(s) for the automatic window"
        )

    def _candidate_windows(self) -> list[np.ndarray]:
        t, cfg = self.t, self.config
        if cfg.window is not None:
            lo, hi = cfg.window
            idx = np.flatnonzero((t >= lo * (1 - 1e-12)) & (t <= hi * (1 + 1e-12)))
            return [idx] if idx.size >= 3 else []
        last = t.size - 1
        return [
            np.arange(i, last + 1)
            for i in range(t.size)
            if t[i] >= cfg.min_start * (1 - 1e-12)
            and last + 1 - i >= cfg.min_points
            and math.log10(t[last] / t[i]) >= cfg.min_decades - 1e-12
        ]

    def _linear_weights(self, idx):
        x = np.log(self.t[idx])
        xc = x - x.mean()
        return xc / (xc @ xc), x.mean()

    def _curvature_weights(self, idx):
        x = np.log(self.t[idx])
        xc = x - x.mean()
        if idx.size < 4:
            return None
        M = np.stack([np.ones_like(xc), xc, xc * xc], axis=1)
        return np.linalg.pinv(M)[2]

    # -- estimators ------------------------------------------------------------
    def estimators(self, means: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Derived observables plus A, B, 1/A and curvature for every candidate window.

        Every output is a smooth or piecewise-smooth function of the means, so
        the block jackknife gives its error.
        """
        out = derived(means)
        h = out["h"]
        shape = h.shape[:-1] + (len(self.windows),)
        A, B, curv = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
        for k, (idx, (w, xbar), q) in enumerate(zip(self.windows, self._lin, self._quad)):
            hw = h[..., idx]
            A[..., k] = hw @ w
            B[..., k] = hw.mean(axis=-1) - A[..., k] * xbar
            if q is not None:
                curv[..., k] = hw @ q
        with np.errstate(divide="ignore"):
            out.update(fit_A=A, fit_B=B, fit_invA=1.0 / A, fit_curvature=curv)
        out["fit_dA"] = A[..., None, :] - A[..., :, None]  # [k, j]: A_j - A_k, for the plateau test
        out["ln_t_tilde"] = crossing_log_time(out["Ir"], self.t, self.config.r_th)
        out["ln_t_tilde_grid"] = _quadratic_crossing_log_time(out["Ir"], self.t, self.config.r_th) - out["ln_t_tilde"]
        return out

    def plateau_z(self, value: Mapping[str, np.ndarray], sem: Mapping[str, np.ndarray]) -> np.ndarray:
        """For each window start, the largest |A_later - A| / error over the later starts within
        ``plateau_decades``; NaN where the samples do not reach that far (the stability cannot be tested)."""
        return self.plateau_tests(value, sem)[0]

    def plateau_tests(self, value: Mapping[str, np.ndarray], sem: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Per window start: the drift test ``z`` (largest |A_later - A| / its error over the later starts
        within ``plateau_decades``) and the drift ``bound``, the largest (|A_later - A| + plateau_sigma x
        error) / |A|: the relative change of A over the span that the data exclude. Both NaN where the
        samples do not reach that far (the stability cannot be tested)."""
        starts = np.array([self.t[idx[0]] for idx in self.windows])
        span, sigma = self.config.plateau_decades, self.config.plateau_sigma
        z, bound = np.full(starts.size, np.nan), np.full(starts.size, np.nan)
        for k in range(starts.size):
            dec = np.log10(starts / starts[k])
            later = np.flatnonzero((dec > 0) & (dec <= span + 1e-12))
            if dec.max() < span - 1e-12 or later.size == 0:
                continue
            d, e = value["fit_dA"][k, later], sem["fit_dA"][k, later]
            with np.errstate(divide="ignore", invalid="ignore"):
                z[k] = float(np.max(np.where(e > 0, np.abs(d) / e, np.where(d == 0, 0.0, np.inf))))
                bound[k] = float(np.max(np.abs(d) + sigma * e) / abs(value["fit_A"][k]))
        return z, bound

    def select(self, value: Mapping[str, np.ndarray], sem: Mapping[str, np.ndarray]) -> tuple[int, str]:
        """Index of the chosen window and its plateau verdict (see the module docstring):

        "plateau": the earliest start from which A does not drift (``plateau_z <= plateau_sigma``) and the data
        bound its drift over ``plateau_decades`` below ``plateau_resolution`` of A; "unresolved": no drift is
        seen, but the data could not have seen one of that size (the earliest such start); "drifting": A
        drifts at every testable start (the most stable window), or no start can be tested.
        """
        if self.user_window:
            return 0, "plateau"
        z, bound = self.plateau_tests(value, sem)
        still = z <= self.config.plateau_sigma
        on = np.flatnonzero(still & (bound <= self.config.plateau_resolution))
        if on.size:
            return int(on[0]), "plateau"
        if still.any():
            return int(np.flatnonzero(still)[0]), "unresolved"
        tested = np.flatnonzero(np.isfinite(z))
        if tested.size:  # no plateau: the most stable window, flagged
            return int(tested[np.argmin(z[tested])]), "drifting"
        return len(self.windows) - 1, "drifting"

    def fit_rows(self, value, sem) -> dict[str, list[dict]]:
        """Fits-table rows of this point (front, threshold time) and one fit_windows row per candidate window."""
        front, windows = self._front_row(value, sem)
        return {"fits": [front, self._threshold_row(value, sem)], "fit_windows": windows}

    def _threshold_row(self, value, sem) -> dict:
        r, t, Ir, err = self.config.r_th, self.t, value["Ir"], sem["Ir"]

        def first(mask) -> float:
            return float(t[np.argmax(mask)]) if mask.any() else math.nan

        ln_t = float(value["ln_t_tilde"])
        outcome = "not reached" if not math.isfinite(ln_t) else ("at first sample" if Ir[0] >= r else "crossed")
        if outcome == "crossed":  # how much the log-time grid, not the data, places the crossing
            grid = grid_effect(float(value["ln_t_tilde_grid"]), float(sem["ln_t_tilde_grid"]))
            status = classify(ln_t, float(sem["ln_t_tilde"]), discretization=grid)
        else:  # before the first sample time or after the last: the sampled times do not bracket it
            status = EDGE
        return {
            "fit": "threshold_time",
            "r_th": r,
            "outcome": outcome,
            "status": status,
            "t_tilde": math.exp(ln_t) if math.isfinite(ln_t) else math.nan,
            "ln_t_tilde": ln_t,
            "ln_t_tilde_err": float(sem["ln_t_tilde"]),
            "t_tilde_sample": first(Ir >= r),
            "t_tilde_lo": first(Ir + err >= r),
            "t_tilde_hi": first(Ir - err >= r),
        }

    def _front_row(self, value, sem) -> tuple[dict, list[dict]]:
        if not self.windows:
            row = {k: math.nan for k in _NAN_FIELDS}
            row.update(fit="front", n_times=0, window_source="none", plateau=False, bound=AVALANCHE_BOUND)
            row["bound_holds"] = "no fit window"
            row["status"] = UNDETERMINED
            return row, []
        k, verdict = self.select(value, sem)
        ok = verdict == "plateau"
        cands = [self._window_row(i, value, sem) for i in range(len(self.windows))]
        nan = np.full(len(cands), np.nan)
        zs, bounds = self.plateau_tests(value, sem) if not self.user_window else (nan, nan)
        for c, zk, bk in zip(cands, zs, bounds):
            c["plateau_z"], c["plateau_drift_bound"] = float(zk), float(bk)
        row = dict(cands[k])
        row["window_source"] = "user" if self.user_window else "auto"
        row["plateau"] = ok
        row["chi2_dof"] = self._chi2(self.windows[k], value, sem, k)
        z = (A_BOUND - row["A"]) / row["A_err"] if row["A_err"] > 0 else math.nan
        row["bound"] = AVALANCHE_BOUND
        row["bound_z"] = z
        row["bound_holds"] = _verdict(z, self.config.nsigma) if ok else _NOT_ASYMPTOTIC[verdict]
        if self.user_window:  # the user's window, unless it reaches past the sampled times
            lo, hi = self.config.window
            row["status"] = classify(row["A"], row["A_err"], edge=lo < self.t[0] or hi > self.t[-1])
        else:
            row["status"] = {"plateau": RESOLVED, "unresolved": LIMIT,
                             "drifting": EDGE}[verdict]  # fmt: skip
        for c in cands:
            c["chosen"] = c["t_start"] == row["t_start"]
        return row, cands

    def _window_row(self, k, value, sem):
        idx = self.windows[k]
        return {
            "fit": "front",
            "t_start": float(self.t[idx[0]]),
            "t_stop": float(self.t[idx[-1]]),
            "n_times": int(idx.size),
            "A": float(value["fit_A"][k]),
            "A_err": float(sem["fit_A"][k]),
            "B": float(value["fit_B"][k]),
            "B_err": float(sem["fit_B"][k]),
            "invA": float(value["fit_invA"][k]),
            "invA_err": float(sem["fit_invA"][k]),
            "curvature": float(value["fit_curvature"][k]),
            "curvature_err": float(sem["fit_curvature"][k]),
        }

    def _chi2(self, idx, value, sem, k):
        """chi^2 per degree of freedom with the diagonal jackknife errors of h(t).

        The h(t_i) are positively correlated (same realizations at all times),
        so this is a consistency indicator, not a calibrated p-value.
        """
        resid = value["h"][idx] - (value["fit_A"][k] * np.log(self.t[idx]) + value["fit_B"][k])
        dof = idx.size - 2
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.sum((resid / sem["h"][idx]) ** 2) / dof) if dof > 0 else math.nan


_NAN_FIELDS = (
    "t_start", "t_stop", "A", "A_err", "B", "B_err", "invA", "invA_err",
    "curvature", "curvature_err", "chi2_dof", "bound_z", "plateau_z", "plateau_drift_bound",
)  # fmt: skip


#: What the front row says instead of a verdict on the bound when the slope is not an asymptotic one.
_NOT_ASYMPTOTIC = {
    "unresolved": "plateau not resolved: the data cannot bound the drift of A (longer times or more realizations)",
    "drifting": "no plateau: not an asymptotic slope",
}


def _verdict(z: float, nsigma: float) -> str:
    if not math.isfinite(z):
        return "inconclusive"
    if z > nsigma:
        return "holds"
    if z < -nsigma:
        return "violated"
    return "inconclusive"
