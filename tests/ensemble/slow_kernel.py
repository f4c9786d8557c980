"""A kernel that takes a fixed wall time per realization, for tests of process faults (locks, kills)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

NAME = "slow"
DEFAULT_TIMES = {"start": 1.0, "stop": 2.0, "num": 2}

#: A spec running it: 2 points x {n} realizations of {delay} s each, one block per realization.
SPEC = """
kernel = "module:tests.ensemble.slow_kernel"
seed = {seed}
realizations = {n}
batch_size = 1
block_size = 1
[params]
delay = {delay}
[sweep]
a = [1.0, 2.0]
[times]
values = [1.0, 2.0]
"""


@dataclass(frozen=True)
class Params:
    a: float = 1.0
    delay: float = 0.1
    times: tuple[float, ...] = field(default=(1.0,))


def warmup_params() -> Params:
    return Params(delay=0.0)


def schema(p: Params):
    return {"x": {"t": np.asarray(p.times)}}


def sample(p: Params, rng: np.random.Generator):
    return rng.normal(size=len(p.times))


def realize(p: Params, z: np.ndarray):
    time.sleep(p.delay)
    return {"x": p.a * z}
