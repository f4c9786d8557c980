"""Analysis of the xxz_bubble kernel: C(r) against numpy's Pearson coefficient, the fits, the
avalanche-model formulas, crossings, and a whole run through the engine to tables and figures."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ensemble import MemoryStore, parse_spec, execute
from ensemble.models.bubble.analysis import (
    XI_STAR,
    BubbleAnalysis,
    avalanche_purity,
    critical_length,
    curve_crossing,
    effective_dimension,
    exp_plateau_fit,
    thermal_dimension,
)
from kernels.bubble import xxz_bubble as kb


def test_critical_length_solves_the_resonance_condition():
    for xi, n in [(0.5, 4), (1.0, 8), (1.3, 3)]:
        lc = critical_length(xi, n)
        # SM Eq. (8): e^(-l/xi) (n 4^l)^(1/2) = 1 at l = l_c
        assert math.exp(-lc / xi) * math.sqrt(n * 4.0**lc) == pytest.approx(1.0)
        # and the SM's d_therm = n 4^l_c = n^(1/(1 - xi/xi_*)) holds with it
        assert n * 4.0**lc == pytest.approx(thermal_dimension(xi, n, L=60))
    assert critical_length(XI_STAR, 4) == math.inf and critical_length(2.0, 4) == math.inf
    assert thermal_dimension(2.0, 4, 10) == 4 * 2**10


def test_avalanche_model_limits():
    i = np.arange(8.0)
    gx, xi, n, L = 0.9, 0.8, 4, 16
    np.testing.assert_allclose(avalanche_purity(i, xi, 0.0, gx, n, L), 0.5 + (1 - np.exp(-i / xi)) * (gx - 0.5))
    d = effective_dimension(i, xi, n, L)
    np.testing.assert_allclose(avalanche_purity(i, xi, 1.0, gx, n, L), 0.5 + 1 / np.sqrt(np.maximum(d, 1)))
    assert np.all(np.diff(d) < 0)  # the effective dimension shrinks away from the bubble


def test_exp_plateau_fit_recovers_parameters():
    d = np.arange(9.0)
    c, A, xi = exp_plateau_fit(d, 0.8 - 0.3 * np.exp(-d / 1.7))
    assert (c, A, xi) == pytest.approx((0.8, 0.3, 1.7), rel=1e-6)
    c, A, _ = exp_plateau_fit(d, np.full(9, 0.7) + 1e-4 * np.sin(d))  # a plateau: no amplitude
    assert c == pytest.approx(0.7, abs=1e-3) and abs(A) < 1e-2
    assert all(math.isnan(v) for v in exp_plateau_fit(d[:3], d[:3]))


def test_correlation_estimator_equals_pearson_over_states_and_samples():
    """Feed the estimator the moments of per-state purities; compare with np.corrcoef of the same purities."""
    p = kb.Params(L=9, n_goe=4, W=3.5, n_eig=30)
    rng = np.random.default_rng(4)
    per_state, outs = [], []
    for _ in range(12):
        d = kb.sample(p, rng)
        H = kb.hamiltonian(p, d)
        E, V, _ = kb.central_eigenpairs(H, p.n_eig, p.solver())
        outs.append(kb.observables(p, E, V))
        per_state += [kb.observables(p, E[s : s + 1], V[:, s : s + 1])["gamma"] for s in range(E.size)]
    G = np.array(per_state)  # (states x samples, L)
    means = {k: np.mean([o[k] for o in outs], axis=0) for k in ("gamma", "gamma_gamma", "r")}
    est = BubbleAnalysis(p).estimators(means)
    R = np.corrcoef(G.T)
    L = p.L
    ref = 0.5 * (R[0, :] + R[L - 1, ::-1])
    np.testing.assert_allclose(est["C"], ref, atol=1e-10)
    assert est["C"][0] == pytest.approx(1.0)
    np.testing.assert_allclose(est["sigma"], G.std(axis=0), atol=1e-10)
    dist = np.minimum(np.arange(L), L - 1 - np.arange(L))
    np.testing.assert_allclose(est["gamma_dist"], [G.mean(axis=0)[dist == k].mean() for k in range(5)], atol=1e-12)


def test_estimators_broadcast_over_jackknife_samples():
    p = kb.Params(L=10, n_goe=4)
    a = BubbleAnalysis(p)
    rng = np.random.default_rng(0)
    g = 0.7 + 0.1 * rng.random((3, 10))
    gg = g[:, :, None] * g[:, None, :] + 0.01 * np.eye(10)
    stacked = a.estimators({"gamma": g, "gamma_gamma": gg, "r": np.full(3, 0.4)})
    for j in range(3):
        one = a.estimators({"gamma": g[j], "gamma_gamma": gg[j], "r": np.array(0.4)})
        for k, v in one.items():
            np.testing.assert_allclose(stacked[k][j], v, rtol=1e-12, equal_nan=True, err_msg=k)


def test_beta_peak_finds_the_maximum_of_a_sampled_curve():
    """A parabola peaked at 0.57 sampled at the spec's betas: the vertex within its bootstrap error; a
    monotone curve (the negative control) has no interior peak and says so."""
    from ensemble.models.bubble.analysis import beta_peaks, peak_location

    beta = np.array([0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0])
    r = 0.52 - 0.3 * (beta - 0.57) ** 2
    err = np.full(beta.size, 0.002)
    v, status = peak_location(beta, r, err)
    assert status == "peak" and abs(v - 0.57) < 1e-9
    rng = np.random.default_rng(1)
    rows = pd.DataFrame({"fit": "bubble_point", "n_goe": 4, "W": 2.0, "L": 10, "beta": beta,
                         "r_mean": r + err * rng.standard_normal(beta.size), "r_mean_err": err})  # fmt: skip
    (row,) = beta_peaks(rows, ["L", "W", "n_goe", "beta"], bootstrap=400, seed=3)
    assert row["outcome"] == "peak" and row["status"] == "resolved" and row["beta_paper"] == 0.6
    assert abs(row["beta_peak"] - 0.57) < 4 * row["beta_peak_err"] and row["beta_peak_err"] < 0.1
    _, status = peak_location(beta, 0.4 + 0.1 * beta, err)  # negative control: maximum at the edge
    assert status.startswith("maximum at the edge")


def test_curve_crossing():
    W = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert curve_crossing(W, 0.1 * (3.5 - W)) == pytest.approx(3.5)
    assert math.isnan(curve_crossing(W, 0.1 + 0 * W))  # never crosses


SPEC = """
kernel = "xxz_bubble"
seed = 5
realizations = 40
batch_size = 10
[params]
n_eig = 16
[sweep]
L = [6, 8, 10]
n_goe = [0, 4]
W = [1.0, 8.0]
"""


@pytest.fixture(scope="module")
def tables():
    return execute(parse_spec(SPEC), MemoryStore()).tables


def test_run_tables_and_fits(tables):
    fits, s = tables["fits"], tables["summary"]
    pts = fits[fits.fit == "bubble_point"]
    assert len(pts) == 12 and pts.r_mean_err.gt(0).all()
    # weak disorder + bubble is ergodic, strong disorder without bubble is localized
    weak = pts[(pts.W == 1.0) & (pts.n_goe == 4) & (pts.L == 8)].iloc[0]
    strong = pts[(pts.W == 8.0) & (pts.n_goe == 0) & (pts.L == 10)].iloc[0]
    assert abs(weak.r_mean - 0.5307) < 4 * weak.r_mean_err + 0.01
    assert abs(strong.r_mean - 0.3863) < 4 * strong.r_mean_err + 0.01
    assert strong.gamma_avg > weak.gamma_avg + 0.2
    cross = fits[fits.fit == "gap_crossing"]
    assert len(cross) == 4  # (6, 8) and (8, 10), with and without bubble
    shift = fits[fits.fit == "purity_shift"]
    assert set(zip(shift.L, shift.L_ref)) == {(6, 8), (8, 10)}
    # at W = 1 both systems are thermal: the purity shift vanishes within errors
    w1 = shift[shift.W == 1.0]
    fitted = w1[w1.status != "undetermined"]  # (6, 8): too few distances at L = 6 for the plateau fit, said so
    assert len(fitted) and (fitted.delta_0.abs() < 4 * fitted.delta_0_err + 0.02).all()
    assert w1[w1.status == "undetermined"].delta_0.isna().all()
    model = fits[fits.fit == "avalanche_model"]
    assert len(model) == len(shift) and model.outcome.eq("ok").all() and model.p.between(0, 1).all()
    assert set(model.status) <= {"resolved", "at range edge"}  # xi at its bound, or beyond the distances: an edge
    # C(r) rows for every site, C(0) = 1 exactly
    C = s[s.observable == "C"]
    assert len(C) == 2 * 2 * (6 + 8 + 10)
    np.testing.assert_allclose(C[C.site == 0]["mean"], 1.0, atol=1e-12)
    assert {"site", "site2", "dist", "m"} <= set(s.columns)


def test_plots_for_the_bubble_analysis(tmp_path):
    from ensemble import open_run_dir
    from ensemble.present.figures import write_figures

    exp = parse_spec(SPEC.replace("realizations = 40", "realizations = 10").replace("L = [6, 8, 10]", "L = [8, 10]"))
    execute(exp, open_run_dir(tmp_path / "run", exp, resume=False))
    names = sorted(p.name for p in write_figures(tmp_path / "run"))
    assert names == ["fig2_gap_ratio.png", "fig3_purity.png", "fig4_purity_vs_L.png", "fig5_correlation.png",
                     "fig7_magnetization.png", "fig9_delta.png", "gap_ratio_distribution.png"]  # fmt: skip
    fits = pd.read_parquet(tmp_path / "run" / "tables" / "fits.parquet")
    assert (fits.fit == "purity_profile").any()
