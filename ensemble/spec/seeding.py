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
import operator
import sys

import numpy as np
from kernels.jit import jit
from numpy.random.bit_generator import ISeedSequence

__all__ = [
    "ANALYSIS_STREAMS",
    "SEED_EXCLUDED",
    "analysis_rng",
    "block_range",
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


def identifying_params(kernel, params) -> dict:
    """canonical_params without the fields a kernel added after runs existed, while at their old behaviour.

    The kernel's ``Params.SEED_OMIT_AT`` lists such fields (e.g. ``{"unraveling": "kicks"}``; read through
    :class:`kernels._interface.KernelModule`); leaving them out of point keys and of the spec's results hash
    keeps earlier specs' keys, so their run directories still resume and their tables still reproduce bit
    for bit.
    """
    omit = kernel.seed_omit_at
    return {k: v for k, v in canonical_params(params).items() if not (k in omit and v == omit[k])}


def point_key(kernel, params) -> int:
    """64-bit key of a parameter point of ``kernel`` (a KernelModule): sha256 of the kernel's name and its sorted
    identifying parameter values."""
    return _key(kernel, params, SEED_EXCLUDED)


def _key(kernel, params, left_out) -> int:
    """sha256 of the kernel's name and its sorted identifying values but ``left_out``, as a 64-bit integer."""
    values = {k: v for k, v in identifying_params(kernel, params).items() if k not in left_out}
    text = json.dumps([kernel.name, values], sort_keys=True, separators=(",", ":"))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def draw_key(kernel, params) -> int:
    """The key the realization seeds are drawn from: the point key without the kernel's paired fields
    (``Params.PAIRED``, e.g. the disorder profile), so that points differing only in those draw the same
    random input and compare pairwise. Without paired fields (or at their omitted values) it is the point key.

    With ``PAIRED = ("profile",)`` and ``SEED_OMIT_AT = {"profile": ""}``, a point with a profile draws what
    the same point without one draws: every site the profile does not name gets the same field.
    """
    return _key(kernel, params, SEED_EXCLUDED | kernel.paired)


def fingerprint(kernel, params) -> str:
    """Hash of the kernel and *every* parameter value, sample times included: what a partial was computed for.

    Unlike the point key (which leaves out the times, so that a longer run keeps
    its noise), two fingerprints agree only if the partials are interchangeable.
    The kernel may add what the values resolve to (``Params.fingerprint_extra()``,
    e.g. the eigensolver an "auto" chose), so that partials computed when the
    same values resolved otherwise are refused; an empty dict adds nothing
    (fingerprints of earlier runs are kept), as do fields at their ``Params.FINGERPRINT_OMIT_AT`` values
    (a field added later, at the value that behaves as before).
    """
    omit = kernel.fingerprint_omit_at
    values = {k: v for k, v in canonical_params(params).items() if not (k in omit and v == omit[k])}
    parts = [kernel.name, values]
    extra = kernel.fingerprint_extra(params)
    if extra:
        parts.append(extra)
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def realization_seed(root_seed: int, key: int, index: int) -> np.random.SeedSequence:
    """The SeedSequence of realization ``index`` of the point with ``key``."""
    return np.random.SeedSequence(root_seed, spawn_key=(key, index))


def realization_rng(root_seed: int, key: int, index: int) -> np.random.Generator:
    """A fresh PCG64 generator for one realization: ``default_rng(realization_seed(root_seed, key, index))``.

    The same stream bit for bit, built in ~2 us instead of ~15: the
    SeedSequence hash runs compiled (:func:`_pcg64_seed`) instead of through
    NumPy's Python-level entropy handling. Checked against NumPy's own
    SeedSequence on first use; if they ever disagree (a NumPy that changed
    its algorithm), NumPy's is used.
    """
    if _FAST_SEEDING is None:
        _check_fast_seeding()
    if not _FAST_SEEDING:
        return np.random.default_rng(realization_seed(root_seed, key, index))
    return np.random.Generator(np.random.PCG64(_State(_pcg64_seed(_entropy(root_seed, key, index)))))


class _State(ISeedSequence):
    """The four 64-bit words a SeedSequence would hand to PCG64 (what ``generate_state(4, uint64)`` returns)."""

    __slots__ = ("words",)

    def __init__(self, words: np.ndarray):
        self.words = words

    def generate_state(self, n_words, dtype=np.uint32):
        if n_words != 4 or np.dtype(dtype) != np.uint64:
            raise ValueError("a realization's state is four 64-bit words (PCG64's seed)")
        return self.words


def _entropy(root_seed: int, key: int, index: int) -> np.ndarray:
    """SeedSequence(root_seed, spawn_key=(key, index))'s entropy words: the seed padded to the pool size, then the key."""
    words = _words(root_seed)
    return np.array(words + [0] * (4 - len(words)) + _words(key) + _words(index), dtype=np.uint64)


def _words(n: int) -> list[int]:
    """A non-negative integer as little-endian 32-bit words, as SeedSequence reads it (0 is one word)."""
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"seed words must be non-negative, got {n}")
    if n == 0:
        return [0]
    out = []
    while n:
        out.append(n & 0xFFFFFFFF)
        n >>= 32
    return out


