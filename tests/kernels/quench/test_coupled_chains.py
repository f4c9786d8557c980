"""coupled_chains against brute-force evolution on the full 2^(2l) space (explicit spin matrices,
expm, partial traces and the fidelity of Eq. (A1) with matrix square roots), the J_int = 0 split
into two independent chains, the diagonal ensemble, and conservation laws."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

from kernels.quench import coupled_chains as cc
from kernels._params import ParameterError

SZ = np.array([[-0.5, 0.0], [0.0, 0.5]])  # basis (down, up) = bit (0, 1)
SP = np.array([[0.0, 0.0], [1.0, 0.0]])  # S^+ |down> = |up>


def op(o, i, L):
    """o on site i (1-based) of L; site 1 is the least significant bit of the state index."""
    out = np.eye(1)
    for j in range(L, 0, -1):  # kron order: most significant (site L) first
        out = np.kron(out, o if j == i else np.eye(2))
    return out


def heis(i, j, L, J):
    return J * (op(SZ, i, L) @ op(SZ, j, L) + 0.5 * (op(SP, i, L) @ op(SP, j, L).T + op(SP, i, L).T @ op(SP, j, L)))


def brute_hamiltonian(p: cc.Params, h: np.ndarray) -> np.ndarray:
    L, l = p.L, p.l
    H = sum(h[i - 1] * op(SZ, i, L) for i in range(1, L + 1))
    for a in range(1, l):
        H = H + heis(a, a + 1, L, p.J) + heis(l + a, l + a + 1, L, p.J)
    pairs = [(l, l + 1)] if p.config == "junction" else [(i, i + l) for i in range(1, l + 1)]
    for i, j in pairs:
        H = H + heis(i, j, L, p.J_int)
    return H


def reduced(psi: np.ndarray, l: int, keep: str) -> np.ndarray:
    """Reduced density matrix of the system (sites 1..l, low bits) or the environment."""
    T = psi.reshape(2**l, 2**l)  # index = env * 2^l + sys
    return T.T @ T.conj() if keep == "sys" else T @ T.conj().T


def sqrt_psd(A):
    """Square root of a Hermitian positive semi-definite matrix (rank-deficient ones too)."""
    w, U = np.linalg.eigh(0.5 * (A + A.conj().T))
    return (U * np.sqrt(np.clip(w, 0, None))) @ U.conj().T


def fidelity(rho, sigma) -> float:
    """Eq. (A1): (Tr sqrt(sqrt(rho) sigma sqrt(rho)))^2."""
    r = sqrt_psd(rho)
    return float(np.real(np.trace(sqrt_psd(r @ sigma @ r))) ** 2)


def brute_force(p: cc.Params, h: np.ndarray):
    """<S^z_i(t)>, F_s(t), F_e(t) at p.times from expm on the full space."""
    L, l = p.L, p.l
    H = brute_hamiltonian(p, h)
    bits = cc.initial_bits(p)
    psi0 = np.zeros(2**L, dtype=complex)
    psi0[int(sum(int(b) << i for i, b in enumerate(bits)))] = 1.0
    rho_s0, rho_e0 = reduced(psi0, l, "sys"), reduced(psi0, l, "env")
    sz, F = [], []
    for t in p.times:
        psi = expm(-1j * t * H) @ psi0
        sz.append([np.real(psi.conj() @ op(SZ, i, L) @ psi) for i in range(1, L + 1)])
        F.append([fidelity(reduced(psi, l, "sys"), rho_s0), fidelity(reduced(psi, l, "env"), rho_e0)])
    return np.array(sz), np.array(F)


@pytest.mark.parametrize("config", ["junction", "ladder"])
@pytest.mark.parametrize("initial", ["aligned", "misaligned", "110100"])
@pytest.mark.parametrize("method", ["exact", "krylov"])
def test_equals_brute_force_evolution(config, initial, method):
    p = cc.Params(l=3, config=config, initial=initial, W_s=4.0, W_e=1.5, J_int=1.7, times=(0.3, 2.0, 7.5), method=method)
    d = cc.sample(p, np.random.default_rng(3))
    out = cc.realize(p, d)
    sz, F = brute_force(p, d.h)
    sigma = 2.0 * cc.initial_bits(p) - 1.0
    M_ref = np.stack([2 * sz[:, :3] @ sigma[:3] / 3, 2 * sz[:, 3:] @ sigma[3:] / 3], axis=1)
    np.testing.assert_allclose(out["M"], M_ref, atol=1e-10)
    np.testing.assert_allclose(out["F"], F, atol=1e-10)


PAULI = (2 * SZ, 2 * SP)  # sigma^z and sigma^+ = 2 S^+ (sigma^x sigma^x + sigma^y sigma^y = 2 (s+ s- + s- s+))


def brute_pauli_hamiltonian(p: cc.Params, h: np.ndarray) -> np.ndarray:
    """H = J sum sigma.sigma + sum h sigma^z built from Pauli matrices, independently of the kernel's factors."""
    L, l = p.L, p.l
    sz, sp = PAULI
    H = sum(h[i - 1] * op(sz, i, L) for i in range(1, L + 1))

    def bond(i, j, J):
        return J * (op(sz, i, L) @ op(sz, j, L) + 0.5 * (op(sp, i, L) @ op(sp, j, L).T + op(sp, i, L).T @ op(sp, j, L)))

    for a in range(1, l):
        H = H + bond(a, a + 1, p.J) + bond(l + a, l + a + 1, p.J)
    pairs = [(l, l + 1)] if p.config == "junction" else [(i, i + l) for i in range(1, l + 1)]
    for i, j in pairs:
        H = H + bond(i, j, p.J_int)
    return H


