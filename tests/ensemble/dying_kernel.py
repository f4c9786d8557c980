"""A kernel whose realizations at ``a = 2`` kill their own worker process (SIGKILL, as the system's out-of-memory
killer does): for tests of an executor's recovery. Never run it serially (it would kill the test)."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field

import numpy as np

NAME = "dying"

#: Point a = 1 lives; point a = 2 kills every worker that starts one of its realizations.
SPEC = """
kernel = "module:tests.ensemble.dying_kernel"
seed = 5
realizations = 4
batch_size = 1
block_size = 1
[sweep]
a = [1.0, 2.0]
[times]
values = [1.0]
"""


@dataclass(frozen=True)
class Params:
    """a : float -- the point; a = 2 kills the worker."""

    a: float = 1.0
    times: tuple[float, ...] = field(default=(1.0,))


def warmup_params() -> Params:
    return Params()


def cost(p: Params) -> float:
    return 1e-4


def schema(p: Params):
    return {"x": {"t": np.asarray(p.times)}}


def sample(p: Params, rng: np.random.Generator):
    return rng.normal(size=len(p.times))


def realize(p: Params, z: np.ndarray):
    if p.a == 2.0:
        os.kill(os.getpid(), signal.SIGKILL)
    return {"x": p.a * z}
