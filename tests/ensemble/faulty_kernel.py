"""A kernel that fails on some realizations (its first draw below a threshold), for error-path tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NAME = "faulty"
DEFAULT_TIMES = {"start": 1.0, "stop": 10.0, "num": 3}

#: A spec running this kernel by module path; ~1% of realizations fail ({extra}: more [params] lines).
SPEC = """
kernel = "module:tests.ensemble.faulty_kernel"
seed = 3
realizations = 200
batch_size = 10
[params]
threshold = 0.01
{extra}
[times]
values = [1.0, 2.0]
"""


@dataclass(frozen=True)
class Params:
    threshold: float = 0.05
    nan: bool = False
    times: tuple[float, ...] = field(default=(1.0,))


def warmup_params() -> Params:
    return Params(threshold=-1.0)


def schema(p: Params):
    return {"x": {"t": np.asarray(p.times)}}


def sample(p: Params, rng: np.random.Generator):
    return rng.uniform(size=len(p.times))


def realize(p: Params, u: np.ndarray):
    if u[0] < p.threshold:
        if p.nan:
            return {"x": np.full_like(u, np.nan)}
        raise FloatingPointError(f"NaN guard tripped (u = {u[0]:.4f})")
    return {"x": u}
