"""XXZ trajectories and the exact density-matrix reference, against independent references.

* full exact diagonalization in the 2^L spin space (Kronecker products, no
  sector code): gamma = 0 and the noisy protocol on the same noise, to 1e-10;
* the free-fermion kernel on identical draws at Delta = 0, to 1e-8;
* the free-fermion exact channel (correlation matrix) for the density-matrix
  solver at Delta = 0;
* statistics: the average of many trajectories equals the exact channel
  within 4 standard errors, and the paper's rate gamma^2 is rejected.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import expm
from scipy.special import comb

from kernels.front import anderson_trajectory as ff
from kernels.numerics import spin_basis as sb
from kernels.front import xxz_exact as ex
from kernels.front import xxz_trajectory as x
from kernels._params import ParameterError
from kernels.numerics.chebyshev import ChebyshevPropagator, SparseHamiltonian, bessel_j_sequence
from tests.references import SP, SZ, exact_channel, max_deviation_in_sigma, neel, site_op


def xxz_full(h, J, Delta):
    """H_0 of Eq. (1) in the full 2^L space."""
    L = len(h)
    H = sum(h[j] * site_op(SZ, j, L) for j in range(L))
    for j in range(L - 1):
        hop = site_op(SP, j, L) @ site_op(SP.T, j + 1, L)
        H = H + 0.5 * J * (hop + hop.T) + J * Delta * site_op(SZ, j, L) @ site_op(SZ, j + 1, L)
    return H


def full_space_evolution(p: x.Params, d: x.Draws):
    """<S^z_j>(t): exp(-iHt)|Neel> and the kicked protocol of Eq. (4), in the 2^L space."""
    L = p.L
    H = xxz_full(d.h, p.J, p.Delta)
    szs = [np.diag(site_op(SZ, j, L)) for j in range(L)]
    psi0 = neel(L)
    ref = np.array([[np.vdot(v, sz * v).real for sz in szs] for v in (expm(-1j * t * H) @ psi0 for t in p.times)])
    U = expm(-1j * p.tau * H)
    psi, out, steps = psi0.copy(), [], list(p.steps)
    for n in range(1, steps[-1] + 1):
        psi = np.exp(-1j * d.eta[n - 1] * p.gamma * szs[0]) * (U @ psi)
        if n in steps:
            out.append([np.vdot(psi, sz * psi).real for sz in szs])
    return ref, np.array(out)


TIMES = (0.05, 0.5, 1.45, 4.0, 7.5)

# -- basis and propagator ---------------------------------------------------------------------


@pytest.mark.parametrize("L", [2, 4, 6, 9, 12])
def test_sector_enumeration_and_ranks(L):
    for n_up in range(L + 1):
        states = sb.sector_states(L, n_up)
        assert states.size == comb(L, n_up, exact=True)
        assert np.all(np.diff(states) > 0)
        assert all(bin(int(s)).count("1") == n_up for s in states)
        C = sb.binomial_table(L)
        assert [sb.rank(int(s), C) for s in states] == list(range(states.size))


@pytest.mark.parametrize("L, Delta", [(4, 1.0), (6, 0.5), (8, -0.3)])
def test_sector_hamiltonian_is_the_projection_of_the_full_one(L, Delta):
    p = x.Params(L=L, W=2.0, Delta=Delta, J=0.8, times=(1.0,))
    h = np.random.default_rng(L).uniform(-2, 2, L)
    H = x.hamiltonian(p, h).to_csr().toarray()
    states = x.sector(L).states
    # full-space index of a bit string: site j is the j-th Kronecker factor, |up> = (1, 0)
    full_index = [sum(((s >> j) & 1 ^ 1) << (L - 1 - j) for j in range(L)) for s in states]
    np.testing.assert_allclose(H, xxz_full(h, 0.8, Delta)[np.ix_(full_index, full_index)], atol=1e-14)


@pytest.mark.parametrize("dt", [0.05, 0.1, 2.0, 60.0])
def test_chebyshev_matches_expm_within_tolerance(dt):
    p = x.Params(L=10, W=4.0, times=(1.0,))
    H = x.hamiltonian(p, np.random.default_rng(0).uniform(-4, 4, 10))
    prop = ChebyshevPropagator(H, tol=1e-12)
    psi = np.random.default_rng(1).normal(size=H.dim) + 1j * np.random.default_rng(2).normal(size=H.dim)
    psi /= np.linalg.norm(psi)
    want = expm(-1j * dt * H.to_csr().toarray()) @ psi
    got = psi.copy()
    prop.evolve(got, dt)
    assert np.linalg.norm(got - want) < 1e-11
    loose = ChebyshevPropagator(H, tol=1e-4)
    assert loose.order(min(dt, 1.0)) < prop.order(min(dt, 1.0))


@pytest.mark.parametrize("x", [0.0, 1e-3, 0.05, 0.9, 3.7, 20.0, 63.2, 200.0])
def test_bessel_sequence_equals_scipy(x):
    """Miller's recurrence for the Chebyshev coefficients against scipy.special.jv, order by order."""
    from scipy.special import jv

    n = int(x + 12.0 * max(x, 1.0) ** (1 / 3) + 60)
    np.testing.assert_allclose(bessel_j_sequence(x, n), jv(np.arange(n + 1), x), atol=1e-14, rtol=1e-11)


