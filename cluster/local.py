"""Dask on one machine, or on a scheduler that is already running.

Each worker runs one task at a time. By default it is single-threaded (the
kernels are serial Numba and BLAS code, and Dask owns the parallelism); for
kernels whose one realization is a big dense problem (rmt_bath at 2^14,
TEBD at large bond dimension) ``threads`` gives each worker that many BLAS
threads and starts ``cores // threads`` workers, so workers x threads =
cores. The thread counts of Numba and the BLAS libraries are set through the
environment *before* the worker processes start
(``distributed.nanny.pre-spawn-environ``), because Numba and OpenBLAS read
them once, at import; each task then limits BLAS to its run's count
(:func:`ensemble.tasks.run_task`).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import dask
from distributed import Client, LocalCluster

from ensemble.executors import default_workers

from .errors import ClusterError

__all__ = ["WORKER_ENV", "connect", "local_cluster", "scheduler_address", "worker_env"]


#: Dask settings of the workers that keep their event loop off the task thread's back: the
#: statistical profiler (a 10 ms sampling thread holding the GIL) and the 0.5 s system monitor.
#: Measured with cheap realizations (benchmarks/bench_overhead.py): the same task took 25% more
#: thread CPU and 60% more wall time on a default Dask worker than in a multiprocessing.Pool.
QUIET_WORKER = {"distributed.worker.profile.enabled": False, "distributed.admin.system-monitor.interval": "5s",
                "distributed.admin.tick.interval": "1s"}  # fmt: skip


#: The scheduler (in the driver, sharing its cores with the workers): no work stealing, whose
#: 100 ms rebalancing pass is useless here, since tasks wait in the scheduler's queue until a
#: worker is free (distributed's default queuing) and the executor keeps a bounded window.
QUIET_SCHEDULER = {"distributed.scheduler.work-stealing": False}


def worker_env(threads: int = 1) -> dict[str, str]:
    """Environment of a worker process whose tasks use ``threads`` BLAS threads (and QUIET_WORKER's settings)."""
    t = str(threads)
    dask_vars = {"DASK_" + k.upper().replace(".", "__").replace("-", "_"): str(v) for k, v in QUIET_WORKER.items()}
    return {"NUMBA_NUM_THREADS": t, "OMP_NUM_THREADS": t, "OPENBLAS_NUM_THREADS": t, "MKL_NUM_THREADS": t, **dask_vars}


#: Environment of every single-threaded worker process (the default).
WORKER_ENV = worker_env(1)


def local_cluster(n_workers: int | None = None, dashboard: bool = True, threads: int = 1) -> LocalCluster:
    """A cluster of ``n_workers`` worker processes with ``threads`` BLAS threads each.

    Default: ``cores // threads`` workers (at least one). The dashboard listens
    on a free port (``cluster.dashboard_link``).
    """
    n = n_workers or default_workers(threads)
    env = worker_env(threads)
    _forget_unimportable_main()
    environ = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}), **env}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ, **QUIET_WORKER, **QUIET_SCHEDULER}):
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,  # one task at a time per worker; its BLAS threads are ``threads``
            processes=True,
            dashboard_address=":0" if dashboard else None,
            silence_logs=logging.ERROR,
            env=env,
        )
    cluster.ensemble_threads = threads
    return cluster


def _forget_unimportable_main() -> None:
    """Let spawned workers start from a script piped to ``python -`` (``__main__.__file__ == "<stdin>"``).

    multiprocessing's spawn re-runs the parent's main file in every child; a
    main that is not a file (stdin, ``python -c``) makes each worker die with
    FileNotFoundError. Without ``__file__`` the children skip it, as they do for
    an interactive session or a notebook.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is not None and not os.path.isfile(path) and getattr(main, "__spec__", None) is None:
        del main.__file__


def connect(address: str, timeout: float = 30.0) -> Client:
    """A client of a running scheduler: ``tcp://HOST:PORT``, or a scheduler file (``*.json``).

    Raises ClusterError naming the problem: a scheduler file that is missing or
    holds no address, or a scheduler that does not answer within ``timeout`` seconds.
    """
    if address.endswith(".json") or os.path.isfile(address):
        address = scheduler_address(address)
    try:
        return Client(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError, TypeError) as e:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {e}") from None


def scheduler_address(path: str) -> str:
    """The address in a Dask scheduler file (written by ``dask scheduler --scheduler-file``)."""
    try:
        doc = json.loads(Path(path).read_text())
        address = doc["address"]
    except OSError as e:
        raise ClusterError(f"cannot read the scheduler file {path} ({e.strerror})") from None
    except (ValueError, KeyError, TypeError):
        raise ClusterError(f"{path} is not a Dask scheduler file (expected JSON with an \"address\", as "
                           "dask scheduler --scheduler-file writes)") from None  # fmt: skip
    if not isinstance(address, str) or "://" not in address:
        raise ClusterError(f"{path}: the scheduler address {address!r} is not an address like tcp://HOST:PORT")
    return address
