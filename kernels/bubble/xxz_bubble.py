r"""XXZ chain closed into a ring through an ergodic GOE bubble: mid-spectrum eigenstates (paper 002).

.. math::

    H = H_{XXZ} \otimes 1 + 1 \otimes R_0
        + g\,[S^z_0 S^z_{L-1} \otimes R_1 + (S^+_0 S^-_{L-1} \otimes R_2 + h.c.)]

(Eqs. 1-4): the random-field XXZ chain of Eq. (2) (spin-1/2 operators S = sigma/2; open, sites 0..L-1, J = 1,
fields uniform in [-W, W], anisotropy Delta), a bubble of dimension ``n_goe``
with R_l = (beta / 2)(A + A^T), A_ij ~ N(0, 1) (Eq. 4), coupled to both chain
ends so that the chain closes into a ring. The coupling conserves the chain's
S^z, so one sector is enough: ``n_up`` up spins (default ceil(L / 2), the
largest sector), dimension n_goe C(L, n_up). Index = chain rank * n_goe + bubble
state. ``n_goe = 0`` is the isolated open chain (the paper's bubble-less
reference, run at L + 2 sites).

One realization: the ``n_eig`` eigenpairs closest to the spectral centre
(E_min + E_max) / 2 of that sample, by dense LAPACK diagonalization up to
``full_max_dim`` and above it by shift-invert Lanczos (ARPACK on a sparse LU
of H - centre, in a METIS nested-dissection order; SuperLU, or PARDISO's
LDL^T) or by POLFED (a Chebyshev filter peaked at the centre inside a block
Lanczos, :mod:`kernels.numerics.polfed`: no factorization, memory ~ dim x a few
hundred vectors); every residual ||H psi - E psi|| is checked. Outputs, averaged over the eigenstates:

* ``r``: gap ratio r_n = min(d_n, d_n+1) / max(d_n, d_n+1) of consecutive levels;
* ``gamma`` (site): one-site purity gamma_i = 2 <S^z_i>^2 + 1/2 (Eq. 5);
* ``gamma_gamma`` (site, site2): gamma_i gamma_j, the cross moments behind the
  purity correlation C(r) of Eq. (7) (its diagonal gives the variance);
* ``mag_hist`` (dist, m): density of m = 2 <S^z_i> in [-1, 1] (the paper's
  +-1 convention, Fig. 7) over the sites at distance ``dist`` = min(i, L-1-i)
  from the bubble;
* ``residual``: the largest ||H psi - E psi|| of the realization.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from scipy.linalg import eigh, eigvalsh
from scipy.sparse.linalg import LinearOperator, eigsh, splu

from kernels._profile import canonical_profile, draw_fields
from kernels._params import ParameterError, check_choice, check_int, check_nonnegative, check_real
from kernels.numerics.levels import gap_ratios
from kernels.numerics.polfed import BLOCK as POLFED_DEFAULT_BLOCK
from kernels.numerics.polfed import min_dim as polfed_min_dim
from kernels.numerics.polfed import polfed
from kernels.numerics.spectral import DegenerateSpectrumError, histogram, nearest_levels, require_nondegenerate, tie_tolerance
from kernels.numerics.spin_basis import chain_bonds, exchange_pattern, ising_diagonal, sector_states, site_spins

__all__ = [
    "SUMMARY",
    "ANALYSIS",
    "BETA_PAPER",
    "DEFAULT_TIMES",
    "MAX_SPECTRUM_FRACTION",
    "METHODS",
    "NAME",
    "Draws",
    "Params",
    "central_eigenpairs",
    "cost",
    "gap_ratios",
    "hamiltonian",
    "memory_bytes",
    "memory_options",
    "observables",
    "realize",
    "resolution",
    "sample",
    "schema",
    "warmup_params",
]

NAME = "xxz_bubble"
SUMMARY = "XXZ ring closed through a GOE bubble: central eigenstates, gap ratio, purities, C(r); paper 002"
#: Outputs that are histograms made within a realization: output -> its bin axis (the engine adds quantiles).
HISTOGRAMS = {"mag_hist": "m", "r_hist": "ratio"}
#: Default ranges of the per-realization distributions a spec may ask for ([distributions]).
DISTRIBUTIONS = {"r": (0.0, 1.0), "gamma": (0.5, 1.0)}
#: What each output is (averages over the chosen central eigenstates).
OBSERVABLES = {
    "r": "mean gap ratio of consecutive chosen levels (GOE 0.5307, Poisson 0.3863)",
    "r_hist": "density P(r) of the gap ratios of consecutive chosen levels on [0, 1]",
    "gamma": "one-site purity gamma_i = 2 <S^z_i>^2 + 1/2 (Eq. 5)",
    "gamma_gamma": "gamma_i gamma_j, the cross moments behind the purity correlation C(r) of Eq. (7)",
    "mag_hist": "density of m = 2 <S^z_i> over the sites at distance dist from the bubble (Fig. 7)",
    "residual": "largest eigenpair residual ||H psi - E psi|| of the realization",
}
DEFAULT_TIMES = None  # eigenstates: no sample times
ANALYSIS = "bubble"
METHODS = ("auto", "full", "shift_invert", "pardiso", "polfed")
#: Memory per realization "auto" keeps within when it chooses between SuperLU and POLFED (a usual per-core share)
AUTO_MEMORY = 4 * 2**30
#: beta of Eq. (4) per n_GOE, chosen in the paper (SM Sec. VI A, Fig. 6) for maximal chain-bubble mixing
BETA_PAPER = {3: 0.55, 4: 0.6, 5: 0.58, 6: 0.55, 8: 0.5}
#: Dense diagonalization up to this dimension (benchmarks/bench_bubble.py: dense wins at dim 280, shift-invert from 1008)
FULL_MAX_DIM = 500
#: A residual ||H psi - E psi|| above this (in units of J) fails the realization
RESIDUAL_TOL = 1e-8
MAX_DIM = 5_000_000
#: POLFED's block size, and its measured cost: filtered products of H per sector dimension (15.2, 16.2, 16.6,
#: 16.4 at L = 12, 14, 16, 17 + 4) and CPU ns per non-zero per vector (0.33-0.43), benchmarks/bench_polfed.py
POLFED_BLOCK = POLFED_DEFAULT_BLOCK
POLFED_MATVECS = 17.0
POLFED_NS_PER_NZ = 0.43
#: Eigenpairs shift-invert computes beyond n_eig, so that levels tied with the n_eig-th are found too
SPARE = 2


@dataclass(frozen=True)
class Params:
    """Parameters of one chain + bubble sample (defaults: the paper's Sec. II).

    Parameters
    ----------
    L : int
        Chain sites (>= 2).
    W : float
        Fields h_i uniform in [-W, W].
    Delta : float
        Anisotropy of Eq. (2) (paper: 1).
    J : float
        Exchange of Eq. (2) (the energy unit).
    n_goe : int
        Bubble dimension; 0 for the isolated open chain.
    beta : float
        Scale of R_l (Eq. 4); 0 (default) takes the paper's value for n_goe in 3, 4, 5, 6, 8.
    g : float
        Chain-bubble coupling.
    n_up : int
        Up spins of the chain sector; -1 (default) for ceil(L / 2).
    n_eig : int
        Eigenpairs closest to the spectral centre, >= 1 (the paper: 50-100); the gap ratio needs >= 3.
    method : str
        "auto", "full" (dense LAPACK), "shift_invert" (SuperLU), "pardiso" (shift-invert on Intel
        PARDISO: at L = 16 + 4, 3.6x faster and 3.7x less memory than SuperLU, benchmarks/bench_pardiso.py;
        needs ``pip install pypardiso``, x86-64) or "polfed" (polynomial filter + block Lanczos,
        :mod:`kernels.numerics.polfed`: memory ~ dim x k, no factorization; benchmarks/bench_polfed.py). "auto":
        dense up to ``full_max_dim``, else the cheaper (by :func:`cost`) of "shift_invert" and "polfed"
        among those whose :func:`memory_bytes` fits ``AUTO_MEMORY`` (4 GiB), else "polfed". "auto" never
        picks PARDISO: the path a point takes (and so the last bits of its results) follows from the
        spec, not from what is installed.
    full_max_dim : int
        Crossover dimension of "auto".
    hist_bins : int
        Bins of the m = 2 <S^z_i> histogram on [-1, 1] and of the gap-ratio histogram on [0, 1], >= 2.
    profile : str
        Disorder profile of the chain: per-site widths replacing W on the sites it names (sites 0..L-1, as
        the site axis), e.g. "4..7=0.5" (a weak-disorder grain), "clean 6", "[8, 0.5, W, ...]"; ""
        (default) is W everywhere.
    """

    #: Added after runs existed: left out of seeding keys and fingerprints at the uniform profile.
    SEED_OMIT_AT = {"profile": ""}
    FINGERPRINT_OMIT_AT = {"profile": ""}
    #: points that differ only in their profile draw the same realizations (the same fields where it names nothing)
    PAIRED = ("profile",)

    L: int = 12
    W: float = 5.0
    Delta: float = 1.0
    J: float = 1.0
    n_goe: int = 4
    beta: float = 0.0
    g: float = 1.0
    n_up: int = -1
    n_eig: int = 50
    method: str = "auto"
    full_max_dim: int = FULL_MAX_DIM
    hist_bins: int = 40
    profile: str = ""

    def __post_init__(self):
        L = check_int("L", self.L, 2)
        object.__setattr__(self, "L", L)
        object.__setattr__(self, "profile", canonical_profile(self.profile, L, first=0))
        object.__setattr__(self, "W", check_nonnegative("W", self.W))
        object.__setattr__(self, "Delta", check_real("Delta", self.Delta))
        object.__setattr__(self, "J", check_real("J", self.J))
        n = check_int("n_goe", self.n_goe, 0)
        object.__setattr__(self, "n_goe", n)
        beta = check_nonnegative("beta", self.beta)
        if n and beta == 0:
            if n not in BETA_PAPER:
                known = ", ".join(f"{k}: {v}" for k, v in BETA_PAPER.items())
                raise ParameterError("beta", self.beta, f"a value > 0 for n_goe = {n} (the paper's, n_goe: beta, are {known})")
            beta = BETA_PAPER[n]
        object.__setattr__(self, "beta", beta if n else 0.0)
        object.__setattr__(self, "g", check_real("g", self.g) if n else 0.0)
        if self.n_up == -1:
            object.__setattr__(self, "n_up", (L + 1) // 2)
        else:
            up = check_int("n_up", self.n_up, 0)
            if up > L:
                raise ParameterError("n_up", self.n_up, f"0..{L} (up spins of the chain), or -1 for ceil(L/2)")
            object.__setattr__(self, "n_up", up)
        if self.dim > MAX_DIM:
            raise ParameterError("L", L, f"a sector of dimension <= {MAX_DIM:,} (n_goe C(L, n_up) = {self.dim:,})")
        k = check_int("n_eig", self.n_eig, 1)
        if k > self.dim:
            raise ParameterError("n_eig", k, f"1..{self.dim} (the sector dimension)")
        object.__setattr__(self, "n_eig", k)
        check_choice("method", self.method, METHODS)
        if self.method == "polfed" and self.dim < polfed_min_dim(k):
            raise ParameterError("method", "polfed", f"a sector of dimension >= {polfed_min_dim(k)} for n_eig = {k} "
                                 f"(this one: {self.dim}); \"full\" or \"shift_invert\" at this size")  # fmt: skip
        if self.method == "pardiso" and importlib.util.find_spec("pypardiso") is None:
            raise ParameterError("method", "pardiso", "a method whose package is installed: \"pardiso\" needs pypardiso "
                                 "(pip install pypardiso; Intel MKL, x86-64), else \"shift_invert\" (SuperLU)")  # fmt: skip
        object.__setattr__(self, "full_max_dim", check_int("full_max_dim", self.full_max_dim, 1))
        object.__setattr__(self, "hist_bins", check_int("hist_bins", self.hist_bins, 2))

    @property
    def dim(self) -> int:
        return max(self.n_goe, 1) * math.comb(self.L, self.n_up)

    def distances(self) -> np.ndarray:
        """Each chain site's distance from the bubble (:func:`distances`): what the analysis averages over."""
        return distances(self.L)

    @staticmethod
    def paper_beta() -> dict[int, float]:
        """The paper's GOE scale beta per bubble size n_goe (Table I; ``beta = "paper"``)."""
        return dict(BETA_PAPER)

    def fingerprint_extra(self) -> dict:
        """What partials must also agree on: the solver "auto" resolved to, where that changed (POLFED, added
        after runs existed; earlier runs' "auto" took SuperLU there, whose partials are then refused, not mixed)."""
        return {"solver": "polfed"} if self.method == "auto" and self.solver() == "polfed" else {}

    def solver(self) -> str:
        """"full", "shift_invert", "pardiso" or "polfed": the path this point takes."""
        if self.method != "auto":
            return self.method
        if self.dim <= self.full_max_dim or self.dim <= 3 * self.n_eig:
            return "full"
        if self.dim < polfed_min_dim(self.n_eig):
            return "shift_invert"
        fits = [m for m in ("shift_invert", "polfed") if memory_bytes(self, m) <= AUTO_MEMORY]
        return min(fits, key=lambda m: cost(self, m)) if fits else "polfed"


@dataclass(frozen=True)
class Draws:
    """Random input of one realization.

    Attributes
    ----------
    h : ndarray[float64], shape (L,)
        Fields.
    A : ndarray[float64], shape (3, n_goe, n_goe)
        The Gaussian matrices behind R_0, R_1, R_2.
    """

    h: np.ndarray
    A: np.ndarray


def sample(p: Params, rng: np.random.Generator) -> Draws:
    """Fields first, then the three bubble matrices."""
    h = draw_fields(rng, p.W, p.L, p.profile, first=0)
    return Draws(h=h, A=rng.normal(size=(3, p.n_goe, p.n_goe)))


def warmup_params() -> Params:
    return Params(L=4, n_goe=2, beta=0.5, n_eig=4)


def memory_bytes(p: Params, method: str | None = None) -> int:
    """Peak memory of one realization (float64) on ``method`` (default: the path ``p`` takes).

    Dense: H, its eigenvectors and LAPACK work. Shift-invert: the LU factors,
    whose fill, calibrated on benchmarks/bench_bubble.py, was 1.97e7 entries
    (dim 13,728), 2.16e8 (51,480) and 9.09e8 (97,240): a power law whose
    exponent grows, 1.81 then 2.26, taken as 2.26 beyond 51,480. At 22 bytes
    per entry (values and indices of L and U and SuperLU's work space: whole
    realizations' peak RSS in that benchmark), plus the Lanczos basis.
    PARDISO: measured peaks (benchmarks/bench_pardiso.py). POLFED: its Lanczos
    basis (:func:`polfed_basis` vectors), the Ritz vectors and H; no factor.
    """
    d = p.dim
    method = method or p.solver()
    if method == "full":
        return int(8 * 3.2 * d * d + 64 * 2**20)
    if method == "polfed":
        # the basis, the last Ritz vectors with H applied to them and the caller's temporaries (~10 q vectors),
        # the filter's blocks, building H (37 bytes per non-zero, measured); traced arrays at L = 14: 117 MB
        q = p.n_eig + POLFED_BLOCK
        return int(8 * d * (polfed_basis(p.n_eig) + 10 * q + 5 * POLFED_BLOCK) + 40 * _nnz(p) + 600 * 2**20)
    if method == "pardiso":  # measured peak above the L = 12 process (benchmarks/bench_pardiso.py): 0.08 GiB
        # (dim 13,728), 0.74 (51,480), 2.52 (97,240), 8.7 (194,480): exponent 1.68, then 1.93 and 1.85
        factor = 0.74 * 2**30 * (d / 51480) ** (1.68 if d <= 51480 else 1.9)
        return int(factor + 8 * d * (3 * p.n_eig + 20) + 600 * 2**20)
    fill = 2.16e8 * (d / 51480) ** (1.81 if d <= 51480 else 2.26)
    return int(22 * fill + 8 * d * (3 * p.n_eig + 20) + 600 * 2**20)  # + interpreter, libraries, a first Numba compile


#: Largest fraction of a sector's levels the n_eig central eigenpairs may take before the averages leave the
#: middle of the spectrum (where the density of states and the physics vary little) far behind.
MAX_SPECTRUM_FRACTION = 0.25


def resolution(p: Params) -> list[str]:
    """What limits a point's physics at its size: ``n_eig`` beyond MAX_SPECTRUM_FRACTION of the sector."""
    if p.n_eig > MAX_SPECTRUM_FRACTION * p.dim:
        return [f"n_eig = {p.n_eig} takes {100 * p.n_eig / p.dim:.0f}% of the sector's {p.dim} levels, so levels far "
                f"from the spectral centre enter the gap ratio and purities: n_eig <= {int(MAX_SPECTRUM_FRACTION * p.dim)} "
                f"({100 * MAX_SPECTRUM_FRACTION:.0f}%), or a larger system"]  # fmt: skip
    return []


def memory_options(p: Params) -> dict[str, int]:
    """The other eigensolvers this point could run on (a spec change) -> their peak memory per realization."""
    out = {}
    for m in METHODS[1:]:
        if m == p.solver() or (m == "polfed" and p.dim < polfed_min_dim(p.n_eig)):
            continue
        if m == "pardiso" and importlib.util.find_spec("pypardiso") is None:
            continue
        out[f'method = "{m}"'] = memory_bytes(p, m)
    return out


def _nnz(p: Params) -> float:
    """Non-zeros of H: per row ~ L / 2 hops, the bubble's n_goe entries and half as many through the swap
    (measured 12.18, 14.13 at L = 12, 16 with n_goe = 4; 18.36 with 8; 7.0, 9.0 at L = 12, 16 without)."""
    return p.dim * (0.5 * p.L + 1.5 * p.n_goe + 0.2 if p.n_goe else 0.5 * p.L + 1.0)


def polfed_basis(k: int) -> int:
    """Lanczos basis POLFED is expected to need for k levels (measured: see :func:`cost`)."""
    return 8 * (k + POLFED_BLOCK)


def cost(p: Params, method: str | None = None) -> float:
    """Estimated CPU seconds of one realization on ``method`` (default: the path ``p`` takes): dense ~ dim^3,
    shift-invert ~ dim^2.4 (LU fill), calibrated by benchmarks/bench_bubble.py and benchmarks/bench_cost.py;
    PARDISO by benchmarks/bench_pardiso.py; POLFED ~ POLFED_MATVECS dim filtered products of H
    (benchmarks/bench_polfed.py)."""
    d = float(p.dim)
    method = method or p.solver()
    if method == "polfed":
        return 0.5 + POLFED_MATVECS * d * _nnz(p) * POLFED_NS_PER_NZ * 1e-9
    if method == "pardiso":  # CPU s: 5.0 (13,728), 54 (51,480), 275 (97,240), 1463 (194,480)
        return 0.5 + 4.5 * (d / 13728.0) ** 1.88 if d <= 51480 else 54.0 * (d / 51480.0) ** 2.5
    return 0.01 + ((d / 1000.0) ** 3 * 0.1 if method == "full" else (d / 13728.0) ** 2.4 * 4.6 + 0.02)


def distances(L: int) -> np.ndarray:
    """Distance of each site to the bubble, min(i, L - 1 - i)."""
    i = np.arange(L)
    return np.minimum(i, L - 1 - i)


def _hist_edges(p: Params) -> np.ndarray:
    return np.linspace(-1.0, 1.0, p.hist_bins + 1)


def _ratio_edges(p: Params) -> np.ndarray:
    return np.linspace(0.0, 1.0, p.hist_bins + 1)


def schema(p: Params) -> dict[str, dict[str, np.ndarray]]:
    site = np.arange(p.L)
    e = _hist_edges(p)
    ratios = {"r": {}, "r_hist": {"ratio": 0.5 * (_ratio_edges(p)[1:] + _ratio_edges(p)[:-1])}} if p.n_eig >= 3 else {}
    return {
        **ratios,
        "gamma": {"site": site},
        "gamma_gamma": {"site": site, "site2": site.copy()},
        "mag_hist": {"dist": np.arange((p.L - 1) // 2 + 1), "m": 0.5 * (e[1:] + e[:-1])},
        "residual": {},
    }


@lru_cache(maxsize=8)
def _chain_operators(L: int, n_up: int):
    """Sector, S^z of every site, the bond exchange pattern and the 0 <-> L-1 swap (cached per shape)."""
    states = sector_states(L, n_up)
    spins = site_spins(states, L)
    D = states.size
    bonds = chain_bonds(L)
    ip, ind = exchange_pattern(states, L, bonds)
    hop = sp.csr_matrix((np.ones(ind.size), ind.astype(np.int64), ip), shape=(D, D))
    ends = np.array([[0, L - 1]], dtype=np.int64)
    ip, ind = exchange_pattern(states, L, ends)
    swap = sp.csr_matrix((np.ones(ind.size), ind.astype(np.int64), ip), shape=(D, D))  # S^+_0 S^-_{L-1} + h.c.
    zz_bonds = ising_diagonal(spins, bonds, np.ones(L - 1))
    return spins, hop, swap, zz_bonds


def bubble_matrices(p: Params, A: np.ndarray) -> np.ndarray:
    """R_l = (beta / 2)(A_l + A_l^T), shape (3, n_goe, n_goe)."""
    return 0.5 * p.beta * (A + np.swapaxes(A, 1, 2))


def hamiltonian(p: Params, d: Draws) -> sp.csr_matrix:
    """Sparse H of Eq. (1) in the S^z sector, index = chain rank * n_goe + bubble state."""
    spins, hop, swap, zz = _chain_operators(p.L, p.n_up)
    D = spins.shape[0]
    Hc = 0.5 * p.J * hop + sp.diags(p.J * p.Delta * zz + spins @ d.h)
    if p.n_goe == 0:
        return Hc.tocsr()
    R = bubble_matrices(p, d.A)
    n = p.n_goe
    ends = sp.diags(spins[:, 0] * spins[:, p.L - 1])
    H = (
        sp.kron(Hc, sp.identity(n))
        + sp.kron(sp.identity(D), sp.csr_matrix(R[0]))
        + p.g * sp.kron(ends, sp.csr_matrix(R[1]))
        + p.g * sp.kron(swap, sp.csr_matrix(R[2]))
    )
    return H.tocsr()


def _start_vector(n: int) -> np.ndarray:
    """A fixed generic ARPACK start vector: ARPACK's own depends on earlier calls in the process."""
    return np.random.default_rng(20_211_121).standard_normal(n)


def _spectral_bounds(H: sp.csr_matrix) -> tuple[float, float]:
    """Lowest and highest eigenvalue (ARPACK, tolerance 1e-12, fixed start vector)."""
    v0 = _start_vector(H.shape[0])
    lo = eigsh(H, k=1, which="SA", v0=v0, tol=1e-12, return_eigenvectors=False)[0]
    hi = eigsh(H, k=1, which="LA", v0=v0, tol=1e-12, return_eigenvectors=False)[0]
    return float(lo), float(hi)


def _spectral_centre(H: sp.csr_matrix) -> float:
    lo, hi = _spectral_bounds(H)
    return 0.5 * (lo + hi)


def nested_dissection(H: sp.csr_matrix) -> np.ndarray:
    """METIS nested-dissection order of the graph of H (fill-reducing for the LU)."""
    import pymetis

    G = H.copy()
    G.setdiag(0)
    G.eliminate_zeros()
    G = ((G + G.T) != 0).tocsr()
    G.sort_indices()
    perm, _ = pymetis.nested_dissection(adjacency=pymetis.CSRAdjacency(G.indptr, G.indices))
    return np.asarray(perm, dtype=np.int64)


def central_eigenpairs(H: sp.spmatrix, k: int, solver: str) -> tuple[np.ndarray, np.ndarray, float]:
    """The k eigenpairs of H closest to (E_min + E_max) / 2, ascending, plus any tied with the k-th.

    Levels whose distance to the centre is within :func:`kernels.numerics.spectral.tie_tolerance`
    of the k-th distance are included together (so a spectrum symmetric about
    its centre does not pick one of two mirror levels by rounding), and the
    chosen levels must be non-degenerate: purities of states inside a
    degenerate eigenspace depend on the basis chosen there, so such a
    realization is refused (DegenerateSpectrumError).

    Returns
    -------
    E : ndarray, shape (k',), k' >= k
    V : ndarray, shape (dim, k')
    centre : float
    """
    if solver == "full":
        Hd = H.toarray()
        E_all = eigvalsh(Hd, check_finite=False)
        centre = 0.5 * (E_all[0] + E_all[-1])
        near = nearest_levels(E_all, centre, k, tie_tolerance(E_all))
        E, V = eigh(Hd, subset_by_index=[int(near[0]), int(near[-1])], overwrite_a=True, check_finite=False)
    elif solver == "polfed":
        E, V, centre = _polfed(H, k)
    else:
        E, V, centre = _shift_invert(H, k, pardiso=solver == "pardiso")
    require_nondegenerate(E, tie_tolerance([E[0], E[-1], centre]), "the purities of these eigenstates")
    return E, V, centre


def _shift_invert(H: sp.spmatrix, k: int, pardiso: bool = False) -> tuple[np.ndarray, np.ndarray, float]:
    """k (+ tied) eigenpairs nearest the centre by ARPACK on a METIS-ordered SuperLU of H - centre
    (or, with ``pardiso``, on PARDISO's LDL^T of it: real symmetric indefinite, its own METIS order).

    ARPACK is asked for SPARE more pairs than needed; the selection is made
    among them by :func:`kernels.numerics.spectral.nearest_levels`, which is complete
    (no tied or degenerate level left uncomputed) when the farthest computed
    level lies beyond the k-th distance by more than the tolerance.
    """
    dim = H.shape[0]
    centre = _spectral_centre(H)
    perm = nested_dissection(H)
    Hp = H[perm][:, perm].tocsc()
    shifted = (Hp - centre * sp.identity(dim, format="csc")).tocsc()
    m = min(k + SPARE, dim - 1)
    with _mkl_threads_like_blas() if pardiso else contextlib.nullcontext():
        solve, release = (_pardiso_solver if pardiso else _superlu_solver)(shifted)
        del shifted
        op = LinearOperator((dim, dim), matvec=solve, dtype=np.float64)
        try:
            E, Vp = eigsh(Hp, k=m, sigma=centre, which="LM", OPinv=op, v0=_start_vector(dim), tol=0)
        finally:
            release()
    del op, solve
    tol = tie_tolerance([E.min(), E.max(), centre])
    keep = nearest_levels(E, centre, k, tol)
    dist = np.abs(E - centre)
    if np.max(dist) <= np.max(dist[keep]) + tol:  # a level as near as the chosen ones may be uncomputed
        raise DegenerateSpectrumError(
            f"more than {SPARE} levels tie with the {k}-th nearest the spectral centre {centre:.12g}: the choice "
            "of eigenstates would depend on rounding; use method = \"full\" or break the symmetry behind the ties"
        )
    E, Vp = E[keep], Vp[:, keep]
    order = np.argsort(E)
    V = np.empty_like(Vp)
    V[perm] = Vp[:, order]
    return E[order], V, centre


def _polfed(H: sp.spmatrix, k: int) -> tuple[np.ndarray, np.ndarray, float]:
    """k (+ tied) eigenpairs nearest the centre by POLFED (:func:`kernels.numerics.polfed.polfed`).

    Complete when the k-th distance (plus the tie tolerance) lies inside the
    filter's main lobe above the least converged Ritz value (``radius``): every
    level nearer than that is among the converged ones.
    """
    lo, hi = _spectral_bounds(H)
    centre = 0.5 * (lo + hi)
    r = polfed(H, k, centre, (lo, hi), block=POLFED_BLOCK)
    tol = tie_tolerance([r.E.min(), r.E.max(), centre])
    keep = np.sort(nearest_levels(r.E, centre, k, tol))
    if np.max(np.abs(r.E[keep] - centre)) + tol >= r.radius:
        raise DegenerateSpectrumError(
            f"the {k} levels nearest the spectral centre {centre:.12g} (with ties) reach beyond the {r.radius:.3g} "
            "within which POLFED's converged levels are complete: the choice would depend on rounding; use "
            "method = \"shift_invert\" or break the symmetry behind the ties"
        )
    return r.E[keep], r.V[:, keep], centre


def _mkl_threads_like_blas():
    """MKL (PARDISO, imported lazily, after the engine capped BLAS) held to the thread count OpenBLAS has now."""
    import pypardiso  # noqa: F401  (loads MKL, so that the controller below sees it)
    from threadpoolctl import ThreadpoolController

    ctl = ThreadpoolController()
    blas = [i["num_threads"] for i in ctl.info() if i["internal_api"] == "openblas"]
    return ctl.limit(limits=min(blas)) if blas else contextlib.nullcontext()


def _superlu_solver(A: sp.csc_matrix):
    """x -> A^-1 x by SuperLU (A already in a fill-reducing order: kept, symmetric mode), and a release function."""
    lu = splu(A, permc_spec="NATURAL", diag_pivot_thresh=0.01, options={"SymmetricMode": True})
    return lu.solve, lambda: None


def _pardiso_solver(A: sp.csc_matrix):
    """x -> A^-1 x by PARDISO (mtype -2: real symmetric indefinite, upper triangle), and a release function."""
    import pypardiso

    U = sp.triu(A, format="csr")
    U.sort_indices()
    ps = pypardiso.PyPardisoSolver(mtype=-2)
    ps.set_statistical_info_off()
    ps.factorize(U)
    b = np.empty((U.shape[0], 1))

    def solve(x: np.ndarray) -> np.ndarray:
        b[:, 0] = x
        return ps.solve(U, b)[:, 0]

    return solve, lambda: ps.free_memory(everything=True)


def observables(p: Params, E: np.ndarray, V: np.ndarray) -> dict[str, np.ndarray]:
    """State-averaged outputs of one realization from its eigenpairs (V: dim x k)."""
    spins = _chain_operators(p.L, p.n_up)[0]
    w = (V * V).reshape(spins.shape[0], max(p.n_goe, 1), -1).sum(axis=1)  # chain-state weights, (D, k)
    sz = spins.T @ w  # <S^z_i> per state, (L, k)
    gam = 2.0 * sz * sz + 0.5
    k = E.size
    m = 2.0 * sz
    dist = distances(p.L)
    nd = dist.max() + 1
    edges = _hist_edges(p)
    hist = np.zeros((nd, p.hist_bins))
    for d in range(nd):
        vals = np.clip(m[dist == d].ravel(), -1.0, 1.0)
        hist[d] = histogram(vals, edges, tol=1e-9) / (vals.size * np.diff(edges))
    out = {"gamma": gam.mean(axis=1), "gamma_gamma": gam @ gam.T / k, "mag_hist": hist}
    if p.n_eig >= 3:  # a gap ratio needs three levels
        r, edges = gap_ratios(E, "all"), _ratio_edges(p)
        n = max(r.size, 1)  # (fewer than three levels given: no ratio, a NaN mean that the engine refuses)
        out.update(r=np.array(r.sum() / r.size if r.size else np.nan), r_hist=histogram(r, edges, tol=1e-9) / (n * np.diff(edges)))
    return out


def realize(p: Params, d: Draws) -> dict[str, np.ndarray]:
    """Eigenpairs at the spectral centre, residual check, observables."""
    H = hamiltonian(p, d)
    E, V, _ = central_eigenpairs(H, p.n_eig, p.solver())
    res = float(np.max(np.linalg.norm(H @ V - V * E, axis=0)))
    if not res <= RESIDUAL_TOL:
        raise RuntimeError(f"eigenpair residual {res:.2e} > {RESIDUAL_TOL:g} ({p.solver()}, dim {p.dim})")
    return {**observables(p, E, V), "residual": np.array(res)}