def test_gershgorin_interval_contains_the_spectrum():
    H = SparseHamiltonian.from_patterns(*_two_class_example())
    lo, hi = H.gershgorin()
    E = np.linalg.eigvalsh(H.to_csr().toarray())
    assert lo <= E[0] and E[-1] <= hi


def _two_class_example():
    L = 6
    states = sb.sector_states(L, 3)
    chain = sb.exchange_pattern(states, L, sb.chain_bonds(L))
    extra = sb.exchange_pattern(states, L, np.array([[0, 5], [1, 4]]))
    diag = sb.site_spins(states, L) @ np.linspace(-1, 1, L)
    return diag, [chain, extra], [0.5, 1.7]


def test_two_amplitude_classes_give_the_summed_matrix():
    diag, patterns, amps = _two_class_example()
    H = SparseHamiltonian.from_patterns(diag, patterns, amps)
    dense = np.diag(diag)
    for (ip, ix), a in zip(patterns, amps):
        for r in range(diag.size):
            for q in ix[ip[r] : ip[r + 1]]:
                dense[r, q] += a
    np.testing.assert_allclose(H.to_csr().toarray(), dense)
    psi = np.random.default_rng(0).normal(size=diag.size) + 0j
    got = psi.copy()
    ChebyshevPropagator(H).evolve(got, 3.0)
    np.testing.assert_allclose(got, expm(-3j * dense) @ psi, atol=1e-11)


# -- trajectories against exact evolutions ------------------------------------------------------


@pytest.mark.parametrize("L, W, Delta, J", [(4, 1.0, 1.0, 1.0), (6, 3.0, 1.0, 1.0), (8, 5.0, 0.7, 1.3),
                                            pytest.param(10, 2.0, 1.0, 1.0, marks=pytest.mark.slow)])  # fmt: skip  (CI time)
def test_gamma_zero_matches_full_exact_diagonalization(L, W, Delta, J):
    p = x.Params(L=L, W=W, Delta=Delta, J=J, gamma=0.0, times=TIMES)
    d = x.sample(p, np.random.default_rng(L))
    out = x.realize(p, d)
    ref, _ = full_space_evolution(p, d)
    np.testing.assert_allclose(out["Sz0"], ref, atol=1e-10, rtol=0)
    np.testing.assert_allclose(out["Szg"], ref, atol=1e-10, rtol=0)


