r"""Exact noise average of the XXZ trajectories: density matrix in the Neel sector (L <= 10).

The chain is that of :mod:`kernels.front.xxz_trajectory` (open boundaries, spin-1/2 operators S = sigma/2,
h_j uniform in [-W, W], the Neel state's S^z sector). Averaging one step of Eq. (4) over ``eta ~ N(0, tau)`` gives the channel

.. math::

    \rho \mapsto D \circ (U \rho U^\dagger), \qquad U = e^{-i\tau H_0},\qquad
    D_{ab} = \exp\!\left(-\tfrac{\gamma^2\tau}{2}(s_a - s_b)^2\right),

with ``s`` the S^z_1 eigenvalue of basis state a (``E[e^{-i gamma eta (s_a - s_b)}]``).
Its continuous-time limit is the Lindblad equation with rate **gamma^2/2**,

.. math::

    \dot\rho = -i[H_0, \rho] - \frac{\gamma^2}{2} [S^z_1, [S^z_1, \rho]],

not the ``gamma^2`` printed in Eq. (2) and Appendix A of paper 003. Both are
solved here on the same fields; their difference is the Trotter error of the
protocol (O(tau)).

As a kernel, one realization draws the fields (exactly as the trajectory
kernels do, first in the stream) and returns the unitary reference ``Sz0``,
the channel ``Szg``, the Lindblad solution ``Szl``, their imbalances and
``trotter`` = max_j |Szg - Szl| at each sample time, so disorder averages of
the exact noise average run through the engine like any kernel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kernels._profile import draw_fields
from scipy.integrate import solve_ivp

from kernels._params import ParameterError, check_positive, check_real
from kernels.front._trajectory import TRAJECTORY_OBSERVABLES, TrajectoryParams, imbalance, trajectory_schema
from kernels.front.xxz_trajectory import hamiltonian, sector

__all__ = [
    "SUMMARY",
    "ANALYSIS",
    "DEFAULT_TIMES",
    "MAX_L",
    "NAME",
    "Draws",
    "Params",
    "channel_magnetization",
    "cost",
    "lindblad_magnetization",
    "memory_bytes",
    "realize",
    "sample",
    "schema",
    "unitary_magnetization",
    "warmup_params",
]

NAME = "xxz_exact"
ANALYSIS = "front"
SUMMARY = "exact noise average (density-matrix channel and gamma^2/2 Lindblad) for L <= 10; paper 003"
DEFAULT_TIMES = {"start": 0.5, "stop": 20.0, "num": 12}
#: Sample times must be multiples of this parameter (a spec's log grid is snapped to it).
TIME_STEP = "tau"
#: What each output is.
OBSERVABLES = {
    **TRAJECTORY_OBSERVABLES,
    "Szg": "<S^z_j>(t) of the exact noise average: the density-matrix channel of Eq. (4)",
    "Szl": "<S^z_j>(t) of the Lindblad equation with rate gamma^2/2 (the channel's continuum limit)",
    "Il": "imbalance of the Lindblad solution",
    "trotter": "max_j |Szg - Szl|: the protocol's Trotter error at each sample time",
}
#: Dense density matrices: C(10, 5) = 252 states.
MAX_L = 10


@dataclass(frozen=True)
class Params(TrajectoryParams):
    """Parameters of the noise-averaged XXZ chain (see TrajectoryParams), plus:

    Delta : float
        Ising anisotropy (paper: 1).
    lindblad : bool
        Also solve the continuous Lindblad equation (for the Trotter error).
    rtol : float
        Relative tolerance of the Lindblad ODE solver (DOP853; atol = rtol / 100).
    """

    L: int = 8
    Delta: float = 1.0
    lindblad: bool = True
    rtol: float = 1e-10

    def __post_init__(self):
        super().__post_init__()
        if self.L > MAX_L:
            raise ParameterError("L", self.L, f"an even integer <= {MAX_L} (dense density matrices of C(L, L/2) states)")
        object.__setattr__(self, "Delta", check_real("Delta", self.Delta))
        if not isinstance(self.lindblad, bool):
            raise ParameterError("lindblad", self.lindblad, "true or false")
        rtol = check_positive("rtol", self.rtol)
        if rtol >= 1e-3:
            raise ParameterError("rtol", self.rtol, "a tolerance > 0 and < 1e-3, e.g. rtol = 1e-10")


@dataclass(frozen=True)
class Draws:
    """The fields of one realization (there is no noise to draw)."""

    h: np.ndarray


def sample(p: Params, rng: np.random.Generator) -> Draws:
    """The fields, drawn first as in the trajectory kernels."""
    return Draws(h=draw_fields(rng, p.W, p.L, p.profile))


def warmup_params() -> Params:
    return Params(L=4, W=1.0, times=(0.05, 0.1))


def cost(p: Params) -> float:
    """Estimated CPU seconds of one realization: dense complex D^3 products per Trotter step (the channel),
    and the Lindblad ODE's stages over the same time (calibrated by benchmarks/bench_cost.py)."""
    dim = math.comb(p.L, p.L // 2)
    channel = float(p.steps[-1]) * (5e-10 * dim**3 + 2e-5)
    return channel + ((9e-8 * dim**3 + 2.5e-3) * p.times[-1] if p.lindblad else 0.0) + 5e-3


def memory_bytes(p: Params) -> int:
    """Peak memory of one realization: dense complex D x D matrices (H, U, rho and the ODE solver's
    stages, about 24 of them with the Lindblad solution, 6 without), D = C(L, L/2), and the process."""
    dim = math.comb(p.L, p.L // 2)
    return int(16 * dim * dim * (24 if p.lindblad else 6) + 150 * 2**20)


def schema(p: Params) -> dict[str, dict[str, np.ndarray]]:
    """Trajectory observables (Sz0, Szg = channel, I0, Ig), plus Szl, Il (Lindblad) and trotter if lindblad."""
    out = trajectory_schema(p)
    if p.lindblad:
        t = out["I0"]["t"]
        out.update(Szl=dict(out["Sz0"]), Il={"t": t}, trotter={"t": t})
    return out


def _dense(p: Params, h: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Dense H_0, S^z_j of each state (dim, L), S^z_1, and rho(0) = |Neel><Neel|."""
    s = sector(p.L)
    H = hamiltonian(p, h).to_csr().toarray()
    rho = np.zeros((s.dim, s.dim), dtype=complex)
    rho[s.neel, s.neel] = 1.0
    return H, s.spins, s.spins[:, 0], rho


def unitary_magnetization(p: Params, h: np.ndarray) -> np.ndarray:
    """<S^z_j>(t) of exp(-i H_0 t)|Neel>, by full diagonalization, shape (T, L)."""
    H, spins, _, rho = _dense(p, h)
    E, V = np.linalg.eigh(H)
    c = V.conj().T @ np.diag(rho).astype(complex)  # rho is a projector on one basis state
    out = []
    for t in p.times:
        psi = V @ (np.exp(-1j * E * t) * c)
        out.append(np.abs(psi) ** 2 @ spins)
    return np.array(out)


def channel_magnetization(p: Params, h: np.ndarray, rate: float | None = None) -> np.ndarray:
    """<S^z_j> of the exact noise-averaged protocol, rho <- D o (U rho U^dag), shape (T, L).

    ``rate`` is the dephasing rate in D_ab = exp(-rate tau (s_a - s_b)^2);
    the protocol of Eq. (4) has rate = gamma^2 / 2 (the default). Other values
    exist for negative controls.
    """
    rate = p.gamma**2 / 2 if rate is None else rate
    H, spins, s1, rho = _dense(p, h)
    E, V = np.linalg.eigh(H)
    U = (V * np.exp(-1j * p.tau * E)) @ V.conj().T
    D = np.exp(-rate * p.tau * (s1[:, None] - s1[None, :]) ** 2)
    steps, out, s = p.steps, [], 0
    Ud = U.conj().T
    for n in range(1, steps[-1] + 1):
        rho = D * (U @ rho @ Ud)
        if n == steps[s]:
            out.append(np.real(np.diag(rho)) @ spins)
            s += 1
    return np.array(out)


def lindblad_magnetization(p: Params, h: np.ndarray, rate: float | None = None) -> np.ndarray:
    """<S^z_j> of the Lindblad equation with dephasing rate gamma^2/2 (default), shape (T, L).

    d rho/dt = -i[H, rho] - rate (s_a - s_b)^2 rho_ab, integrated by DOP853.
    """
    rate = p.gamma**2 / 2 if rate is None else rate
    H, spins, s1, rho0 = _dense(p, h)
    M = rate * (s1[:, None] - s1[None, :]) ** 2
    n = H.shape[0]

    def rhs(_, y):
        rho = y.view(complex).reshape(n, n)
        return (-1j * (H @ rho - rho @ H) - M * rho).ravel().view(float)

    sol = solve_ivp(
        rhs, (0.0, p.times[-1]), rho0.ravel().view(float), method="DOP853",
        t_eval=np.asarray(p.times), rtol=p.rtol, atol=p.rtol / 100,
    )  # fmt: skip
    if not sol.success:
        raise RuntimeError(f"Lindblad integration failed: {sol.message}")
    diag = np.array([np.real(np.diag(np.ascontiguousarray(y).view(complex).reshape(n, n))) for y in sol.y.T])
    return diag @ spins


def realize(p: Params, d: Draws) -> dict[str, np.ndarray]:
    """Unitary reference, exact channel and (optionally) Lindblad solution on the fields d.h."""
    if d.h.shape != (p.L,):
        raise ValueError(f"draws do not match params: h {d.h.shape}, L = {p.L}")
    sz0 = unitary_magnetization(p, d.h)
    szg = channel_magnetization(p, d.h)
    out = {"Sz0": sz0, "Szg": szg, "I0": imbalance(sz0), "Ig": imbalance(szg)}
    if p.lindblad:
        szl = lindblad_magnetization(p, d.h)
        out.update(Szl=szl, Il=imbalance(szl), trotter=np.abs(szg - szl).max(axis=1))
    return out
