"""xxz_bubble: against a brute-force tensor-product construction with partial traces, a closed form
at L = 2, full vs shift-invert, and the random-matrix limits of the gap ratio."""

from __future__ import annotations

import math

from pathlib import Path

import numpy as np
import pytest

from kernels.bubble import xxz_bubble as kb
from kernels.numerics.levels import R_GOE, R_POISSON
from kernels._params import ParameterError
from tests.helpers import HANG_GUARD

SX = np.array([[0.0, 0.5], [0.5, 0.0]])
SZ = np.array([[0.5, 0.0], [0.0, -0.5]])  # basis (up, down)
SP = np.array([[0.0, 1.0], [0.0, 0.0]])


def site_op(op, i, L):
    """op on site i of L (site 0 is the leftmost tensor factor)."""
    out = np.eye(1)
    for j in range(L):
        out = np.kron(out, op if j == i else np.eye(2))
    return out


def brute_force(p: kb.Params, d: kb.Draws):
    """H of Eqs. (1)-(4) on the full 2^L x n_GOE space from explicit spin matrices; the S^z sector's projector."""
    L, n = p.L, max(p.n_goe, 1)
    Sz = [site_op(SZ, i, L) for i in range(L)]
    Sp = [site_op(SP, i, L) for i in range(L)]
    Hc = sum(d.h[i] * Sz[i] for i in range(L))
    for i in range(L - 1):
        Hc = Hc + p.J * (0.5 * (Sp[i] @ Sp[i + 1].T + Sp[i].T @ Sp[i + 1]) + p.Delta * Sz[i] @ Sz[i + 1])
    if p.n_goe:
        R = [p.beta / 2 * (A + A.T) for A in d.A]
        H = np.kron(Hc, np.eye(n)) + np.kron(np.eye(2**L), R[0])
        H += p.g * np.kron(Sz[0] @ Sz[L - 1], R[1])
        H += p.g * (np.kron(Sp[0] @ Sp[L - 1].T, R[2]) + np.kron(Sp[L - 1] @ Sp[0].T, R[2].T))
    else:
        H = Hc
    up = sum(np.diag(Sz[i]) + 0.5 for i in range(L))  # up spins of each basis state of the chain
    keep = np.repeat(np.isclose(up, p.n_up), n)
    return H, keep


def purities_by_partial_trace(psi_full: np.ndarray, L: int, n: int) -> np.ndarray:
    """Tr rho_i^2 of one-site reduced states of a full-space vector (chain sites then bubble)."""
    T = psi_full.reshape([2] * L + [n])
    out = np.empty(L)
    for i in range(L):
        M = np.moveaxis(T, i, 0).reshape(2, -1)
        rho = M @ M.conj().T
        out[i] = np.real(np.trace(rho @ rho))
    return out


@pytest.mark.parametrize("L,n_goe", [(2, 0), (3, 0), (4, 0), (2, 3), (3, 4), (4, 4), (4, 5)])
def test_spectrum_and_purities_equal_brute_force(L, n_goe):
    p = kb.Params(L=L, n_goe=n_goe, W=2.0, Delta=0.7, g=0.8, n_eig=1, method="full")
    d = kb.sample(p, np.random.default_rng(10 * L + n_goe))
    Hb, keep = brute_force(p, d)
    Hs = Hb[np.ix_(keep, keep)]
    Eb, Vb = np.linalg.eigh(Hs)
    H = kb.hamiltonian(p, d).toarray()
    E, V = np.linalg.eigh(H)
    np.testing.assert_allclose(E, Eb, atol=1e-12)
    assert np.allclose(H, H.T)
    # the kernel's purities (Eq. 5 from <S^z_i>) vs Tr rho_i^2 by partial trace of the brute-force states
    n = max(n_goe, 1)
    for s in range(len(Eb)):
        if s and abs(Eb[s] - Eb[s - 1]) < 1e-8 or s + 1 < len(Eb) and abs(Eb[s + 1] - Eb[s]) < 1e-8:
            continue  # degenerate: states are not unique
        full = np.zeros(Hb.shape[0])
        full[keep] = Vb[:, s]
        ref = purities_by_partial_trace(full, L, n)
        got = kb.observables(p, E[s : s + 1], V[:, s : s + 1])["gamma"]
        np.testing.assert_allclose(got, ref, atol=1e-12)