@pytest.mark.parametrize("L, W, gamma", [(4, 2.0, 1.0), (6, 4.0, 1.0), (8, 1.0, 2.0)])
def test_noisy_trajectory_matches_full_space_protocol(L, W, gamma):
    p = x.Params(L=L, W=W, gamma=gamma, times=TIMES)
    d = x.sample(p, np.random.default_rng(10 + L))
    out = x.realize(p, d)
    ref, kicked = full_space_evolution(p, d)
    np.testing.assert_allclose(out["Szg"], kicked, atol=1e-10, rtol=0)
    assert np.abs(out["Szg"] - out["Sz0"]).max() > 1e-2  # the noise acts: the check has teeth


@pytest.mark.parametrize("L", [4, 8, 12])
def test_delta_zero_equals_the_free_fermion_kernel_on_identical_draws(L):
    p = x.Params(L=L, W=3.0, Delta=0.0, times=(0.05, 1.0, 5.0, 20.0))
    d = x.sample(p, np.random.default_rng(L))
    got = x.realize(p, d)
    want = ff.realize(ff.Params(L=L, W=3.0, times=p.times), d)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], atol=1e-8, rtol=0, err_msg=k)


# -- the jump unraveling -------------------------------------------------------------------------


@pytest.mark.parametrize("L, gamma", [(4, 2.0), (6, 3.0)])
def test_jump_trajectory_matches_full_space_protocol(L, gamma):
    """Long steps between jumps = the full-space protocol of Eq. (4) with kicks of angle pi at the jumps."""
    p = x.Params(L=L, W=2.0, gamma=gamma, times=TIMES, unraveling="jumps")
    d = x.sample(p, np.random.default_rng(30 + L))
    assert d.jumps.size >= 3  # the check has teeth
    out = x.realize(p, d)
    _, kicked = full_space_evolution(x.Params(L=L, W=2.0, gamma=gamma, times=TIMES), x.Draws(d.h, d.kick_angles(p)))
    np.testing.assert_allclose(out["Szg"], kicked, atol=1e-10, rtol=0)


@pytest.mark.parametrize("L", [8, 12])
def test_jump_path_equals_kick_path_with_pi_kicks(L):
    """The long-step path and the step-by-step path agree on the same jumps to t = 100 (2000 steps)."""
    times = (0.5, 3.0, 17.5, 60.0, 100.0)
    p = x.Params(L=L, W=4.0, times=times, unraveling="jumps")
    d = x.sample(p, np.random.default_rng(L))
    assert d.jumps.size > 10
    got = x.realize(p, d)
    want = x.realize(x.Params(L=L, W=4.0, times=times), x.Draws(d.h, d.kick_angles(p)))
    for k in want:
        np.testing.assert_allclose(got[k], want[k], atol=1e-9, rtol=0, err_msg=k)


@pytest.mark.parametrize("L", [4, 10])
def test_jumps_at_delta_zero_equal_the_free_fermion_kernel_on_identical_draws(L):
    p = x.Params(L=L, W=3.0, Delta=0.0, times=(0.05, 1.0, 5.0, 20.0), unraveling="jumps")
    d = x.sample(p, np.random.default_rng(L))
    got = x.realize(p, d)
    want = ff.realize(ff.Params(L=L, W=3.0, times=p.times, unraveling="jumps"), d)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], atol=1e-8, rtol=0, err_msg=k)


def test_jumps_without_noise_leave_the_reference():
    p = x.Params(L=8, W=3.0, gamma=0.0, times=(1.0, 10.0), unraveling="jumps")
    d = x.sample(p, np.random.default_rng(0))
    out = x.realize(p, d)
    assert d.jumps.size == 0
    np.testing.assert_allclose(out["Szg"], out["Sz0"], atol=1e-12)


def test_same_seed_gives_same_draws_as_the_free_fermion_kernel():
    p = x.Params(L=8, W=2.0, times=(1.0, 2.0))
    a = x.sample(p, np.random.default_rng(5))
    b = ff.sample(ff.Params(L=8, W=2.0, times=(1.0, 2.0)), np.random.default_rng(5))
    assert np.array_equal(a.h, b.h) and np.array_equal(a.eta, b.eta)


