"""A synthetic observable with a known finite-size scaling form, what the [scaling] analysis is tested on:

    y(W, L) = 1/2 + A tanh((W - W_c - drift/L) L^(1/nu)) + noise z,    z standard normal per realization,

so the disorder average is exactly f((W - W_c) L^(1/nu)) at drift = 0: every pair of sizes crosses at W_c, the
collapse with (W_c, nu) is perfect, and the standard error of a point is noise / sqrt(n). With a drift, sizes
L and 2L cross at W_c + drift k / L with k = (1 - 2^(1/nu - 1)) / (1 - 2^(1/nu)) (:func:`crossing`): for sizes
in a geometric progression of ratio 2 the crossings drift exactly as X_c + a / L_x, with X_c = W_c. A plugin-shaped kernel (no model of
its own: the default analysis)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

NAME = "scaling_toy"
OBSERVABLES = {"y": "1/2 + A tanh((W - W_c - drift/L) L^(1/nu)) + noise z"}


@dataclass(frozen=True)
class Params:
    """One draw of the synthetic observable.

    Parameters
    ----------
    L : int
        The system size, >= 1.
    W : float
        The control parameter.
    W_c : float
        The critical point of the scaling form.
    nu : float
        The correlation-length exponent, > 0.
    A : float
        The amplitude of the scaling function.
    noise : float
        The standard deviation of one realization around the average, >= 0.
    drift : float
        The finite-size shift of the critical point, W_c(L) = W_c + drift / L.
    """

    #: A drift of 0 keeps the keys and fingerprints the kernel had before it had the field.
    SEED_OMIT_AT = {"drift": 0.0}
    FINGERPRINT_OMIT_AT = {"drift": 0.0}

    L: int = 8
    W: float = 2.0
    W_c: float = 3.0
    nu: float = 1.5
    A: float = 0.2
    noise: float = 0.05
    drift: float = 0.0

    def __post_init__(self):
        if self.L < 1 or self.nu <= 0 or self.noise < 0:
            raise ValueError("L >= 1, nu > 0 and noise >= 0")


def average(p: Params) -> float:
    """The exact disorder average (the scaling form)."""
    return 0.5 + p.A * math.tanh((p.W - p.W_c - p.drift / p.L) * p.L ** (1.0 / p.nu))


def crossing(W_c: float, nu: float, drift: float, L: float) -> float:
    """Where the averages of sizes L and 2L cross, exactly."""
    s = 1.0 / nu
    return W_c + drift / L * (1 - 2 ** (s - 1)) / (1 - 2**s)


def warmup_params() -> Params:
    return Params()


def schema(p: Params):
    return {"y": {}}


def sample(p: Params, rng: np.random.Generator):
    return rng.standard_normal()


def realize(p: Params, z: float):
    return {"y": np.array(average(p) + p.noise * z)}


def cost(p: Params) -> float:
    """CPU seconds of a realization: next to none."""
    return 1e-5


def memory_bytes(p: Params) -> int:
    return 1024