def test_two_sites_closed_form():
    """L = 2, no bubble, S^z = 0: H = [[-D/4 + dh/2, J/2], [J/2, -D/4 - dh/2]], gamma = 1/2 + dh^2 / (2 (dh^2 + J^2))."""
    for h0, h1, J in [(0.3, -1.1, 1.0), (2.0, 2.5, 0.7), (0.0, 0.0, 1.0)]:
        p = kb.Params(L=2, n_goe=0, W=3.0, J=J, n_eig=2, method="full")
        d = kb.Draws(h=np.array([h0, h1]), A=np.zeros((3, 0, 0)))
        E, V, _ = kb.central_eigenpairs(kb.hamiltonian(p, d), 2, "full")
        dh = h0 - h1
        root = math.sqrt(dh * dh + J * J) / 2
        np.testing.assert_allclose(E, [-J / 4 - root, -J / 4 + root], atol=1e-14)
        g = kb.observables(p, E, V)["gamma"]
        np.testing.assert_allclose(g, 0.5 + dh * dh / (2 * (dh * dh + J * J)), atol=1e-14)


@pytest.mark.parametrize("L,n_goe,W", [(10, 4, 3.0), pytest.param(12, 4, 6.0, marks=pytest.mark.slow), (12, 0, 3.0),
                                       (9, 3, 4.0)])  # fmt: skip  (slow: CI time; L = 12 stays with n_goe = 0)
def test_shift_invert_equals_full(L, n_goe, W):
    p = kb.Params(L=L, n_goe=n_goe, W=W)
    d = kb.sample(p, np.random.default_rng(L))
    H = kb.hamiltonian(p, d)
    Ef, Vf, cf = kb.central_eigenpairs(H, 50, "full")
    Es, Vs, cs = kb.central_eigenpairs(H, 50, "shift_invert")
    assert abs(cf - cs) < 1e-9
    np.testing.assert_allclose(Es, Ef, atol=1e-9)
    of, os_ = kb.observables(p, Ef, Vf), kb.observables(p, Es, Vs)
    np.testing.assert_allclose(os_["gamma"], of["gamma"], atol=1e-8)
    np.testing.assert_allclose(os_["gamma_gamma"], of["gamma_gamma"], atol=1e-8)
    assert np.max(np.linalg.norm(H @ Vs - Vs * Es, axis=0)) < 1e-9
    # the k levels are the ones closest to the centre: nothing nearer was skipped
    E_all = np.linalg.eigvalsh(H.toarray())
    assert np.max(np.abs(Es - cs)) <= np.sort(np.abs(E_all - cs))[50] + 1e-12


def test_centre_is_mid_bandwidth():
    p = kb.Params(L=8, n_goe=4, W=4.0)
    d = kb.sample(p, np.random.default_rng(1))
    E_all = np.linalg.eigvalsh(kb.hamiltonian(p, d).toarray())
    _, _, c = kb.central_eigenpairs(kb.hamiltonian(p, d), 10, "shift_invert")
    assert c == pytest.approx(0.5 * (E_all[0] + E_all[-1]), abs=1e-10)


def test_realize_outputs_and_histogram_normalization():
    p = kb.Params(L=9, n_goe=4, W=4.0, hist_bins=20)
    out = kb.realize(p, kb.sample(p, np.random.default_rng(5)))
    sch = kb.schema(p)
    for name, axes in sch.items():
        assert out[name].shape == tuple(len(c) for c in axes.values()), name
    width = 2.0 / p.hist_bins
    np.testing.assert_allclose(out["mag_hist"].sum(axis=1) * width, 1.0, atol=1e-12)
    assert np.all((out["gamma"] >= 0.5) & (out["gamma"] <= 1.0))
    np.testing.assert_allclose(np.diag(out["gamma_gamma"]) >= out["gamma"] ** 2 - 1e-15, True)
    assert out["residual"] < 1e-9
    assert 0 <= out["r"] <= 1


def test_residual_check_fails_loudly(monkeypatch):
    monkeypatch.setattr(kb, "RESIDUAL_TOL", 0.0)
    p = kb.Params(L=6, n_goe=2, beta=0.5, n_eig=4)
    with pytest.raises(RuntimeError, match="residual"):
        kb.realize(p, kb.sample(p, np.random.default_rng(0)))


