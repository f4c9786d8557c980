"""Seeding: a realization's draws depend only on (root seed, parameter values, index).

Realization ``r`` of a parameter point gets
``SeedSequence(root_seed, spawn_key=(point_key, r))`` where ``point_key`` is a
64-bit hash of the point's canonical parameter values (not its position in
the sweep). Batching, worker count, retries and restarts therefore never
change a realization.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np

__all__ = ["SEED_EXCLUDED", "canonical_params", "point_key", "realization_rng", "realization_seed"]

#: Parameter fields that do not identify a point for seeding: extending the
#: sample times keeps every earlier draw (the noise stream is a prefix).
SEED_EXCLUDED = frozenset({"times"})


def canonical_params(params) -> dict:
    """The parameter dataclass as a JSON-ready dict of its validated field values."""
    return {f.name: _canonical(getattr(params, f.name)) for f in dataclasses.fields(params)}


def _canonical(v):
    if isinstance(v, (tuple, list)):
        return [_canonical(x) for x in v]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v)
    return v


def point_key(kernel: str, params) -> int:
    """64-bit key of a parameter point: sha256 of kernel name and sorted parameter values."""
    values = {k: v for k, v in canonical_params(params).items() if k not in SEED_EXCLUDED}
    text = json.dumps([kernel, values], sort_keys=True, separators=(",", ":"))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def realization_seed(root_seed: int, key: int, index: int) -> np.random.SeedSequence:
    """The SeedSequence of realization ``index`` of the point with ``key``."""
    return np.random.SeedSequence(root_seed, spawn_key=(key, index))


def realization_rng(root_seed: int, key: int, index: int) -> np.random.Generator:
    """A fresh PCG64 generator for one realization."""
    return np.random.default_rng(realization_seed(root_seed, key, index))
