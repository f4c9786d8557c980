"""The thermalization-front analysis: Eqs. (8), (11), (12), the fit of h = A ln t + B, and its errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ensemble.models.front.analysis import AVALANCHE_BOUND, FrontAnalysis, FrontSettings, _verdict, derived
from ensemble.analysis.reduce import BlockMoments, jackknife
from ensemble.analysis.tables import merge_blocks

T = np.geomspace(1.0, 1000.0, 19)


def means_for_front(h: np.ndarray, L: int = 4) -> dict[str, np.ndarray]:
    """Averages whose front is exactly h (0 <= h <= 1): dS = (1 - h, h, 0, ...)."""
    sz0 = np.zeros((h.size, L))
    sz0[:, 0], sz0[:, 1] = 1 - h, h
    return {"Sz0": sz0, "Szg": np.zeros_like(sz0), "I0": np.full(h.size, 0.8), "Ig": np.full(h.size, 0.6)}


def test_derived_quantities_follow_eqs_8_11_12():
    m = {
        "Sz0": np.array([[0.5, -0.5, 0.5, -0.5]]),
        "Szg": np.array([[0.1, -0.3, 0.5, -0.4]]),
        "I0": np.array([0.8]),
        "Ig": np.array([0.6]),
    }
    d = derived(m)
    assert d["Ir"][0] == pytest.approx(0.25)
    np.testing.assert_allclose(d["dS"], [[0.4, 0.2, 0.0, 0.1]])
    assert d["h"][0] == pytest.approx((0 * 0.4 + 1 * 0.2 + 2 * 0 + 3 * 0.1) / 0.7)


def test_exact_line_is_recovered_for_every_window():
    a = FrontAnalysis(T, FrontSettings(min_start=1.0))
    est = a.estimators(means_for_front(0.07 * np.log(T) + 0.4))
    assert len(a.windows) > 3
    np.testing.assert_allclose(est["fit_A"], 0.07, rtol=1e-12)
    np.testing.assert_allclose(est["fit_B"], 0.4, rtol=1e-12)
    np.testing.assert_allclose(est["fit_invA"], 1 / 0.07, rtol=1e-12)
    np.testing.assert_allclose(est["fit_curvature"], 0.0, atol=1e-12)


def test_candidate_windows_respect_min_start_decades_and_points():
    a = FrontAnalysis(T, FrontSettings(min_start=10.0, min_decades=1.0, min_points=5))
    starts = [T[w[0]] for w in a.windows]
    assert min(starts) >= 10.0 - 1e-9 and max(starts) <= 100.0 + 1e-9
    assert all(w[-1] == T.size - 1 and w.size >= 5 for w in a.windows)
    assert FrontAnalysis(T[:8], FrontSettings()).window_problem() is not None


def test_selection_takes_the_earliest_start_on_a_plateau():
    """A start is on a plateau if every later start within plateau_decades has the same A within the
    difference's error; starts whose later neighbours the samples do not reach cannot be tested."""
    a = FrontAnalysis(T, FrontSettings(min_start=1.0, plateau_decades=0.5, plateau_sigma=2.0))
    nw = len(a.windows)
    A = np.where(np.arange(nw) < 4, 0.2 - 0.02 * np.arange(nw), 0.1)  # drifts, then settles at start 4
    value = {"fit_dA": A[None, :] - A[:, None], "fit_A": A}
    sem = {"fit_dA": np.full((nw, nw), 0.005)}
    assert a.select(value, sem) == (4, "plateau")
    drifting = 0.2 - 0.01 * np.arange(nw)  # never settles: no plateau, the most stable start is flagged
    drift = {"fit_dA": drifting[None, :] - drifting[:, None], "fit_A": drifting}
    k, verdict = a.select(drift, sem)
    assert verdict == "drifting" and np.isfinite(a.plateau_z(drift, sem)[k])


def test_a_plateau_needs_data_that_could_have_seen_a_drift():
    """Errors too large to see a drift of 20% of A over the span: no drift is seen, yet no plateau is claimed
    (unresolved); the same slopes with small errors (control) are a plateau, and a real drift with small
    errors is seen as one."""
    a = FrontAnalysis(T, FrontSettings(min_start=1.0, plateau_decades=0.5, plateau_sigma=2.0, plateau_resolution=0.2))
    nw = len(a.windows)
    A = np.full(nw, 0.1)
    value = {"fit_dA": A[None, :] - A[:, None], "fit_A": A}
    noisy = {"fit_dA": np.full((nw, nw), 0.012)}  # 2 x 0.012 = 24% of A: a 20% drift could hide in it
    assert a.select(value, noisy) == (0, "unresolved")
    z, bound = a.plateau_tests(value, noisy)
    assert np.nanmin(bound) == pytest.approx(0.24) and np.nanmax(z) == 0
    assert a.select(value, {"fit_dA": np.full((nw, nw), 0.004)}) == (0, "plateau")  # 8%: resolved
    drift = 0.1 * (1 + 0.3 * np.log10(T[[w[0] for w in a.windows]]))  # +30% per decade of starts
    k, verdict = a.select({"fit_dA": drift[None, :] - drift[:, None], "fit_A": drift}, {"fit_dA": np.full((nw, nw), 0.002)})
    assert verdict == "drifting"


