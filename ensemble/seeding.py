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

__all__ = [
    "ANALYSIS_STREAMS",
    "SEED_EXCLUDED",
    "analysis_rng",
    "canonical_params",
    "fingerprint",
    "identifying_params",
    "point_key",
    "realization_rng",
    "realization_seed",
]

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


def identifying_params(params) -> dict:
    """canonical_params without the fields a kernel added after runs existed, while at their old behaviour.

    The Params class lists such fields in ``SEED_OMIT_AT`` (e.g.
    ``{"unraveling": "kicks"}``); leaving them out of point keys and of the
    spec's results hash keeps earlier specs' keys, so their run directories
    still resume and their tables still reproduce bit for bit.
    """
    omit = getattr(type(params), "SEED_OMIT_AT", {})
    return {k: v for k, v in canonical_params(params).items() if not (k in omit and v == omit[k])}


def point_key(kernel: str, params) -> int:
    """64-bit key of a parameter point: sha256 of kernel name and sorted identifying parameter values."""
    values = {k: v for k, v in identifying_params(params).items() if k not in SEED_EXCLUDED}
    text = json.dumps([kernel, values], sort_keys=True, separators=(",", ":"))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def fingerprint(kernel: str, params) -> str:
    """Hash of the kernel and *every* parameter value, sample times included: what a partial was computed for.

    Unlike the point key (which leaves out the times, so that a longer run keeps
    its noise), two fingerprints agree only if the partials are interchangeable.
    """
    text = json.dumps([kernel, canonical_params(params)], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def realization_seed(root_seed: int, key: int, index: int) -> np.random.SeedSequence:
    """The SeedSequence of realization ``index`` of the point with ``key``."""
    return np.random.SeedSequence(root_seed, spawn_key=(key, index))


def realization_rng(root_seed: int, key: int, index: int) -> np.random.Generator:
    """A fresh PCG64 generator for one realization."""
    return np.random.default_rng(realization_seed(root_seed, key, index))


#: Random streams of the analyses (bootstrap resamples), one id per purpose. They are
#: seeded by ``[root seed, id]``, a different entropy layout from the realizations'
#: ``SeedSequence(root seed, spawn_key=(point key, r))``, so they never share a stream.
#: Ids are fixed once given: changing one changes the bootstrap errors of older runs.
ANALYSIS_STREAMS = {"gap_crossing": 2, "avalanche_crossing": 18, "beta_peak": 6, "dos_estimate": 7}


def analysis_rng(root_seed: int, purpose: str) -> np.random.Generator:
    """The generator of an analysis step (``purpose``, a key of ANALYSIS_STREAMS), from the run's seed."""
    return np.random.default_rng([root_seed, ANALYSIS_STREAMS[purpose]])