def test_default_tolerance_results_do_not_change_at_1e_8():
    base = x.Params(L=10, W=2.0, times=(1.0, 10.0, 100.0))
    d = x.sample(base, np.random.default_rng(3))
    tight = x.realize(x.Params(L=10, W=2.0, times=base.times, tol=1e-15), d)
    default = x.realize(base, d)
    for k in default:
        assert np.abs(default[k] - tight[k]).max() < 1e-8, k
    loose = x.realize(x.Params(L=10, W=2.0, times=base.times, tol=1e-6), d)
    assert np.abs(loose["Szg"] - tight["Szg"]).max() > 1e-8  # the tolerance is really used


def test_norm_and_magnetization_are_conserved_at_L16():
    p = x.Params(L=16, W=5.0, times=(0.5, 1.0))
    out = x.realize(p, x.sample(p, np.random.default_rng(0)))
    for k in ("Sz0", "Szg"):
        np.testing.assert_allclose(out[k].sum(axis=1), 0.0, atol=1e-10)
        assert np.all(np.abs(out[k]) <= 0.5 + 1e-12)


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"L": 7}, "L"),
        ({"L": 26}, "L"),
        ({"Delta": float("nan")}, "Delta"),
        ({"tol": 0.0}, "tol"),
        ({"tol": 0.1}, "tol"),
        ({"unraveling": "jump"}, "unraveling"),
    ],
)
def test_bad_parameters(kw, field):
    with pytest.raises(ParameterError) as e:
        x.Params(**kw)
    assert e.value.field == field


# -- exact density-matrix reference ----------------------------------------------------------------


def test_density_matrix_channel_at_delta_zero_equals_free_fermion_channel():
    p = ex.Params(L=8, W=2.0, Delta=0.0, times=(0.5, 2.0, 5.0), lindblad=False)
    h = np.random.default_rng(4).uniform(-2, 2, 8)
    fp = ff.Params(L=8, W=2.0, times=p.times)
    for rate in (0.5, 1.0):
        np.testing.assert_allclose(ex.channel_magnetization(p, h, rate), exact_channel(fp, h, rate), atol=1e-10)


def test_gamma_zero_channel_and_lindblad_equal_unitary_evolution():
    p = ex.Params(L=6, W=3.0, gamma=0.0, times=(0.5, 2.0, 5.0))
    out = ex.realize(p, ex.sample(p, np.random.default_rng(1)))
    np.testing.assert_allclose(out["Szg"], out["Sz0"], atol=1e-12)
    np.testing.assert_allclose(out["Szl"], out["Sz0"], atol=1e-8)


def test_unitary_reference_matches_full_diagonalization():
    p = ex.Params(L=6, W=3.0, Delta=0.6, times=TIMES)
    d = ex.sample(p, np.random.default_rng(2))
    ref, _ = full_space_evolution(x.Params(L=6, W=3.0, Delta=0.6, times=TIMES), x.Draws(d.h, np.zeros(150)))
    np.testing.assert_allclose(ex.unitary_magnetization(p, d.h), ref, atol=1e-10)


def test_trotter_error_of_the_protocol_is_small_and_shrinks_with_tau():
    errs = []
    for tau in (0.1, 0.05, 0.025):
        p = ex.Params(L=6, W=3.0, tau=tau, times=(0.5, 2.0, 5.0))
        errs.append(ex.realize(p, ex.sample(p, np.random.default_rng(0)))["trotter"].max())
    assert errs[1] < 1e-3
    # measured: second order in tau for these observables (ratio ~4 per halving); at least first order
    assert errs[0] / errs[1] > 3.0 and errs[1] / errs[2] > 3.0


