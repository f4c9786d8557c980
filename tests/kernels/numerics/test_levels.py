"""The shared level statistics against random-matrix values: GOE and Poisson gap ratios, their densities,
unfolded spacings, with negative controls (each reference must fail for the other ensemble)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kernels.numerics import levels


def goe_levels(rng, n):
    a = rng.standard_normal((n, n))
    return np.linalg.eigvalsh((a + a.T) / 2)


def test_reference_values_are_the_closed_forms():
    assert levels.R_POISSON == pytest.approx(0.386294, abs=1e-6)
    assert levels.R_GOE_SURMISE == pytest.approx(0.535898, abs=1e-6)
    r = np.linspace(0, 1, 200_001)
    for kind, mean in (("GOE", levels.R_GOE_SURMISE), ("Poisson", levels.R_POISSON)):
        d = levels.gap_ratio_density(r, kind)
        assert np.trapezoid(d, r) == pytest.approx(1.0, abs=1e-8)
        assert np.trapezoid(r * d, r) == pytest.approx(mean, abs=1e-8)
    s = np.linspace(0, 40, 400_001)
    for kind in ("GOE", "Poisson"):
        d = levels.spacing_density(s, kind)
        assert np.trapezoid(d, s) == pytest.approx(1.0, abs=1e-7) and np.trapezoid(s * d, s) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("variant", levels.VARIANTS)
def test_gap_ratio_of_goe_and_poisson_levels(variant):
    rng = np.random.default_rng(8)
    goe = np.array([levels.mean_gap_ratio(goe_levels(rng, 400), variant) for _ in range(40)])
    poisson = np.array([levels.mean_gap_ratio(rng.uniform(0, 1, 400), variant) for _ in range(40)])
    for sample, truth, other in ((goe, levels.R_GOE, levels.R_POISSON), (poisson, levels.R_POISSON, levels.R_GOE)):
        m, e = sample.mean(), sample.std(ddof=1) / math.sqrt(sample.size)
        assert abs(m - truth) < 4 * e + 0.002, (variant, m, e, truth)
        assert abs(m - other) > 20 * e  # the negative control: the other ensemble's value is far out


def test_central_half_leaves_out_the_edges_and_degeneracies_are_dropped():
    E = np.array([0.0, 1.0, 1.0, 1.0, 3.0, 4.0, 7.0, 8.0])
    assert levels.gap_ratios(E, "all").tolist() == [0.0, 0.0, 0.5, 1 / 3, 1 / 3]  # the 0/0 at the triple level is dropped
    assert levels.gap_ratios(E, "central half").tolist() == [0.0, 0.5]  # levels 2..5
    assert np.isnan(levels.mean_gap_ratio(np.array([1.0, 2.0])))
    with pytest.raises(ValueError, match="variant"):
        levels.gap_ratios(E, "middle")


def test_unfolded_spacings_follow_wigner_for_goe_and_the_exponential_for_poisson():
    """Kolmogorov distances of the bulk spacings to each closed form; each must be far from the other one."""
    rng = np.random.default_rng(3)

    def bulk_spacings(E):
        u = levels.unfold(E)
        s = np.diff(u)
        return s[s.size // 5 : -s.size // 5]

    goe = np.concatenate([bulk_spacings(goe_levels(rng, 600)) for _ in range(10)])
    poisson = np.concatenate([bulk_spacings(np.cumsum(rng.exponential(size=600))) for _ in range(10)])
    grid = np.linspace(0, 8, 8001)

    def ks(s, kind):
        cdf = np.cumsum(levels.spacing_density(grid, kind)) * (grid[1] - grid[0])
        return float(np.max(np.abs(np.searchsorted(np.sort(s), grid) / s.size - cdf)))

    limit = 1.63 / math.sqrt(goe.size)  # Kolmogorov's 1% critical value (correlated spacings: used loosely, x 2)
    assert abs(goe.mean() - 1) < 0.02 and abs(poisson.mean() - 1) < 0.05
    assert ks(goe, "GOE") < 2 * limit and ks(goe, "Poisson") > 5 * limit
    assert ks(poisson, "Poisson") < 2 * limit and ks(poisson, "GOE") > 5 * limit
