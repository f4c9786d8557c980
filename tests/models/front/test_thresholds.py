"""Threshold times and the fits across points (Eqs. 9, 10, 18), against constructed truths."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ensemble.models.front.analysis import A_BOUND, AVALANCHE_BOUND, crossing_log_time
from ensemble.models.front.thresholds import avalanche_crossing, crossing, threshold_scaling

T = np.array([1.0, 2.0, 4.0, 8.0, 16.0])


def test_crossing_time_interpolates_in_log_time():
    Ir = np.array([0.0, 0.1, 0.2, 0.3, 0.4])
    # between t = 2 (0.1) and t = 4 (0.2): 0.17 is 70% of the way in ln t
    assert crossing_log_time(Ir, T, 0.17) == pytest.approx(math.log(2) + 0.7 * math.log(2))
    assert np.isnan(crossing_log_time(Ir, T, 0.5))
    assert crossing_log_time(Ir + 0.2, T, 0.17) == pytest.approx(0.0)  # above already at t = 1
    assert crossing_log_time(np.array([0.0, 0.3, 0.1, 0.3, 0.4]), T, 0.17) < math.log(2)  # the first crossing
    batch = crossing_log_time(np.stack([Ir, Ir + 0.05]), T, 0.17)
    assert batch.shape == (2,) and batch[1] < batch[0]


def test_crossing_of_the_front_slope():
    W = np.array([2.0, 4.0, 6.0, 8.0])
    A = np.array([0.6, 0.45, 0.3, 0.2])  # A_BOUND = 0.3607 between W = 4 and 6
    w, status = crossing(W, A)
    assert status == "crossing" and w == pytest.approx(4 + 2 * (0.45 - A_BOUND) / 0.15)
    assert crossing(W, A * 0.1)[1] == "bound holds at all sampled W"
    assert crossing(W, A + 1)[1] == "bound violated at the largest sampled W"
    # a violation after a holding W moves W* up: the bound must hold at all larger W
    assert crossing(W, np.array([0.6, 0.2, 0.5, 0.2]))[0] > 6


def test_threshold_scaling_recovers_alpha_and_W_tilde():
    L, W = np.meshgrid([8, 10, 12], [2.0, 4.0, 6.0], indexing="ij")
    L, W = L.ravel(), W.ravel()
    y = 0.09 * L * W + 1.3
    fits = pd.DataFrame({"L": L, "W": W, "gamma": 1.0, "fit": "threshold_time", "ln_t_tilde": y, "ln_t_tilde_err": 0.1})
    (row,) = threshold_scaling(fits, ["L", "W", "gamma"])
    assert row["alpha"] == pytest.approx(0.09) and row["c"] == pytest.approx(1.3)
    assert row["W_tilde"] == pytest.approx(2 * math.log(2) / 0.09)
    assert row["chi2_dof"] == pytest.approx(0.0, abs=1e-12) and not row["errors_scaled"]


def test_threshold_scaling_groups_by_other_parameters_and_skips_unreached_points():
    fits = pd.DataFrame(
        {
            "L": [8, 8, 8, 8],
            "W": [2.0, 4.0, 2.0, 4.0],
            "gamma": [1.0, 1.0, 2.0, 2.0],
            "fit": "threshold_time",
            "ln_t_tilde": [1.0, 2.0, 0.5, np.nan],
            "ln_t_tilde_err": 0.1,
        }
    )
    rows = threshold_scaling(fits, ["L", "W", "gamma"])
    assert [r["gamma"] for r in rows] == [1.0, 2.0]
    assert rows[0]["outcome"] == "fitted" and rows[1]["outcome"].startswith("fewer than 2")
    assert rows[1]["status"] == "undetermined"


# -- error coverage against the truth (statistical, with negative controls) --------------------------

REPEATS = 300


def coverage(estimates, errors, truth) -> float:
    return float(np.mean(np.abs(np.asarray(estimates) - truth) < np.asarray(errors)))


def synthetic_front_fits(rng, err_scale=1.0):
    W = np.array([2.0, 4.0, 6.0, 8.0, 10.0])
    A_true = 0.8 - 0.08 * W  # crosses A_BOUND at W* = (0.8 - A_BOUND) / 0.08
    sigma = 0.02
    A = A_true + sigma * rng.standard_normal(W.size)
    fits = pd.DataFrame({"L": 12, "W": W, "fit": "front", "A": A, "A_err": sigma * err_scale})
    fits["invA"], fits["invA_err"] = 1 / fits.A, fits.A_err / fits.A**2
    return fits


W_STAR = (0.8 - A_BOUND) / 0.08


@pytest.mark.parametrize("err_scale, ok", [(1.0, True), (0.4, False)])
def test_bootstrap_error_of_W_star_covers_the_truth(err_scale, ok):
    """68% nominal; a deliberately understated input error (negative control) must fail the same check."""
    rng = np.random.default_rng(5)
    rows = [avalanche_crossing(synthetic_front_fits(rng, err_scale), ["L", "W"], 200, seed=i)[0] for i in range(REPEATS)]
    assert all(r["outcome"] == "crossing" for r in rows)
    c = coverage([r["W_star"] for r in rows], [r["W_star_err"] for r in rows], W_STAR)
    assert (0.60 <= c <= 0.76) is ok, c  # binomial scatter over 300 repeats: 2.7%


@pytest.mark.parametrize("use_errors, ok", [(True, True), (False, False)])
def test_eq9_alpha_error_covers_the_truth(use_errors, ok):
    """Points with unequal errors: the weighted fit's error covers alpha; an unweighted-in-spirit
    error (all points given the smallest error) is the negative control."""
    rng = np.random.default_rng(6)
    L, W = (a.ravel() for a in np.meshgrid([8, 10, 12], [2.0, 4.0, 6.0, 8.0], indexing="ij"))
    sig = 0.05 + 0.05 * W  # later thresholds are noisier
    est, err = [], []
    for _ in range(REPEATS):
        y = 0.1 * L * W + 1.0 + sig * rng.standard_normal(W.size)
        s = sig if use_errors else np.full_like(sig, sig.min())
        fits = pd.DataFrame({"L": L, "W": W, "fit": "threshold_time", "ln_t_tilde": y, "ln_t_tilde_err": s})
        (row,) = threshold_scaling(fits, ["L", "W"])
        if not use_errors:  # the control also forgoes the chi2 rescaling
            row["alpha_err"] /= math.sqrt(max(row["chi2_dof"], 1.0))
        est.append(row["alpha"])
        err.append(row["alpha_err"])
    assert (0.60 <= coverage(est, err, 0.1) <= 0.76) is ok


def test_bound_constant_is_the_papers():
    assert AVALANCHE_BOUND == pytest.approx(2 * math.log(4)) and A_BOUND == pytest.approx(1 / (4 * math.log(2)))
