"""A kernel whose one observable is the number of BLAS threads its realization may use (tests of --threads)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_info

NAME = "threads"

SPEC = """
kernel = "module:tests.ensemble.threads_kernel"
seed = 1
realizations = 4
batch_size = 2
block_size = 1
"""


@dataclass(frozen=True)
class Params:
    a: float = 1.0


def warmup_params() -> Params:
    return Params()


def schema(p: Params):
    return {"blas_threads": {}}


def sample(p: Params, rng: np.random.Generator):
    return rng.normal()


def realize(p: Params, z: float):
    blas = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    return {"blas_threads": float(max(blas))}
