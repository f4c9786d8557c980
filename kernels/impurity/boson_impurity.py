r"""Anderson insulator of hard-core d-bosons with one clean hard-core c-boson: exact dynamics (paper 001).

.. math::

    H = t_d \sum_{i=1}^{L-1} (d^\dagger_i d_{i+1} + h.c.) + \sum_i \epsilon_i n_{d,i}
        + t_c \sum_{i=1}^{L-1} (c^\dagger_i c_{i+1} + h.c.) + U \sum_i n_{c,i} n_{d,i}

(Eq. 1), open chain of L sites, epsilon_i uniform in [-W, W]. The sector
(N_d, N_c = 1) has dimension C(L, N_d) L; index = rank of the d-configuration
(bit i = site i, from :mod:`kernels.numerics.spin_basis`, where hard-core bosons are
up spins and their hopping is the spin-flip exchange) times L plus the
c-boson's site. Evolution by the Chebyshev propagator of
:mod:`kernels.numerics.chebyshev` (two amplitude classes, t_d and t_c), norm error
<= ``tol`` per application.

Initial state (the paper's): a period-3 density wave of d-bosons on sites
0, 3, 6, ... (density 1/3; the paper's sites 1, 4, 7, ... of Eq. (1)) and
the c-boson "prepared at the center", i = L/2 in the paper's labels 1..L.
At the paper's sizes (L = 30, 48, 60, multiples of 6) that site is always
empty; at other L the centre may hold a d-boson, and the c-boson's
localization length depends on which (about 1.2 on an occupied site, 2.5 on
an empty one, at U = 12). ``c_start`` fixes the kind: the site of that kind
nearest the centre (L - 1) // 2, the same kind at every L; or any d bit
string and c site. Outputs at the sample times:

* ``n_c`` (t, site), ``n_d`` (t, site): densities;
* ``nd_nd`` (t, site, site2): connected correlations <n_d,i n_d,j> - <n_d,i><n_d,j>;
* ``S`` (t, cut): entanglement entropy -Tr rho ln rho of sites [0, cut) against the
  rest, from the Schmidt values of the two-species state, block by block
  (the numbers of d- and c-bosons on the left are conserved);
* ``particles`` (t, species): N_d and N_c, as a conservation check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from kernels.numerics import spin_basis as sb
from kernels._profile import canonical_profile, draw_fields, profile_widths
from kernels._params import ParameterError, check_choice, check_int, check_nonnegative, check_positive, check_real, check_times
from kernels.numerics.chebyshev import ChebyshevPropagator, SparseHamiltonian, propagation_terms

__all__ = [
    "SUMMARY",
    "ANALYSIS",
    "DEFAULT_TIMES",
    "NAME",
    "Draws",
    "ModelParams",
    "Params",
    "cost",
    "entanglement_entropies",
    "hamiltonian",
    "initial_index",
    "realize",
    "sample",
    "schema",
    "warmup_params",
]

NAME = "boson_impurity"
SUMMARY = "hard-core d-bosons (Anderson) + one clean c-boson: exact dynamics, densities, correlations, entropies; paper 001"
#: What each output is (sites 0..L-1).
#: Default ranges of the per-realization distributions a spec may ask for ([distributions]).
DISTRIBUTIONS = {"n_c": (0.0, 1.0), "n_d": (0.0, 1.0)}
OBSERVABLES = {
    "n_c": "density of the clean c-boson at each site",
    "n_d": "density of the d-bosons at each site",
    "nd_nd": "<n_d,i n_d,j> (its connected part gives the d-d correlations)",
    "particles": "total number of each species (conserved: a check)",
    "S": "entanglement entropy of the cut between sites cut-1 and cut",
}
ANALYSIS = "impurity"
DEFAULT_TIMES = {"start": 0.1, "stop": 200.0, "num": 30}
#: C(L, N_d) L states; L = 15 at density 1/3 is 45,045
MAX_DIM = 20_000_000


#: Kinds of start site for the c-boson: the d occupation ("0" or "1") it must have.
START_KINDS = {"empty": "0", "occupied": "1"}


def start_site(d_bits: str, kind: str) -> int:
    """The site of the given kind ("empty"/"occupied") nearest the centre (L - 1) // 2, the lower on a tie.

    A string with no site of that kind is refused (give ``c_site`` instead).
    """
    L, want = len(d_bits), START_KINDS[kind]
    centre = (L - 1) // 2
    sites = [i for i in range(L) if d_bits[i] == want]
    if not sites:
        raise ParameterError("c_start", kind, f"a kind of site that d_bits {d_bits!r} has, or an explicit c_site")
    return min(sites, key=lambda i: (abs(i - centre), i))


@dataclass(frozen=True)
class ModelParams:
    """The model of Eq. (1) and its initial state, shared with :mod:`kernels.impurity.boson_tebd`.

    Parameters
    ----------
    L : int
        Sites, >= 2.
    W : float
        Disorder of the d-bosons, >= 0: on-site energies uniform in [-W, W].
    U : float
        Interaction of the c-boson with a d-boson on its site.
    t_d : float
        Hopping of the d-bosons.
    t_c : float
        Hopping of the c-boson.
    d_bits : str
        "" (default) for the period-3 density wave on sites 0, 3, 6, ...; or L characters, site 0 first, "1" = d-boson.
    c_start : str
        Kind of the c-boson's start site when ``c_site`` is -1: "empty" (default; the paper's
        i = L/2 at its sizes) or "occupied" (a c-d doublon), the site of that kind nearest the centre
        (L - 1) // 2 (the lower one on a tie).
    c_site : int
        Site of the c-boson (0..L-1), overriding ``c_start``; -1 (default) to place it by ``c_start``.
    profile : str
        Disorder profile of the d-bosons: per-site widths replacing W on the sites it names (sites 0..L-1),
        e.g. "4..7=0.5" (a weak-disorder grain), "clean 6", "[6.5, 0.5, W, ...]"; "" (default) is W everywhere.
    """

    #: c_start and profile joined the parameters after runs existed; at "empty" and "" they stay out of
    #: point keys (and the profile out of fingerprints)
    SEED_OMIT_AT = {"c_start": "empty", "profile": ""}
    FINGERPRINT_OMIT_AT = {"profile": ""}
    #: points that differ only in their profile draw the same realizations (the same fields where it names nothing)
    PAIRED = ("profile",)

    L: int = 12
    W: float = 6.5
    U: float = 12.0
    t_d: float = 1.0
    t_c: float = 1.0
    d_bits: str = ""
    c_start: str = "empty"
    c_site: int = -1
    profile: str = ""

    def __post_init__(self):
        L = check_int("L", self.L, 2)
        object.__setattr__(self, "L", L)
        object.__setattr__(self, "profile", canonical_profile(self.profile, L, first=0))
        object.__setattr__(self, "W", check_nonnegative("W", self.W))
        for f in ("U", "t_d", "t_c"):
            object.__setattr__(self, f, check_real(f, getattr(self, f)))
        bits = self.d_bits or "".join("1" if i % 3 == 0 else "0" for i in range(L))
        if not isinstance(bits, str) or len(bits) != L or set(bits) - {"0", "1"}:
            raise ParameterError("d_bits", self.d_bits, f'"" (period-3 density wave) or {L} characters 0/1, site 0 first')
        object.__setattr__(self, "d_bits", bits)
        check_choice("c_start", self.c_start, START_KINDS, " or ".join(f'"{k}"' for k in START_KINDS))
        if self.c_site == -1:
            c = start_site(bits, self.c_start)
        else:
            c = check_int("c_site", self.c_site, 0)
            if c >= L:
                raise ParameterError("c_site", self.c_site, f"a site 0..{L - 1}, or -1 to place it by c_start")
        object.__setattr__(self, "c_site", c)

    def widths(self) -> np.ndarray:
        """Per-site widths of the d-bosons' energies (uniform in [-w_i, w_i]): W, or the profile's."""
        return profile_widths(self.profile, np.full(self.L, self.W), first=0)

    @property
    def n_d(self) -> int:
        return self.d_bits.count("1")

    @property
    def dim(self) -> int:
        """C(L, N_d) L: the exact kernel's sector dimension."""
        return math.comb(self.L, self.n_d) * self.L


