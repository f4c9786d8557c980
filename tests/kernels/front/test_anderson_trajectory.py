"""The Anderson-trajectory kernel against independent references.

* the literal Eq. (B4) of paper 003 (dense expm, site basis) on identical draws;
* an exact many-body evolution of the XX spin chain (Kronecker products, no
  Jordan-Wigner), same fields and noise: pins the mapping and its signs;
* the closed form of the clean chain (W = 0): bulk <S^z_j>(t) = +-J0(2 J t)/2;
* the exact noise average of one step on the correlation matrix, against the
  mean of many trajectories (within 4 standard errors), with a wrong
  dephasing rate as the negative control.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import expm
from scipy.special import j0

from kernels.front import anderson_trajectory as k
from kernels._params import ParameterError
from kernels.front._trajectory import jump_probability
from tests.references import SP, SZ, exact_channel, max_deviation_in_sigma, neel, site_op


def draws(p: k.Params, seed: int) -> k.Draws:
    return k.sample(p, np.random.default_rng(seed))


# -- exact many-body reference, written without the kernel's machinery -------------------------

def xx_chain(h, J):
    L = len(h)
    H = sum(h[j] * site_op(SZ, j, L) for j in range(L))
    for j in range(L - 1):
        hop = site_op(SP, j, L) @ site_op(SP.T, j + 1, L)
        H = H + 0.5 * J * (hop + hop.T)  # SxSx + SySy = (S+S- + S-S+)/2
    return H


def many_body(p: k.Params, d: k.Draws):
    """<S^z_j>(t) for exp(-iHt)|Neel> and for the kicked product of Eq. (4)."""
    L = p.L
    H = xx_chain(d.h, p.J)
    szs = [np.diag(site_op(SZ, j, L)) for j in range(L)]
    psi0 = neel(L)
    ref = np.array([[np.vdot(v, sz * v).real for sz in szs] for v in (expm(-1j * t * H) @ psi0 for t in p.times)])
    U = expm(-1j * p.tau * H)
    sz1 = szs[0]
    psi, out, steps = psi0.copy(), [], list(p.steps)
    for n in range(1, steps[-1] + 1):
        psi = np.exp(-1j * d.eta[n - 1] * p.gamma * sz1) * (U @ psi)
        if n in steps:
            out.append([np.vdot(psi, sz * psi).real for sz in szs])
    return ref, np.array(out)


# -- tests -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "L, W, gamma, J",
    [(2, 1.0, 1.0, 1.0), (6, 3.0, 1.0, 1.0), (8, 0.5, 2.0, 0.7), pytest.param(10, 5.0, 1.0, 1.0, marks=pytest.mark.slow)],
)  # (slow: CI time; L = 8 stays)
def test_matches_exact_many_body_xx_chain(L, W, gamma, J):
    p = k.Params(L=L, W=W, gamma=gamma, J=J, times=(0.05, 0.5, 1.45, 4.0, 7.5))
    d = draws(p, seed=L)
    out = k.realize(p, d)
    ref, kicked = many_body(p, d)
    np.testing.assert_allclose(out["Sz0"], ref, atol=1e-10, rtol=0)
    np.testing.assert_allclose(out["Szg"], kicked, atol=1e-10, rtol=0)
    sign = np.where(np.arange(L) % 2 == 0, 1.0, -1.0)
    np.testing.assert_allclose(out["Ig"], (2 / L) * kicked @ sign, atol=1e-10, rtol=0)


def test_noise_changes_the_state_so_the_comparison_has_teeth():
    p = k.Params(L=8, W=1.0, times=(2.0, 7.5))
    out = k.realize(p, draws(p, 3))
    assert np.abs(out["Szg"] - out["Sz0"]).max() > 1e-2


@pytest.mark.parametrize("L, W, gamma", [(4, 2.0, 1.0), (20, 5.0, 1.0), (50, 0.0, 3.0), (64, 10.0, 0.3)])
def test_matches_literal_eq_B4(L, W, gamma):
    p = k.Params(L=L, W=W, gamma=gamma, times=(0.05, 0.3, 1.0, 5.0, 12.5))
    d = draws(p, seed=100 + L)
    fast, literal = k.realize(p, d), k.realize_literal(p, d)
    for name in fast:
        np.testing.assert_allclose(fast[name], literal[name], atol=1e-10, rtol=0, err_msg=name)


@pytest.mark.parametrize("J", [1.0, 0.7])
def test_clean_chain_bulk_follows_bessel_closed_form(J):
    """W = 0: S^z_j(t) = (-1)^(j-1) J0(2 J t) / 2 in the bulk, before the edges are felt."""
    L = 400
    times = (0.5, 3.0, 10.0, 25.0, 50.0)
    p = k.Params(L=L, W=0.0, gamma=1.0, J=J, times=times)
    out = k.realize(p, draws(p, 0))
    bulk = slice(L // 2 - 20, L // 2 + 20)
    sign = np.where(np.arange(L) % 2 == 0, 1.0, -1.0)[bulk]
    exact = 0.5 * np.outer(j0(2 * J * np.array(times)), sign)
    np.testing.assert_allclose(out["Sz0"][:, bulk], exact, atol=1e-10, rtol=0)
    # The bath at site 1 cannot reach the bulk before the light cone (speed J): same values.
    np.testing.assert_allclose(out["Szg"][:, bulk], exact, atol=1e-10, rtol=0)
    assert np.abs(out["Szg"][-1, :5] - out["Sz0"][-1, :5]).max() > 1e-3


def test_gamma_zero_trajectory_equals_reference():
    p = k.Params(L=30, W=4.0, gamma=0.0, times=(0.05, 1.0, 20.0))
    out = k.realize(p, draws(p, 1))
    np.testing.assert_allclose(out["Szg"], out["Sz0"], atol=1e-10, rtol=0)


def test_large_chain_conserves_particle_number():
    p = k.Params(L=1000, W=5.0, times=(0.5, 1.0))
    out = k.realize(p, draws(p, 2))
    for name in ("Sz0", "Szg"):
        assert np.all(np.isfinite(out[name]))
        np.testing.assert_allclose(out[name].sum(axis=1), 0.0, atol=1e-9)
        assert np.all(np.abs(out[name]) <= 0.5 + 1e-12)


# -- exact noise average (statistical, with a negative control) ------------------------------------


def trajectory_average(p: k.Params, h: np.ndarray, n: int, seed: int):
    rng = np.random.default_rng(seed)
    samples = np.array(
        [k.realize(p, k.Draws(h=h, eta=rng.normal(0.0, math.sqrt(p.tau), p.steps[-1])))["Szg"] for _ in range(n)]
    )
    return samples.mean(axis=0), samples.std(axis=0, ddof=1) / math.sqrt(n)


def test_trajectory_average_equals_exact_dephasing_channel():
    p = k.Params(L=8, W=2.0, gamma=1.0, times=(0.5, 2.0, 5.0, 10.0, 20.0))
    h = np.random.default_rng(11).uniform(-p.W, p.W, p.L)
    mean, sem = trajectory_average(p, h, n=400, seed=12)
    assert max_deviation_in_sigma(mean, sem, exact_channel(p, h, rate=p.gamma**2 / 2)) < 4.0
    # Negative control: the gamma^2 printed in Eq. (2) of the paper is rejected by the same test.
    assert max_deviation_in_sigma(mean, sem, exact_channel(p, h, rate=p.gamma**2)) > 4.0


def test_jump_trajectory_average_equals_exact_dephasing_channel():
    """The jump unraveling samples the same channel: same exact reference, same negative control."""
    p = k.Params(L=8, W=2.0, gamma=1.0, times=(0.5, 2.0, 5.0, 10.0, 20.0), unraveling="jumps")
    h = np.random.default_rng(11).uniform(-p.W, p.W, p.L)
    rng = np.random.default_rng(13)
    n = 400
    samples = np.array([k.realize(p, k.Draws(h, np.empty(0), k.sample(p, rng).jumps))["Szg"] for _ in range(n)])
    mean, sem = samples.mean(axis=0), samples.std(axis=0, ddof=1) / math.sqrt(n)
    assert max_deviation_in_sigma(mean, sem, exact_channel(p, h, rate=p.gamma**2 / 2)) < 4.0
    assert max_deviation_in_sigma(mean, sem, exact_channel(p, h, rate=p.gamma**2)) > 4.0


def test_jump_steps_are_independent_bernoulli_with_the_channel_probability():
    """Each step jumps with q = (1 - exp(-gamma^2 tau / 2)) / 2, independently of the others.

    Pooled over draws: the jump frequency at every step position agrees with q
    (binned, within 4 standard errors), gaps are >= 1, and a draw with no jump
    at all has probability (1 - q)^S. Negative control: the q of the paper's
    rate gamma^2 is rejected by the same test.
    """
    p = k.Params(L=4, gamma=1.5, times=(50.0,), unraveling="jumps")  # S = 1000 steps
    q, S = jump_probability(p), int(p.steps[-1])
    assert q == pytest.approx(0.5 * (1 - math.exp(-(1.5**2) * 0.05 / 2)), rel=1e-14)
    rng = np.random.default_rng(7)
    n = 2000
    counts = np.zeros(S)
    empty = 0
    for _ in range(n):
        j = k.sample(p, rng).jumps
        assert j.dtype == np.int64 and np.all(np.diff(j) >= 1) and (j.size == 0 or (j[0] >= 1 and j[-1] <= S))
        counts[j - 1] += 1
        empty += j.size == 0
    per_bin = counts.reshape(10, -1).sum(axis=1) / (n * S / 10)  # frequency per step, 10 bins of 100 steps
    sem = math.sqrt(q * (1 - q) / (n * S / 10))
    assert np.max(np.abs(per_bin - q)) / sem < 4.0
    wrong = 0.5 * (1 - math.exp(-(1.5**2) * 0.05))
    assert np.max(np.abs(per_bin - wrong)) / sem > 4.0
    assert empty / n == pytest.approx((1 - q) ** S, abs=4 * math.sqrt((1 - q) ** S / n) + 1e-3)


def test_unraveling_draws_are_reproducible_and_share_the_fields():
    kicks = k.Params(L=8, times=(20.0,))
    jumps = k.Params(L=8, times=(20.0,), unraveling="jumps")
    a, b, c = (k.sample(pp, np.random.default_rng(3)) for pp in (jumps, jumps, kicks))
    assert np.array_equal(a.jumps, b.jumps) and a.jumps.size > 0
    assert np.array_equal(a.h, c.h)  # fields first, then the noise of either kind
    longer = k.sample(k.Params(L=8, times=(20.0, 80.0), unraveling="jumps"), np.random.default_rng(3))
    assert longer.jumps.size > a.jumps.size  # a longer run extends the same jumps
    assert np.array_equal(longer.jumps[: a.jumps.size], a.jumps) and longer.jumps[a.jumps.size] > 400
    with pytest.raises(ValueError, match="increasing"):
        k.realize(jumps, k.Draws(a.h, np.empty(0), np.array([5, 3])))


# -- parameters ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"L": 7}, "L"),
        ({"L": 0}, "L"),
        ({"L": 8.0}, "L"),
        ({"W": -1.0}, "W"),
        ({"tau": 0.0}, "tau"),
        ({"tau": -0.05}, "tau"),
        ({"gamma": -1.0}, "gamma"),
        ({"times": ()}, "times"),
        ({"times": (1.0, 0.5)}, "times"),
        ({"times": (0.0, 1.0)}, "times"),
        ({"times": (0.07,)}, "times"),
        ({"unraveling": "Kicks"}, "unraveling"),
    ],
)
def test_bad_parameters_name_the_field(kw, field):
    with pytest.raises(ParameterError) as e:
        k.Params(**kw)
    assert e.value.field == field
    assert field in str(e.value)


def test_times_on_tau_grid_are_accepted_as_given():
    p = k.Params(tau=0.05, times=(0.3, 1.15, 1000.0))
    assert p.times == (0.3, 1.15, 1000.0)
    assert list(p.steps) == [6, 23, 20000]


@pytest.mark.parametrize("L, W, gamma", [(6, 3.0, 1.0), (20, 1.0, 2.0), (60, 8.0, 1.0)])
def test_jump_long_steps_equal_the_step_by_step_kicked_path(L, W, gamma):
    """Jumps evolve in long steps (a phase per mode over the whole interval between events); the same jumps
    applied as pi kicks step by step give the same densities (to rounding over thousands of steps)."""
    times = (0.05, 1.0, 12.5, 100.0, 500.0)
    p = k.Params(L=L, W=W, gamma=gamma, unraveling="jumps", times=times)
    d = draws(p, L)
    assert d.jumps.size > 10
    fast, slow = k.realize(p, d), k.realize_stepwise(p, d)
    for key in fast:
        np.testing.assert_allclose(fast[key], slow[key], atol=1e-10, err_msg=key)
