"""What the benchmark scripts share: one thread for everything, best-of timing, and the load they ran under.

Every script importing this module ends with one line giving the machine's
load average at start and end and, over all calls timed with :func:`best`,
the wall time beside the CPU (process) time: on a shared machine wall time
has measured up to 10x the CPU time, and this line says whether a run's
ratios were taken on an idle machine.
"""

from __future__ import annotations

import atexit
import os
import time

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")

_LOAD_AT_START = os.getloadavg()[0]
_TIMED = {"wall": 0.0, "cpu": 0.0, "calls": 0}


def one_thread() -> None:
    """Pin BLAS, OpenMP and Numba to one thread; call before numpy is imported."""
    for var in THREAD_VARS:
        os.environ[var] = "1"


def best(fn, repeats: int = 3) -> float:
    """Shortest wall time of ``repeats`` calls of ``fn``, in seconds (CPU time is tallied for the closing line)."""
    out = float("inf")
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        _TIMED["wall"] += wall
        _TIMED["cpu"] += cpu
        _TIMED["calls"] += 1
        out = min(out, wall)
    return out


@atexit.register
def _closing_line() -> None:
    import multiprocessing

    if multiprocessing.parent_process() is not None:  # a Pool's or Dask's worker importing a benchmark
        return
    load = f"# load average {_LOAD_AT_START:.2f} at start, {os.getloadavg()[0]:.2f} at end ({os.cpu_count()} cores)"
    if _TIMED["calls"]:
        w, c = _TIMED["wall"], _TIMED["cpu"]
        load += f"; the {_TIMED['calls']} timed calls: {w:.2f} s wall, {c:.2f} s CPU (CPU/wall {c / max(w, 1e-12):.2f})"
    print(load, flush=True)


def cpu_with_children() -> float:
    """CPU seconds of this process and every live descendant (Pool workers, Dask nannies and workers)."""
    import psutil

    total = time.process_time()
    for child in psutil.Process().children(recursive=True):
        try:
            t = child.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total