@dataclass(frozen=True)
class Params(ModelParams):
    """Parameters of one quench (defaults: the paper's W = 6.5, U = 12, t_d = t_c = 1).

    Parameters
    ----------
    L, W, U, t_d, t_c, d_bits, c_start, c_site, profile :
        The model and initial state (:class:`ModelParams`).
    tol : float
        Norm error per application of the propagator.
    entropy : bool
        Compute S(t, cut) (the costliest output).
    times : tuple of float
    """

    tol: float = 1e-12
    entropy: bool = True
    times: tuple = ()

    def __post_init__(self):
        super().__post_init__()
        if self.dim > MAX_DIM:
            raise ParameterError("L", self.L, f"a sector of dimension <= {MAX_DIM:,} (C(L, N_d) L = {self.dim:,})")
        tol = check_positive("tol", self.tol)
        if tol >= 1e-3:
            raise ParameterError("tol", self.tol, "a tolerance > 0 and < 1e-3, e.g. tol = 1e-12")
        object.__setattr__(self, "tol", tol)
        if not isinstance(self.entropy, bool):
            raise ParameterError("entropy", self.entropy, "true or false")
        object.__setattr__(self, "times", check_times(self.times, None))


@dataclass(frozen=True)
class Draws:
    """On-site energies of the d-bosons, shape (L,)."""

    eps: np.ndarray


