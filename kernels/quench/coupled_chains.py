r"""A localized chain coupled to a finite environment chain: junction and ladder quenches (paper 000).

.. math::

    H = J \sum_{i=1}^{l-1} \vec S_i\cdot\vec S_{i+1} + J \sum_{i=l+1}^{2l-1} \vec S_i\cdot\vec S_{i+1}
        + \sum_{i=1}^{2l} h_i S^z_i + H_{int}

(Eqs. 2-5) with spin-1/2 operators S = sigma/2 as the paper writes them, or
(``operators = "pauli"``) the same sums of Pauli matrices, J sigma.sigma and
h sigma^z: that Hamiltonian is 4 x (the spin one at W/2), the convention
whose time scale and disorder match the paper's figures (README, paper 000).
System sites 1..l with h_i uniform in [-W_s, W_s], environment
sites l+1..2l with h_i uniform in [-W_e, W_e], open boundaries, and either the
junction H_int = J_int S_l . S_{l+1} (Eq. 4) or the ladder
H_int = J_int sum_i S_i . S_{i+l} (Eq. 5).

Initial product states (Sec. IV): ``"aligned"`` = |psi_even> (x) |psi_even>,
``"misaligned"`` = |psi_even> (x) |psi_odd>, with |psi_even> = |down up down up ...>
(up spins on the even sites of each chain, counted from that chain's first
site), or any bit string of length 2l, site 1 first, "1" = up. The evolution
stays in the S^z_tot sector of the initial state.

One realization: |psi(t)> at the sample times and on a uniform grid of
``window_points`` times in [window_start, window_stop], by the eigendecomposition
of H (dimension <= ``exact_max_dim``) or by a Chebyshev polynomial propagator
above it (a Krylov-space method: every term is a power of H applied to psi;
norm error <= ``tol`` per application). Outputs:

* ``M`` (t, part): staggered magnetization of the system and the environment,
  M(t, [a, b]) = (1/n) sum_i 2 sigma_i <S^z_i(t)>, sigma_i = +-1 the initial spin
  pattern, n the number of sites: 1 for the initial state, 0 for an
  unpolarized one. For a Neel initial state this is Eq. (6) with the
  normalization that gives M(0) = 1 as the text says (the printed 1/|b - a|
  counts one site too few and (-1)^i S^z_i gives 1/2);
* ``M_window`` (part), ``Sz_window`` (site), ``F_window`` (part): averages over
  the window (trapezoid rule), Eq. (7);
* ``F`` (t, part): fidelities F_s, F_e (Eq. A1) of the reduced states with the
  initial ones; since rho_s(0) is pure, F_s = <phi_s| rho_s(t) |phi_s>, the
  probability that the system's spins are all in their initial configuration;
* with ``diagonal = true`` (exact path): ``M_diag``, ``Sz_diag``, ``F_diag``: the diagonal ensemble
  (infinite-time averages, App. C), sum_n |<n|psi_0>|^2 <n|O|n>;
* ``energy_drift``: max over the sample times of |<H>(t) - <H>(0)|.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.linalg import eigh

from kernels.numerics import spin_basis as sb
from kernels._profile import canonical_profile, draw_fields, profile_widths
from kernels._params import ParameterError, check_choice, check_int, check_nonnegative, check_positive, check_real, check_times
from kernels.numerics.chebyshev import ChebyshevPropagator, SparseHamiltonian, propagation_terms

__all__ = [
    "SUMMARY",
    "ANALYSIS",
    "CONFIGS",
    "DEFAULT_TIMES",
    "NAME",
    "Draws",
    "Params",
    "Sector",
    "cost",
    "hamiltonian",
    "diagonal_occupation",
    "initial_bits",
    "memory_bytes",
    "realize",
    "sample",
    "schema",
    "sector",
    "warmup_params",
]

NAME = "coupled_chains"
SUMMARY = "localized chain + environment chain (junction or ladder): quench, M(t), fidelities; paper 000"
#: What each output is (part: sys = system chain, env = environment chain).
#: Default ranges of the per-realization distributions a spec may ask for ([distributions]).
DISTRIBUTIONS = {"M_window": (-1.0, 1.0), "F_window": (0.0, 1.0), "Sz_window": (-0.5, 0.5), "M": (-1.0, 1.0), "F": (0.0, 1.0)}
OBSERVABLES = {
    "M": "staggered magnetization M(t) normalized to the initial pattern (1 at t = 0, 0 for an unpolarized state)",
    "F": "fidelity F(t) of the part's reduced state with its initial state (App. A)",
    "M_window": "M averaged over the late-time window (Eq. 7)",
    "F_window": "F averaged over the window",
    "Sz_window": "<S^z_i> averaged over the window, per site",
    "energy_drift": "max over the sample times of |<H>(t) - <H>(0)| (a check of the propagator)",
    "M_diag": "M in the diagonal ensemble (infinite-time average, App. C)",
    "F_diag": "F in the diagonal ensemble",
    "Sz_diag": "<S^z_i> in the diagonal ensemble",
}
ANALYSIS = "quench"
DEFAULT_TIMES = {"start": 0.1, "stop": 50.0, "num": 40}
CONFIGS = ("junction", "ladder")
METHODS = ("auto", "exact", "krylov")
#: Conventions of the operators in H: (exchange, field) multipliers of the spin-1/2 form (S = sigma/2).
OPERATORS = {"spin": (1.0, 1.0), "pauli": (4.0, 2.0)}
#: "auto" diagonalizes up to this dimension and propagates above it (benchmarks/bench_chains.py:
#: to t = 50 the dense eigendecomposition wins at dim 210, the polynomial propagator from 924 on)
EXACT_MAX_DIM = 400
#: The diagonal ensemble needs every eigenvector: dense, 8 dim^2 bytes
DIAGONAL_MAX_DIM = 16000
MAX_SITES = 24
PARTS = np.array(["sys", "env"])


@dataclass(frozen=True)
class Params:
    """Parameters of one quench (defaults: the paper's Sec. IV, junction, Fig. 2 window).

    Parameters
    ----------
    l : int
        Spins per chain (total 2l).
    W_s : float
        Disorder of the system chain, >= 0: fields uniform in [-W_s, W_s].
    W_e : float
        Disorder of the environment chain, >= 0.
    J : float
        Exchange within each chain (the energy unit).
    J_int : float
        System-environment coupling (junction: one bond; ladder: every rung).
    config : str
        "junction" (Eq. 4) or "ladder" (Eq. 5).
    initial : str
        "aligned", "misaligned", or a bit string of 2l characters (site 1 first, "1" = up).
    window_start : float
        Start of the late-time window of the averages (Eq. 7), >= 0.
    window_stop : float
        End of the window, > window_start.
    window_points : int
        Uniform times in the window (trapezoid rule).
    method : str
        "auto" (exact up to ``exact_max_dim``), "exact" or "krylov".
    exact_max_dim : int
        Crossover of "auto".
    diagonal : bool
        Also the diagonal ensemble (App. C); takes the exact path.
    tol : float
        Norm error per application of the polynomial propagator.
    operators : str
        "spin" (default): H as written with S = sigma/2; "pauli": the same sums with Pauli matrices
        (exchange x 4, fields x 2), the convention the paper's figures match.
    times : tuple of float
        Sample times of M(t) and F(t).
    profile : str
        Disorder profile over the 2l sites (system 1..l, environment l+1..2l): per-site widths replacing
        W_s / W_e on the sites it names, e.g. "6=0" (a clean site 6), "clean 1..2", "3..4=0.5"; ""
        (default) is W_s on the system and W_e on the environment.
    """

    #: operators and profile joined the parameters after runs existed; at "spin" and "" they stay out of
    #: point keys (and the profile out of fingerprints)
    SEED_OMIT_AT = {"operators": "spin", "profile": ""}
    FINGERPRINT_OMIT_AT = {"profile": ""}
    #: points that differ only in their profile draw the same realizations (the same fields where it names nothing)
    PAIRED = ("profile",)

    l: int = 6
    W_s: float = 9.0
    W_e: float = 0.0
    J: float = 1.0
    J_int: float = 1.0
    config: str = "junction"
    initial: str = "aligned"
    window_start: float = 9.6
    window_stop: float = 12.0
    window_points: int = 25
    method: str = "auto"
    exact_max_dim: int = EXACT_MAX_DIM
    diagonal: bool = False
    tol: float = 1e-12
    operators: str = "spin"
    times: tuple = ()
    profile: str = ""

    def __post_init__(self):
        check_choice("operators", self.operators, OPERATORS, " or ".join(f'"{k}"' for k in OPERATORS))
        l = check_int("l", self.l, 1)
        if 2 * l > MAX_SITES:
            raise ParameterError("l", l, f"1..{MAX_SITES // 2} spins per chain (2l <= {MAX_SITES} sites)")
        object.__setattr__(self, "l", l)
        object.__setattr__(self, "profile", canonical_profile(self.profile, 2 * l))
        for f in ("W_s", "W_e"):
            object.__setattr__(self, f, check_nonnegative(f, getattr(self, f)))
        for f in ("J", "J_int"):
            object.__setattr__(self, f, check_real(f, getattr(self, f)))
        check_choice("config", self.config, CONFIGS)
        initial_bits(self)  # validates ``initial``
        a = check_nonnegative("window_start", self.window_start)
        b = check_positive("window_stop", self.window_stop)
        if b <= a:
            raise ParameterError("window_stop", self.window_stop, f"a time > window_start = {a:g}")
        object.__setattr__(self, "window_start", a)
        object.__setattr__(self, "window_stop", b)
        object.__setattr__(self, "window_points", check_int("window_points", self.window_points, 2))
        check_choice("method", self.method, METHODS)
        object.__setattr__(self, "exact_max_dim", check_int("exact_max_dim", self.exact_max_dim, 1))
        if not isinstance(self.diagonal, bool):
            raise ParameterError("diagonal", self.diagonal, "true or false")
        if self.diagonal and self.method == "krylov":
            raise ParameterError("diagonal", self.diagonal, 'false with method = "krylov" (the diagonal ensemble needs the eigenvectors)')
        if self.diagonal and self.dim > DIAGONAL_MAX_DIM:
            raise ParameterError("diagonal", self.diagonal, f"false above dimension {DIAGONAL_MAX_DIM} (this sector has {self.dim})")
        tol = check_positive("tol", self.tol)
        if tol >= 1e-3:
            raise ParameterError("tol", self.tol, "a tolerance > 0 and < 1e-3, e.g. tol = 1e-12")
        object.__setattr__(self, "tol", tol)
        object.__setattr__(self, "times", check_times(self.times, None))

    @property
    def L(self) -> int:
        return 2 * self.l

    def bulk_widths(self) -> np.ndarray:
        """Per-site widths without the profile: W_s on sites 1..l, W_e on l+1..2l."""
        return np.concatenate([np.full(self.l, self.W_s), np.full(self.l, self.W_e)])

    def widths(self) -> np.ndarray:
        """Per-site disorder widths w_j (fields uniform in [-w_j, w_j]), the profile's where it names a site."""
        return profile_widths(self.profile, self.bulk_widths())

    @property
    def factors(self) -> tuple[float, float]:
        """(exchange, field) multipliers of the spin-operator Hamiltonian for ``operators``."""
        return OPERATORS[self.operators]

    @property
    def n_up(self) -> int:
        return int(initial_bits(self).sum())

    @property
    def dim(self) -> int:
        return math.comb(self.L, self.n_up)

    def solver(self) -> str:
        if self.method != "auto":
            return self.method
        return "exact" if self.diagonal or self.dim <= self.exact_max_dim else "krylov"


def _neel(l: int, up_on_even: bool) -> list[int]:
    """One chain's Neel bits, its site 1 first: up on the even sites (|psi_even>) or the odd ones."""
    return [int((i % 2 == 0) == up_on_even) for i in range(1, l + 1)]


def initial_bits(p: Params) -> np.ndarray:
    """Bits of the initial state, site 1 first (1 = up), validating ``initial``."""
    l = p.l
    if p.initial == "aligned":
        return np.array(_neel(l, True) + _neel(l, True))
    if p.initial == "misaligned":
        return np.array(_neel(l, True) + _neel(l, False))
    s = p.initial
    if not isinstance(s, str) or len(s) != 2 * l or set(s) - {"0", "1"}:
        raise ParameterError("initial", s, f'"aligned", "misaligned", or a string of {2 * l} bits (site 1 first, 1 = up)')
    return np.array([int(c) for c in s])


@dataclass(frozen=True)
class Sector:
    """The S^z sector of 2l sites, with its spins and the hop patterns of both couplings."""

    states: np.ndarray
    spins: np.ndarray
    chain_hops: tuple
    int_hops: tuple
    chain_zz: np.ndarray
    int_zz: np.ndarray

    @property
    def dim(self) -> int:
        return self.states.size


def _bonds(l: int, config: str) -> tuple[np.ndarray, np.ndarray]:
    """0-based (chain bonds, coupling bonds)."""
    chain = [(i, i + 1) for i in range(l - 1)] + [(i, i + 1) for i in range(l, 2 * l - 1)]
    inter = [(l - 1, l)] if config == "junction" else [(i, i + l) for i in range(l)]
    return np.array(chain, dtype=np.int64).reshape(-1, 2), np.array(inter, dtype=np.int64).reshape(-1, 2)


@lru_cache(maxsize=8)
def sector(l: int, n_up: int, config: str) -> Sector:
    """Basis, S^z per site and the couplings' patterns (built once per shape and process)."""
    L = 2 * l
    states = sb.sector_states(L, n_up)
    spins = sb.site_spins(states, L)
    chain, inter = _bonds(l, config)
    return Sector(
        states,
        spins,
        sb.exchange_pattern(states, L, chain),
        sb.exchange_pattern(states, L, inter),
        sb.ising_diagonal(spins, chain, np.ones(len(chain))),
        sb.ising_diagonal(spins, inter, np.ones(len(inter))),
    )


@dataclass(frozen=True)
class Draws:
    """Fields h_1..h_2l (system first)."""

    h: np.ndarray


def sample(p: Params, rng: np.random.Generator) -> Draws:
    # one call over both chains: the same stream as the two draws of earlier versions, bit for bit (tested)
    return Draws(h=draw_fields(rng, p.bulk_widths(), 2 * p.l, p.profile))


def warmup_params() -> Params:
    return Params(l=2, times=(0.5, 1.0), window_start=1.0, window_stop=2.0, window_points=3, method="krylov")


def hamiltonian(p: Params, h: np.ndarray) -> SparseHamiltonian:
    """H in the sector of the initial state: two amplitude classes (J/2 in the chains, J_int/2 across,
    times the exchange factor of ``operators``)."""
    s = sector(p.l, p.n_up, p.config)
    fj, fh = p.factors
    diag = fh * (s.spins @ h) + fj * (p.J * s.chain_zz + p.J_int * s.int_zz)
    return SparseHamiltonian.from_patterns(diag, [s.chain_hops, s.int_hops], [0.5 * fj * p.J, 0.5 * fj * p.J_int])


def memory_bytes(p: Params) -> int:
    d = p.dim
    dense = 8 * 3.2 * d * d if p.solver() == "exact" else 0
    return int(dense + 16 * d * (len(p.times) + p.window_points + 8) + 200 * 2**20)


def cost(p: Params) -> float:
    """Estimated CPU seconds of one realization (calibrated by benchmarks/bench_cost.py): the eigendecomposition
    (dim^3) and dim^2 per output time, or Chebyshev terms x non-zeros of the polynomial propagator."""
    d = float(p.dim)
    n_times = len(p.times) + p.window_points
    if p.solver() == "exact":
        return 1.2e-10 * d**3 + 1.5e-9 * d * d * n_times + 2e-3
    bonds = 2 * (p.l - 1) + (1 if p.config == "junction" else p.l)
    fj, fh = p.factors
    R = fh * float(np.sum(p.widths())) / 4.0 + 0.75 * fj * (abs(p.J) * 2 * (p.l - 1) + abs(p.J_int) * (bonds - 2 * (p.l - 1))) + 1.0
    t = max(p.window_stop, p.times[-1] if p.times else 0.0)
    nnz = d * (1.0 + bonds / 2.0)
    return 0.7e-9 * nnz * propagation_terms(R, t, n_times, p.tol) + 1e-8 * d * p.L * n_times + 1e-3


def schema(p: Params) -> dict[str, dict[str, np.ndarray]]:
    t = np.asarray(p.times)
    site = np.arange(1, p.L + 1)
    out = {
        "M": {"t": t, "part": PARTS},
        "F": {"t": t, "part": PARTS},
        "M_window": {"part": PARTS},
        "F_window": {"part": PARTS},
        "Sz_window": {"site": site},
        "energy_drift": {},
    }
    if p.diagonal:
        out.update(M_diag={"part": PARTS}, F_diag={"part": PARTS}, Sz_diag={"site": site})
    return out


def window_times(p: Params) -> np.ndarray:
    return np.linspace(p.window_start, p.window_stop, p.window_points)


def _trapezoid_weights(t: np.ndarray) -> np.ndarray:
    w = np.zeros_like(t)
    dt = np.diff(t)
    w[:-1] += dt / 2
    w[1:] += dt / 2
    return w / (t[-1] - t[0])


def _part_matrices(p: Params, s: Sector):
    """Staggering (L, 2): column k averages 2 sigma_i S^z_i over part k; masks of 'part in its initial bits'."""
    bits = initial_bits(p)
    sigma = 2.0 * bits - 1.0
    l = p.l
    stag = np.zeros((p.L, 2))
    stag[:l, 0] = 2.0 * sigma[:l] / l
    stag[l:, 1] = 2.0 * sigma[l:] / l
    code = int(sum(int(b) << i for i, b in enumerate(bits)))
    lo_mask = (1 << l) - 1
    hi_mask = lo_mask << l
    in_sys = (s.states & lo_mask) == (code & lo_mask)
    in_env = (s.states & hi_mask) == (code & hi_mask)
    return stag, np.stack([in_sys, in_env], axis=1).astype(float), code


def diagonal_occupation(E: np.ndarray, V: np.ndarray, c: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Infinite-time average of |psi_a(t)|^2 per basis state a: sum_E |(P_E psi_0)_a|^2.

    P_E projects on the eigenspace of E (levels closer than ``tol`` are one
    eigenspace), so degenerate spectra (a clean chain, J_int = 0) are handled;
    for non-degenerate levels this is sum_n |c_n|^2 |<a|n>|^2.
    """
    starts = np.concatenate([[0], np.flatnonzero(np.diff(E) > tol) + 1])
    proj = np.add.reduceat(V * c[None, :], starts, axis=1)  # columns: P_E psi_0
    return np.sum(proj * proj, axis=1)


def realize(p: Params, d: Draws) -> dict[str, np.ndarray]:
    """Quench from the initial product state; M, F, window and (exact path) diagonal-ensemble values."""
    s = sector(p.l, p.n_up, p.config)
    H = hamiltonian(p, d.h)
    stag, masks, code = _part_matrices(p, s)
    start = int(np.searchsorted(s.states, code))
    tw = window_times(p)
    times = np.asarray(p.times)
    all_t = np.concatenate([times, tw])
    out: dict[str, np.ndarray] = {}
    Hcsr = H.to_csr()  # for <H>(t) on both paths
    energy0 = float(H.diag[start])
    if p.solver() == "exact":
        E, V = eigh(Hcsr.toarray(), overwrite_a=True, check_finite=False)
        c = V[start].copy()  # <n|psi_0>
        psi_t = V @ (c[:, None] * np.exp(-1j * np.outer(E, all_t)))  # (dim, nt)
        probs = psi_t.real**2 + psi_t.imag**2
        e_t = np.real(np.sum(psi_t.conj() * (Hcsr @ psi_t), axis=0))  # <H>(t) from the evolved states
        if p.diagonal:
            occ = diagonal_occupation(E, V, c)
            sz_diag = s.spins.T @ occ
            out.update(M_diag=stag.T @ sz_diag, F_diag=masks.T @ occ, Sz_diag=sz_diag)
    else:
        prop = ChebyshevPropagator(H, tol=p.tol)
        order = np.argsort(all_t, kind="stable")
        psi = np.zeros(s.dim, dtype=np.complex128)
        psi[start] = 1.0
        probs = np.empty((s.dim, all_t.size))
        e_t = np.empty(all_t.size)
        previous = 0.0
        for j in order:
            prop.evolve(psi, all_t[j] - previous)
            previous = all_t[j]
            probs[:, j] = psi.real**2 + psi.imag**2
            e_t[j] = float(np.real(np.vdot(psi, Hcsr @ psi)))
    sz = s.spins.T @ probs  # (L, nt)
    M = stag.T @ sz  # (2, nt)
    F = masks.T @ probs
    nt = times.size
    wts = _trapezoid_weights(tw)
    out.update(
        M=M[:, :nt].T.copy(),
        F=F[:, :nt].T.copy(),
        M_window=M[:, nt:] @ wts,
        F_window=F[:, nt:] @ wts,
        Sz_window=sz[:, nt:] @ wts,
        energy_drift=np.array(float(np.max(np.abs(e_t - energy0)))),
    )
    return out

