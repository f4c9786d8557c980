"""POLFED (kernels.numerics.polfed): the filter against dense spectral evaluation and numpy's Chebyshev series, the
density of states against closed forms, and the eigenpairs against dense LAPACK, for targets at and away
from the centre; negative controls: a basis too small, levels tied beyond the converged set."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.polynomial import chebyshev

from kernels.numerics import polfed as kp
from kernels.numerics.spectral import DegenerateSpectrumError


def anderson_2d(n: int, W: float, seed: int) -> sp.csr_matrix:
    """n x n Anderson model (open boundaries), fields uniform in [-W/2, W/2]: a generic sparse symmetric H."""
    rng = np.random.default_rng(seed)
    hop = sp.diags([np.ones(n - 1), np.ones(n - 1)], [-1, 1])
    eye = sp.identity(n)
    return (sp.kron(hop, eye) + sp.kron(eye, hop) + sp.diags(rng.uniform(-W / 2, W / 2, n * n))).tocsr()


def test_filter_block_equals_the_polynomial_of_the_dense_spectrum():
    H = anderson_2d(12, 3.0, 1)
    E, U = np.linalg.eigh(H.toarray())
    a, b = 6.0, 0.1
    coeffs = np.random.default_rng(2).standard_normal(40)
    X = np.random.default_rng(3).standard_normal((H.shape[0], 5))
    ref = U @ (chebyshev.chebval((E - b) / a, coeffs)[:, None] * (U.T @ X))
    np.testing.assert_allclose(kp.filter_block(H, a, b, coeffs, X), ref, atol=1e-10 * np.abs(ref).max())
    # a single order and a single vector are the same operation
    np.testing.assert_allclose(kp.filter_block(H, a, b, coeffs[:1], X[:, :1]), coeffs[0] * X[:, :1])


def test_filter_is_the_truncated_delta_series():
    sigma, K = 0.3, 60
    c = kp.filter_coefficients(sigma, K)
    x = np.linspace(-1, 1, 101)
    np.testing.assert_allclose(kp.filter_value(c, x), chebyshev.chebval(x, c), atol=1e-10)
    # g_K(x) = 1 + 2 sum_n T_n(sigma) T_n(x): its peak is at sigma with value 1 + 2 sum_n T_n(sigma)^2
    t = np.cos(np.arange(1, K + 1) * np.arccos(sigma))
    assert kp.filter_value(c, np.array([sigma]))[0] == pytest.approx(1 + 2 * np.sum(t * t), rel=1e-12)
    # the main lobe: above a threshold out to the returned radius, at or below it just beyond
    thr = 0.5 * kp.filter_value(c, np.array([sigma]))[0]
    r = kp.complete_radius(c, sigma, thr, 1.0)
    assert 0 < r < np.pi / K
    assert np.all(kp.filter_value(c, sigma + np.linspace(-r, r, 41)) > thr)
    assert min(kp.filter_value(c, np.array([sigma - 1.01 * r, sigma + 1.01 * r]))) <= thr


def test_density_of_states_against_closed_forms():
    """Four fixed probes: a stochastic estimate (it only sets the filter order), held to 10%."""
    # equally spaced levels on [-1, 1]: density 1/2; the semicircle of a GOE matrix: (2 / pi) sqrt(1 - x^2)
    n = 4000
    flat = sp.diags(np.linspace(-1, 1, n)).tocsr()
    assert kp.dos_at(flat, 1.0, 0.0, 0.0) == pytest.approx(0.5, rel=0.1)
    assert kp.dos_at(flat, 1.0, 0.0, 0.4) == pytest.approx(0.5, rel=0.1)
    rng = np.random.default_rng(4)
    A = rng.standard_normal((1500, 1500))
    G = (A + A.T) / np.sqrt(2 * 1500) / 2  # semicircle on [-1, 1]
    Gs = sp.csr_matrix(G)
    for x in (0.0, 0.5):
        assert kp.dos_at(Gs, 1.0, 0.0, x) == pytest.approx(2 / np.pi * np.sqrt(1 - x * x), rel=0.1)


@pytest.mark.parametrize("target_frac,k", [(0.5, 30), (0.3, 20), (0.5, 1)])
def test_eigenpairs_nearest_a_target_equal_dense_lapack(target_frac, k):
    H = anderson_2d(30, 8.0, 5)  # dim 900
    E_all, U = np.linalg.eigh(H.toarray())
    lo, hi = E_all[0], E_all[-1]
    target = lo + target_frac * (hi - lo)
    r = kp.polfed(H, k, target, (lo, hi))
    assert r.E.size >= k + kp.BLOCK // 2 and np.all(np.diff(r.E) > 0)
    assert np.max(r.residuals) <= 1e-10 * (hi - lo)
    # every level within the reported radius is found, and each found level is an eigenvalue of H
    inside = E_all[np.abs(E_all - target) < r.radius]
    assert inside.size >= k
    for e in inside:
        assert np.min(np.abs(r.E - e)) < 1e-10
    for e in r.E:
        assert np.min(np.abs(E_all - e)) < 1e-10
    # eigenvectors: overlaps with LAPACK's of one (the spectrum is non-degenerate)
    near = np.argsort(np.abs(E_all - target))[:k]
    for i in near:
        j = np.argmin(np.abs(r.E - E_all[i]))
        assert abs(U[:, i] @ r.V[:, j]) == pytest.approx(1.0, abs=1e-9)


def test_same_bits_on_every_call():
    H = anderson_2d(25, 8.0, 6)
    E = np.linalg.eigvalsh(H.toarray())
    one = kp.polfed(H, 10, 0.0, (E[0], E[-1]))
    kp.polfed(anderson_2d(24, 3.0, 7), 5, 0.5, (-6.0, 6.0))  # something else in between
    two = kp.polfed(H, 10, 0.0, (E[0], E[-1]))
    np.testing.assert_array_equal(one.E, two.E)
    np.testing.assert_array_equal(one.V, two.V)


def test_a_basis_too_small_fails_loudly():
    H = anderson_2d(30, 8.0, 5)
    E = np.linalg.eigvalsh(H.toarray())
    with pytest.raises(RuntimeError, match="not converged"):
        kp.polfed(H, 30, 0.0, (E[0], E[-1]), max_basis=2 * kp.BLOCK + 16)


def test_too_small_a_dimension_is_refused():
    with pytest.raises(ValueError, match="dimension"):
        kp.polfed(anderson_2d(8, 1.0, 0), 10, 0.0, (-6.0, 6.0))


def _spectrum_matrix(E: np.ndarray, seed: int) -> sp.csr_matrix:
    Q = np.linalg.qr(np.random.default_rng(seed).standard_normal((E.size, E.size)))[0]
    return sp.csr_matrix((Q * E) @ Q.T)


def _continuum(seed: int) -> np.ndarray:
    """800 levels uniform in [-9, 9] and two at +-9.5 (centre exactly 0)."""
    E = np.random.default_rng(seed).uniform(-9, 9, 800)
    return np.concatenate([E, [-9.5, 9.5]])


@pytest.mark.slow  # CI time (< 30 min): siblings cover the path in CI; -m slow runs it
def test_tied_levels_near_the_centre_are_refused_and_untied_ones_equal_lapack():
    from kernels.bubble.xxz_bubble import _polfed, central_eigenpairs

    E = np.concatenate([np.full(12, 0.05), _continuum(8)])  # 12 levels tied at one distance among the 10 nearest
    with pytest.raises(DegenerateSpectrumError):
        central_eigenpairs(_spectrum_matrix(E, 9), 10, "polfed")
    E[:12] = np.linspace(-3, 3, 12)  # the same without the ties
    got, _, centre = _polfed(_spectrum_matrix(E, 9), 10)
    assert centre == pytest.approx(0.0, abs=1e-10)
    np.testing.assert_allclose(got, np.sort(E[np.argsort(np.abs(E))[:10]]), atol=1e-9)


def test_levels_beyond_the_complete_radius_are_refused(monkeypatch):
    """Negative control of the completeness check: a radius that does not reach the k-th level must fail."""
    from kernels.bubble import xxz_bubble as kb

    H = _spectrum_matrix(_continuum(8), 9)
    real = kp.polfed
    monkeypatch.setattr(kb, "polfed", lambda *a, **kw: dataclasses.replace(real(*a, **kw), radius=0.05))
    with pytest.raises(DegenerateSpectrumError, match="complete"):
        kb._polfed(H, 10)


def test_a_basis_grown_beyond_its_first_allocation_gives_the_same_bits(monkeypatch):
    H = anderson_2d(30, 8.0, 5)
    E = np.linalg.eigvalsh(H.toarray())
    one = kp.polfed(H, 20, 0.0, (E[0], E[-1]))
    monkeypatch.setattr(kp, "EXPECTED_BASIS", 1)  # allocated for 28 vectors: doubled several times
    two = kp.polfed(H, 20, 0.0, (E[0], E[-1]))
    assert two.basis == one.basis > 2 * (20 + kp.BLOCK // 2)
    np.testing.assert_array_equal(one.E, two.E)
    np.testing.assert_array_equal(one.V, two.V)


@pytest.mark.parametrize("threads", [2, 3])
def test_the_filter_on_several_threads_gives_the_same_bits(threads):
    H = anderson_2d(64, 8.0, 11)  # dim 4096: row ranges of ~1365 and more
    X = np.random.default_rng(12).standard_normal((H.shape[0], 16))
    c = kp.filter_coefficients(0.1, 50)
    one = kp.filter_block(H, 7.0, 0.0, c, X, threads=1)
    many = kp.filter_block(H, 7.0, 0.0, c, X, threads=threads)
    np.testing.assert_array_equal(one, many)
    step = kp._Stepper(kp._csr(H), 1.0, 0.0, threads)
    assert len(step.ranges) == threads and step.ranges[0][0] == 0 and step.ranges[-1][1] == H.shape[0]
    step.close()


def test_the_filter_uses_the_blas_threads_of_the_task():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        assert kp.blas_threads() == 1
    with threadpool_limits(2):
        assert kp.blas_threads() == 2