def sample(p: Params, rng: np.random.Generator) -> Draws:
    return Draws(eps=draw_fields(rng, p.W, p.L, p.profile, first=0))


def warmup_params() -> Params:
    return Params(L=4, times=(0.5, 1.0))


def cost(p: Params) -> float:
    """Estimated CPU seconds of one realization (calibrated by benchmarks/bench_cost.py): Chebyshev terms x
    non-zeros for the evolution, and per sample time the densities, correlations and (if asked) every cut's entropy."""
    R = p.n_d * (float(np.max(p.widths(), initial=0.0)) / 2.0 + 1.3 * abs(p.t_d)) + 2.0 * abs(p.t_c) + abs(p.U) / 2.0 + 1.0
    nnz = p.dim * (1.0 + p.n_d + 1.0)
    per_time = p.dim * p.L * (4e-9 + (2e-8 if p.entropy else 0.0))
    return 2.2e-9 * nnz * propagation_terms(R, max(p.times), len(p.times), p.tol) + per_time * len(p.times) + 5e-3


def memory_bytes(p: Params) -> int:
    return int(16 * p.dim * 8 + 8 * len(p.times) * p.L * p.L + 200 * 2**20)


@lru_cache(maxsize=8)
def _structure(L: int, n_d: int):
    """d-configurations, their occupations, and the hop patterns of both species on the product basis."""
    states = sb.sector_states(L, n_d)
    occ = sb.site_spins(states, L) + 0.5  # n_d,i per configuration
    D = states.size
    ip, ind = sb.exchange_pattern(states, L, sb.chain_bonds(L))
    hop_d = sp.kron(sp.csr_matrix((np.ones(ind.size), ind.astype(np.int64), ip), shape=(D, D)), sp.identity(L), format="csr")
    path = sp.diags([np.ones(L - 1), np.ones(L - 1)], [-1, 1], shape=(L, L))
    hop_c = sp.kron(sp.identity(D), path, format="csr")
    pats = []
    for m in (hop_d, hop_c):
        m.sort_indices()
        pats.append((m.indptr.astype(np.int64), m.indices.astype(np.uint32)))
    return states, occ, pats[0], pats[1]


def hamiltonian(p: Params, eps: np.ndarray) -> SparseHamiltonian:
    """Eq. (1) in the (N_d, N_c = 1) sector."""
    states, occ, hop_d, hop_c = _structure(p.L, p.n_d)
    onsite = occ @ eps  # sum_i eps_i n_d,i per configuration
    diag = np.repeat(onsite, p.L) + p.U * occ.ravel()  # index a * L + site: U n_d,site
    return SparseHamiltonian.from_patterns(diag, [hop_d, hop_c], [p.t_d, p.t_c])


