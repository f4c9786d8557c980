"""Analysis of the rmt_bath kernel: Eq. (16), the hybridization width, and fits across points."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ensemble import MemoryStore, parse_spec, execute
from ensemble.models.ipr.analysis import IprAnalysis, crossover_length
from kernels.ipr import rmt_bath as k


def test_centre_density_of_states_of_a_semicircle_bath_with_lioms():
    """n = 0: log of the semicircle's centre density 2/(pi R); a band much wider than the LIOMs' shifts:
    every step adds log 2; the paper's 4.2-wide bath with h ~ 1: steps alternate with the parity of n."""
    from ensemble.models.ipr.analysis import log_centre_dos

    rng = np.random.default_rng(0)
    assert log_centre_dos(0, 2.1, 0.5, rng) == pytest.approx(math.log(2 / (math.pi * 2.1)), abs=1e-12)
    wide = [log_centre_dos(n, 400.0, 0.5, rng, draws=200) for n in range(5)]
    np.testing.assert_allclose(np.diff(wide), math.log(2), atol=1e-3)
    steps = np.diff([log_centre_dos(n, 2.1, 0.5, rng) for n in range(7)])
    assert (steps[1::2] < steps[0::2] - 0.05).all()  # 1 -> 2, 3 -> 4, 5 -> 6 below 0 -> 1, 2 -> 3, 4 -> 5
    assert steps.mean() < math.log(2)


def test_crossover_length_eq_16():
    assert crossover_length(1.0, 6) == pytest.approx(math.log(2) / (2 - math.log(2)) * 6)
    assert crossover_length(1 / math.log(4 / 3), 6) == math.inf  # alpha = 3/4: 2/zeta < log 2, no crossover


@pytest.mark.parametrize("w", [0.137, 0.05, 0.3])
def test_half_weight_width_recovers_a_lorentzian(w):
    p = k.Params(bath="goe", l_b=4, n_lioms=1, hyb_range=6.0, hyb_bins=600)
    a = IprAnalysis(p)
    # bin-averaged Lorentzian density (exact integral over each bin), the tails beyond +-6 cut off
    edges = np.linspace(-6.0, 6.0, 601)
    k_omega = np.diff(np.arctan(edges / w)) / (math.pi * np.diff(edges))
    # linear interpolation within a shell errs by a small fraction of a bin (0.02 here)
    assert float(a._half_weight_width(k_omega)) == pytest.approx(w, abs=0.1 * 0.02 + 0.005 * w)


def test_half_weight_width_is_continuous_in_the_data():
    p = k.Params(bath="goe", l_b=4, n_lioms=1, hyb_range=1.0, hyb_bins=20)
    a = IprAnalysis(p)
    ws = [float(a._half_weight_width(np.exp(-(a.omega / s) ** 2) / (s * math.sqrt(math.pi)))) for s in (0.2, 0.21, 0.22)]
    assert ws[0] < ws[1] < ws[2]  # no steps at the bin edges


def test_crossover_slope_of_a_linear_profile():
    p = k.Params(bath="goe", l_b=4, n_lioms=4)
    a = IprAnalysis(p)
    D = np.array([5.0, 4.5] + [3.0 - 0.5 * (i - 1) for i in range(1, 5)])  # OB, x0, x1..x4
    means = {"D": D, "G": np.array(0.3), "hyb": np.ones(40) / 4.0}
    est = a.estimators(means)
    assert est["slope"] == pytest.approx(-0.5) and est["intercept"] == pytest.approx(3.5)
    sems = {k: np.full(np.shape(v), 0.01) for k, v in {**means, **est}.items()}
    point = a.fit_rows({**means, **est}, sems)["fits"][0]
    assert point["D_OB"] == 5.0 and point["G"] == 0.3 and point["D_OB_err"] == 0.01  # the observables' own errors


SPEC = """
kernel = "rmt_bath"
seed = 11
realizations = 24
batch_size = 8
[params]
bath = "goe"
l_b = 4
[sweep]
n_lioms = [1, 2, 3]
g_probe = [0.0, 0.3, 1.0]
"""


@pytest.fixture(scope="module")
def tables():
    return execute(parse_spec(SPEC), MemoryStore()).tables


def test_fits_across_points(tables):
    fits = tables["fits"]
    growth = fits[fits.fit == "bath_growth"]
    assert len(growth) == 2 * 3  # two steps of n for each g_probe
    th = fits[fits.fit == "thermalization"]
    assert len(th) == 2 * 3 and (th.G > 0).all()
    # a weakly coupled probe joins the bath: D(O_B) grows (a strong one can localize this tiny
    # 16-state bath instead, the proximity effect of Sec. II G, so no monotonic trend is asserted)
    weak = th[th.g_probe == 0.3]
    assert (weak.delta_D > 3 * weak.delta_D_err).all()
    cross = fits[fits.fit == "crossover"]
    assert set(cross.n_lioms) == {2, 3} and cross.slope_err.gt(0).all()


def test_summary_has_op_and_omega_axes_and_scalars(tables):
    s = tables["summary"]
    assert {"op", "omega"} <= set(s.columns) and "t" not in s.columns
    assert s[s.observable == "D"].op.notna().all() and s[s.observable == "G"].op.isna().all()
    assert s[s.observable == "hyb"].omega.notna().all()


def test_plots_for_the_ipr_analysis(tables, tmp_path):
    from ensemble import open_run_dir
    from ensemble.present.figures import write_figures

    exp = parse_spec(SPEC)
    execute(exp, open_run_dir(tmp_path / "run", exp, resume=False))
    names = sorted(p.name for p in write_figures(tmp_path / "run"))
    assert names == ["fig3_bath_growth.png", "fig4_crossover.png", "fig5_thermalization.png", "fig6_hybridization.png",
                     "gap_ratio_distribution.png", "lc_theory.png"]  # fmt: skip
