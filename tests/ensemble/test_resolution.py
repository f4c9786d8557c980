"""Numbers at the resolution limit of a grid the spec chose say so (issue 22): one rule, its helpers, and each
model's use of it against cases where the grid does (and, as controls, does not) decide the number."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ensemble import MemoryStore, execute, parse_spec
from ensemble.analysis import resolution
from ensemble.models.bubble.analysis import beta_peaks
from ensemble.models.front.analysis import A_BOUND
from ensemble.models.front.thresholds import avalanche_crossing

EDGE, LIMIT, RESOLVED = resolution.EDGE, resolution.LIMIT, resolution.RESOLVED


def test_the_rule():
    c = resolution.classify
    assert c(1.0, 0.1) == RESOLVED
    assert c(float("nan"), 0.1) == resolution.UNDETERMINED
    assert c(float("nan"), edge=True) == EDGE  # "no crossing within the sweep" has no value but a reason
    assert c(0.05, 0.001, cell=0.05) == LIMIT  # a width under two bins is a bound however small its error
    assert c(0.25, 0.001, cell=0.05) == RESOLVED
    assert c(1.0, 0.1, discretization=0.2) == LIMIT and c(1.0, 0.1, discretization=0.05) == RESOLVED
    assert resolution.worst([RESOLVED, LIMIT, RESOLVED]) == LIMIT and resolution.worst([]) == RESOLVED
    assert resolution.grid_effect(0.3, 0.1) == 0.3 and resolution.grid_effect(0.15, 0.1) == 0.0  # within the noise
    assert resolution.note(RESOLVED) == "" and resolution.note(EDGE) == " [at range edge]"


def test_quadratic_interpolation_is_exact_for_a_parabola_and_differs_for_a_kink():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    y = (x - 0.5) ** 2 - 1.0  # root at 1.5
    assert resolution.quadratic_crossing(x, y, 1) == pytest.approx(1.5, abs=1e-12)
    assert resolution.quadratic_vertex(x - 1.0, -((x - 1.3) ** 2)) == pytest.approx(0.3, abs=1e-12)
    kink = np.array([1.0, 0.9, -1.0, -1.1])  # linear between 1 and 2 but curved through the neighbours
    linear = 1 + 0.9 / 1.9
    assert abs(resolution.quadratic_crossing(x, kink, 1) - linear) > 0.05


def _front_fits(W, A, err):
    return pd.DataFrame({"fit": "front", "L": 100, "W": W, "A": A, "A_err": err, "plateau": True, "status": RESOLVED})


def test_W_star_on_a_coarse_W_grid_is_at_resolution_limit():
    """A(W) curved around the bound, errors of A typical of a front fit: on a coarse grid the linear crossing
    depends on the grid beyond the bootstrap error; on a fine grid of the same curve (control) it does not."""
    curve = lambda W: 0.15 + 0.6 * np.exp(-(W - 2.0) / 1.2)  # noqa: E731
    coarse = np.array([2.0, 4.0, 6.0, 8.0])
    fine = np.arange(2.0, 8.01, 0.25)
    rows = {}
    for name, W in (("coarse", coarse), ("fine", fine)):
        (row,) = avalanche_crossing(_front_fits(W, curve(W), np.full(W.size, 0.005)), ["L", "W"], 400, seed=1)
        rows[name] = row
    truth = 2.0 - 1.2 * math.log((A_BOUND - 0.15) / 0.6)
    assert rows["coarse"]["status"] == LIMIT and abs(rows["coarse"]["W_star"] - truth) > 3 * rows["coarse"]["W_star_err"]
    assert rows["fine"]["status"] == RESOLVED and abs(rows["fine"]["W_star"] - truth) < 2 * rows["fine"]["W_star_err"]
    (edge,) = avalanche_crossing(_front_fits(coarse, np.full(4, 0.1), np.full(4, 0.01)), ["L", "W"], 200, seed=1)
    assert edge["outcome"] == "bound holds at all sampled W" and edge["status"] == EDGE


def test_beta_peak_of_a_sharp_maximum_on_a_coarse_grid_is_at_resolution_limit():
    rng = np.random.default_rng(4)

    def rows(beta, width):
        r = 0.5 * np.exp(-np.abs(beta - 0.57) / width)
        err = np.full(beta.size, 1e-4)
        return pd.DataFrame({"fit": "bubble_point", "n_goe": 4, "W": 2.0, "L": 10, "beta": beta,
                             "r_mean": r + err * rng.standard_normal(beta.size), "r_mean_err": err})  # fmt: skip

    coarse = np.array([0.2, 0.4, 0.6, 0.8, 1.0])
    (sharp,) = beta_peaks(rows(coarse, 0.05), ["L", "W", "n_goe", "beta"], bootstrap=300, seed=2)
    assert sharp["status"] == LIMIT
    beta = np.array([0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0])
    r = 0.52 - 0.3 * (beta - 0.57) ** 2  # control: a smooth maximum the grid resolves
    smooth = pd.DataFrame({"fit": "bubble_point", "n_goe": 4, "W": 2.0, "L": 10, "beta": beta, "r_mean": r,
                           "r_mean_err": np.full(beta.size, 0.002)})  # fmt: skip
    assert beta_peaks(smooth, ["L", "W", "n_goe", "beta"], bootstrap=300, seed=2)[0]["status"] == RESOLVED


HYB = """
kernel = "rmt_bath"
seed = 7
realizations = 24
block_size = 2
[params]
bath = "goe"
n_lioms = 1
h_width = 0.0
n_states = 8
{params}
"""


def test_hybridization_width_below_two_bins_is_at_resolution_limit():
    """The issue's case: a golden-rule width far below one bin of the histogram the spec chose."""
    narrow = execute(parse_spec(HYB.format(params="l_b = 6\ng1 = 0.1")), MemoryStore()).tables["fits"]
    row = narrow[narrow.fit == "hybridization"].iloc[0]
    assert row.w_golden_rule < row.bin_width and row.w50 < 2 * row.bin_width and row.status == LIMIT
    wide = execute(parse_spec(HYB.format(params="l_b = 8\nbandwidth = 10.0\ng1 = 0.8\nhyb_range = 0.8\nhyb_bins = 64")),
                   MemoryStore()).tables["fits"]  # fmt: skip
    row = wide[wide.fit == "hybridization"].iloc[0]
    assert row.w50 > 4 * row.bin_width and row.status == RESOLVED