def initial_index(p: Params) -> int:
    states = _structure(p.L, p.n_d)[0]
    code = sum(1 << i for i, b in enumerate(p.d_bits) if b == "1")
    return int(np.searchsorted(states, code)) * p.L + p.c_site


@lru_cache(maxsize=8)
def _cuts(L: int, n_d: int):
    """For every cut, the (block, row, column) of each basis state in the Schmidt matrices.

    Blocks are labelled by (d-bosons on the left, c on the left); within a
    block, rows enumerate the left configurations and columns the right ones.
    """
    states = _structure(L, n_d)[0]
    a = np.repeat(np.arange(states.size), L)
    site = np.tile(np.arange(L), states.size)
    out = []
    for cut in range(1, L):
        left_d = states[a] & ((1 << cut) - 1)
        right_d = states[a] >> cut
        c_left = site < cut
        k = np.array([bin(int(x)).count("1") for x in range(1 << cut)])[left_d]
        lkey = left_d * (L + 1) + np.where(c_left, site, L)
        rkey = right_d * (L + 1) + np.where(c_left, L, site)
        block = k * 2 + c_left
        blocks = []
        for b in np.unique(block):
            sel = np.flatnonzero(block == b)
            _, rows = np.unique(lkey[sel], return_inverse=True)
            _, cols = np.unique(rkey[sel], return_inverse=True)
            blocks.append((sel, rows, cols, rows.max() + 1, cols.max() + 1))
        out.append(blocks)
    return out


def entanglement_entropies(p: Params, psi: np.ndarray) -> np.ndarray:
    """S(cut) = -sum s^2 ln s^2 over the Schmidt values of every block, cuts 1..L-1."""
    S = np.empty(p.L - 1)
    for j, blocks in enumerate(_cuts(p.L, p.n_d)):
        total = 0.0
        for sel, rows, cols, nr, nc in blocks:
            M = np.zeros((nr, nc), dtype=complex)
            M[rows, cols] = psi[sel]
            s2 = np.linalg.svd(M, compute_uv=False) ** 2
            s2 = s2[s2 > 1e-300]
            total -= float(np.sum(s2 * np.log(s2)))
        S[j] = total
    return S


def schema(p: Params) -> dict[str, dict[str, np.ndarray]]:
    t = np.asarray(p.times)
    site = np.arange(p.L)
    out = {
        "n_c": {"t": t, "site": site},
        "n_d": {"t": t, "site": site},
        "nd_nd": {"t": t, "site": site, "site2": site.copy()},
        "particles": {"t": t, "species": np.array(["d", "c"])},
    }
    if p.entropy:
        out["S"] = {"t": t, "cut": np.arange(1, p.L)}
    return out


def realize(p: Params, d: Draws) -> dict[str, np.ndarray]:
    """Evolve the initial product state; densities, correlations, entropies at the sample times."""
    states, occ, _, _ = _structure(p.L, p.n_d)
    prop = ChebyshevPropagator(hamiltonian(p, d.eps), tol=p.tol)
    psi = np.zeros(p.dim, dtype=np.complex128)
    psi[initial_index(p)] = 1.0
    nt, L = len(p.times), p.L
    n_c, n_d, nn, parts = np.empty((nt, L)), np.empty((nt, L)), np.empty((nt, L, L)), np.empty((nt, 2))
    S = np.empty((nt, L - 1))
    previous = 0.0
    for j, t in enumerate(p.times):
        prop.evolve(psi, t - previous)
        previous = t
        w = (psi.real**2 + psi.imag**2).reshape(-1, L)  # (d-configuration, c site)
        wd = w.sum(axis=1)
        n_c[j] = w.sum(axis=0)
        n_d[j] = occ.T @ wd
        nn[j] = occ.T @ (wd[:, None] * occ) - np.outer(n_d[j], n_d[j])
        parts[j] = (n_d[j].sum(), n_c[j].sum())
        if p.entropy:
            S[j] = entanglement_entropies(p, psi)
    out = {"n_c": n_c, "n_d": n_d, "nd_nd": nn, "particles": parts}
    if p.entropy:
        out["S"] = S
    return out
