r"""Exact noise average of the Anderson (XX, Delta = 0) chain under the protocol of Eq. (4): no noise to sample.

Paper 003, Sec. II and Appendix B. The chain is that of :mod:`kernels.front.anderson_trajectory` (open boundaries,
spin-1/2 operators S = sigma/2, h_j uniform in [-W, W]); it maps to free fermions with the
single-particle matrix ``Q = diag(h) + (J/2)(hops)``. Averaged over the
Gaussian kick ``eta_n ~ N(0, tau)`` of Eq. (4), one step acts on the
two-point function ``G_ij = <c_i^dag c_j>`` by a closed linear map:

.. math::

    G \;\to\; D \circ \bigl(e^{-i\tau Q}\, G\, e^{i\tau Q}\bigr),\qquad
    D_{ij} = \begin{cases} e^{-\gamma^2\tau/2} & i = 1 \ne j \text{ or } j = 1 \ne i,\\ 1 & \text{otherwise,}\end{cases}

(the average of ``exp(-+i gamma eta)``), i.e. the free step, then the
off-diagonal entries of row 1 and column 1 multiplied by
``exp(-gamma^2 tau / 2)``. In the eigenbasis of Q (``Q = V diag(eps) V^T``)
the free step is a phase ``exp(-i (eps_m - eps_n) tau)`` per entry and the
damping the rank-two update ``G <- G - c (v u^dag + u v^T) + 2 c s v v^T``
with ``v = V^T e_1``, ``u = G v``, ``s = v^T G v`` and ``c = 1 - exp(-gamma^2 tau / 2)``:
O(L^2) per step, one pass over the matrix.

One realization is one disorder sample: the noiseless reference (gamma = 0,
a phase per mode) and the exact noise average on the same fields, with the
observables of :mod:`kernels.front.anderson_trajectory` (so the same front analysis
applies) and no noise variance at all. ``Szg`` here is what the average of
infinitely many ``anderson_trajectory`` trajectories on these fields gives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kernels._profile import draw_fields
from kernels.jit import jit

from kernels.front._trajectory import (
    TRAJECTORY_DISTRIBUTIONS,
    TRAJECTORY_LABELS,
    TRAJECTORY_OBSERVABLES,
    TRAJECTORY_UNITS,
    TrajectoryParams,
    neel_sites,
    observables,
    trajectory_schema,
)
from kernels.front.anderson_trajectory import _reference_densities
from kernels.numerics.spectral import tridiagonal_eigh

__all__ = [
    "ANALYSIS",
    "DEFAULT_TIMES",
    "NAME",
    "OBSERVABLES",
    "SUMMARY",
    "TIME_STEP",
    "Draws",
    "Params",
    "averaged_densities",
    "cost",
    "memory_bytes",
    "realize",
    "sample",
    "schema",
    "warmup_params",
]

NAME = "anderson_exact"
ANALYSIS = "front"
SUMMARY = "exact noise average of the Anderson (XX) chain: the two-point function under the averaged Eq. (4); paper 003"
DEFAULT_TIMES = {"start": 1.0, "stop": 1000.0, "num": 31}
#: Sample times must be multiples of this parameter (a spec's log grid is snapped to it).
TIME_STEP = "tau"
OBSERVABLES = {**TRAJECTORY_OBSERVABLES, "Szg": "<S^z_j>(t) of the exact noise average of Eq. (4) (the two-point function's channel)"}
UNITS = TRAJECTORY_UNITS
LABELS = TRAJECTORY_LABELS
DISTRIBUTIONS = TRAJECTORY_DISTRIBUTIONS


@dataclass(frozen=True)
class Params(TrajectoryParams):
    """Parameters of one disorder sample (see TrajectoryParams); the noise is averaged exactly."""


@dataclass(frozen=True)
class Draws:
    """The fields of one realization (there is no noise to draw).

    Attributes
    ----------
    h : ndarray[float64], shape (L,)
    """

    h: np.ndarray


def sample(p: Params, rng: np.random.Generator) -> Draws:
    """The fields, drawn first as in the trajectory kernels (same seed, same fields)."""
    return Draws(h=draw_fields(rng, p.W, p.L, p.profile))


def warmup_params() -> Params:
    return Params(L=4, W=1.0, times=(0.05, 0.1))


def schema(p: Params) -> dict[str, dict[str, np.ndarray]]:
    return trajectory_schema(p)


def cost(p: Params) -> float:
    """Estimated CPU seconds of one realization (benchmarks/bench_cost.py): a pass over G per Trotter step,
    and O(L^3) per sample time."""
    L, T = p.L, len(p.times)
    return 4e-10 * L * L * float(p.steps[-1]) + 2e-10 * 2 * T * L**3 + 1e-3


def memory_bytes(p: Params) -> int:
    """G (real and imaginary parts), V and the work arrays: a few L x L matrices, and the process."""
    return int(8 * 8 * p.L * p.L + 8 * 4 * len(p.times) * p.L + 150 * 2**20)


def realize(p: Params, d: Draws) -> dict[str, np.ndarray]:
    """The reference and the exact noise average; <S^z_j> and imbalances at the sample times."""
    if d.h.shape != (p.L,):
        raise ValueError(f"draws do not match params: h {d.h.shape}, expected ({p.L},)")
    eps, V = tridiagonal_eigh(d.h, np.full(p.L - 1, 0.5 * p.J))
    V = np.ascontiguousarray(V)
    X0 = np.ascontiguousarray(V[neel_sites(p.L), :].T)
    n0 = np.empty((len(p.times), p.L))
    _reference_densities(eps, V, X0, np.asarray(p.times, dtype=float), n0)
    ng = averaged_densities(p, eps, V)
    return observables(n0 - 0.5, ng - 0.5)


def averaged_densities(p: Params, eps: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Site densities <n_j> of the noise-averaged state at the sample times, shape (T, L)."""
    G0 = V[neel_sites(p.L), :].T @ V[neel_sites(p.L), :]  # V^T diag(occupations) V, real symmetric
    Gr = np.ascontiguousarray(G0)
    Gi = np.zeros_like(Gr)
    c = -math.expm1(-0.5 * p.gamma**2 * p.tau)  # 1 - exp(-gamma^2 tau / 2)
    out = np.empty((len(p.times), p.L))
    _averaged(Gr, Gi, eps, V, np.ascontiguousarray(V[0, :]), c, p.tau, p.steps, out)
    return out


