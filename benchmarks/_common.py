"""What the benchmark scripts share: one thread for everything, and best-of timing."""

from __future__ import annotations

import os
import time

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def one_thread() -> None:
    """Pin BLAS, OpenMP and Numba to one thread; call before numpy is imported."""
    for var in THREAD_VARS:
        os.environ[var] = "1"


def best(fn, repeats: int = 3) -> float:
    """Shortest wall time of ``repeats`` calls of ``fn``, in seconds."""
    out = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out = min(out, time.perf_counter() - t0)
    return out
