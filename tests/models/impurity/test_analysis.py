"""Analysis of paper 001 (Eqs. 2-5): each fit recovers known parameters from synthetic data, and a
run through the engine gives the derived tables and rows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ensemble import MemoryStore, parse_spec, execute
from ensemble.models.impurity.analysis import (
    ImpurityAnalysis,
    coarse_grain,
    decay_lengths,
    eq3_profile,
    eq4_growth,
    fit_eq3,
    fit_eq4,
    stability_criterion,
)
from kernels.impurity import boson_impurity as bi


def test_eq3_fit_recovers_decay_length_and_crossover():
    x = np.arange(-14.0, 15.0)
    n = np.exp(eq3_profile(x, math.log(0.3), 1.7, 4.0))
    logN, l_c, R = fit_eq3(x, n)
    assert (math.exp(logN), l_c, R) == pytest.approx((0.3, 1.7, 4.0), rel=1e-6)
    # exponential inside R, Gaussian outside: log n ~ -x^2/(l_c R) far out
    far = eq3_profile(np.array([40.0]), 0.0, 1.7, 4.0)[0]
    assert far == pytest.approx(-40.0 / (1.7 * math.tanh(4.0 / 40.0)))


def test_eq4_fit_recovers_saturation():
    t = np.geomspace(0.1, 200, 30)
    xi, T0 = fit_eq4(t, eq4_growth(t, 3.2, 0.7))
    assert (xi, T0) == pytest.approx((3.2, 0.7), rel=1e-6)
    assert all(math.isnan(v) for v in fit_eq4(t[:2], t[:2]))


def test_decay_length_of_exponential_correlations():
    L = 15
    i, j = np.meshgrid(np.arange(L), np.arange(L), indexing="ij")
    C = -0.2 * np.exp(-np.abs(i - j) / 1.3)
    ld = decay_lengths(C)
    assert ld[7] == pytest.approx(1.3, rel=1e-10) and math.isnan(ld[0])


def test_coarse_graining_averages_three_sites():
    n = np.arange(6.0)
    np.testing.assert_allclose(coarse_grain(n)[:4], [1, 2, 3, 4])
    assert np.isnan(coarse_grain(n)[-1])


def test_stability_criterion():
    lhs, rhs, holds = stability_criterion(W=6.5, W_tilde=1.0, U=12.0, xi_c0=10.0, xi_d=1.0, nu_d=1 / 3)
    assert lhs == 90.0 and rhs == pytest.approx(1.5 * 10 * (1 / 3) * (2 / 3)) and holds
    assert not stability_criterion(W=1.0, W_tilde=0.0, U=0.1, xi_c0=100.0, xi_d=2.0, nu_d=0.5)[2]


def test_eq5_recovers_synthetic_entropies():
    p = bi.Params(L=9, U=4.0, times=(1.0, 5.0, 20.0))
    a = ImpurityAnalysis(p)
    rng = np.random.default_rng(0)
    n_c = rng.random((3, 9)) * 0.3
    z = np.log1p(4.0 * n_c[:, 1:] * np.array([1.0, 5.0, 20.0])[:, None])
    S = 0.05 + 0.4 * z
    out = a._eq5(S, n_c)
    assert (out["S_AI"], out["xi_S"]) == pytest.approx((0.05, 0.4), rel=1e-10)


def test_run_gives_fits_and_derived_tables():
    spec = ('kernel = "boson_impurity"\nseed = 4\nrealizations = 8\nbatch_size = 4\n[params]\nL = 12\nU = 12.0\n'
            '[times]\nstart = 0.5\nstop = 100.0\nnum = 8\n')  # fmt: skip
    tables = execute(parse_spec(spec), MemoryStore()).tables
    s, fits = tables["summary"], tables["fits"]
    assert {"n_c_cg", "l_c", "R", "l_d", "l_d_sat"} <= set(s.observable)
    row = fits[fits.fit == "impurity_point"].iloc[0]
    assert row.xi_c > 0 and row.xi_S > 0 and np.isfinite(row.l_c_late)


def test_figures(tmp_path):
    from ensemble import open_run_dir
    from ensemble.present.figures import write_figures

    spec = ('kernel = "boson_impurity"\nseed = 4\nrealizations = 4\nbatch_size = 4\n[params]\nL = 9\n'
            '[sweep]\nU = [4.0, 12.0]\n[times]\nstart = 0.5\nstop = 130.0\nnum = 8\n')  # fmt: skip
    exp = parse_spec(spec)
    execute(exp, open_run_dir(tmp_path / "run", exp, resume=False))
    names = sorted(p.name for p in write_figures(tmp_path / "run"))
    assert names == ["fig1_c_boson.png", "fig2_interaction.png", "fig3_d_bosons.png", "fig4_entanglement.png"]


def test_eq4_window_leaves_out_the_early_times():
    """[fit] eq4_from: l_c(t) that follows Eq. (4) only from t = 10 on (before it, the Eq. (3) fits of a profile
    without an exponential tail) gives Eq. (4)'s parameters back only when the early times are left out."""
    t = np.geomspace(0.1, 200, 30)
    lc = eq4_growth(t, 2.6, 0.9)
    lc[t < 10] = 0.5 + 1.5 * np.sin(t[t < 10]) ** 2  # anything but Eq. (4)
    assert fit_eq4(t, lc, t_from=10.0) == pytest.approx((2.6, 0.9), rel=1e-4)
    assert fit_eq4(t, lc)[0] != pytest.approx(2.6, rel=1e-2)  # negative control: every time biases it


def test_refit_settings_reach_the_figures(tmp_path):
    """Figures drawn after `ensemble fit --set` use the settings the tables were computed with, not the spec's:
    the Eq. (4) curve starts at eq4_from, with its extrapolation dotted."""
    import matplotlib

    matplotlib.use("Agg")
    import ensemble
    from ensemble import open_run_dir

    spec = ('kernel = "boson_impurity"\nseed = 4\nrealizations = 4\nbatch_size = 4\n[params]\nL = 9\nU = 12.0\n'
            '[times]\nstart = 0.5\nstop = 130.0\nnum = 10\n')  # fmt: skip
    exp = parse_spec(spec)
    execute(exp, open_run_dir(tmp_path / "run", exp, resume=False))
    run = ensemble.open_run(tmp_path / "run")

    def eq4_labels():
        b = run.figures()["fig1_c_boson"].axes[1]
        return [ln.get_label() for ln in b.lines if ln.get_label().startswith("Eq. (4)")]

    assert len(eq4_labels()) == 1 and "for $J t" not in eq4_labels()[0]
    run = run.refit(eq4_from=10.0)
    labels = eq4_labels()
    assert len(labels) == 2 and "for $J t \\geq 10$" in labels[0] and labels[1] == "Eq. (4), extrapolated"
