"""The bath + LIOMs IPR kernel (paper 004) against an independent numpy implementation and known values.

* one realization against a plain numpy version written here (Kronecker products,
  np.linalg.eigh, a Python loop over eigenstates, dense operators), to 1e-10;
* uncoupled LIOMs (g = 0): sigma^x_i maps an eigenstate to one other, so D = 0 exactly;
* random-matrix values: gap ratio 0.5307 (GOE bath) and 0.3863 (uncoupled LIOMs, Poisson),
  and D of a bath operator of a GOE bath equal to that of a random vector, within
  4 standard errors, each with a negative control.
"""

from __future__ import annotations

import math
from functools import reduce

import numpy as np
import pytest

from kernels.ipr import rmt_bath as k
from kernels._params import ParameterError
from tests.helpers import run_cli

X = np.array([[0.0, 1.0], [1.0, 0.0]])
Z = np.diag([1.0, -1.0])


def op(single, site, n_sites):
    """`single` on `site` (1-based) of n_sites spins; site 1 is the least significant bit."""
    return reduce(np.kron, [single if s == site else np.eye(2) for s in range(n_sites, 0, -1)])


def reference_bath(p, d):
    L = p.l_b
    if p.bath == "goe":
        N = 2**L
        return (d.bath + d.bath.T) / 2 * (p.bandwidth / 2) / math.sqrt(2 * N)
    H = sum(d.bath[j - 1] * op(Z, j, L) + p.J * op(X, j, L) for j in range(1, L + 1))
    return H + sum(p.Jp * op(X, j, L) @ op(X, j + 1, L) for j in range(1, L))


def reference_full(p, d, n):
    """H with n LIOMs (the first n of d.h), full space bath x LIOMs, written with Kronecker products."""
    L = p.l_b
    IB, IL = np.eye(2**L), np.eye(2**n)
    g = p.couplings()[:n] if n == p.n_lioms else (p.g1 * p.alpha ** np.arange(n))
    H = np.kron(reference_bath(p, d), IL)
    for i in range(1, n + 1):
        H = H + d.h[i - 1] * np.kron(IB, op(Z, i, n)) + g[i - 1] * np.kron(op(X, L, L), op(X, i, n))
    return H


TIE = 1e-9  # the documented tie tolerance, relative to max(1, max |E|)


def tied_nearest(dist, k, tol):
    """Indices whose distance is at most the k-th smallest distance + tol (ties at the boundary all included)."""
    kth = sorted(dist)[k - 1]
    return [i for i, x in enumerate(dist) if x <= kth + tol]


def bin_share(x, edges, tol):
    """[(bin, share)] of one value: half to each side of an inner edge within tol, end bins for outer edges."""
    nb = len(edges) - 1
    for j, e in enumerate(edges):
        if abs(x - e) <= tol:
            if j == 0:
                return [(0, 1.0)]
            if j == nb:
                return [(nb - 1, 1.0)]
            return [(j - 1, 0.5), (j, 0.5)]
    for j in range(nb):
        if edges[j] <= x < edges[j + 1]:
            return [(j, 1.0)]
    return []


def reference_realization(p, d):
    L, n = p.l_b, p.n_lioms
    H = reference_full(p, d, n)
    E, V = np.linalg.eigh(H)
    tol = TIE * max(1.0, np.max(np.abs(E)))
    target = np.trace(H) / H.shape[0]
    states = tied_nearest(list(np.abs(E - target)), p.n_states, tol)
    ops = {"OB": np.kron(op(X, p.ob_site, L), np.eye(2**n)), "x0": np.kron(op(X, L, L), np.eye(2**n))}
    ops.update({f"x{i}": np.kron(np.eye(2**L), op(X, i, n)) for i in range(1, n + 1)})
    D = []
    for O in ops.values():
        vals = []
        for s in states:
            total, weight = 0.0, 0.0
            for j in range(V.shape[1]):  # the straightforward loop over all eigenstates psi', summed per eigenspace
                if j and E[j] - E[j - 1] > tol:
                    total, weight = total + weight**2, 0.0
                weight += abs(V[:, j] @ O @ V[:, s]) ** 2
            vals.append(math.log(1 / (total + weight**2)))
        D.append(np.mean(vals))
    # G and the hybridization of the probe (LIOM n) against B' = bath + LIOMs 1..n-1
    HB = reference_full(p, d, n - 1)
    Eb, U = np.linalg.eigh(HB)
    hn, gn = d.h[n - 1], p.couplings()[-1]
    tB = np.trace(HB) / HB.shape[0]
    pairs = [(b, s) for s in (1.0, -1.0) for b in range(Eb.size)]
    refs = tied_nearest([abs(Eb[b] + hn * s - tB) for b, s in pairs], 1, tol)
    XB = np.kron(op(X, L, L), np.eye(2 ** (n - 1)))
    Gs, rhos = [], []
    for b, s in (pairs[i] for i in refs):  # several only where levels tie: G and rho are averaged over them
        M = [(U[:, b] @ XB @ U[:, bp]) ** 2 for bp in range(Eb.size) if abs(Eb[bp] - hn * s - Eb[b] - hn * s) <= p.window]
        rho = sum(abs(Eb - Eb[b]) <= p.window) / (2 * p.window)
        Gs.append(gn * rho * math.sqrt(np.mean(M)))
        rhos.append(rho)
    edges = np.linspace(-p.hyb_range, p.hyb_range, p.hyb_bins + 1)
    hist = np.zeros(p.hyb_bins)
    up, down = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    for st in states:
        for bp in range(Eb.size):
            for spin, sp in ((up, 1.0), (down, -1.0)):
                # |b', s'> in the full space: bath x (probe x other LIOMs), probe = most significant LIOM bit
                vec = (U[:, bp].reshape(2**L, 2 ** (n - 1))[:, None, :] * spin[None, :, None]).ravel()
                w = (vec @ V[:, st]) ** 2
                for j, share in bin_share(Eb[bp] + hn * sp - E[st], edges, tol):
                    hist[j] += share * w
    hist /= len(states) * np.diff(edges)
    return np.array(D), np.mean(Gs), np.mean(rhos), hist, len(states), len(refs)


