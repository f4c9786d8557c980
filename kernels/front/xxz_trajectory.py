r"""Noisy trajectory of the interacting XXZ chain in the Neel state's S^z sector.

Paper 003, Eqs. (1)-(6), Delta = 1 by default:

.. math::

    H_0 = \sum_j h_j S^z_j + J \sum_{j=1}^{L-1} (S^x_j S^x_{j+1} + S^y_j S^y_{j+1}
          + \Delta S^z_j S^z_{j+1}),\qquad U_n = e^{-i \eta_n \gamma S^z_1} e^{-i\tau H_0},

Open boundaries (bonds j, j+1 for j < L), spin-1/2 operators S = sigma/2, with ``h_j`` uniform in [-W, W] and ``eta_n ~ N(0, tau)``, restricted to
``S^z_tot = 0`` (dimension C(L, L/2)). ``exp(-i tau H_0)`` is applied by a
Chebyshev expansion (:mod:`kernels.numerics.chebyshev`) whose truncation error per
application is below ``tol``; the kick is a phase per basis state. The
noiseless reference ``|psi_0(t)>`` is evolved on the same fields, between
sample times in long Chebyshev steps. With ``unraveling = "jumps"`` (the same
noise-averaged channel, see :mod:`kernels.front._trajectory`) the noisy trajectory
is evolved the same way, in long steps between jumps of Z_1 (cheaper per
realization: README, benchmarks/bench_xxz.py).

Draws and observables are those of :mod:`kernels.front.anderson_trajectory`
(same sampling order, so Delta = 0 reproduces that kernel on the same seed),
so the same front analysis and plots apply.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from kernels.jit import jit

from kernels.numerics import spin_basis as sb
from kernels._params import ParameterError, check_positive, check_real
from kernels.front._trajectory import (
    TRAJECTORY_DISTRIBUTIONS,
    TRAJECTORY_TIME_STEP,
    TRAJECTORY_TIMES,
    TRAJECTORY_LABELS,
    TRAJECTORY_OBSERVABLES,
    TRAJECTORY_UNITS,
    Draws,
    NoisyTrajectoryParams,
    check_draws,
    jump_probability,
    observables,
    sample,
    trajectory_schema,
)
from kernels.numerics.chebyshev import ChebyshevPropagator, SparseHamiltonian, chebyshev_apply, propagation_terms

__all__ = [
    "SUMMARY",
    "ANALYSIS",
    "DEFAULT_TIMES",
    "MAX_L",
    "NAME",
    "Draws",
    "Params",
    "Sector",
    "cost",
    "hamiltonian",
    "hopping_range",
    "memory_bytes",
    "realize",
    "sample",
    "schema",
    "sector",
    "warmup_params",
]

NAME = "xxz_trajectory"
ANALYSIS = "front"
SUMMARY = "noisy trajectory of the XXZ chain in the Neel S^z sector (Chebyshev propagator); paper 003"
# The family's declarations (what each output is, its units and label, default times and distributions):
# one place, kernels.front._trajectory.
DEFAULT_TIMES = TRAJECTORY_TIMES
TIME_STEP = TRAJECTORY_TIME_STEP
DISTRIBUTIONS = TRAJECTORY_DISTRIBUTIONS
OBSERVABLES = TRAJECTORY_OBSERVABLES
UNITS = TRAJECTORY_UNITS
LABELS = TRAJECTORY_LABELS
#: Largest chain: C(24, 12) = 2.7e6 states.
MAX_L = 24


@dataclass(frozen=True)
class Params(NoisyTrajectoryParams):
    """Parameters of one XXZ noisy trajectory (see NoisyTrajectoryParams), plus:

    Delta : float
        Ising anisotropy (paper: 1).
    tol : float
        Norm-error bound of each application of exp(-i dt H_0).
    """

    L: int = 12
    Delta: float = 1.0
    tol: float = 1e-12

    def __post_init__(self):
        super().__post_init__()
        if self.L > MAX_L:
            raise ParameterError("L", self.L, f"an even integer <= {MAX_L} (the sector has C(L, L/2) states)")
        object.__setattr__(self, "Delta", check_real("Delta", self.Delta))
        tol = check_positive("tol", self.tol)
        if tol >= 1e-3:
            raise ParameterError("tol", self.tol, "a tolerance > 0 and < 1e-3, e.g. tol = 1e-12")
        object.__setattr__(self, "tol", tol)


@dataclass(frozen=True)
class Sector:
    """The S^z_tot = 0 sector of an L-site open chain, independent of the fields.

    Attributes
    ----------
    states : ndarray[int64], shape (dim,)
    spins : ndarray[float64], shape (dim, L)
        S^z_j of each basis state.
    hops : tuple of ndarray
        (indptr, indices) pattern of sum_j (S^+_j S^-_{j+1} + h.c.).
    zz : ndarray[float64], shape (dim,)
        sum_j S^z_j S^z_{j+1}.
    neel : int
        Index of the Neel state with site 1 up.
    """

    states: np.ndarray
    spins: np.ndarray
    hops: tuple
    zz: np.ndarray
    neel: int

    @property
    def dim(self) -> int:
        return self.states.size


@lru_cache(maxsize=4)
def sector(L: int) -> Sector:
    """The sector of the Neel state (built once per L and process)."""
    states = sb.sector_states(L, L // 2)
    bonds = sb.chain_bonds(L)
    spins = sb.site_spins(states, L)
    zz = sb.ising_diagonal(spins, bonds, np.ones(L - 1))
    neel = int(np.searchsorted(states, sb.neel_state(L)))
    return Sector(states, spins, sb.exchange_pattern(states, L, bonds), zz, neel)


def hopping_range(L: int) -> tuple[float, float]:
    """Extreme eigenvalues of sum_j (S^+_j S^-_{j+1} + h.c.) in the half-filled sector, closed form.

    By Jordan-Wigner this is free fermions with unit hopping on an open chain:
    modes 2 cos(pi k / (L + 1)), L/2 of them filled. The spectrum is symmetric.
    """
    top = 2.0 * float(np.sum(np.cos(np.pi * np.arange(1, L // 2 + 1) / (L + 1))))
    return -top, top


def hamiltonian(p: Params, h: np.ndarray) -> SparseHamiltonian:
    """H_0 of Eq. (1) in the sector, with the closed-form range of its hopping part."""
    s = sector(p.L)
    lo, hi = (0.5 * abs(p.J) * v for v in hopping_range(p.L))
    margin = 1e-9 * (1.0 + abs(hi))  # rounding of the closed form
    return SparseHamiltonian.from_patterns(
        s.spins @ h + p.J * p.Delta * s.zz, [s.hops], [0.5 * p.J], offdiag_range=(lo - margin, hi + margin)
    )


#: CPU seconds per stored non-zero of one matrix-vector product, and per basis state of a kick
#: (calibrated by benchmarks/bench_cost.py on the reference machine)
COST_NONZERO, COST_KICK = 0.8e-9, 4e-9


def half_width(p: Params) -> float:
    """An estimate of the spectral half-width the propagator expands over (fields, Ising and hopping parts)."""
    return p.L * (float(np.mean(p.widths())) / 4.0 + abs(p.J * p.Delta) / 8.0 + abs(p.J) / math.pi) + 1.0


def cost(p: Params) -> float:
    """Estimated CPU seconds of one realization: Chebyshev terms x non-zeros, for the reference and the trajectory.

    Kicks: a tau-step (and a kick) per Trotter step; jumps: long steps between the
    expected q S jumps and the sample times.
    """
    dim = math.comb(p.L, p.L // 2)
    nnz = dim * (1.0 + (p.L - 1) / 2.0)
    R, t, T, S = half_width(p), float(p.times[-1]), len(p.times), float(p.steps[-1])
    terms = propagation_terms(R, t, T, p.tol)  # the noiseless reference
    if p.unraveling == "kicks":
        terms += propagation_terms(R, p.tau, 1, p.tol) * S
        kicks = S * dim
    else:
        events = jump_probability(p) * S + T
        terms += propagation_terms(R, t, events, p.tol)
        kicks = events * dim
    return COST_NONZERO * nnz * terms + COST_KICK * kicks + 2e-3


def memory_bytes(p: Params) -> int:
    """Peak memory of one realization: the sector (states, S^z of every site, the hop pattern), the state and
    the Chebyshev work vectors, the noise sequence (8 bytes per step for kicks, 1 for jumps) and the process."""
    dim = math.comb(p.L, p.L // 2)
    sector_bytes = dim * (8 + 8 * p.L + 8 + 8 + 4 * (p.L - 1))
    vectors = 16 * dim * 8
    noise = int(p.steps[-1]) * (8 if p.unraveling == "kicks" else 1)
    return int(sector_bytes + vectors + noise + 8 * 4 * len(p.times) * p.L + 150 * 2**20)


def schema(p: Params) -> dict[str, dict[str, np.ndarray]]:
    """Output schema: observable -> {axis name: coordinates}."""
    return trajectory_schema(p)


def warmup_params() -> Params:
    """A tiny point that runs every jitted path."""
    return Params(L=4, W=1.0, times=(0.05, 0.1))


def realize(p: Params, d: Draws) -> dict[str, np.ndarray]:
    """Evolve the reference and the noisy trajectory; <S^z_j> and imbalances at the sample times.

    Parameters
    ----------
    p : Params
    d : Draws
        Explicit fields ``d.h`` (L,) and noise: ``d.eta`` (covering the last
        sample step) for kicks, ``d.jumps`` for jumps.
    """
    check_draws(p, d)
    s = sector(p.L)
    prop = ChebyshevPropagator(hamiltonian(p, d.h), tol=p.tol)
    times = np.asarray(p.times)
    sz0 = np.empty((times.size, p.L))
    psi = np.zeros(s.dim, dtype=np.complex128)
    psi[s.neel] = 1.0
    previous = 0.0
    for i, t in enumerate(times):
        prop.evolve(psi, t - previous)
        _magnetization(psi, s.spins, sz0[i])
        previous = t
    szg = np.empty_like(sz0)
    psi[:] = 0.0
    psi[s.neel] = 1.0
    if p.unraveling == "jumps":
        _jump_trajectory(prop, psi, p, d.jumps, s.spins, szg)
    else:
        _noisy_trajectory(psi, prop.args(p.tau), s.spins[:, 0], d.eta, p.gamma, p.steps, s.spins, szg)
    return observables(sz0, szg)


def _jump_trajectory(prop: ChebyshevPropagator, psi, p: Params, jumps, spins, out) -> None:
    """The jump unraveling: exp(-i k tau H_0) in one long step between events, Z_1 at each jump.

    Events are the jump steps and the sample steps; a sample at a jump step is
    taken after the jump (as after the kick in Eq. (4); Z_1 does not change S^z).
    """
    steps = p.steps
    z1 = np.where(spins[:, 0] > 0, 1.0, -1.0)
    is_jump = np.zeros(int(steps[-1]) + 1, dtype=bool)
    is_jump[jumps] = True
    previous, s = 0, 0
    for e in np.union1d(jumps, steps):
        prop.evolve(psi, (e - previous) * p.tau)
        if is_jump[e]:
            psi *= z1
        if e == steps[s]:
            _magnetization(psi, spins, out[s])
            s += 1
        previous = e


@jit
def _magnetization(psi, spins, out):
    """out[j] = sum_a |psi_a|^2 S^z_j(a)."""
    out[:] = 0.0
    for a in range(psi.size):
        w = psi[a].real * psi[a].real + psi[a].imag * psi[a].imag
        for j in range(spins.shape[1]):
            out[j] += w * spins[a, j]


@jit
def _noisy_trajectory(psi, cheb, s1, eta, gamma, steps, spins, out):
    """Eq. (4) step by step: Chebyshev exp(-i tau H_0), then the kick exp(-i eta gamma S^z_1).

    ``cheb`` is ChebyshevPropagator.args(tau).
    """
    d, indptr, indices, amps, coeffs, w = cheb
    s = 0
    for n in range(1, steps[-1] + 1):
        chebyshev_apply(psi, d, indptr, indices, amps, coeffs, w)
        phi = eta[n - 1] * gamma
        up = np.exp(-0.5j * phi)
        down = np.exp(0.5j * phi)
        for a in range(psi.size):
            psi[a] *= up if s1[a] > 0 else down
        if n == steps[s]:
            _magnetization(psi, spins, out[s])
            s += 1
