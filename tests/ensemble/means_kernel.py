"""A kernel with no model of its own and outputs of every shape (a scalar, a time series, a time x site field): what
the default analysis ("means") is tested on. Its averages have closed forms: E[e] = W / 2, E[m(t)] = exp(-t / L)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kernels._params import check_choice, check_int, check_positive

NAME = "means_demo"
DEFAULT_TIMES = {"start": 0.5, "stop": 50.0, "num": 9}
OBSERVABLES = {"e": "an energy-like scalar", "m": "a decaying signal", "s": "a signal per site"}


@dataclass(frozen=True)
class Params:
    """Random numbers with known means.

    Parameters
    ----------
    L : int
        Sites (and the decay time of m), >= 2.
    W : float
        Scale of e, > 0.
    kind : str
        "plain" or "shifted" (s shifted by the site index).
    times : tuple of float
        Sample times.
    """

    L: int = 4
    W: float = 1.0
    kind: str = "plain"
    times: tuple[float, ...] = field(default=(1.0,))

    def __post_init__(self):
        object.__setattr__(self, "L", check_int("L", self.L, 2))
        object.__setattr__(self, "W", check_positive("W", self.W))
        check_choice("kind", self.kind, ("plain", "shifted"))


def warmup_params() -> Params:
    return Params(times=(1.0, 2.0))


def schema(p: Params):
    t = np.asarray(p.times, dtype=float)
    return {"e": {}, "m": {"t": t}, "s": {"t": t, "site": np.arange(p.L)}}


def sample(p: Params, rng: np.random.Generator):
    return rng.uniform(size=2 + p.L)


def realize(p: Params, u: np.ndarray):
    t = np.asarray(p.times, dtype=float)
    shift = np.arange(p.L) if p.kind == "shifted" else np.zeros(p.L)
    return {"e": np.array(p.W * u[0]), "m": np.exp(-t / p.L) * 2 * u[1],
            "s": np.exp(-t[:, None] / p.L) * 2 * u[2:][None, :] + shift[None, :]}


def cost(p: Params) -> float:
    """CPU seconds of a realization: next to none."""
    return 1e-5