@pytest.mark.parametrize("config", ["junction", "ladder"])
@pytest.mark.parametrize("method", ["exact", "krylov"])
def test_pauli_operators_equal_brute_force(config, method):
    """operators = "pauli": M(t) from the Pauli-matrix Hamiltonian on the full space; differs from "spin"."""
    p = cc.Params(l=3, config=config, W_s=4.0, W_e=1.5, J_int=1.7, times=(0.3, 2.0, 7.5), method=method, operators="pauli")
    d = cc.sample(p, np.random.default_rng(5))
    H = brute_pauli_hamiltonian(p, d.h)
    bits = cc.initial_bits(p)
    psi0 = np.zeros(2**p.L, dtype=complex)
    psi0[int(sum(int(b) << i for i, b in enumerate(bits)))] = 1.0
    sigma = 2.0 * bits - 1.0
    M_ref = []
    for t in p.times:
        psi = expm(-1j * t * H) @ psi0
        sz = np.array([np.real(psi.conj() @ op(PAULI[0], i, p.L) @ psi) for i in range(1, p.L + 1)])
        M_ref.append([sz[:3] @ sigma[:3] / 3, sz[3:] @ sigma[3:] / 3])
    out = cc.realize(p, d)
    np.testing.assert_allclose(out["M"], np.array(M_ref), atol=1e-10)
    spin = cc.realize(cc.Params(**{**p.__dict__, "operators": "spin"}), d)
    assert np.abs(spin["M"] - out["M"]).max() > 1e-2  # the negative control: the conventions differ


def test_initial_states_follow_the_paper():
    p = cc.Params(l=6, initial="aligned", times=(1.0,))
    assert "".join(map(str, cc.initial_bits(p))) == "010101" * 2  # |down up down up ...> twice
    q = cc.Params(l=6, initial="misaligned", times=(1.0,))
    assert "".join(map(str, cc.initial_bits(q))) == "010101" + "101010"
    assert p.dim == 924


def test_zero_coupling_splits_into_two_independent_chains():
    """J_int = 0: each half equals a single chain evolved alone (its own brute force) on the same fields."""
    for config in ("junction", "ladder"):
        p = cc.Params(l=4, config=config, J_int=0.0, W_s=5.0, W_e=2.0, times=(0.5, 3.0, 20.0), method="krylov")
        d = cc.sample(p, np.random.default_rng(7))
        out = cc.realize(p, d)
        for k, part in enumerate(("sys", "env")):
            h = d.h[:4] if part == "sys" else d.h[4:]
            L = 4
            H = sum(h[i - 1] * op(SZ, i, L) for i in range(1, L + 1)) + sum(heis(a, a + 1, L, 1.0) for a in range(1, L))
            psi0 = np.zeros(16, dtype=complex)
            psi0[0b1010] = 1.0  # |down up down up>: sites 2 and 4 up
            sigma = np.array([-1, 1, -1, 1])
            for j, t in enumerate(p.times):
                psi = expm(-1j * t * H) @ psi0
                M = sum(2 * sigma[i - 1] * np.real(psi.conj() @ op(SZ, i, L) @ psi) for i in range(1, 5)) / 4
                assert out["M"][j, k] == pytest.approx(M, abs=1e-10)
                assert out["F"][j, k] == pytest.approx(abs(psi[0b1010]) ** 2, abs=1e-10)  # whole chain: return probability