def synthetic_run(h_true, n=400, sigma=0.02, seed=0, times=None):
    """Block moments of n noisy realizations of a front h_true(t) (noise correlated over t, as disorder is)."""
    t = T if times is None else times
    rng = np.random.default_rng(seed)
    shift = rng.normal(0, sigma, size=(n, 1)) + rng.normal(0, sigma / 2, size=(n, t.size))
    h = np.clip(h_true(t)[None, :] + shift, 0, 1)
    blocks = BlockMoments.from_samples(0, ([means_for_front(h[i])] for i in range(n)))
    return blocks, merge_blocks([blocks])


TLONG = np.geomspace(1.0, 1e4, 41)


def fit_front(h_true, seed=0, sigma=0.02):
    a = FrontAnalysis(TLONG, FrontSettings(min_start=1.0))
    blocks, total = synthetic_run(h_true, seed=seed, sigma=sigma, times=TLONG)
    value, sem = jackknife(a.estimators, total, [blocks])
    return a.fit_rows(value, sem)["fits"][0]


def test_automatic_window_finds_the_log_regime_after_a_crossover():
    """h = A ln t + B + c (1 - exp(-t/t_c)) (a fast rise that saturates at t_c = 20, then the log front): the
    local slope is far from A until a few t_c. The window starts after the crossover and its slope is the
    asymptotic one within its error; a window from the earliest candidate start (what a curvature test that
    cannot resolve the rise may accept) is biased by many errors."""
    A, B, c, tc = 0.05, 0.2, 0.25, 20.0
    h = lambda t: A * np.log(t) + B + c * (1 - np.exp(-t / tc))  # noqa: E731
    row = fit_front(h)
    assert row["plateau"] and row["t_start"] >= 3 * tc
    assert abs(row["A"] - A) < 4 * row["A_err"]
    a = FrontAnalysis(TLONG, FrontSettings(window=(1.0, 1e4)))
    blocks, total = synthetic_run(h, times=TLONG)
    value, sem = jackknife(a.estimators, total, [blocks])
    assert abs(value["fit_A"][0] - A) > 10 * sem["fit_A"][0]


def test_no_plateau_without_a_log_regime():
    """Negative control: a power law h = 0.12 t^0.15 has a local slope in ln t that keeps growing; no window
    start is stable, the row says so and the crossing W* would leave it out."""
    row = fit_front(lambda t: 0.12 * t**0.15)
    assert not row["plateau"] and row["bound_holds"].startswith("no plateau")


@pytest.mark.parametrize(
    "z, verdict", [(3.0, "holds"), (-2.5, "violated"), (1.0, "inconclusive"), (float("nan"), "inconclusive")]
)
def test_bound_verdicts(z, verdict):
    assert _verdict(z, 2.0) == verdict
    assert AVALANCHE_BOUND == pytest.approx(2 * math.log(4))


# -- errors of the fitted slope: coverage against the truth ---------------------------------------

A_TRUE, B_TRUE, N, G, REPEATS = 0.1, 0.3, 200, 50, 200


def one_experiment(rng, analysis):
    """Realizations with noise that is the same at all times (as disorder is): strongly correlated h(t)."""
    h = A_TRUE * np.log(T) + B_TRUE
    eps = rng.normal(0, 0.3, size=(N, 2))
    white = rng.normal(0, 0.02, size=(N, T.size))
    samples = []
    for i in range(N):
        m = means_for_front(h)
        m["Sz0"][:, 0] += eps[i, 0] + white[i]
        m["Sz0"][:, 1] += eps[i, 1]
        samples.append(m)
    size = N // G
    blocks = BlockMoments.from_samples(0, (samples[b * size : (b + 1) * size] for b in range(G)))
    total = merge_blocks([blocks])
    value, sem = jackknife(analysis.estimators, total, [blocks])
    x = np.log(T)
    resid = value["h"] - (value["fit_A"][0] * x + value["fit_B"][0])
    naive = math.sqrt(resid @ resid / (T.size - 2) / np.sum((x - x.mean()) ** 2))
    return value["fit_A"][0], sem["fit_A"][0], naive


@pytest.fixture(scope="module")
def fits():
    rng = np.random.default_rng(7)
    analysis = FrontAnalysis(T, FrontSettings(window=(1.0, 1000.0)))
    return np.array([one_experiment(rng, analysis) for _ in range(REPEATS)])


def coverage(fits, column: int) -> float:
    return float(np.mean(np.abs(fits[:, 0] - A_TRUE) < 2 * fits[:, column]))


def test_jackknife_error_of_the_slope_covers_the_truth(fits):
    # nominal 95%; binomial scatter over 200 repeats is 1.5%
    assert 0.90 <= coverage(fits, 1) <= 0.99


def test_negative_control_naive_fit_error_undercovers(fits):
    assert coverage(fits, 2) < 0.6