@jit
def _averaged(Gr, Gi, eps, V, v, c, tau, steps, out):
    """The averaged protocol, step by step, on the Hermitian G in Q's eigenbasis.

    Each pass applies the previous step's damping (coefficients u, s), then this
    step's phases, and accumulates u = G v for this step's damping, which the
    next pass applies (or, at a sample step, a pass of its own before the
    densities are taken).
    """
    L = Gr.shape[0]
    pr = np.cos(tau * eps)
    pi = -np.sin(tau * eps)
    ur = np.zeros(L)  # u = G v of the step whose damping is pending (zero: none pending)
    ui = np.zeros(L)
    nur = np.empty(L)
    nui = np.empty(L)
    s = 0.0
    k = 0
    for n in range(1, steps[-1] + 1):
        _pass(Gr, Gi, v, ur, ui, s, c, pr, pi, nur, nui)
        ur[:] = nur
        ui[:] = nui
        s = 0.0
        for m in range(L):
            s += v[m] * nur[m]
        if n == steps[k]:
            _damp(Gr, Gi, v, ur, ui, s, c)
            ur[:] = 0.0
            ui[:] = 0.0
            s = 0.0
            _site_densities(Gr, Gi, V, out[k])
            k += 1


@jit
def _pass(Gr, Gi, v, ur, ui, s, c, pr, pi, nur, nui):
    """Pending damping G -= c (v u^dag + u v^T) - 2 c s v v^T, then G_mn *= p_m conj(p_n); nu = G v after.

    The full matrix, row by row, each row one contiguous loop. G v is gathered
    as nu_j = sum_m conj(G_mj) v_m (G is Hermitian), an update of a vector along
    the inner loop, so the loop vectorizes without reassociating a sum.
    """
    L = Gr.shape[0]
    nur[:] = 0.0
    nui[:] = 0.0
    for m in range(L):
        vm, urm, uim = v[m], ur[m], ui[m]
        am, bm = pr[m], pi[m]
        two_s_vm = 2.0 * s * vm
        for j in range(L):
            vj = v[j]
            # v_m conj(u_j) + u_m v_j - 2 s v_m v_j
            xr = Gr[m, j] - c * (vm * ur[j] + (urm - two_s_vm) * vj)
            xi = Gi[m, j] - c * (uim * vj - vm * ui[j])
            # phase p_m conj(p_j) = (am + i bm)(pr_j - i pi_j)
            fr = am * pr[j] + bm * pi[j]
            fi = bm * pr[j] - am * pi[j]
            yr = xr * fr - xi * fi
            yi = xr * fi + xi * fr
            Gr[m, j] = yr
            Gi[m, j] = yi
            nur[j] += yr * vm
            nui[j] -= yi * vm


@jit
def _damp(Gr, Gi, v, ur, ui, s, c):
    """The pending damping alone (before densities are taken at a sample step)."""
    L = Gr.shape[0]
    for m in range(L):
        for j in range(L):
            Gr[m, j] -= c * (v[m] * ur[j] + ur[m] * v[j] - 2.0 * s * v[m] * v[j])
            Gi[m, j] -= c * (ui[m] * v[j] - v[m] * ui[j])


@jit
def _site_densities(Gr, Gi, V, out):
    """n_j = (V G V^T)_jj = sum_mn V_jm Re(G_mn) V_jn (G is Hermitian: the imaginary parts cancel)."""
    W = np.dot(V, Gr)  # (V Re G)_jn
    for j in range(V.shape[0]):
        acc = 0.0
        for n in range(V.shape[1]):
            acc += W[j, n] * V[j, n]
        out[j] = acc