_M32 = np.uint64(0xFFFFFFFF)
_INIT_A, _MULT_A = np.uint64(0x43B0D7E5), np.uint64(0x931E8875)
_INIT_B, _MULT_B = np.uint64(0x8B51F9DD), np.uint64(0x58F38DED)
_MIX_L, _MIX_R = np.uint64(0xCA01F9DD), np.uint64(0x4973F715)
_SHIFT = np.uint64(16)


@jit
def _hashmix(value, h):
    value = value ^ h
    h = (h * _MULT_A) & _M32
    value = (value * h) & _M32
    return value ^ (value >> _SHIFT), h


@jit
def _mix(x, y):
    r = (_MIX_L * x - _MIX_R * y) & _M32
    return r ^ (r >> _SHIFT)


@jit
def _pcg64_seed(entropy):
    """NumPy's SeedSequence (pool size 4) on 32-bit entropy words, then generate_state(4, uint64)."""
    pool = np.zeros(4, np.uint64)
    h = _INIT_A
    for i in range(4):
        pool[i], h = _hashmix(entropy[i] if i < entropy.size else np.uint64(0), h)
    for src in range(4):
        for dst in range(4):
            if src != dst:
                v, h = _hashmix(pool[src], h)
                pool[dst] = _mix(pool[dst], v)
    for src in range(4, entropy.size):
        for dst in range(4):
            v, h = _hashmix(entropy[src], h)
            pool[dst] = _mix(pool[dst], v)
    h = _INIT_B
    out = np.zeros(4, np.uint64)
    for i in range(8):
        v = pool[i % 4] ^ h
        h = (h * _MULT_B) & _M32
        v = (v * h) & _M32
        v = v ^ (v >> _SHIFT)
        out[i // 2] |= v << np.uint64(32 * (i % 2))
    return out


_FAST_SEEDING: bool | None = None


def _check_fast_seeding() -> None:
    global _FAST_SEEDING
    cases = [(0, 0, 0), (7, 2**64 - 1, 123456), (2**63 + 5, 12345, 2**33), (1, 2**31, 0)]
    ok = sys.byteorder == "little"
    for seed, key, r in cases if ok else ():
        want = realization_seed(seed, key, r).generate_state(4, np.uint64)
        ok = ok and np.array_equal(_pcg64_seed(_entropy(seed, key, r)), want)
    _FAST_SEEDING = ok


#: Random streams of the analyses (bootstrap resamples), one id per purpose. They are
#: seeded by ``[root seed, id]``, a different entropy layout from the realizations'
#: ``SeedSequence(root seed, spawn_key=(point key, r))``, so they never share a stream.
#: Ids are fixed once given: changing one changes the bootstrap errors of older runs.
ANALYSIS_STREAMS = {"gap_crossing": 2, "avalanche_crossing": 18, "beta_peak": 6, "dos_estimate": 7, "scaling": 9}


def analysis_rng(root_seed: int, purpose: str) -> np.random.Generator:
    """The generator of an analysis step (``purpose``, a key of ANALYSIS_STREAMS), from the run's seed."""
    return np.random.default_rng([root_seed, ANALYSIS_STREAMS[purpose]])


def block_range(block: int, block_size: int, realizations: int) -> range:
    """Realization indices of one jackknife block (the last block may be short)."""
    start = block * block_size
    return range(start, min(start + block_size, realizations))
