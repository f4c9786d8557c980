"""A synthetic observable with a known finite-size scaling form, what the [scaling] analysis is tested on:

    y(W, L) = 1/2 + A tanh((W - W_c) L^(1/nu)) + noise z,    z standard normal per realization,

so the disorder average is exactly f((W - W_c) L^(1/nu)): every pair of sizes crosses at W_c, the collapse with
(W_c, nu) is perfect, and the standard error of a point is noise / sqrt(n). A plugin-shaped kernel (no model of
its own: the default analysis)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

NAME = "scaling_toy"
OBSERVABLES = {"y": "1/2 + A tanh((W - W_c) L^(1/nu)) + noise z"}


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
    """

    L: int = 8
    W: float = 2.0
    W_c: float = 3.0
    nu: float = 1.5
    A: float = 0.2
    noise: float = 0.05

    def __post_init__(self):
        if self.L < 1 or self.nu <= 0 or self.noise < 0:
            raise ValueError("L >= 1, nu > 0 and noise >= 0")


def average(p: Params) -> float:
    """The exact disorder average (the scaling form)."""
    return 0.5 + p.A * math.tanh((p.W - p.W_c) * p.L ** (1.0 / p.nu))


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
