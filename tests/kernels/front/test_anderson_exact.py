"""The exact noise average of the Anderson chain (anderson_exact) against independent references:
the density-matrix channel of Eq. (4) in the full many-body space (xxz_exact at Delta = 0), the noiseless
limit, particle number, and the average of many trajectories on the same fields (within errors, with the
paper's gamma^2 rate as a negative control)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kernels.front import anderson_exact as ae
from kernels.front import anderson_trajectory as at
from kernels.front import xxz_exact as xe
from tests.references import max_deviation_in_sigma

TIMES = (0.05, 0.5, 1.45, 4.0, 7.5)


@pytest.mark.parametrize("L, W, gamma, tau", [(4, 3.0, 1.0, 0.05), (6, 1.0, 2.0, 0.05), (8, 5.0, 1.0, 0.1), (10, 2.0, 0.7, 0.05)])
def test_equals_the_many_body_density_matrix_channel(L, W, gamma, tau):
    times = tuple(max(1, round(t / tau)) * tau for t in TIMES)
    p = ae.Params(L=L, W=W, gamma=gamma, tau=tau, times=times)
    d = ae.sample(p, np.random.default_rng(L))
    got = ae.realize(p, d)
    ref = xe.realize(xe.Params(L=L, W=W, gamma=gamma, tau=tau, Delta=0.0, lindblad=False, times=times), xe.Draws(h=d.h))
    for k in ("Sz0", "Szg", "I0", "Ig"):
        np.testing.assert_allclose(got[k], ref[k], atol=1e-10, err_msg=k)


def test_without_noise_the_average_is_the_reference_and_particles_are_conserved():
    p = ae.Params(L=60, W=4.0, gamma=0.0, times=(1.0, 10.0, 50.0))
    out = ae.realize(p, ae.sample(p, np.random.default_rng(3)))
    np.testing.assert_allclose(out["Szg"], out["Sz0"], atol=1e-12)
    q = ae.Params(L=60, W=4.0, gamma=1.0, times=(1.0, 10.0, 50.0))
    out = ae.realize(q, ae.sample(q, np.random.default_rng(3)))
    np.testing.assert_allclose(out["Szg"].sum(axis=1), 0.0, atol=1e-10)  # half filling: sum_j <S^z_j> = 0


def test_equals_the_average_of_trajectories_on_the_same_fields_at_L100():
    """400 kicked trajectories at L = 100 on one field sample against the exact average: within 4 standard
    errors everywhere; the paper's printed rate gamma^2 (= the exact average at gamma sqrt 2) is rejected."""
    times = (1.0, 5.0, 20.0, 50.0)
    p = ae.Params(L=100, W=2.0, gamma=1.0, times=times)
    d = ae.sample(p, np.random.default_rng(7))
    exact = ae.realize(p, d)["Szg"]
    tp = at.Params(L=100, W=2.0, gamma=1.0, times=times)
    rng = np.random.default_rng(8)
    runs = np.array([at.realize(tp, at.Draws(h=d.h, eta=rng.normal(0.0, math.sqrt(tp.tau), int(tp.steps[-1]))))["Szg"]
                     for _ in range(400)])  # fmt: skip
    mean, sem = runs.mean(axis=0), runs.std(axis=0, ddof=1) / math.sqrt(len(runs))
    near = np.s_[:, :12]  # the bath's reach: beyond, both equal the noiseless chain and sem ~ 0
    assert max_deviation_in_sigma(mean[near], sem[near], exact[near]) < 4.0
    wrong = ae.realize(ae.Params(L=100, W=2.0, gamma=math.sqrt(2.0), times=times), d)["Szg"]
    assert max_deviation_in_sigma(mean[near], sem[near], wrong[near]) > 6.0