@pytest.mark.parametrize(
    "kw",
    [
        dict(bath="goe", l_b=3, n_lioms=3, n_states=2),
        dict(bath="local", l_b=4, n_lioms=2, g1=0.6, ob_site=2),
        dict(bath="local", l_b=1, n_lioms=3, g1=0.5),
        dict(bath="goe", l_b=4, n_lioms=2, g_probe=0.9, window=0.7, hyb_range=1.5, hyb_bins=30),
    ],
)
def test_one_realization_matches_an_independent_numpy_implementation(kw):
    p = k.Params(**kw)
    d = k.sample(p, np.random.default_rng(sum(map(ord, str(kw)))))
    got = k.realize(p, d)
    D, G, rho, hist, _, _ = reference_realization(p, d)
    np.testing.assert_allclose(got["D"], D, atol=1e-10, rtol=0)
    assert got["G"] == pytest.approx(G, abs=1e-10) and got["rho"] == pytest.approx(rho, abs=1e-10)
    np.testing.assert_allclose(got["hyb"], hist, atol=1e-10, rtol=0)
    assert list(k.schema(p)["D"]["op"]) == ["OB", "x0"] + [f"x{i}" for i in range(1, p.n_lioms + 1)]


@pytest.mark.parametrize("bath", ["goe", "local", "none"])
def test_uncoupled_liom_maps_an_eigenstate_to_one_other(bath):
    p = k.Params(bath=bath, l_b=4, n_lioms=3, g1=0.0)
    out = k.realize(p, k.sample(p, np.random.default_rng(1)))
    labels = list(k.schema(p)["D"]["op"])
    for i in (1, 2, 3):
        assert abs(out["D"][labels.index(f"x{i}")]) < 1e-10


def test_coupled_lioms_are_not_trivially_zero():
    p = k.Params(bath="goe", l_b=4, n_lioms=3, g1=0.5)
    out = k.realize(p, k.sample(p, np.random.default_rng(1)))
    assert out["D"][2] > 0.5  # x1 hybridizes with the bath


def test_hybridization_weights_sum_to_one_within_the_range():
    p = k.Params(bath="goe", l_b=6, n_lioms=1, g_probe=0.3, hyb_range=4.0, hyb_bins=80)
    out = k.realize(p, k.sample(p, np.random.default_rng(2)))
    assert np.sum(out["hyb"]) * (8.0 / 80) == pytest.approx(1.0, abs=1e-3)


# -- random-matrix values, statistically, with negative controls ----------------------------------

R = 60


@pytest.fixture(scope="module")
def goe_bath_alone():
    p = k.Params(bath="goe", l_b=8, n_lioms=0, n_states=4)
    out = [k.realize(p, k.sample(p, np.random.default_rng(100 + s))) for s in range(R)]
    return np.array([o["r"] for o in out]), np.array([o["D"][0] for o in out])


def within(samples, value, nsigma=4.0) -> bool:
    return abs(samples.mean() - value) < nsigma * samples.std(ddof=1) / math.sqrt(samples.size)


def test_gap_ratio_of_the_goe_bath(goe_bath_alone):
    r, _ = goe_bath_alone
    assert within(r, 0.5307) and not within(r, 0.3863)


def test_gap_ratio_of_uncoupled_lioms_is_poisson():
    p = k.Params(bath="none", n_lioms=10)
    r = np.array([k.realize(p, k.sample(p, np.random.default_rng(s)))["r"] for s in range(R)])
    assert within(r, 0.3863) and not within(r, 0.5307)


