"""Spectral observables do not depend on rounding: tied levels are chosen together, degenerate
eigenspaces are summed over or refused, and histogram edges are shared (kernels/numerics/spectral.py)."""

from __future__ import annotations

import numpy as np
import pytest

from kernels.bubble import xxz_bubble
from kernels.ipr import rmt_bath
from kernels.numerics.spectral import (
    DegenerateSpectrumError,
    eigenspaces,
    histogram,
    nearest_levels,
    require_nondegenerate,
    tie_tolerance,
)


def test_tied_levels_are_chosen_together_whatever_the_rounding():
    E = np.array([-2.0, -0.3, 0.3, 1.1])
    for eps in (-1e-15, 0.0, 1e-15):
        got = nearest_levels(E + np.array([0, eps, 0, 0]), 0.0, 1, tie_tolerance(E))
        assert list(got) == [1, 2]
    # negative control: "the nearest one" by argsort flips with the sign of the rounding
    picks = {int(np.argsort(np.abs(E + np.array([0, eps, 0, 0])))[0]) for eps in (-1e-15, 1e-15)}
    assert picks == {1, 2}


def test_nearest_levels_without_ties_is_the_plain_choice():
    rng = np.random.default_rng(0)
    E = np.sort(rng.normal(size=200))
    for k in (1, 7, 50):
        assert list(nearest_levels(E, 0.1, k, tie_tolerance(E))) == sorted(np.argsort(np.abs(E - 0.1))[:k])
    assert list(nearest_levels(E, 0.0, 500, 1e-9)) == list(range(200))


def test_eigenspaces_and_degeneracy_refusal():
    E = np.array([-1.0, 0.0, 1e-13, 2.0])
    assert list(eigenspaces(E, 1e-9)) == [0, 1, 3]
    require_nondegenerate(np.array([0.0, 1e-6]), 1e-9, "x")
    with pytest.raises(DegenerateSpectrumError, match="basis"):
        require_nondegenerate(E, 1e-9, "the purity")


def test_histogram_equals_numpy_away_from_edges_and_shares_edges():
    rng = np.random.default_rng(1)
    x, w = rng.uniform(-1.2, 1.2, 5000), rng.uniform(size=5000)
    edges = np.linspace(-1, 1, 21)
    np.testing.assert_allclose(histogram(x, edges, w, tol=1e-12), np.histogram(x, edges, weights=w)[0], atol=1e-12)
    for eps in (-1e-14, 0.0, 1e-14):  # on the inner edge 0 and the outer edges, whatever the rounding
        h = histogram(np.array([0.0 + eps, 1.0 + eps, -1.0 + eps]), edges, tol=1e-9)
        assert h[9] == h[10] == 0.5 and h[-1] == 1.0 and h[0] == 1.0 and h.sum() == 3.0
    # negative control: numpy puts a value on an edge in one bin or the other depending on rounding
    a, b = np.histogram([-1e-14], edges)[0], np.histogram([1e-14], edges)[0]
    assert not np.array_equal(a, b)


def _perturbed(original, scale, seed):
    """The Hamiltonian builder ``original`` plus a symmetric random perturbation of size ~scale (rounding-sized)."""

    def h(p, d):
        H = original(p, d)
        dense = not hasattr(H, "toarray")
        M = np.random.default_rng(seed).normal(size=H.shape) * scale
        M = M + M.T
        if dense:
            return H + M
        diag = M.diagonal()
        return H + type(H)((diag, (np.arange(H.shape[0]), np.arange(H.shape[0]))), shape=H.shape)

    return h


