"""A kernel whose realization spends a known CPU time (a busy loop on the process clock), with no cost model:
what the engine's measurement of a kernel's cost is tested on."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

NAME = "cpu"


@dataclass(frozen=True)
class Params:
    """A realization of known CPU cost.

    Parameters
    ----------
    cpu : float
        CPU seconds one realization spends.
    """

    cpu: float = 0.01


def warmup_params() -> Params:
    return Params(cpu=0.0)


def schema(p: Params):
    return {"x": {}}


def sample(p: Params, rng: np.random.Generator):
    return rng.normal()


def realize(p: Params, z: float):
    start = time.process_time()
    while time.process_time() - start < p.cpu:
        pass
    return {"x": np.array(z)}