def test_shift_invert_is_reproducible_whatever_ran_before():
    p = kb.Params(L=10, n_goe=4, W=5.0, method="shift_invert")
    d = kb.sample(p, np.random.default_rng(2))
    a = kb.realize(p, d)
    q = kb.Params(L=8, n_goe=3, W=1.0, method="shift_invert")
    kb.realize(q, kb.sample(q, np.random.default_rng(9)))  # something else in between
    b = kb.realize(p, d)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def _mean_r(L, n_goe, W, reps, seed=0):
    p = kb.Params(L=L, n_goe=n_goe, W=W)
    rng = np.random.default_rng(seed)
    r = np.array([kb.realize(p, kb.sample(p, rng))["r"] for _ in range(reps)])
    return r.mean(), r.std(ddof=1) / math.sqrt(reps)


def test_gap_ratio_random_matrix_limits():
    """With the bubble at W = 1 the centre is GOE; at W = 30 Poisson, with or without the bubble;
    each rejects the other's value."""
    m, s = _mean_r(10, 4, 1.0, 40)
    assert abs(m - R_GOE) < 4 * s + 0.005, (m, s)
    assert abs(m - R_POISSON) > 10 * s  # negative control
    m, s = _mean_r(12, 0, 30.0, 40)
    assert abs(m - R_POISSON) < 4 * s, (m, s)
    assert abs(m - R_GOE) > 10 * s  # negative control
    # with the bubble too: its n_GOE levels per chain configuration repel, but the many
    # configurations superpose to Poisson (0.393 +- 0.007 here)
    m, s = _mean_r(10, 4, 30.0, 60)
    assert abs(m - R_POISSON) < 4 * s, (m, s)
    assert abs(m - R_GOE) > 10 * s


def test_purity_grows_to_one_with_disorder():
    means = []
    for W in (1.0, 4.0, 12.0, 100.0, 400.0):
        p = kb.Params(L=8, n_goe=4, W=W, n_eig=20)
        rng = np.random.default_rng(3)
        means.append(np.mean([kb.realize(p, kb.sample(p, rng))["gamma"].mean() for _ in range(10)]))
    assert all(a < b for a, b in zip(means, means[1:])), means
    assert means[-1] > 0.998 and means[0] < 0.75  # 1 - gamma ~ 1/W^2 up to rare resonances


@pytest.mark.parametrize(
    "kw,field",
    [
        (dict(n_goe=7), "beta"),
        (dict(L=4, n_goe=0, n_eig=10), "n_eig"),
        (dict(method="lanczos"), "method"),
        (dict(L=1), "L"),
        (dict(n_up=13), "n_up"),
        (dict(W=-1.0), "W"),
        (dict(L=40), "L"),
    ],
)
def test_bad_parameters_name_the_field(kw, field):
    with pytest.raises(ParameterError) as e:
        kb.Params(**kw)
    assert e.value.field == field