def random_vector_D(dim: int, samples: int = 20000) -> tuple[float, float]:
    """E[log 1/sum v^4] for uniformly random unit vectors in R^dim (independent Monte Carlo)."""
    v = np.random.default_rng(7).normal(size=(samples, dim))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    x = np.log(1 / np.sum(v**4, axis=1))
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(samples))


def test_bath_operator_of_a_goe_bath_is_a_random_vector(goe_bath_alone):
    _, D = goe_bath_alone
    ref, ref_err = random_vector_D(256)
    assert abs(ref - math.log(256 / 3)) < 0.05  # the random-vector value, log(dim / 3) up to O(1/dim)
    err = math.hypot(D.std(ddof=1) / math.sqrt(D.size), ref_err)
    assert abs(D.mean() - ref) < 4 * err
    assert abs(D.mean() - math.log(256)) > 4 * err  # negative control: a fully delocalized "dim" is rejected


# -- parameters and resources ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw, field",
    [({"bath": "ising"}, "bath"), ({"l_b": 12, "n_lioms": 10}, "n_lioms"), ({"l_b": 3, "ob_site": 5}, "ob_site"),
     ({"bandwidth": 0.0}, "bandwidth"), ({"n_states": 0}, "n_states")],
)  # fmt: skip
def test_bad_parameters(kw, field):
    with pytest.raises(ParameterError) as e:
        k.Params(**kw)
    assert e.value.field == field


def test_memory_estimate_covers_a_measured_realization():
    import tracemalloc

    p = k.Params(bath="goe", l_b=6, n_lioms=4)
    d = k.sample(p, np.random.default_rng(0))
    tracemalloc.start()
    k.realize(p, d)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < k.memory_bytes(p) < 20 * peak + 2**27


def test_cli_refuses_a_spec_too_large_for_the_workers(tmp_path):
    spec = tmp_path / "big.toml"
    spec.write_text('kernel = "rmt_bath"\nseed = 1\nrealizations = 2\n[params]\nl_b = 8\nn_lioms = 10\n')
    res = run_cli("run", spec, "--out", tmp_path / "run", "--executor", "serial")
    assert res.returncode == 2 and "point 0" in res.stderr and "GiB per realization" in res.stderr
    assert not (tmp_path / "run").exists()


def test_goe_bath_by_level_spacing():
    p = k.Params(bath="goe", l_b=9, spacing=0.018, n_lioms=0)
    assert p.bandwidth == pytest.approx(0.018 * 512)
    E = np.linalg.eigvalsh(k.bath_hamiltonian(p, k.sample(p, np.random.default_rng(0)).bath))
    assert (E[-1] - E[0]) / 512 == pytest.approx(0.018, rel=0.03)  # semicircle edges, up to finite-size tails


def test_gap_ratio_density_closed_forms():
    """The surmise's mean is 4 - 2 sqrt(3) (GOE) and Poisson's 2 ln 2 - 1; both densities are normalized."""
    from kernels.numerics.levels import gap_ratio_density

    r = np.linspace(0, 1, 400001)
    for kind, mean in (("GOE", 4 - 2 * math.sqrt(3)), ("Poisson", 2 * math.log(2) - 1)):
        d = gap_ratio_density(r, kind)
        assert np.trapezoid(d, r) == pytest.approx(1.0, abs=1e-9)
        assert np.trapezoid(r * d, r) == pytest.approx(mean, abs=1e-9)


def test_goe_bath_gap_ratio_distribution_follows_the_surmise_not_poisson():
    """P(r) of a 2^8 GOE bath alone (no LIOMs), pooled over 30 samples, per bin within 4.5 errors of the
    GOE surmise (whose 1% offset from large matrices is far below these errors); Poisson is rejected."""
    from kernels.numerics.levels import gap_ratio_density

    p = k.Params(bath="goe", l_b=8, n_lioms=0)
    rng = np.random.default_rng(11)
    h = np.array([k.realize(p, k.sample(p, rng))["r_hist"] for _ in range(30)])
    mean, sem = h.mean(axis=0), h.std(axis=0, ddof=1) / math.sqrt(len(h))
    centres = k.schema(p)["r_hist"]["ratio"]
    width = centres[1] - centres[0]
    # the surmise averaged over each bin, as the histogram is
    fine = np.linspace(0, 1, 40 * 200 + 1)
    bin_avg = lambda kind: gap_ratio_density(0.5 * (fine[1:] + fine[:-1]), kind).reshape(40, 200).mean(axis=1)  # noqa: E731
    z_goe = (mean - bin_avg("GOE")) / sem
    z_poi = (mean - bin_avg("Poisson")) / sem
    assert np.abs(z_goe).max() < 4.5 and abs(mean.sum() * width - 1) < 1e-12
    assert np.abs(z_poi).max() > 6