def test_window_average_approaches_the_diagonal_ensemble():
    errs = []
    for stop, n in ((20.0, 400), (210.0, 8000), (2010.0, 80000)):
        p = cc.Params(l=4, config="ladder", J_int=1.0, W_s=6.0, W_e=2.0, times=(1.0,), diagonal=True,
                      window_start=10.0, window_stop=stop, window_points=n)  # fmt: skip
        out = cc.realize(p, cc.sample(p, np.random.default_rng(11)))
        errs.append(np.max(np.abs(out["Sz_window"] - out["Sz_diag"])))
    assert errs[0] > errs[1] > errs[2] and errs[2] < 2e-3, errs


def test_diagonal_ensemble_handles_degenerate_levels():
    """A 2x2 block with equal energies: P_E psi is the whole vector, not |c_n|^2 per state."""
    E = np.array([1.0, 1.0])
    V = np.array([[1.0, 1.0], [1.0, -1.0]]) / np.sqrt(2)
    c = V[0].copy()  # psi_0 = basis state 0, an eigenvector of the degenerate space
    np.testing.assert_allclose(cc.diagonal_occupation(E, V, c), [1.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(cc.diagonal_occupation(np.array([1.0, 2.0]), V, c), [0.5, 0.5], atol=1e-15)


def test_conservation_along_the_polynomial_evolution():
    p = cc.Params(l=6, config="ladder", J_int=3.0, W_e=1.0, times=(1.0, 10.0, 50.0), method="krylov")
    out = cc.realize(p, cc.sample(p, np.random.default_rng(2)))
    assert out["energy_drift"] < 1e-10
    # S^z_tot = n_up - L/2 = 0 in the window (norm conserved too)
    assert abs(out["Sz_window"].sum()) < 1e-10


def test_exact_and_polynomial_paths_agree_at_l_6():
    kw = dict(l=6, config="junction", J_int=2.0, W_e=3.0, times=(0.5, 5.0, 50.0), window_start=40.0, window_stop=50.0)
    d = cc.sample(cc.Params(**kw), np.random.default_rng(4))
    a = cc.realize(cc.Params(**kw, method="exact"), d)
    b = cc.realize(cc.Params(**kw, method="krylov"), d)
    for k in b:
        np.testing.assert_allclose(a[k], b[k], atol=1e-9, err_msg=k)


def test_strong_disorder_freezes_both_chains():
    p = cc.Params(l=4, W_s=200.0, W_e=200.0, J_int=1.0, times=(10.0,))
    rng = np.random.default_rng(0)
    M = np.array([cc.realize(p, cc.sample(p, rng))["M_window"] for _ in range(20)])
    assert M.mean(axis=0).min() > 0.99
    q = cc.Params(l=4, W_s=0.5, W_e=0.5, J_int=1.0, times=(10.0,))  # negative control: a thermalizing ladder
    M = np.array([cc.realize(q, cc.sample(q, rng))["M_window"] for _ in range(20)])
    assert M.mean(axis=0).max() < 0.6


@pytest.mark.parametrize(
    "kw,field",
    [
        (dict(config="ring"), "config"),
        (dict(initial="0101"), "initial"),
        (dict(window_start=12.0, window_stop=9.6), "window_stop"),
        (dict(l=13), "l"),
        (dict(diagonal=True, method="krylov"), "diagonal"),
        (dict(l=9, diagonal=True), "diagonal"),
        (dict(tol=0.1), "tol"),
        (dict(operators="sigma"), "operators"),
    ],
)
def test_bad_parameters_name_the_field(kw, field):
    with pytest.raises(ParameterError) as e:
        cc.Params(**{"times": (1.0,), **kw})
    assert e.value.field == field