@pytest.mark.slow  # CI time (11 s); POLFED's memory estimate against a measured realization stays
def test_memory_estimate_covers_a_measured_realization():
    """Peak RSS of a process running one shift-invert realization at dimension 13,728, counted from after its
    imports and its Numba compilation (a fresh install compiles in this process: hundreds of MB of LLVM that a
    worker, warmed before the run, never spends on a realization). Linux resets the peak with clear_refs."""
    import subprocess
    import sys

    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("needs Linux's /proc/self/clear_refs to reset the peak RSS after compilation")
    code = (
        "import numpy as np\n"
        "from kernels.bubble import xxz_bubble as kb\n"
        "w = kb.warmup_params()\n"
        "kb.realize(w, kb.sample(w, np.random.default_rng(0)))\n"
        "p = kb.Params(L=14, n_goe=4, W=5.0)\n"
        "draws = kb.sample(p, np.random.default_rng(0))\n"
        "open('/proc/self/clear_refs', 'w').write('5')\n"
        "kb.realize(p, draws)\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "print(int(hwm.split()[1]) * 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG_GUARD, check=True)
    peak = int(out.stdout.split()[-1])
    est = kb.memory_bytes(kb.Params(L=14, n_goe=4))
    assert peak < est < 4 * peak, (peak, est)


def test_defaults_follow_the_paper():
    assert kb.Params(n_goe=4).beta == 0.6 and kb.Params(n_goe=8).beta == 0.5
    assert kb.Params(L=13).n_up == 7 and kb.Params(L=12).dim == 4 * 924
    assert kb.Params(n_goe=0).g == 0.0 and kb.Params(n_goe=0).dim == 924
    assert kb.Params(L=14).solver() == "shift_invert" and kb.Params(L=6).solver() == "full"


def test_auto_takes_the_cheaper_solver_that_fits_its_memory_budget():
    """SuperLU while its factor fits AUTO_MEMORY (cheaper there), POLFED beyond; never a package-dependent one."""
    for L in (12, 14, 15):
        p = kb.Params(L=L, n_goe=4)
        assert p.solver() == "shift_invert"
        assert kb.memory_bytes(p, "shift_invert") <= kb.AUTO_MEMORY and kb.cost(p, "shift_invert") < kb.cost(p, "polfed")
    for L in (16, 18, 20):
        p = kb.Params(L=L, n_goe=4)
        assert p.solver() == "polfed" and kb.memory_bytes(p, "shift_invert") > kb.AUTO_MEMORY
        assert kb.memory_bytes(p) == kb.memory_bytes(p, "polfed") < (kb.AUTO_MEMORY if L < 20 else 16 * 2**30)
    # the other solvers of a point and their memory, for the pre-scheduling refusal
    opts = kb.memory_options(kb.Params(L=18, n_goe=4))
    assert 'method = "shift_invert"' in opts and 'method = "polfed"' not in opts
    assert opts['method = "shift_invert"'] > 50 * 2**30


def _equals_shift_invert_and_full(p, H, method):
    """Eigenpairs of ``method``: centre, eigenvalues to 1e-9, purities and gap ratio to 1e-8 of SuperLU's and
    of dense LAPACK's on the same H; returns them."""
    Em, Vm, cm = kb.central_eigenpairs(H, 50, method)
    om = kb.observables(p, Em, Vm)
    for ref in ("shift_invert", "full"):
        E, V, c = kb.central_eigenpairs(H, 50, ref)
        o = kb.observables(p, E, V)
        assert abs(c - cm) < 1e-9
        np.testing.assert_allclose(Em, E, atol=1e-9, rtol=0)
        for name in ("gamma", "gamma_gamma", "r"):
            np.testing.assert_allclose(om[name], o[name], atol=1e-8, rtol=0)
    return Em, Vm


@pytest.mark.parametrize("L,n_goe,W", [(10, 4, 3.0), pytest.param(12, 4, 6.0, marks=pytest.mark.slow), (12, 0, 3.0)])
def test_pardiso_equals_shift_invert_and_full(L, n_goe, W):
    """PARDISO's LDL^T path: eigenvalues to 1e-9 and purities to 1e-8 of SuperLU's and of dense LAPACK's."""
    pytest.importorskip("pypardiso", reason="PARDISO (pypardiso, the [pardiso] extra; in [test] on x86-64 only, where Intel MKL exists)")
    p = kb.Params(L=L, n_goe=n_goe, W=W, method="pardiso")
    d = kb.sample(p, np.random.default_rng(L))
    H = kb.hamiltonian(p, d)
    Ep, Vp = _equals_shift_invert_and_full(p, H, "pardiso")
    assert np.max(np.linalg.norm(H @ Vp - Vp * Ep, axis=0)) < 1e-9
    out = kb.realize(p, d)  # the kernel's own path, residual check included
    assert float(out["residual"]) < 1e-9


def test_pardiso_without_its_package_is_refused_naming_the_field(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pypardiso" else real(name, *a))
    with pytest.raises(ParameterError) as e:
        kb.Params(L=10, method="pardiso")
    assert e.value.field == "method" and "pip install pypardiso" in str(e.value)
    assert kb.Params(L=10, method="auto").solver() == "shift_invert"  # auto never depends on what is installed


def test_pardiso_memory_estimate_is_far_below_superlu_at_the_papers_sizes():
    """The pre-scheduling check must see PARDISO's smaller factor: L = 16 + 4 within 2 GiB, L = 18 + 4 within 24 GiB."""
    pytest.importorskip("pypardiso", reason="PARDISO (pypardiso, the [pardiso] extra; in [test] on x86-64 only, where Intel MKL exists)")
    for L, most in ((16, 2 * 2**30), (18, 24 * 2**30)):
        p, s = kb.Params(L=L, n_goe=4, method="pardiso"), kb.Params(L=L, n_goe=4, method="shift_invert")
        assert kb.memory_bytes(p) < most < kb.memory_bytes(s)


@pytest.mark.parametrize("L,n_goe,W", [(10, 4, 3.0), pytest.param(12, 4, 1.0, marks=pytest.mark.slow),
                                        pytest.param(14, 0, 3.0, marks=pytest.mark.slow)])  # fmt: skip  (slow: CI time)
def test_polfed_equals_shift_invert_and_full(L, n_goe, W):
    """POLFED's filtered eigenpairs: eigenvalues to 1e-9 and purities to 1e-8 of SuperLU's and dense LAPACK's."""
    p = kb.Params(L=L, n_goe=n_goe, W=W, method="polfed")
    d = kb.sample(p, np.random.default_rng(L))
    H = kb.hamiltonian(p, d)
    _equals_shift_invert_and_full(p, H, "polfed")
    out = kb.realize(p, d)  # the kernel's own path, residual check included
    assert float(out["residual"]) < 1e-8


def test_polfed_on_too_small_a_sector_is_refused_naming_the_field():
    with pytest.raises(ParameterError) as e:
        kb.Params(L=8, n_goe=4, method="polfed")
    assert e.value.field == "method" and "dimension" in str(e.value)


@pytest.mark.slow  # CI time (< 30 min): a sibling covers the path in CI; -m slow runs it
def test_polfed_memory_estimate_covers_a_measured_realization():
    """The arrays of one POLFED realization at dimension 13,728 (traced: numpy's allocations), against the
    estimate above its fixed 600 MiB for the interpreter and libraries; the estimate's ordering at the
    paper's sizes: far below SuperLU's and PARDISO's factors."""
    import tracemalloc

    warm = kb.Params(L=10, n_goe=4, W=5.0, method="polfed")
    kb.realize(warm, kb.sample(warm, np.random.default_rng(0)))  # compiled code and caches loaded first
    p = kb.Params(L=14, n_goe=4, W=5.0, method="polfed")
    d = kb.sample(p, np.random.default_rng(0))
    tracemalloc.start()
    try:
        kb.realize(p, d)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    arrays = kb.memory_bytes(p) - 600 * 2**20
    assert peak < arrays < 4 * peak, (peak, arrays)
    for L in (16, 18, 20):
        p = kb.Params(L=L, n_goe=4)
        assert kb.memory_bytes(p, "polfed") < kb.memory_bytes(p, "pardiso") < kb.memory_bytes(p, "shift_invert")


def test_a_solver_too_large_for_the_workers_is_refused_offering_the_ones_that_fit(tmp_path):
    from tests.helpers import run_cli

    spec = tmp_path / "big.toml"
    spec.write_text('kernel = "xxz_bubble"\nseed = 1\nrealizations = 2\n[params]\nL = 18\nmethod = "shift_invert"\n')
    res = run_cli("run", spec, "--out", tmp_path / "run", "--executor", "serial")
    assert res.returncode == 2 and "GiB per realization" in res.stderr and 'method = "polfed"' in res.stderr, res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_partials_bind_the_solver_auto_resolved_to_where_it_changed():
    """Fingerprints stay those of earlier runs wherever "auto" still takes SuperLU or dense LAPACK; where it now
    takes POLFED (L >= 16 + 4) they differ, so partials that earlier runs computed there with SuperLU are refused."""
    import hashlib
    import json

    from ensemble.spec.seeding import canonical_params, fingerprint
    from kernels._interface import load

    def earlier(p):  # the fingerprint before solvers were bound (and before the disorder profile existed)
        values = {k: v for k, v in canonical_params(p).items() if k != "profile"}
        text = json.dumps(["xxz_bubble", values], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    for p in (kb.Params(L=14), kb.Params(L=6), kb.Params(L=16, method="shift_invert"), kb.Params(L=16, method="polfed")):
        assert fingerprint(load("kernels.bubble.xxz_bubble"), p) == earlier(p)
    p = kb.Params(L=16)
    assert p.solver() == "polfed" and fingerprint(load("kernels.bubble.xxz_bubble"), p) != earlier(p)
