"""What the noisy-trajectory kernels of paper 003 share: parameters, draws, imbalance.

Both the Anderson (Delta = 0, Gaussian state) and the XXZ (Krylov-space)
kernels draw their random input here, in the same order, so that on the
same seed they evolve the same fields under the same noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ._params import check_even, check_int, check_nonnegative, check_positive, check_times

__all__ = ["Draws", "TrajectoryParams", "imbalance", "neel_sites", "sample"]


@dataclass(frozen=True)
class TrajectoryParams:
    """Parameters common to the paper-003 trajectory kernels.

    Parameters
    ----------
    L : int
        Chain length, even (Neel state), >= 2.
    W : float
        Disorder strength; fields uniform in [-W, W].
    gamma : float
        Bath coupling of Eq. (3); gamma = 0 makes the noisy copy equal the reference.
    tau : float
        Trotter step of Eq. (4) (paper: 0.05).
    J : float
        Exchange coupling (paper: 1, the energy unit).
    times : tuple of float
        Sample times, > 0, strictly increasing, multiples of tau.
    """

    L: int = 100
    W: float = 5.0
    gamma: float = 1.0
    tau: float = 0.05
    J: float = 1.0
    times: tuple[float, ...] = field(default=(1.0,))

    def __post_init__(self):
        L = check_even("L", check_int("L", self.L, 2), "the Neel state needs L/2 up spins")
        tau = check_positive("tau", self.tau)
        object.__setattr__(self, "L", L)
        object.__setattr__(self, "W", check_nonnegative("W", self.W))
        object.__setattr__(self, "gamma", check_nonnegative("gamma", self.gamma))
        object.__setattr__(self, "tau", tau)
        object.__setattr__(self, "J", check_nonnegative("J", self.J))
        object.__setattr__(self, "times", check_times(self.times, tau))

    @property
    def steps(self) -> np.ndarray:
        """Trotter step index of each sample time, ndarray[int64], shape (T,)."""
        return np.rint(np.asarray(self.times) / self.tau).astype(np.int64)


@dataclass(frozen=True)
class Draws:
    """All random input of one realization.

    Attributes
    ----------
    h : ndarray[float64], shape (L,)
        On-site fields.
    eta : ndarray[float64], shape (S,)
        Noise increments eta_n ~ N(0, tau), n = 1..S with S the last sample step.
    """

    h: np.ndarray
    eta: np.ndarray


def sample(p: TrajectoryParams, rng: np.random.Generator) -> Draws:
    """Draw the fields, then the noise sequence, of one realization."""
    h = rng.uniform(-p.W, p.W, size=p.L)
    eta = rng.normal(0.0, math.sqrt(p.tau), size=int(p.steps[-1]))
    return Draws(h=h, eta=eta)


def check_draws(p: TrajectoryParams, d: Draws) -> None:
    """Raise ValueError if the draws do not cover the parameters."""
    if d.eta.size < p.steps[-1] or d.h.shape != (p.L,):
        raise ValueError(f"draws do not match params: h {d.h.shape}, eta {d.eta.size} < {p.steps[-1]} steps")


def neel_sites(L: int) -> np.ndarray:
    """0-based indices of the occupied (up) sites of the Neel state, site 1 up."""
    return np.arange(0, L, 2, dtype=np.int64)


def imbalance(sz: np.ndarray) -> np.ndarray:
    """I = (2/L) sum_j (-1)^(j-1) <S^z_j> over the last axis (I = 1 in the Neel state)."""
    L = sz.shape[-1]
    sign = np.where(np.arange(L) % 2 == 0, 1.0, -1.0)
    return (2.0 / L) * (sz @ sign)


def trajectory_schema(p: TrajectoryParams) -> dict[str, dict[str, np.ndarray]]:
    """Output schema of the trajectory kernels: observable -> {axis: coordinates}."""
    t = np.asarray(p.times, dtype=float)
    site = np.arange(1, p.L + 1, dtype=np.int64)
    return {
        "Sz0": {"t": t, "site": site},
        "Szg": {"t": t, "site": site},
        "I0": {"t": t},
        "Ig": {"t": t},
    }


def observables(sz0: np.ndarray, szg: np.ndarray) -> dict[str, np.ndarray]:
    """The output dict of a trajectory kernel from the two magnetization profiles."""
    return {"Sz0": sz0, "Szg": szg, "I0": imbalance(sz0), "Ig": imbalance(szg)}
