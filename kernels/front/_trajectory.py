r"""What the noisy-trajectory kernels of paper 003 share: parameters, draws, imbalance.

Both the Anderson (Delta = 0, Gaussian state) and the XXZ (Krylov-space)
kernels draw their random input here, in the same order, so that on the
same seed they evolve the same fields under the same noise.

Two unravelings of the same noise-averaged protocol
---------------------------------------------------
``unraveling = "kicks"`` (default) is Eq. (4) literally: after each
``exp(-i tau H_0)`` the phase kick ``exp(-i eta_n gamma S^z_1)`` with
``eta_n ~ N(0, tau)``. Averaged over ``eta_n`` one step is the channel
``rho_ab -> exp(-gamma^2 tau (s_a - s_b)^2 / 2) rho_ab`` (s = S^z_1 = +-1/2),
which is the dephasing channel

.. math::

    \rho \to (1 - q)\,\rho + q\, Z_1 \rho Z_1, \qquad
    q = \tfrac12 \bigl(1 - e^{-\gamma^2\tau/2}\bigr), \quad Z_1 = 2 S^z_1,

since ``1 - 2q = exp(-gamma^2 tau / 2)``. ``unraveling = "jumps"`` samples
that channel instead: after each step, independently with probability ``q``,
apply ``Z_1`` (a kick of angle ``eta_n gamma = pi``, up to a global phase).
The noise average of every step, hence of every observable linear in the
state (all of this kernel's outputs), is identical to the kicks' - not an
approximation - while between jumps the evolution is a plain
``exp(-i k tau H_0)``, which a propagator can take in one long step. Single
trajectories (and so the spread over noise) differ between the two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from kernels._profile import canonical_profile, draw_fields, profile_widths
from kernels._params import check_choice, check_even, check_int, check_nonnegative, check_positive, check_times

__all__ = [
    "TRAJECTORY_DISTRIBUTIONS",
    "TRAJECTORY_TIME_STEP",
    "TRAJECTORY_TIMES",
    "TRAJECTORY_OBSERVABLES",
    "UNRAVELINGS",
    "Draws",
    "NoisyTrajectoryParams",
    "TrajectoryParams",
    "imbalance",
    "jump_probability",
    "neel_sites",
    "sample",
]

#: Ways to sample the noise of Eq. (4); see the module docstring.
UNRAVELINGS = ("kicks", "jumps")


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
    profile : str
        Disorder profile: per-site widths replacing W on the sites it names, e.g. "5..8=0.5" (a grain),
        "clean 6", "[8, 0.5, W, ...]"; "" (default) is W everywhere. See kernels._profile.
    """

    #: Added after runs existed: left out of seeding keys and fingerprints at the uniform profile.
    SEED_OMIT_AT = {"profile": ""}
    FINGERPRINT_OMIT_AT = {"profile": ""}
    #: points that differ only in their profile draw the same realizations (the same fields where it names nothing)
    PAIRED = ("profile",)

    L: int = 100
    W: float = 5.0
    gamma: float = 1.0
    tau: float = 0.05
    J: float = 1.0
    times: tuple[float, ...] = field(default=(1.0,))
    profile: str = ""

    def __post_init__(self):
        L = check_even("L", check_int("L", self.L, 2), "the Neel state needs L/2 up spins")
        tau = check_positive("tau", self.tau)
        object.__setattr__(self, "L", L)
        object.__setattr__(self, "W", check_nonnegative("W", self.W))
        object.__setattr__(self, "gamma", check_nonnegative("gamma", self.gamma))
        object.__setattr__(self, "tau", tau)
        object.__setattr__(self, "J", check_nonnegative("J", self.J))
        object.__setattr__(self, "times", check_times(self.times, tau))
        object.__setattr__(self, "profile", canonical_profile(self.profile, L))

    def widths(self) -> np.ndarray:
        """Per-site disorder widths w_j (fields uniform in [-w_j, w_j]): W, or the profile's."""
        return profile_widths(self.profile, np.full(self.L, self.W))

    @property
    def steps(self) -> np.ndarray:
        """Trotter step index of each sample time, ndarray[int64], shape (T,)."""
        return np.rint(np.asarray(self.times) / self.tau).astype(np.int64)


@dataclass(frozen=True)
class NoisyTrajectoryParams(TrajectoryParams):
    """TrajectoryParams of the kernels that sample the noise (not the exact average), plus:

    unraveling : str
        "kicks" (Eq. (4): a Gaussian phase kick every step) or "jumps" (a Z_1
        flip with probability q per step: the same averaged channel, cheaper).
    """

    unraveling: str = "kicks"

    #: Added after runs existed: not hashed into the seed at this value (see ensemble.spec.seeding.point_key).
    SEED_OMIT_AT = {"unraveling": "kicks", "profile": ""}

    def __post_init__(self):
        super().__post_init__()
        check_choice("unraveling", self.unraveling, UNRAVELINGS, '"kicks" (Eq. (4) literally) or "jumps" (same averaged channel)')


