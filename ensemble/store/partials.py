"""Partial files: one task's block moments, bound to what they were computed for, written atomically with a checksum.

Every partial is *bound* to its run: the root seed, the kernel, the point key, the fingerprint of every
parameter value (sample times included) and the block size, stored inside the file under its checksum.
Every reader takes block ranges from the file's contents, not its name, and checks the binding against the
run's spec (:func:`mismatch`): a partial from another run is set aside and its blocks are recomputed, never
merged. A run that grew keeps every complete block of a partial (:func:`usable_blocks`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ensemble.spec.distributions import digest as dist_digest
from ensemble.errors import RunDirectoryError
from ensemble.spec.provenance import DIST_NAME, package_version
from ensemble.analysis.reduce import BlockMoments
from ensemble.store.layout import FORMAT

__all__ = ["CorruptPartial", "binding", "checksum", "cover", "mismatch", "pack", "point_binding", "read_header",
           "read_partial", "task_binding", "usable_blocks", "usable_range"]  # fmt: skip


class CorruptPartial(RuntimeError):
    pass


def binding(seed: int, kernel: str, key: int, fingerprint: str, block_size: int, distributions: tuple = ()) -> dict:
    """What a partial is computed for; stored in it and checked on every read."""
    out = {
        "format": FORMAT,
        "seed": int(seed),
        "kernel": kernel,
        "key": f"{key:016x}",
        "fingerprint": fingerprint,
        "block_size": int(block_size),
    }
    if distributions:
        out["distributions"] = dist_digest(distributions)
    return out


def point_binding(exp, pt) -> dict:
    """What a partial of point ``pt`` of ``exp`` must be bound to."""
    from ensemble.spec.seeding import fingerprint

    return binding(exp.seed, exp.kernel.name, pt.key, fingerprint(exp.kernel, pt.params), pt.block_size, exp.distributions)


def task_binding(task) -> dict:
    """What a task's partial was computed for, plus the BLAS threads and the package version it was computed with
    (recorded, not required to match: LAPACK-heavy kernels may differ in the last bits between thread counts)."""
    return {**binding(task.seed, task.kernel, task.key, task.fingerprint, task.block_size, task.distributions),
            "threads": task.threads, "version": package_version()}  # fmt: skip


def mismatch(found: dict | None, first: int, counts, exp, pt) -> str | None:
    """Why a partial holding blocks ``first, ...`` (``counts`` realizations each) and bound to ``found`` does not
    belong to point ``pt`` of ``exp`` (None: at least its first block does; :func:`usable_blocks` says how many)."""
    if found is not None:
        if int(found.get("format", 1)) > FORMAT:
            return f"written by a newer version of {DIST_NAME} (partial format {found.get('format')}, this one reads <= {FORMAT})"
        want = point_binding(exp, pt)
        for field, why in (("seed", "another seed"), ("kernel", "another kernel"), ("key", "another point"),
                           ("fingerprint", "other parameters or sample times"), ("block_size", "another block size"),
                           ("distributions", "other [distributions]")):  # fmt: skip
            if found.get(field) != want.get(field):
                return why
    if first < 0:
        return f"blocks {first}..{first + len(counts) - 1} outside 0..{pt.n_blocks - 1}"
    if first >= pt.n_blocks:  # blocks beyond the point's realizations now: kept, unused (a growing run takes them)
        return None
    if usable_blocks(first, counts, pt) == 0 and first < pt.n_blocks:
        now = len(pt.block_range(first))
        if len(counts) == 1 and 0 < int(counts[0]) < now:
            return f"the run grew: its last block held {int(counts[0])} realizations and now holds {now}, so it is computed again"
        return "another block layout (realizations per block differ)"
    return None


def usable_blocks(first: int, counts, pt) -> int:
    """How many leading blocks of a partial (blocks ``first, first + 1, ...`` holding ``counts`` realizations) are
    blocks of point ``pt`` as it is now. A run that grew keeps every complete block; a last block that was short
    before the growth has more realizations now, so it (and only it) is computed again."""
    k = 0
    for b, n in enumerate(counts, start=first):
        if b >= pt.n_blocks or int(n) != len(pt.block_range(b)):
            break
        k += 1
    return k


def cover(chunks: list[tuple[int, int, object]], n_blocks: int, key: int) -> list[tuple[int, int, object]]:
    """Pieces (start, stop, source) covering blocks 0..n_blocks-1 once, from possibly overlapping ranges.

    Blocks are deterministic, so where valid partials overlap (a batch rerun by a
    worker that outlived its driver) either copy is the same; each block is taken once.
    """
    pieces, expect = [], 0
    for first, stop, src in sorted(chunks, key=lambda c: (c[0], -c[1])):
        if stop <= expect:
            continue
        if first > expect:
            break
        pieces.append((expect, stop, src))
        expect = stop
    if expect < n_blocks:
        raise RunDirectoryError(f"point {key:016x}: blocks missing from block {expect}; run again with --resume")
    return pieces




def pack(b: BlockMoments, bound: dict) -> dict[str, np.ndarray]:
    arrays = {"first_block": np.array(b.first_block, dtype=np.int64), "counts": b.counts.astype(np.int64)}
    arrays["binding"] = np.array(json.dumps(bound, sort_keys=True))
    arrays["names"] = np.array(b.names)
    for k in b.names:
        arrays[f"mean__{k}"] = np.ascontiguousarray(b.mean[k], dtype=np.float64)
        arrays[f"m2__{k}"] = np.ascontiguousarray(b.m2[k], dtype=np.float64)
    arrays["checksum"] = np.array(checksum(arrays))
    return arrays


def read_header(path: Path) -> tuple[int, np.ndarray, dict | None]:
    """First block, realizations per block and binding of a partial, from its header arrays only (not verified:
    the full read verifies the checksum)."""
    with open(path, "rb") as f, np.load(f, allow_pickle=False) as z:
        found = json.loads(str(z["binding"])) if "binding" in z.files else None
        return int(z["first_block"]), z["counts"], found


def usable_range(path: Path, exp, pt) -> tuple[int, int] | None:
    """The blocks of point ``pt`` a partial's header says it holds, (first, stop), or None if it holds none
    (another run's, another layout, unreadable). What ``ensemble status`` counts, without reading the moments."""
    try:
        first, counts, found = read_header(path)
    except Exception:
        return None
    if mismatch(found, first, counts, exp, pt) is not None:
        return None
    return first, first + usable_blocks(first, counts, pt)


def read_partial(path: Path) -> tuple[BlockMoments, dict | None]:
    """Load and verify one partial file; its binding (None for a format-1 file)."""
    with open(path, "rb") as f, np.load(f, allow_pickle=False) as z:
        return unpack({k: z[k] for k in z.files})


def unpack(arrays: dict[str, np.ndarray]) -> tuple[BlockMoments, dict | None]:
    if str(arrays.pop("checksum")) != checksum(arrays):
        raise CorruptPartial("checksum mismatch")
    names = [str(n) for n in arrays["names"]]
    found = json.loads(str(arrays["binding"])) if "binding" in arrays else None
    blocks = BlockMoments(
        first_block=int(arrays["first_block"]),
        counts=arrays["counts"],
        mean={k: arrays[f"mean__{k}"] for k in names},
        m2={k: arrays[f"m2__{k}"] for k in names},
    )
    return blocks, found


def checksum(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(k.encode())
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()