def test_rmt_bath_symmetric_spectrum_does_not_depend_on_rounding(monkeypatch):
    """A 1-spin local bath with 3 LIOMs has a spectrum symmetric about Tr H / dim: the two levels nearest
    it tie. Perturbations of rounding size leave every output unchanged; with the tie tolerance set to
    zero (negative control) the same perturbations change the hybridization histogram by far more."""
    p = rmt_bath.Params(bath="local", l_b=1, n_lioms=3, g1=0.5)
    d = rmt_bath.sample(p, np.random.default_rng(7))
    outs = []
    build = rmt_bath.hamiltonian
    for seed in (1, 2, 3, 4):
        monkeypatch.setattr(rmt_bath, "hamiltonian", _perturbed(build, 1e-15, seed))
        outs.append(rmt_bath.realize(p, d))
    for o in outs[1:]:
        for key in o:
            np.testing.assert_allclose(o[key], outs[0][key], atol=1e-9, err_msg=key)
    monkeypatch.setattr("kernels.numerics.spectral.TIE_RTOL", 0.0)
    spread = []
    for seed in (1, 2, 3, 4, 5, 6):
        monkeypatch.setattr(rmt_bath, "hamiltonian", _perturbed(build, 1e-15, seed))
        spread.append(rmt_bath.realize(p, d)["hyb"])
    assert np.ptp(np.array(spread), axis=0).max() > 1e-3


def test_rmt_bath_refuses_a_degenerate_chosen_state():
    p = rmt_bath.Params(bath="none", n_lioms=4, h_width=0.0)  # all h_i = 1: levels sum +-1, highly degenerate
    with pytest.raises(DegenerateSpectrumError, match="degenerate"):
        rmt_bath.realize(p, rmt_bath.sample(p, np.random.default_rng(0)))


@pytest.mark.parametrize("method", ["full", "shift_invert"])
def test_xxz_bubble_xx_chain_at_half_filling_takes_both_mirror_levels(method):
    """At Delta = 0 and n_up = L/2 the chain's spectrum is symmetric about 0 for any fields (sublattice
    rotation times spin flip maps H to -H): with an odd n_eig the last level ties with its mirror and both
    are taken, by either solver."""
    p = xxz_bubble.Params(L=10, n_goe=0, Delta=0.0, W=2.0, n_eig=5, method=method)
    H = xxz_bubble.hamiltonian(p, xxz_bubble.sample(p, np.random.default_rng(3)))
    E, V, centre = xxz_bubble.central_eigenpairs(H, p.n_eig, method)
    assert E.size == 6
    np.testing.assert_allclose(np.sort(E), -np.sort(E)[::-1], atol=1e-9)
    assert abs(centre) < 1e-9


def test_xxz_bubble_full_and_shift_invert_agree_on_a_symmetric_spectrum():
    p = xxz_bubble.Params(L=12, n_goe=0, Delta=0.0, W=3.0, n_eig=7)
    d = xxz_bubble.sample(p, np.random.default_rng(4))
    H = xxz_bubble.hamiltonian(p, d)
    out = [xxz_bubble.observables(p, *xxz_bubble.central_eigenpairs(H, p.n_eig, m)[:2]) for m in ("full", "shift_invert")]
    for key in out[0]:
        np.testing.assert_allclose(out[0][key], out[1][key], atol=1e-8, err_msg=key)


@pytest.mark.parametrize("n", [1, 2, 3, 40, 257])
def test_tridiagonal_eigh_is_scipys_eigh_tridiagonal_bit_for_bit(n):
    from scipy.linalg import eigh_tridiagonal

    from kernels.numerics.spectral import tridiagonal_eigh

    rng = np.random.default_rng(n)
    d, e = rng.uniform(-5, 5, n), rng.uniform(0.1, 1, n - 1)
    w0, v0 = eigh_tridiagonal(d, e)
    w1, v1 = tridiagonal_eigh(d, e)
    assert w0.tobytes() == w1.tobytes() and v0.tobytes() == v1.tobytes()
    np.testing.assert_allclose(v1 @ np.diag(w1) @ v1.T, np.diag(d) + np.diag(e, 1) + np.diag(e, -1), atol=1e-12)
