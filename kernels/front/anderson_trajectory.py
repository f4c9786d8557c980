r"""Noisy trajectory of the Anderson (XX, Delta = 0) chain as a Gaussian state.

Paper 003 (thermalization front), Sec. II and Appendix B. The chain

.. math::

    H_0 = \sum_{j=1}^{L} h_j S^z_j + J \sum_{j=1}^{L-1} (S^x_j S^x_{j+1} + S^y_j S^y_{j+1}),
    \qquad h_j \in [-W, W] \text{ uniform},

Open boundaries (bonds j, j+1 for j < L), spin-1/2 operators S = sigma/2, fields h_j uniform in
[-W, W]. The chain maps by Jordan-Wigner onto free fermions with the single-particle matrix
``Q = diag(h) + (J/2) (hops)`` (Eq. B1 with Delta = 0). One trajectory step is
Eq. (4), ``U_n = exp(-i eta_n gamma S^z_1) exp(-i tau H_0)`` with
``eta_n ~ N(0, tau)``; on the L x N orbital matrix of the Slater determinant
it is Eq. (B4), ``W <- K_n exp(-i tau Q) W``.

The literal Eq. (B4) costs O(L^2 N) per step. Here the orbitals are kept in
the eigenbasis of ``Q``, where the free step is a phase per mode and the kick
``K_n = 1 + (e^{-i eta_n gamma} - 1) e_1 e_1^T`` is the rank-one update
``1 + c v v^T`` with ``v = V^T e_1``: O(L N) per step. The orbitals go back to
sites (O(L^2 N)) only at the sample times.

The state starts in the Neel state with site 1 up (fermions on sites
1, 3, 5, ...), so ``I(0) = 1`` with the imbalance of the seeds README,
``I = (2/L) sum_j (-1)^(j-1) <S^z_j>``.

One realization evolves the noiseless reference (gamma = 0, exact, no
Trotter error since ``U_n`` is then ``exp(-i tau H_0)``) and the noisy
trajectory on the same fields: the paper's paired design.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from kernels.jit import jit

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
    imbalance,
    jump_probability,
    neel_sites,
    observables,
    sample,
    trajectory_schema,
)
from kernels.numerics.spectral import tridiagonal_eigh

__all__ = [
    "SUMMARY",
    "ANALYSIS",
    "DEFAULT_TIMES",
    "NAME",
    "Draws",
    "Params",
    "cost",
    "imbalance",
    "memory_bytes",
    "neel_sites",
    "realize",
    "realize_literal",
    "realize_stepwise",
    "sample",
    "schema",
    "single_particle_hamiltonian",
    "warmup_params",
]

NAME = "anderson_trajectory"
ANALYSIS = "front"
SUMMARY = "noisy trajectory of the Anderson (XX) chain as a Gaussian state; paper 003, Delta = 0"

# The family's declarations (what each output is, its units and label, default times and distributions):
# one place, kernels.front._trajectory.
DEFAULT_TIMES = TRAJECTORY_TIMES
TIME_STEP = TRAJECTORY_TIME_STEP
DISTRIBUTIONS = TRAJECTORY_DISTRIBUTIONS
OBSERVABLES = TRAJECTORY_OBSERVABLES
UNITS = TRAJECTORY_UNITS
LABELS = TRAJECTORY_LABELS


@dataclass(frozen=True)
class Params(NoisyTrajectoryParams):
    """Parameters of one Anderson-chain noisy trajectory (see NoisyTrajectoryParams)."""


def schema(p: Params) -> dict[str, dict[str, np.ndarray]]:
    """Output schema: observable -> {axis name: coordinates}, in array axis order."""
    return trajectory_schema(p)


def warmup_params() -> Params:
    """A tiny point that runs every jitted path (for warming the Numba cache)."""
    return Params(L=4, W=1.0, times=(0.05, 0.1))


#: Bytes of the interpreter, numpy/numba and a loaded kernel, counted once per realization's worker.
PROCESS_BYTES = 150 * 2**20


def memory_bytes(p: Params) -> int:
    """Peak memory of one realization: the noise sequence (8 bytes per Trotter step, kicks or jumps), the
    eigenvectors V and the orbitals (L^2 each, real and imaginary), the outputs, and the process."""
    L, T = p.L, len(p.times)
    return int(8 * int(p.steps[-1]) + 8 * 6 * L * L + 8 * 4 * T * L + PROCESS_BYTES)


#: CPU seconds per unit of work on the reference machine (benchmarks/bench_cost.py): a step's orbital update
#: (per mode x orbital), a sample's densities (per L^2 N), and the per-realization set-up.
COST_STEP, COST_SAMPLE, COST_SETUP = 3.6e-10, 2.5e-10, 1e-3


def cost(p: Params) -> float:
    """Estimated CPU seconds of one realization: O(L N) per Trotter step (kicks) or per event (jumps: the
    expected q S jumps and the samples), O(L^2 N) per sample time."""
    L, N, T = p.L, p.L // 2, len(p.times)
    passes = float(p.steps[-1]) if p.unraveling == "kicks" else 1.5 * (jump_probability(p) * float(p.steps[-1]) + T)
    return COST_STEP * L * N * passes + COST_SAMPLE * 2 * T * L * L * N + 1e-9 * L**3 + COST_SETUP


def single_particle_hamiltonian(h: np.ndarray, J: float) -> np.ndarray:
    """Dense Q of Eq. (B4): Q_ij = h_j delta_ij + (J/2)(delta_{i,j+1} + delta_{i,j-1})."""
    off = np.full(h.size - 1, 0.5 * J)
    return np.diag(h) + np.diag(off, 1) + np.diag(off, -1)


def realize(p: Params, d: Draws) -> dict[str, np.ndarray]:
    """Evolve the reference and the noisy trajectory; observables at the sample times.

    Parameters
    ----------
    p : Params
    d : Draws
        Explicit fields and noise (``d.eta`` must cover the last sample step;
        with ``unraveling = "jumps"``, ``d.jumps``: each jump is a kick of
        angle pi, the rank-one update ``1 - 2 v v^T``).

    Returns
    -------
    dict
        ``Sz0``, ``Szg``: ndarray[float64], shape (T, L), <S^z_j> without and
        with the bath; ``I0``, ``Ig``: ndarray[float64], shape (T,), imbalances.
    """
    check_draws(p, d)
    steps = p.steps
    eps, V = tridiagonal_eigh(d.h, np.full(p.L - 1, 0.5 * p.J))
    V = np.ascontiguousarray(V)
    X0 = np.ascontiguousarray(V[neel_sites(p.L), :].T)  # (L modes, N orbitals), real
    n0 = np.empty((steps.size, p.L))
    ng = np.empty((steps.size, p.L))
    _reference_densities(eps, V, X0, np.asarray(p.times, dtype=float), n0)
    if p.unraveling == "jumps":
        events = np.union1d(d.jumps, steps).astype(np.int64)
        # the phases of each distinct gap between events, once (gaps repeat: jumps are geometric)
        gaps, which = np.unique(np.diff(events, prepend=0), return_inverse=True)
        angle = -np.outer(gaps * p.tau, eps)
        _jump_densities(V, X0, events, which, np.cos(angle), np.sin(angle), np.isin(events, d.jumps),
                        np.isin(events, steps), ng)  # fmt: skip
    else:
        _trajectory_densities(eps, V, X0, d.kick_angles(p), p.gamma, p.tau, steps, ng)
    return observables(n0 - 0.5, ng - 0.5)


def realize_stepwise(p: Params, d: Draws) -> dict[str, np.ndarray]:
    """Any unraveling step by step (a jump as a kick of angle pi): the reference path for the long steps."""
    check_draws(p, d)
    eps, V = tridiagonal_eigh(d.h, np.full(p.L - 1, 0.5 * p.J))
    V = np.ascontiguousarray(V)
    X0 = np.ascontiguousarray(V[neel_sites(p.L), :].T)
    n0 = np.empty((p.steps.size, p.L))
    ng = np.empty((p.steps.size, p.L))
    _reference_densities(eps, V, X0, np.asarray(p.times, dtype=float), n0)
    _trajectory_densities(eps, V, X0, d.kick_angles(p), p.gamma, p.tau, p.steps, ng)
    return observables(n0 - 0.5, ng - 0.5)


@jit
def _jump_densities(V, X0, events, which, phase_r, phase_i, is_jump, is_sample, out):
    """The jump unraveling in long steps: between events the free evolution is a phase per mode over the
    whole interval (exact, however long), each jump the pi kick X <- X - 2 v (v^T X), at samples the densities.

    One pass over X per event (the kick of the previous event, this interval's phases and the projection
    v^T X, as the kick path fuses them). ``phase_r[which[e]] + i phase_i[which[e]]`` are the modes' phases
    over the interval before event e. A sample at a jump step is taken after the jump, as the kick path
    takes it after the kick.
    """
    L, N = X0.shape
    Xr = X0.copy()
    Xi = np.zeros((L, N))
    v = V[0, :].copy()
    ar = np.empty(N)
    ai = np.empty(N)
    br = np.zeros(N)  # pending kick X <- X + v b^T
    bi = np.zeros(N)
    s = 0
    for e in range(events.size):
        _kick_phase_project(Xr, Xi, phase_r[which[e]], phase_i[which[e]], v, br, bi, ar, ai)
        if is_jump[e]:
            for k in range(N):
                br[k] = -2.0 * ar[k]
                bi[k] = -2.0 * ai[k]
        else:
            br[:] = 0.0
            bi[:] = 0.0
        if is_sample[e]:
            _kick(Xr, Xi, v, br, bi)
            br[:] = 0.0
            bi[:] = 0.0
            _site_densities(V, Xr, Xi, out[s])
            s += 1


@jit
def _site_densities(V, Xr, Xi, out):
    """out[j] = sum_k |(V X)_jk|^2 for the orbitals X = Xr + i Xi given in the eigenbasis."""
    Wr = np.dot(V, Xr)
    Wi = np.dot(V, Xi)
    for j in range(V.shape[0]):
        s = 0.0
        for k in range(Xr.shape[1]):
            s += Wr[j, k] * Wr[j, k] + Wi[j, k] * Wi[j, k]
        out[j] = s


@jit
def _reference_densities(eps, V, X0, times, out):
    """Noiseless evolution exp(-i H_0 t): a phase exp(-i eps_m t) per mode."""
    L, N = X0.shape
    Xr = np.empty((L, N))
    Xi = np.empty((L, N))
    for s in range(times.size):
        for m in range(L):
            c = math.cos(eps[m] * times[s])
            si = -math.sin(eps[m] * times[s])
            for k in range(N):
                Xr[m, k] = c * X0[m, k]
                Xi[m, k] = si * X0[m, k]
        _site_densities(V, Xr, Xi, out[s])


@jit
def _kick_coefficients(ar, ai, cr, ci):
    """b_k = c a_k in place, for the kick 1 + c v v^T."""
    for k in range(ar.size):
        r = cr * ar[k] - ci * ai[k]
        ai[k] = cr * ai[k] + ci * ar[k]
        ar[k] = r


@jit
def _kick(Xr, Xi, v, br, bi):
    """X <- X + v b^T: the kick of Eq. (4) in the eigenbasis."""
    L, N = Xr.shape
    for m in range(L):
        vm = v[m]
        for k in range(N):
            Xr[m, k] += vm * br[k]
            Xi[m, k] += vm * bi[k]


@jit
def _kick_phase_project(Xr, Xi, pr, pi, v, br, bi, ar, ai):
    """Pending kick X <- X + v b^T, then the free step and the projections a_k = sum_m v_m X_mk.

    The kick of step n - 1 and the free part of step n in one pass over X:
    the step is bound by memory traffic. Modes run along the outer loop and
    orbitals along the contiguous inner one, so the loop vectorizes without
    reassociating sums.
    """
    L, N = Xr.shape
    ar[:] = 0.0
    ai[:] = 0.0
    for m in range(L):
        a, b, vm = pr[m], pi[m], v[m]
        for k in range(N):
            yr = Xr[m, k] + vm * br[k]
            yi = Xi[m, k] + vm * bi[k]
            xr = yr * a - yi * b
            xi = yr * b + yi * a
            Xr[m, k] = xr
            Xi[m, k] = xi
            ar[k] += vm * xr
            ai[k] += vm * xi


@jit
def _trajectory_densities(eps, V, X0, eta, gamma, tau, steps, out):
    """Noisy trajectory of Eq. (4); site densities written at each sample step.

    Each step's kick is left pending (coefficients b) and applied in the
    same pass as the next step's free part; at a sample step it is applied
    at once so the densities see the whole step.
    """
    L, N = X0.shape
    Xr = X0.copy()
    Xi = np.zeros((L, N))
    pr = np.cos(tau * eps)
    pi = -np.sin(tau * eps)
    v = V[0, :].copy()
    ar = np.empty(N)
    ai = np.empty(N)
    br = np.zeros(N)
    bi = np.zeros(N)
    s = 0
    for n in range(1, steps[-1] + 1):
        _kick_phase_project(Xr, Xi, pr, pi, v, br, bi, ar, ai)
        phi = eta[n - 1] * gamma
        br[:] = ar
        bi[:] = ai
        _kick_coefficients(br, bi, math.cos(phi) - 1.0, -math.sin(phi))
        if n == steps[s]:
            _kick(Xr, Xi, v, br, bi)
            br[:] = 0.0
            bi[:] = 0.0
            _site_densities(V, Xr, Xi, out[s])
            s += 1


def realize_literal(p: Params, d: Draws) -> dict[str, np.ndarray]:
    """The literal Eq. (B4): dense ``W <- K_n expm(-i tau Q) W`` on sites, O(L^2 N) per step.

    The reference run and the benchmark baseline for :func:`realize`; the
    noiseless copy uses ``expm(-i Q t)`` at each sample time.
    """
    from scipy.linalg import expm  # the literal method only (validation and workers of realize need no SciPy)

    Q = single_particle_hamiltonian(d.h, p.J)
    occ = neel_sites(p.L)
    W0 = np.eye(p.L, dtype=complex)[:, occ]
    U = expm(-1j * p.tau * Q)
    steps = p.steps
    n0 = np.array([np.sum(np.abs(expm(-1j * t * Q) @ W0) ** 2, axis=1) for t in p.times])
    ng = np.empty_like(n0)
    W, s = W0.copy(), 0
    eta = d.kick_angles(p)
    for n in range(1, steps[-1] + 1):
        W = U @ W
        W[0, :] *= np.exp(-1j * eta[n - 1] * p.gamma)
        if n == steps[s]:
            ng[s] = np.sum(np.abs(W) ** 2, axis=1)
            s += 1
    return observables(n0 - 0.5, ng - 0.5)