def test_lindblad_with_the_papers_rate_is_far_from_the_protocol():
    p = ex.Params(L=6, W=3.0, times=(2.0, 5.0))
    h = ex.sample(p, np.random.default_rng(0)).h
    wrong = ex.lindblad_magnetization(p, h, rate=p.gamma**2)
    assert np.abs(wrong - ex.channel_magnetization(p, h)).max() > 100 * ex.realize(p, ex.Draws(h))["trotter"].max()


def test_exact_kernel_refuses_large_L():
    with pytest.raises(ParameterError, match="<= 10"):
        ex.Params(L=12)


# -- statistics: trajectories against the exact channel ---------------------------------------------


@pytest.fixture(scope="module", params=["kicks", "jumps"])
def fixed_field_average(request):
    """Mean and standard error of n trajectories on fixed fields, with either unraveling."""
    p = x.Params(L=8, W=3.0, times=(0.5, 2.0, 5.0, 10.0), unraveling=request.param)
    h = np.random.default_rng(21).uniform(-p.W, p.W, p.L)
    rng = np.random.default_rng(22)
    n = 300
    samples = np.array([x.realize(p, x.Draws(h, *_noise(p, rng)))["Szg"] for _ in range(n)])
    mean, sem = samples.mean(axis=0), samples.std(axis=0, ddof=1) / math.sqrt(n)
    pe = ex.Params(L=8, W=3.0, times=p.times, lindblad=False)
    return mean, sem, pe, h


def _noise(p, rng):
    """(eta, jumps) of Draws for fixed fields: the noise half of ``sample``."""
    d = x.sample(p, rng)
    return d.eta, d.jumps


def test_trajectory_average_equals_exact_channel(fixed_field_average):
    mean, sem, pe, h = fixed_field_average
    assert max_deviation_in_sigma(mean, sem, ex.channel_magnetization(pe, h)) < 4.0


def test_negative_control_papers_rate_is_rejected(fixed_field_average):
    mean, sem, pe, h = fixed_field_average
    assert max_deviation_in_sigma(mean, sem, ex.channel_magnetization(pe, h, rate=pe.gamma**2)) > 4.0


@pytest.mark.parametrize("L", [4, 8, 10, 12])
def test_closed_form_hopping_range_is_exact(L):
    ip, ix = x.sector(L).hops
    T = SparseHamiltonian.from_patterns(np.zeros(ip.size - 1), [(ip, ix)], [1.0]).to_csr().toarray()
    E = np.linalg.eigvalsh(T)
    lo, hi = x.hopping_range(L)
    assert E[0] == pytest.approx(lo, abs=1e-10) and E[-1] == pytest.approx(hi, abs=1e-10)


@pytest.mark.parametrize("W, J, tighter", [(0.0, 1.0, True), (0.5, 1.0, True), (5.0, 1.0, False), (10.0, 0.4, False)])
def test_spectral_bounds_contain_the_spectrum_and_never_exceed_gershgorin(W, J, tighter):
    p = x.Params(L=10, W=W, J=J, times=(1.0,))
    H = x.hamiltonian(p, x.sample(p, np.random.default_rng(3)).h)
    E = np.linalg.eigvalsh(H.to_csr().toarray())
    lo, hi = H.spectral_bounds()
    glo, ghi = H.gershgorin()
    assert lo <= E[0] and E[-1] <= hi
    assert glo <= lo and hi <= ghi
    # Weyl's bound wins where hopping, not the fields, sets the width (weak disorder)
    assert ((hi - lo) < (ghi - glo) - 1e-9) == tighter


def test_L18_runs_and_conserves_norm_and_magnetization():
    """The cluster sizes are real: the L = 18 sector (48,620 states) builds and evolves here."""
    p = x.Params(L=18, W=5.0, times=(0.1, 0.2))
    assert x.sector(18).dim == 48620
    out = x.realize(p, x.sample(p, np.random.default_rng(0)))
    for k in ("Sz0", "Szg"):
        np.testing.assert_allclose(out[k].sum(axis=1), 0.0, atol=1e-10)
    np.testing.assert_allclose(out["I0"][0], out["Ig"][0], atol=0.05)