@dataclass(frozen=True)
class Draws:
    """All random input of one realization.

    Attributes
    ----------
    h : ndarray[float64], shape (L,)
        On-site fields.
    eta : ndarray[float64], shape (S,)
        Kicks: noise increments eta_n ~ N(0, tau), n = 1..S with S the last
        sample step. Empty for jumps.
    jumps : ndarray[int64] or None
        Jumps: the steps n (1-based, increasing, <= S) after which Z_1 acts.
        None for kicks.
    """

    h: np.ndarray
    eta: np.ndarray
    jumps: np.ndarray | None = None

    def kick_angles(self, p: NoisyTrajectoryParams) -> np.ndarray:
        """eta_n of Eq. (4) for every step: the kicks, or pi / gamma at each jump and 0 elsewhere.

        A kick of angle eta_n gamma = pi is Z_1 up to a global phase, so the
        kick path of a kernel evolves a jump trajectory exactly (step by step).
        """
        if self.jumps is None:
            return self.eta
        eta = np.zeros(int(p.steps[-1]))
        if self.jumps.size:
            eta[self.jumps - 1] = math.pi / p.gamma
        return eta


def jump_probability(p: NoisyTrajectoryParams) -> float:
    """q = (1 - exp(-gamma^2 tau / 2)) / 2: the per-step Z_1 probability of the jump unraveling."""
    return 0.5 * -math.expm1(-0.5 * p.gamma**2 * p.tau)


def sample(p: NoisyTrajectoryParams, rng: np.random.Generator) -> Draws:
    """Draw the fields, then the noise sequence, of one realization."""
    h = draw_fields(rng, p.W, p.L, p.profile)
    S = int(p.steps[-1])
    if p.unraveling == "jumps":
        return Draws(h=h, eta=np.empty(0), jumps=_jump_steps(jump_probability(p), S, rng))
    eta = rng.normal(0.0, math.sqrt(p.tau), size=S)
    return Draws(h=h, eta=eta)


def _jump_steps(q: float, S: int, rng: np.random.Generator) -> np.ndarray:
    """Steps 1..S each chosen independently with probability q, by geometric gaps.

    The gaps are drawn in chunks of a fixed size, so the jumps of a shorter run
    are a prefix of a longer run's on the same seed (as the kicks are).
    """
    if q <= 0.0:
        return np.empty(0, dtype=np.int64)
    chunk = 64
    found, last = [], 0
    while last <= S:
        pos = last + np.cumsum(rng.geometric(q, size=chunk))
        found.append(pos[pos <= S])
        last = int(pos[-1])
    return np.concatenate(found).astype(np.int64)


def check_draws(p: NoisyTrajectoryParams, d: Draws) -> None:
    """Raise ValueError if the draws do not cover the parameters."""
    S = int(p.steps[-1])
    if d.h.shape != (p.L,):
        raise ValueError(f"draws do not match params: h {d.h.shape}, expected ({p.L},)")
    if p.unraveling == "jumps":
        j = d.jumps
        if j is None or (j.size and (j[0] < 1 or j[-1] > S or np.any(np.diff(j) <= 0))):
            raise ValueError(f"jump draws must be increasing steps in 1..{S}, got {j!r}")
    elif d.eta.size < S:
        raise ValueError(f"draws do not match params: eta {d.eta.size} < {S} steps")


def neel_sites(L: int) -> np.ndarray:
    """0-based indices of the occupied (up) sites of the Neel state, site 1 up."""
    return np.arange(0, L, 2, dtype=np.int64)


def imbalance(sz: np.ndarray) -> np.ndarray:
    """I = (2/L) sum_j (-1)^(j-1) <S^z_j> over the last axis (I = 1 in the Neel state)."""
    L = sz.shape[-1]
    sign = np.where(np.arange(L) % 2 == 0, 1.0, -1.0)
    return (2.0 / L) * (sz @ sign)


#: What each output of the trajectory kernels is (sites j = 1..L, Neel state with site 1 up).
TRAJECTORY_OBSERVABLES = {
    "Sz0": "<S^z_j>(t) of the chain without the bath (gamma = 0) on the same fields",
    "Szg": "<S^z_j>(t) with the bath coupled to site 1 (the noisy trajectory of Eq. 4)",
    "I0": "imbalance I(t) = (2/L) sum_j (-1)^(j-1) <S^z_j> without the bath (1 in the Neel state)",
    "Ig": "imbalance with the bath",
}

#: Units or scales of the outputs and axes (hbar = 1; J the hopping): times in units of 1/J.
TRAJECTORY_UNITS = {"t": "1/J", "site": "1", "Sz0": "1", "Szg": "1", "I0": "1", "Ig": "1"}
#: Symbols for figures (matplotlib mathtext).
TRAJECTORY_LABELS = {"Sz0": r"$\langle S^z_j\rangle_0$", "Szg": r"$\langle S^z_j\rangle$", "I0": r"$I_0(t)$",
                     "Ig": r"$I(t)$", "t": r"$J t$", "site": r"site $j$"}  # fmt: skip

#: Default ranges of the per-realization distributions a spec may ask for ([distributions]).
#: Log-spaced sample times used when a spec gives no [times] (paper 003's Fig. 4 spans 1..1e3).
TRAJECTORY_TIMES = {"start": 1.0, "stop": 1000.0, "num": 31}
#: Sample times must be multiples of this parameter (a spec's log grid is snapped to it).
TRAJECTORY_TIME_STEP = "tau"
#: Default ranges of the per-realization distributions a spec may ask for ([distributions]).
TRAJECTORY_DISTRIBUTIONS = {"Sz0": (-0.5, 0.5), "Szg": (-0.5, 0.5), "I0": (-1.0, 1.0), "Ig": (-1.0, 1.0)}


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
