"""boson_impurity (exact kernel of paper 001) against independent references: a brute-force
two-species Hamiltonian from local operators, free fermions at U = 0 (Jordan-Wigner: hard-core
boson densities and density correlations are the fermions'), Bessel functions for a clean
c-boson, and Schmidt decompositions of the full tensor."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm
from scipy.special import jv

from kernels.impurity import boson_impurity as bi
from kernels._params import ParameterError

A = np.array([[0.0, 1.0], [0.0, 0.0]])  # hard-core annihilator, basis (empty, occupied)
N = np.array([[0.0, 0.0], [0.0, 1.0]])
I2 = np.eye(2)


def local(op_d, op_c, i, L):
    """Operator on site i; the local space is (n_d) x (n_c), sites in order 0..L-1."""
    out = np.eye(1)
    for j in range(L):
        out = np.kron(out, np.kron(op_d, op_c) if j == i else np.eye(4))
    return out


def brute_force(p: bi.Params, eps):
    L = p.L
    H = np.zeros((4**L, 4**L))
    for i in range(L - 1):
        H += p.t_d * (local(A.T, I2, i, L) @ local(A, I2, i + 1, L))
        H += p.t_c * (local(I2, A.T, i, L) @ local(I2, A, i + 1, L))
    H = H + H.T
    for i in range(L):
        H += eps[i] * local(N, I2, i, L) + p.U * local(N, N, i, L)
    return H


def full_index(p: bi.Params):
    """Position of each sector basis state (d configuration a, c site) in the 4^L tensor product."""
    states = bi._structure(p.L, p.n_d)[0]
    idx = []
    for s in states:
        for c in range(p.L):
            k = 0
            for i in range(p.L):
                k = 4 * k + 2 * ((int(s) >> i) & 1) + (1 if i == c else 0)
            idx.append(k)
    return np.array(idx)


@pytest.mark.parametrize("L,bits", [(3, "100"), (4, "1001"), (4, "0110")])
def test_hamiltonian_equals_brute_force(L, bits):
    p = bi.Params(L=L, d_bits=bits, U=2.3, t_d=0.7, t_c=1.3, times=(1.0,))
    eps = bi.sample(p, np.random.default_rng(L)).eps
    Hb = brute_force(p, eps)
    idx = full_index(p)
    np.testing.assert_allclose(bi.hamiltonian(p, eps).to_csr().toarray(), Hb[np.ix_(idx, idx)], atol=1e-14)
    # and the sector is closed under Hb: no weight leaks out of it
    rest = np.setdiff1d(np.arange(4**L), idx)
    assert np.abs(Hb[np.ix_(rest, idx)]).max() == 0


def test_no_interaction_is_free_particles():
    """U = 0: d-bosons are free fermions (densities and connected density correlations), the c-boson a free particle."""
    p = bi.Params(L=12, U=0.0, W=3.0, times=(0.5, 2.0, 7.0), entropy=False)
    d = bi.sample(p, np.random.default_rng(1))
    out = bi.realize(p, d)
    L = p.L
    hop = np.diag(np.ones(L - 1), 1) + np.diag(np.ones(L - 1), -1)
    h_d, h_c = p.t_d * hop + np.diag(d.eps), p.t_c * hop
    C0 = np.diag([float(b) for b in p.d_bits])
    for j, t in enumerate(p.times):
        Ud = expm(-1j * t * h_d)
        C = Ud @ C0 @ Ud.conj().T  # <f_i^dag f_j>
        np.testing.assert_allclose(out["n_d"][j], np.real(np.diag(C)), atol=1e-10)
        conn = -np.abs(C) ** 2
        np.fill_diagonal(conn, np.real(np.diag(C)) * (1 - np.real(np.diag(C))))
        np.testing.assert_allclose(out["nd_nd"][j], conn, atol=1e-10)
        uc = expm(-1j * t * h_c)[:, p.c_site]
        np.testing.assert_allclose(out["n_c"][j], np.abs(uc) ** 2, atol=1e-10)


def test_clean_c_boson_spreads_as_bessel_functions():
    """W = 0, U = 0, no d-bosons, long chain: n_c,i(t) = J_{i - i0}(2 t_c t)^2 away from the edges."""
    p = bi.Params(L=81, d_bits="0" * 81, W=0.0, U=0.0, times=(1.0, 4.0), entropy=False)
    out = bi.realize(p, bi.sample(p, np.random.default_rng(0)))
    n = np.arange(81) - p.c_site
    for j, t in enumerate(p.times):
        np.testing.assert_allclose(out["n_c"][j], jv(n, 2 * t) ** 2, atol=1e-10)


def test_particle_numbers_are_conserved():
    p = bi.Params(L=12, U=12.0, times=(1.0, 20.0, 100.0), entropy=False)
    out = bi.realize(p, bi.sample(p, np.random.default_rng(5)))
    np.testing.assert_allclose(out["particles"], [[4.0, 1.0]] * 3, atol=1e-12)


def test_entropy_blocks_equal_the_full_schmidt_decomposition():
    p = bi.Params(L=6, d_bits="100100", times=(1.0,))
    rng = np.random.default_rng(3)
    psi = rng.normal(size=p.dim) + 1j * rng.normal(size=p.dim)
    psi /= np.linalg.norm(psi)
    full = np.zeros(4**p.L, dtype=complex)
    full[full_index(p)] = psi
    ours = bi.entanglement_entropies(p, psi)
    for cut in range(1, p.L):
        s2 = np.linalg.svd(full.reshape(4**cut, -1), compute_uv=False) ** 2
        s2 = s2[s2 > 1e-300]
        assert ours[cut - 1] == pytest.approx(-np.sum(s2 * np.log(s2)), abs=1e-10)
    psi0 = np.zeros(p.dim, dtype=complex)
    psi0[bi.initial_index(p)] = 1.0
    np.testing.assert_allclose(bi.entanglement_entropies(p, psi0), 0.0, atol=1e-14)  # a product state


def test_entropy_grows_from_zero_and_is_bounded():
    p = bi.Params(L=9, U=12.0, times=(0.05, 5.0, 50.0))
    S = bi.realize(p, bi.sample(p, np.random.default_rng(8)))["S"]
    assert S[0].max() < 0.05 and S[-1].max() > 0.1
    assert S.max() <= np.log(4.0) * 4 + 1e-9  # at most ln(dim of the smaller side)


@pytest.mark.parametrize(
    "kw,field",
    [(dict(d_bits="101"), "d_bits"), (dict(c_site=12), "c_site"), (dict(W=-1.0), "W"), (dict(tol=1.0), "tol"), (dict(L=1), "L"),
     (dict(c_start="centre"), "c_start"), (dict(L=6, d_bits="000000", c_start="occupied"), "c_start")],
)
def test_bad_parameters_name_the_field(kw, field):
    with pytest.raises(ParameterError) as e:
        bi.Params(**{"times": (1.0,), **kw})
    assert e.value.field == field


def test_defaults_follow_the_paper():
    p = bi.Params(L=15, times=(1.0,))
    assert p.d_bits == "100100100100100" and p.n_d == 5 and p.c_site == 7 and p.dim == 45045


@pytest.mark.parametrize("L", [6, 9, 12, 15, 30, 48, 60])
def test_start_site_has_the_same_kind_at_every_L(L):
    """c_start fixes whether the c-boson starts on a d-boson; the paper's i = L/2 (sites 1..L, d-bosons
    on 1, 4, 7, ...) is an empty site at its sizes 30, 48, 60, and that is the default."""
    bits = "".join("1" if i % 3 == 0 else "0" for i in range(L))
    empty = bi.start_site(bits, "empty")
    occupied = bi.start_site(bits, "occupied")
    assert bits[empty] == "0" and bits[occupied] == "1"
    centre = (L - 1) // 2
    assert abs(empty - centre) <= 1 and abs(occupied - centre) <= 1
    if L in (30, 48, 60):
        assert empty == L // 2 - 1  # the paper's i = L/2, counted from 1
    if L <= 15:
        assert bi.Params(L=L, W=1.0, times=(1.0,)).c_site == empty
        assert bi.Params(L=L, W=1.0, c_start="occupied", times=(1.0,)).c_site == occupied
        assert bi.Params(L=L, W=1.0, c_start="occupied", c_site=0, times=(1.0,)).c_site == 0  # c_site overrides


def test_runs_through_the_engine_to_tables():
    from ensemble import MemoryStore, parse_spec, execute

    spec = 'kernel = "boson_impurity"\nseed = 2\nrealizations = 6\nbatch_size = 3\n[params]\nL = 9\n[sweep]\nU = [2.5, 12.0]\n[times]\nstart = 0.5\nstop = 20.0\nnum = 5\n'
    s = execute(parse_spec(spec), MemoryStore()).tables["summary"]
    assert {"t", "site", "site2", "cut", "species"} <= set(s.columns)
    parts = s[s.observable == "particles"]
    np.testing.assert_allclose(parts[parts.species == "c"]["mean"], 1.0, atol=1e-12)
    nc = s[(s.observable == "n_c") & (s.U == 12.0) & (s.t == 20.0)]
    assert nc["sem"].gt(0).any() and nc["mean"].sum() == pytest.approx(1.0, abs=1e-12)
